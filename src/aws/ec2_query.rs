//! A small client for EC2's Query protocol, for the two read-only calls
//! emrstack makes (`DescribeSubnets`, `DescribeSecurityGroups`), in place of
//! the `aws-sdk-ec2` crate, whose code for all 811 operations cost more CPU
//! to compile than every other dependency together (docs/benchmarks.md,
//! "What `aws-sdk-ec2` costs, for two operations").
//!
//! The calls run on the SDK's own orchestrator (`aws-smithy-runtime`'s
//! generic [`Operation`]), as a generated client's do: the shared
//! configuration's HTTP client, credentials and identity cache, retry and
//! timeout settings; SigV4 signing (`aws-runtime`); the generated clients'
//! retry classifiers (error codes, 5xx, transient I/O) and interceptors (user
//! agent, invocation ID, attempt info, clock skew), plus emrstack's own
//! (HTTP 429, retries charged to the rate limiter; `client.rs`). Only the
//! request encoding and the XML reading are written here.
//!
//! The wire format, from the botocore model of EC2
//! (`botocore/data/ec2/2016-11-15/service-2.json`, protocol `ec2`):
//! - a request is `POST /` with a form body: `Action`, `Version=2016-11-15`,
//!   list members numbered from 1 under their capitalised `locationName`s
//!   (`Filters` is `FilterList` with member `Filter`; `Filter.Values` has
//!   `locationName` `Value`: `Filter.1.Name`, `Filter.1.Value.1`), and
//!   `NextToken`;
//! - an answer is `<DescribeSubnetsResponse>` with the list under its output
//!   member's `locationName` (`subnetSet`, `securityGroupInfo`), one `<item>`
//!   per entry (`SubnetList`, `SecurityGroupList`: member `locationName`
//!   `item`), fields under their `locationName`s (`subnetId`, `groupName`, ...),
//!   and `<nextToken>`;
//! - an error is `<Response><Errors><Error><Code>..</Code><Message>..</Message>
//!   </Error></Errors><RequestID>..</RequestID></Response>` (EC2 API
//!   reference, "Error codes": "the response has the following structure").

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use aws_runtime::auth::sigv4::{SCHEME_ID, SigV4AuthScheme};
use aws_runtime::auth::{SigV4OperationSigningConfig, SigningOptions};
use aws_runtime::invocation_id::InvocationIdInterceptor;
use aws_runtime::request_info::RequestInfoInterceptor;
use aws_runtime::retries::classifiers::AwsErrorCodeClassifier;
use aws_runtime::service_clock_skew::{
    DisableClockSkewCorrection, ServiceClockSkewClassifier, ServiceClockSkewInterceptor,
};
use aws_runtime::user_agent::{ApiMetadata, UserAgentInterceptor};
use aws_smithy_runtime::client::orchestrator::operation::Operation;
use aws_smithy_runtime::client::retries::classifiers::{HttpStatusCodeClassifier, TransientErrorClassifier};
use aws_smithy_runtime::client::stalled_stream_protection::StalledStreamProtectionInterceptor;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::auth::AuthSchemeOptionResolverParams;
use aws_smithy_runtime_api::client::auth::static_resolver::StaticAuthSchemeOptionResolver;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, InterceptorContext,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, OrchestratorError};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction, RetryClassifierPriority};
use aws_smithy_runtime_api::client::runtime_components::{RuntimeComponents, RuntimeComponentsBuilder};
use aws_smithy_runtime_api::client::runtime_plugin::StaticRuntimePlugin;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{ConfigBag, Layer};
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_smithy_xml::decode::{Document, ScopedDecoder, try_data};
use aws_types::SdkConfig;
use aws_types::SigningName;
use aws_types::region::{Region, SigningRegion};
use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::cloud::{CloudError, ErrorKind};

/// The EC2 API version every request names (the botocore model's `apiVersion`).
const API_VERSION: &str = "2016-11-15";

/// The most an answer may hold. emrstack's requests match at most 200
/// entries (one filter of 200 IDs); a security group with every rule its
/// quotas allow is some tens of kilobytes of XML, so real answers stay far
/// below this. A larger one is refused, not read into memory.
pub(super) const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// The fields of one list entry emrstack reads: `locationName` to text.
pub(super) type Record = BTreeMap<String, String>;

/// One page of a describe call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Page {
    pub items: Vec<Record>,
    pub next_token: Option<String>,
}

/// A describe operation: its action, the element of its list, and the fields
/// of an entry that are read (others, nested lists included, are skipped).
#[derive(Debug, Clone, Copy)]
pub(super) struct Listing {
    pub action: &'static str,
    pub list: &'static str,
    pub fields: &'static [&'static str],
}

/// `DescribeSubnets`: output member `Subnets`, `locationName` `subnetSet`.
pub(super) const DESCRIBE_SUBNETS: Listing = Listing {
    action: "DescribeSubnets",
    list: "subnetSet",
    fields: &[
        "subnetId",
        "vpcId",
        "availabilityZone",
        "availabilityZoneId",
        "cidrBlock",
        "availableIpAddressCount",
    ],
};

/// `DescribeSecurityGroups`: output member `SecurityGroups`, `locationName`
/// `securityGroupInfo`.
pub(super) const DESCRIBE_SECURITY_GROUPS: Listing = Listing {
    action: "DescribeSecurityGroups",
    list: "securityGroupInfo",
    fields: &["groupId", "vpcId", "groupName"],
};

/// The form parameters of one request after `Action` and `Version`.
pub(super) type Params = Vec<(String, String)>;

/// The parameters of one page: one filter with `values`, and the token of
/// the page to read.
pub(super) fn filter_params(name: &str, values: &[String], next_token: Option<&str>) -> Params {
    let mut params = vec![("Filter.1.Name".to_string(), name.to_string())];
    for (index, value) in values.iter().enumerate() {
        params.push((format!("Filter.1.Value.{}", index + 1), value.clone()));
    }
    if let Some(token) = next_token {
        params.push(("NextToken".to_string(), token.to_string()));
    }
    params
}

/// `application/x-www-form-urlencoded`, with every byte but the unreserved
/// ones (RFC 3986) escaped, as the SDKs' query writers do.
const FORM: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The form body of a request.
pub(super) fn form_body(action: &str, params: &[(String, String)]) -> String {
    let mut body = format!("Action={action}&Version={API_VERSION}");
    for (name, value) in params {
        body.push('&');
        body.extend(utf8_percent_encode(name, FORM));
        body.push('=');
        body.extend(utf8_percent_encode(value, FORM));
    }
    body
}

/// The operations of [`LISTINGS`], each built once with the shared
/// configuration.
#[derive(Debug, Clone)]
pub(super) struct Ec2Client {
    operations: Vec<(&'static str, Operation<Params, Page, ErrorMetadata>)>,
}

/// Every operation the client can send.
const LISTINGS: [Listing; 2] = [DESCRIBE_SUBNETS, DESCRIBE_SECURITY_GROUPS];

/// What the caller adds to every operation: emrstack's own retry
/// classifier and interceptor (`client.rs`).
pub(super) struct Additions<C, I> {
    pub classifier: C,
    pub interceptor: I,
}

impl Ec2Client {
    /// Builds the client. Fails only when no endpoint can be made of the region.
    pub(super) fn new<C, I>(
        config: &SdkConfig,
        region: &str,
        additions: impl Fn() -> Additions<C, I>,
    ) -> Result<Self, CloudError>
    where
        C: ClassifyRetry + 'static,
        I: Intercept + 'static,
    {
        let endpoint = endpoint(config, region)?;
        let build = |listing: Listing| {
            let Additions {
                classifier,
                interceptor,
            } = additions();
            operation(config, region, &endpoint, listing, classifier, interceptor)
        };
        Ok(Ec2Client {
            operations: LISTINGS
                .iter()
                .map(|listing| (listing.action, build(*listing)))
                .collect(),
        })
    }

    /// The request of one page of `listing`, ready to await.
    pub(super) async fn send(
        &self,
        listing: Listing,
        params: Params,
    ) -> Result<Page, SdkError<ErrorMetadata, HttpResponse>> {
        let Some((_, operation)) = self.operations.iter().find(|(action, _)| *action == listing.action) else {
            return Err(SdkError::construction_failure(format!(
                "{} is not an operation of the EC2 client",
                listing.action
            )));
        };
        operation.invoke(params).await
    }
}

fn operation<C, I>(
    config: &SdkConfig,
    region: &str,
    endpoint: &str,
    listing: Listing,
    classifier: C,
    interceptor: I,
) -> Operation<Params, Page, ErrorMetadata>
where
    C: ClassifyRetry + 'static,
    I: Intercept + 'static,
{
    let retry = config.retry_config().cloned().unwrap_or_else(RetryConfig::standard);
    let timeouts = config.timeout_config().cloned().unwrap_or_else(TimeoutConfig::disabled);
    let mut builder = Operation::builder()
        .service_name("ec2")
        .operation_name(listing.action)
        .endpoint_url(endpoint)
        .standard_retry(&retry)
        .timeout_config(timeouts)
        // The classifiers and interceptors of a generated client (aws-sdk-sts's
        // `ServiceRuntimePlugin` and operation plugins, for example).
        .retry_classifier(HttpStatusCodeClassifier::default())
        .retry_classifier(TransientErrorClassifier::<ErrorMetadata>::new())
        .retry_classifier(AwsErrorCodeClassifier::<ErrorMetadata>::new())
        .retry_classifier(ServiceClockSkewClassifier::<ErrorMetadata>::new())
        .retry_classifier(classifier)
        .retry_classifier(NoRetryOfOversizedAnswers)
        .interceptor(ServiceClockSkewInterceptor::new())
        .interceptor(RequestInfoInterceptor::new())
        .interceptor(UserAgentInterceptor::new())
        .interceptor(InvocationIdInterceptor::new())
        .interceptor(StalledStreamProtectionInterceptor::default())
        .interceptor(interceptor)
        .interceptor(BoundedAnswers)
        .with_connection_poisoning()
        .runtime_plugin(signing(config, region))
        .serializer(move |params: Params| serialize(listing.action, &params))
        .deserializer(move |response: &HttpResponse| deserialize(listing, response));
    if let Some(version) = config.behavior_version() {
        builder = builder.behavior_version(version);
    }
    if let Some(client) = config.http_client() {
        builder = builder.http_client(client);
    }
    if let Some(sleep) = config.sleep_impl() {
        builder = builder.sleep_impl(sleep);
    }
    if let Some(time) = config.time_source() {
        builder = builder.time_source(time);
    }
    if let Some(protection) = config.stalled_stream_protection() {
        builder = builder.stalled_stream_protection(protection);
    }
    builder.build()
}

/// SigV4 for service `ec2` in `region`, with the configuration's credentials
/// and identity cache, and the user agent's API name.
fn signing(config: &SdkConfig, region: &str) -> StaticRuntimePlugin {
    let mut components = RuntimeComponentsBuilder::new("emrstack ec2")
        .with_auth_scheme_option_resolver(Some(StaticAuthSchemeOptionResolver::new(vec![SCHEME_ID])))
        .with_auth_scheme(SigV4AuthScheme::new());
    // Without a credentials provider the call fails before sending, with a
    // construction error that names the missing identity resolver.
    if let Some(credentials) = config.credentials_provider() {
        components = components.with_identity_resolver(SCHEME_ID, credentials);
    }
    if let Some(cache) = config.identity_cache() {
        components = components.with_identity_cache(Some(cache));
    }
    let mut layer = Layer::new("emrstack ec2");
    layer.store_put(AuthSchemeOptionResolverParams::new(()));
    layer.store_put(SigV4OperationSigningConfig {
        region: Some(SigningRegion::from(Region::new(region.to_string()))),
        name: Some(SigningName::from_static("ec2")),
        signing_options: SigningOptions::default(),
        ..SigV4OperationSigningConfig::default()
    });
    if let Some(disable) = config.disable_clock_skew_correction() {
        layer.store_put(DisableClockSkewCorrection::from(disable));
    }
    layer.store_put(ApiMetadata::new("ec2", env!("CARGO_PKG_VERSION")));
    if let Some(app_name) = config.app_name() {
        layer.store_put(app_name.clone());
    }
    StaticRuntimePlugin::new()
        .with_config(layer.freeze())
        .with_runtime_components(components)
}

/// The endpoint: the configured one (`--endpoint-url`, `AWS_ENDPOINT_URL`,
/// `AWS_ENDPOINT_URL_EC2` or the profile's `services` section, as
/// `aws-config` resolves them for a generated client), else
/// `https://ec2[-fips].<region>.<suffix>` with the DNS suffix of the
/// region's partition (the partition table the SDK crates embed,
/// `endpoint_lib.rs`).
fn endpoint(config: &SdkConfig, region: &str) -> Result<String, CloudError> {
    // In a generated client's `Builder::from(&SdkConfig)`, an endpoint set
    // in code (emrstack's `--endpoint-url`) comes first; otherwise the
    // environment and profile's, service-specific first, then the loader's.
    if config.get_origin("endpoint_url").is_client_config()
        && let Some(url) = config.endpoint_url()
    {
        return Ok(url.to_string());
    }
    let service_specific = config.service_config().and_then(|services| {
        let key = aws_types::service_config::ServiceConfigKey::builder()
            .service_id("EC2")
            .env("AWS_ENDPOINT_URL")
            .profile("endpoint_url")
            .build()
            .ok()?;
        services.load_config(key)
    });
    if let Some(url) = service_specific.or_else(|| config.endpoint_url().map(str::to_string)) {
        return Ok(url);
    }
    let valid = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return Err(CloudError::new(
            ErrorKind::Invalid,
            "Connect",
            format!("`{region}` is not an AWS region name"),
        ));
    }
    // (prefix, DNS suffix, dual-stack DNS suffix); the commercial partition
    // and GovCloud share theirs, and are the default.
    const PARTITIONS: &[(&str, &str, &str)] = &[
        ("cn-", "amazonaws.com.cn", "api.amazonwebservices.com.cn"),
        ("eusc-", "amazonaws.eu", "api.amazonwebservices.eu"),
        ("us-iso-", "c2s.ic.gov", "api.aws.ic.gov"),
        ("us-isob-", "sc2s.sgov.gov", "api.aws.scloud"),
        ("eu-isoe-", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk"),
        ("us-isof-", "csp.hci.ic.gov", "api.aws.hci.ic.gov"),
    ];
    let (suffix, dual_stack_suffix) = PARTITIONS
        .iter()
        .find(|(prefix, _, _)| region.starts_with(prefix))
        .map_or(("amazonaws.com", "api.aws"), |(_, suffix, dual)| (*suffix, *dual));
    let host = if config.use_fips() == Some(true) {
        "ec2-fips"
    } else {
        "ec2"
    };
    let suffix = if config.use_dual_stack() == Some(true) {
        dual_stack_suffix
    } else {
        suffix
    };
    Ok(format!("https://{host}.{region}.{suffix}"))
}

fn serialize(action: &str, params: &[(String, String)]) -> Result<HttpRequest, BoxError> {
    let body = form_body(action, params);
    let length = body.len();
    let mut request = HttpRequest::new(SdkBody::from(body));
    request.set_method("POST")?;
    request.set_uri("/")?;
    let headers = request.headers_mut();
    headers.insert("content-type", "application/x-www-form-urlencoded");
    headers.insert("content-length", length.to_string());
    Ok(request)
}

fn deserialize(listing: Listing, response: &HttpResponse) -> Result<Page, OrchestratorError<ErrorMetadata>> {
    let body = response
        .body()
        .bytes()
        .ok_or_else(|| OrchestratorError::other("the EC2 response body was not read"))?;
    if response.status().is_success() {
        parse_page(listing, body).map_err(OrchestratorError::other)
    } else {
        Err(OrchestratorError::operation(parse_error(body)))
    }
}

/// Reads one page of `listing` from an answer.
pub(super) fn parse_page(listing: Listing, body: &[u8]) -> Result<Page, BoxError> {
    let text = std::str::from_utf8(body)?;
    let mut document = Document::new(text);
    let mut root = document.root_element()?;
    // `<DescribeSubnetsResponse>`: anything else (a proxy's page, another
    // answer) is not read as an empty page.
    let expected = format!("{}Response", listing.action);
    if root.start_el().local() != expected {
        return Err(format!("expected <{expected}>, found <{}>", root.start_el().local()).into());
    }
    let mut page = Page::default();
    while let Some(mut tag) = root.next_tag() {
        if tag.start_el().local() == listing.list {
            while let Some(mut item) = tag.next_tag() {
                if item.start_el().local() == "item" {
                    page.items.push(record(listing, &mut item)?);
                }
            }
        } else if tag.start_el().local() == "nextToken" {
            page.next_token = Some(try_data(&mut tag)?.into_owned());
        }
    }
    Ok(page)
}

fn record(listing: Listing, item: &mut ScopedDecoder<'_, '_>) -> Result<Record, BoxError> {
    let mut record = Record::new();
    while let Some(mut field) = item.next_tag() {
        let name = field.start_el().local().to_string();
        if listing.fields.contains(&name.as_str()) {
            let value = try_data(&mut field)?.into_owned();
            record.insert(name, value);
        }
    }
    Ok(record)
}

/// The code, message and request ID of an EC2 error answer. A body that is
/// not one (a proxy's HTML page) gives metadata without a code, which falls
/// to the HTTP status in classification.
pub(super) fn parse_error(body: &[u8]) -> ErrorMetadata {
    let mut builder = ErrorMetadata::builder();
    if let Ok(fields) = error_fields(body) {
        if let Some(code) = fields.code {
            builder = builder.code(code);
        }
        if let Some(message) = fields.message {
            builder = builder.message(message);
        }
        if let Some(request_id) = fields.request_id {
            // The key `aws_types::request_id::RequestId` reads.
            builder = builder.custom("aws_request_id", request_id);
        }
    } else {
        let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        builder = builder.message(format!("unrecognised EC2 error response: {text}"));
    }
    builder.build()
}

#[derive(Default)]
struct ErrorFields {
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
}

fn error_fields(body: &[u8]) -> Result<ErrorFields, BoxError> {
    let text = std::str::from_utf8(body)?;
    let mut document = Document::new(text);
    let mut root = document.root_element()?;
    if !root.start_el().matches("Response") {
        return Err("not an EC2 error response".into());
    }
    let mut fields = ErrorFields::default();
    while let Some(mut tag) = root.next_tag() {
        if tag.start_el().matches("Errors") {
            // The first error is the one reported, as the SDK does.
            if let Some(mut error) = tag.next_tag()
                && error.start_el().matches("Error")
            {
                while let Some(mut field) = error.next_tag() {
                    if field.start_el().matches("Code") {
                        fields.code = Some(try_data(&mut field)?.into_owned());
                    } else if field.start_el().matches("Message") {
                        fields.message = Some(try_data(&mut field)?.into_owned());
                    }
                }
            }
        } else if tag.start_el().matches("RequestID") {
            fields.request_id = Some(try_data(&mut tag)?.into_owned());
        }
    }
    Ok(fields)
}

/// An answer larger than [`MAX_RESPONSE_BYTES`].
#[derive(Debug)]
pub(super) struct ResponseTooLarge;

impl fmt::Display for ResponseTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the EC2 response is larger than {MAX_RESPONSE_BYTES} bytes")
    }
}

impl StdError for ResponseTooLarge {}

/// Refuses an answer whose `Content-Length` is over the bound, and bounds
/// the body of any other (a chunked answer has no length to check first).
#[derive(Debug)]
struct BoundedAnswers;

impl Intercept for BoundedAnswers {
    fn name(&self) -> &'static str {
        "emrstack: bound the size of EC2 answers"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response_mut();
        let declared = response
            .headers()
            .get("content-length")
            .and_then(|length| length.parse::<usize>().ok());
        if declared.is_some_and(|length| length > MAX_RESPONSE_BYTES) {
            return Err(Box::new(ResponseTooLarge));
        }
        let body = response.take_body();
        *response.body_mut() = SdkBody::from_body_1_x(Bounded {
            inner: body,
            remaining: MAX_RESPONSE_BYTES,
        });
        Ok(())
    }
}

/// A body that fails with [`ResponseTooLarge`] once more than `remaining`
/// bytes arrive.
struct Bounded {
    inner: SdkBody,
    remaining: usize,
}

impl http_body::Body for Bounded {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let length = frame.data_ref().map_or(0, Bytes::len);
                if length > self.remaining {
                    return Poll::Ready(Some(Err(Box::new(ResponseTooLarge))));
                }
                self.remaining -= length;
                Poll::Ready(Some(Ok(frame)))
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::Body::size_hint(&self.inner)
    }
}

/// An oversized answer is not retried: the next one would be as large. (The
/// generated clients' transient-error classifier retries every failure to
/// read a body.)
#[derive(Debug)]
struct NoRetryOfOversizedAnswers;

impl ClassifyRetry for NoRetryOfOversizedAnswers {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(error)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        let mut source: Option<&(dyn StdError + 'static)> = Some(error);
        while let Some(current) = source {
            if current.is::<ResponseTooLarge>() {
                return RetryAction::RetryForbidden;
            }
            source = current.source();
        }
        RetryAction::NoActionIndicated
    }

    fn name(&self) -> &'static str {
        "emrstack: oversized EC2 answers"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

#[cfg(test)]
mod tests {
    use aws_types::request_id::RequestId;

    use super::*;

    // Shaped like EC2's answers (EC2 API reference, DescribeSubnets and
    // DescribeSecurityGroups examples): nested lists of `item`s inside an
    // entry must not be taken for entries.
    const SUBNETS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeSubnetsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</requestId>
    <subnetSet>
        <item>
            <subnetId>subnet-1</subnetId>
            <state>available</state>
            <vpcId>vpc-1</vpcId>
            <cidrBlock>10.0.1.0/24</cidrBlock>
            <ipv6CidrBlockAssociationSet/>
            <availableIpAddressCount>251</availableIpAddressCount>
            <availabilityZone>us-east-1a</availabilityZone>
            <availabilityZoneId>use1-az6</availabilityZoneId>
            <tagSet>
                <item><key>Name</key><value>a &amp; b</value></item>
            </tagSet>
        </item>
        <item>
            <subnetId>subnet-2</subnetId>
            <vpcId>vpc-1</vpcId>
        </item>
    </subnetSet>
    <nextToken>token-2</nextToken>
</DescribeSubnetsResponse>"#;

    const GROUPS: &str = r#"<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
   <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
   <securityGroupInfo>
      <item>
         <ownerId>123456789012</ownerId>
         <groupId>sg-1</groupId>
         <groupName>emr</groupName>
         <groupDescription>workers</groupDescription>
         <vpcId>vpc-1</vpcId>
         <ipPermissions>
            <item>
               <ipProtocol>tcp</ipProtocol>
               <groups><item><groupId>sg-other</groupId></item></groups>
            </item>
         </ipPermissions>
         <ipPermissionsEgress/>
      </item>
   </securityGroupInfo>
</DescribeSecurityGroupsResponse>"#;

    #[test]
    fn a_subnet_page_gives_the_read_fields_of_each_entry_and_the_token() {
        let page = parse_page(DESCRIBE_SUBNETS, SUBNETS.as_bytes()).unwrap();
        assert_eq!(page.next_token.as_deref(), Some("token-2"));
        assert_eq!(page.items.len(), 2);
        let first = &page.items[0];
        assert_eq!(first["subnetId"], "subnet-1");
        assert_eq!(first["availableIpAddressCount"], "251");
        assert_eq!(first["availabilityZoneId"], "use1-az6");
        assert!(!first.contains_key("state") && !first.contains_key("tagSet"));
        assert_eq!(first.len(), 6);
        assert_eq!(page.items[1].len(), 2);
    }

    #[test]
    fn a_group_page_skips_nested_items_and_has_no_token() {
        let page = parse_page(DESCRIBE_SECURITY_GROUPS, GROUPS.as_bytes()).unwrap();
        assert_eq!(page.next_token, None);
        assert_eq!(
            page.items,
            vec![Record::from([
                ("groupId".to_string(), "sg-1".to_string()),
                ("groupName".to_string(), "emr".to_string()),
                ("vpcId".to_string(), "vpc-1".to_string()),
            ])]
        );
        let empty = "<DescribeSecurityGroupsResponse><securityGroupInfo/></DescribeSecurityGroupsResponse>";
        assert_eq!(
            parse_page(DESCRIBE_SECURITY_GROUPS, empty.as_bytes()).unwrap(),
            Page::default()
        );
        assert!(parse_page(DESCRIBE_SUBNETS, b"<unclosed").is_err());
        let other = parse_page(DESCRIBE_SUBNETS, empty.as_bytes()).unwrap_err();
        assert!(
            other.to_string().contains("expected <DescribeSubnetsResponse>"),
            "{other}"
        );
    }

    #[test]
    fn an_error_answer_gives_code_message_and_request_id() {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>InvalidSubnetID.NotFound</Code>\
                    <Message>The subnet ID 'subnet-1' does not exist</Message></Error></Errors>\
                    <RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>";
        let meta = parse_error(body.as_bytes());
        assert_eq!(meta.code(), Some("InvalidSubnetID.NotFound"));
        assert_eq!(meta.message(), Some("The subnet ID 'subnet-1' does not exist"));
        assert_eq!(meta.request_id(), Some("ea966190-f9aa-478e-9ede-example"));

        let html = parse_error(b"<html><body>Bad Gateway</body></html>");
        assert_eq!(html.code(), None);
        assert!(html.message().unwrap().contains("Bad Gateway"));
    }

    #[test]
    fn the_form_body_names_action_version_filter_values_and_token() {
        let params = filter_params("group-id", &["sg-1".to_string(), "sg 2/+".to_string()], Some("a=b&c"));
        assert_eq!(
            form_body("DescribeSecurityGroups", &params),
            "Action=DescribeSecurityGroups&Version=2016-11-15&Filter.1.Name=group-id&Filter.1.Value.1=sg-1\
             &Filter.1.Value.2=sg%202%2F%2B&NextToken=a%3Db%26c"
        );
    }

    fn config(builder: aws_types::sdk_config::Builder) -> SdkConfig {
        builder.build()
    }

    #[test]
    fn the_endpoint_is_the_configured_one_or_the_partition_s() {
        let plain = config(SdkConfig::builder());
        assert_eq!(
            endpoint(&plain, "eu-west-1").unwrap(),
            "https://ec2.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            endpoint(&plain, "cn-north-1").unwrap(),
            "https://ec2.cn-north-1.amazonaws.com.cn"
        );
        let fips = config(SdkConfig::builder().use_fips(true));
        assert_eq!(
            endpoint(&fips, "us-east-1").unwrap(),
            "https://ec2-fips.us-east-1.amazonaws.com"
        );
        let dual = config(SdkConfig::builder().use_dual_stack(true));
        assert_eq!(endpoint(&dual, "us-east-1").unwrap(), "https://ec2.us-east-1.api.aws");
        let emulator = config(SdkConfig::builder().endpoint_url("http://127.0.0.1:5000"));
        assert_eq!(endpoint(&emulator, "us-east-1").unwrap(), "http://127.0.0.1:5000");
        assert_eq!(endpoint(&plain, "evil.com/x").unwrap_err().kind, ErrorKind::Invalid);
    }

    // ---- the whole path, against a stub HTTP client -------------------------

    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
    };
    use aws_smithy_runtime_api::http::StatusCode;

    use crate::aws::error::cloud_error;
    use crate::aws::settings::Service;

    #[derive(Debug)]
    struct Answer {
        status: u16,
        content_length: bool,
        body: Vec<u8>,
    }

    #[derive(Debug, Default)]
    struct Sent {
        uri: String,
        authorization: String,
        content_type: String,
        body: String,
    }

    #[derive(Debug, Clone, Default)]
    struct Stub {
        answers: Arc<Mutex<VecDeque<Answer>>>,
        sent: Arc<Mutex<Vec<Sent>>>,
    }

    impl Stub {
        fn answer(&self, status: u16, content_length: bool, body: impl Into<Vec<u8>>) -> &Self {
            self.answers.lock().unwrap().push_back(Answer {
                status,
                content_length,
                body: body.into(),
            });
            self
        }

        fn sent(&self) -> usize {
            self.sent.lock().unwrap().len()
        }
    }

    impl HttpConnector for Stub {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let header = |name: &str| request.headers().get(name).unwrap_or_default().to_string();
            self.sent.lock().unwrap().push(Sent {
                uri: request.uri().to_string(),
                authorization: header("authorization"),
                content_type: header("content-type"),
                body: String::from_utf8_lossy(request.body().bytes().unwrap_or_default()).into_owned(),
            });
            let answer = self
                .answers
                .lock()
                .unwrap()
                .pop_front()
                .expect("an answer for every request");
            let length = answer.body.len();
            let mut response =
                HttpResponse::new(StatusCode::try_from(answer.status).unwrap(), SdkBody::from(answer.body));
            if answer.content_length {
                response.headers_mut().insert("content-length", length.to_string());
            }
            HttpConnectorFuture::ready(Ok(response))
        }
    }

    impl HttpClient for Stub {
        fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
            SharedHttpConnector::new(self.clone())
        }
    }

    async fn client(stub: &Stub) -> Ec2Client {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url("http://ec2.test")
            .http_client(stub.clone())
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            ))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(1)),
            )
            .load()
            .await;
        // Stand-ins for emrstack's own classifier and interceptor (client.rs).
        Ec2Client::new(&config, "us-east-1", || Additions {
            classifier: HttpStatusCodeClassifier::default(),
            interceptor: InvocationIdInterceptor::new(),
        })
        .unwrap()
    }

    fn params() -> Params {
        filter_params("subnet-id", &["subnet-1".to_string()], None)
    }

    #[tokio::test]
    async fn a_page_is_a_signed_form_post_and_throttling_is_retried() {
        let stub = Stub::default();
        let throttled = "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.\
                         </Message></Error></Errors><RequestID>r1</RequestID></Response>";
        stub.answer(503, true, throttled).answer(200, true, SUBNETS);
        let page = client(&stub).await.send(DESCRIBE_SUBNETS, params()).await.unwrap();
        assert_eq!(page.items.len(), 2);
        let sent = stub.sent.lock().unwrap();
        assert_eq!(sent.len(), 2, "the throttled attempt is retried");
        let first = &sent[0];
        assert_eq!(first.uri, "http://ec2.test/");
        assert_eq!(first.content_type, "application/x-www-form-urlencoded");
        assert_eq!(
            first.body,
            "Action=DescribeSubnets&Version=2016-11-15&Filter.1.Name=subnet-id&Filter.1.Value.1=subnet-1"
        );
        assert!(
            first.authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/")
                && first.authorization.contains("/us-east-1/ec2/aws4_request"),
            "{}",
            first.authorization
        );
    }

    #[tokio::test]
    async fn an_error_answer_is_classified_through_the_ec2_table() {
        let stub = Stub::default();
        let body = "<Response><Errors><Error><Code>InvalidParameterValue</Code><Message>bad filter</Message>\
                    </Error></Errors><RequestID>req-9</RequestID></Response>";
        stub.answer(400, true, body);
        let err = client(&stub).await.send(DESCRIBE_SUBNETS, params()).await.unwrap_err();
        assert!(matches!(err, SdkError::ServiceError(_)), "{err:?}");
        let err = cloud_error(Service::Ec2, "DescribeSubnets", &err);
        assert_eq!(err.kind, ErrorKind::Invalid);
        assert_eq!(err.code.as_deref(), Some("InvalidParameterValue"));
        assert_eq!(err.message, "bad filter");
        assert_eq!(err.request_id.as_deref(), Some("req-9"));
        assert_eq!(stub.sent(), 1, "not retried");
    }

    #[tokio::test]
    async fn an_oversized_answer_is_refused_and_not_retried() {
        let big = vec![b' '; MAX_RESPONSE_BYTES + 1];
        // With a Content-Length, before reading; without one (chunked), while reading.
        for content_length in [true, false] {
            let stub = Stub::default();
            stub.answer(200, content_length, big.clone());
            let err = client(&stub).await.send(DESCRIBE_SUBNETS, params()).await.unwrap_err();
            assert!(matches!(err, SdkError::ResponseError(_)), "{err:?}");
            let err = cloud_error(Service::Ec2, "DescribeSubnets", &err);
            assert_eq!(err.kind, ErrorKind::Other, "{err}");
            assert!(err.message.contains("larger than"), "{}", err.message);
            assert_eq!(stub.sent(), 1, "content_length: {content_length}");
        }
    }
}
