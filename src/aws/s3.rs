//! S3: the object calls of [`ObjectStore`] (`GetObject`, `HeadObject`,
//! conditional `PutObject` and `DeleteObject`), each through the one call
//! path of `client.rs`, with the outcomes a caller branches on (a condition
//! that did not hold, a missing key, a missing bucket, a bucket in another
//! region) turned into values and [`StoreError`] variants here.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::date_time::{DateTime, Format};

use super::client::AwsCloud;
use super::settings::Service;
use crate::cloud::{
    CloudError, DeleteCondition, DeleteOutcome, ErrorKind, ObjectMeta, StoreError, StoredObject, WriteCondition,
    WriteOutcome,
};
use crate::model::S3Object;

/// Response headers the SDK's output types leave out, captured by
/// [`CaptureHeaders`] from the last attempt.
#[derive(Clone, Debug, Default)]
struct Captured {
    /// `Date`: the service's clock.
    date: Option<String>,
    /// `x-amz-bucket-region`, sent with a redirect to the bucket's region.
    bucket_region: Option<String>,
}

/// Copies `Date` and `x-amz-bucket-region` out of every response of one call.
#[derive(Debug, Clone, Default)]
struct CaptureHeaders(Arc<Mutex<Captured>>);

impl CaptureHeaders {
    fn get(&self) -> Captured {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Intercept for CaptureHeaders {
    fn name(&self) -> &'static str {
        "emrstack: capture S3 response headers"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = context.response().headers();
        let mut captured = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        captured.date = headers.get("date").map(str::to_string);
        captured.bucket_region = headers.get("x-amz-bucket-region").map(str::to_string);
        Ok(())
    }
}

fn system_time(time: &DateTime) -> Option<SystemTime> {
    SystemTime::try_from(*time).ok()
}

fn http_date(text: &str) -> Option<SystemTime> {
    DateTime::from_str(text, Format::HttpDate)
        .ok()
        .and_then(|time| system_time(&time))
}

/// The region a refusal names: `x-amz-bucket-region`, or the region
/// `AuthorizationHeaderMalformed` says it expected ("the region 'us-east-1'
/// is wrong; expecting 'eu-west-1'").
fn named_region(captured: &Captured, message: &str) -> Option<String> {
    captured.bucket_region.clone().or_else(|| {
        let (_, rest) = message.split_once("expecting '")?;
        let (region, _) = rest.split_once('\'')?;
        Some(region.to_string())
    })
}

impl AwsCloud {
    /// Turns a classified S3 error into the [`StoreError`] a caller branches
    /// on: a missing bucket, a bucket in another region, or the rest.
    fn store_error(&self, error: CloudError, captured: &Captured) -> StoreError {
        match error.code.as_deref() {
            Some("NoSuchBucket") => StoreError::NoSuchBucket { error },
            Some("PermanentRedirect" | "AuthorizationHeaderMalformed" | "IllegalLocationConstraintException") => {
                StoreError::WrongRegion {
                    bucket_region: named_region(captured, &error.message),
                    client_region: self.region.clone(),
                    error: Box::new(error),
                }
            }
            // A HEAD answer has no body, so no code: the redirect shows in
            // the status and the region header.
            None if captured.bucket_region.is_some() && error.kind != ErrorKind::AccessDenied => {
                StoreError::WrongRegion {
                    bucket_region: captured.bucket_region.clone(),
                    client_region: self.region.clone(),
                    error: Box::new(error),
                }
            }
            _ => StoreError::Cloud(error),
        }
    }

    pub(super) async fn s3_get_object(
        &self,
        object: &S3Object,
        max_bytes: usize,
    ) -> Result<Option<StoredObject>, StoreError> {
        let capture = CaptureHeaders::default();
        let request = self
            .s3
            .get_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .customize()
            .interceptor(capture.clone())
            .send();
        let output = match self.call(Service::S3, "GetObject", request).await {
            Ok(output) => output,
            Err(error) if error.code.as_deref() == Some("NoSuchKey") => return Ok(None),
            Err(error) => return Err(self.store_error(error, &capture.get())),
        };
        let too_big = |size: usize| {
            StoreError::Cloud(CloudError::new(
                ErrorKind::Invalid,
                "GetObject",
                format!("{object} is larger than the {max_bytes} bytes expected ({size} bytes or more)"),
            ))
        };
        if let Some(length) = output.content_length()
            && usize::try_from(length).map_or(true, |length| length > max_bytes)
        {
            return Err(too_big(usize::try_from(length).unwrap_or(usize::MAX)));
        }
        let etag = output.e_tag().map(str::to_string).ok_or_else(|| {
            StoreError::Cloud(CloudError::new(
                ErrorKind::Other,
                "GetObject",
                "`ETag` is missing from the response",
            ))
        })?;
        let last_modified = output.last_modified().and_then(system_time);
        let mut body = output.body;
        let mut bytes = Vec::new();
        // Read no further than `max_bytes`, whatever Content-Length said.
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|err| {
                StoreError::Cloud(CloudError::new(
                    ErrorKind::Transient,
                    "GetObject",
                    format!("reading {object} failed: {err}"),
                ))
            })?;
            if bytes.len() + chunk.len() > max_bytes {
                return Err(too_big(bytes.len() + chunk.len()));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some(StoredObject {
            body: bytes,
            etag,
            last_modified,
            server_time: capture.get().date.as_deref().and_then(http_date),
        }))
    }

    pub(super) async fn s3_head_object(&self, object: &S3Object) -> Result<Option<ObjectMeta>, StoreError> {
        let capture = CaptureHeaders::default();
        let request = self
            .s3
            .head_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .customize()
            .interceptor(capture.clone())
            .send();
        let output = match self.call(Service::S3, "HeadObject", request).await {
            Ok(output) => output,
            // A HEAD answer has no body: a missing key and a missing bucket
            // are both a bare 404 (`NotFound`). A caller that writes next
            // learns about a missing bucket from the write.
            Err(error) if error.kind == ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(self.store_error(error, &capture.get())),
        };
        Ok(Some(ObjectMeta {
            etag: output.e_tag().unwrap_or_default().to_string(),
            size: output
                .content_length()
                .and_then(|length| u64::try_from(length).ok())
                .unwrap_or(0),
            last_modified: output.last_modified().and_then(system_time),
        }))
    }

    pub(super) async fn s3_put_object(
        &self,
        object: &S3Object,
        body: Vec<u8>,
        content_type: &str,
        condition: &WriteCondition,
    ) -> Result<WriteOutcome, StoreError> {
        let capture = CaptureHeaders::default();
        let mut request = self
            .s3
            .put_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .content_type(content_type)
            .body(ByteStream::from(body));
        request = match condition {
            WriteCondition::Always => request,
            WriteCondition::IfAbsent => request.if_none_match("*"),
            WriteCondition::IfMatch(etag) => request.if_match(etag),
        };
        let request = request.customize().interceptor(capture.clone()).send();
        match self.call(Service::S3, "PutObject", request).await {
            Ok(output) => Ok(WriteOutcome::Written {
                etag: output.e_tag().unwrap_or_default().to_string(),
            }),
            // 412 when the condition fails; 404 NoSuchKey for If-Match on a
            // key that does not exist (S3 user guide, conditional writes).
            Err(error)
                if error.code.as_deref() == Some("PreconditionFailed")
                    || (matches!(condition, WriteCondition::IfMatch(_))
                        && error.code.as_deref() == Some("NoSuchKey")) =>
            {
                Ok(WriteOutcome::ConditionFailed)
            }
            Err(error) => Err(self.store_error(error, &capture.get())),
        }
    }

    pub(super) async fn s3_delete_object(
        &self,
        object: &S3Object,
        condition: &DeleteCondition,
    ) -> Result<DeleteOutcome, StoreError> {
        let capture = CaptureHeaders::default();
        let mut request = self.s3.delete_object().bucket(&object.bucket).key(&object.key);
        if let DeleteCondition::IfMatch(etag) = condition {
            request = request.if_match(etag);
        }
        let request = request.customize().interceptor(capture.clone()).send();
        match self.call(Service::S3, "DeleteObject", request).await {
            Ok(_) => Ok(DeleteOutcome::Deleted),
            // 412 when the ETag differs, 404 NoSuchKey when there is no
            // object (S3 user guide, conditional deletes).
            Err(error)
                if matches!(condition, DeleteCondition::IfMatch(_))
                    && matches!(error.code.as_deref(), Some("PreconditionFailed" | "NoSuchKey")) =>
            {
                Ok(DeleteOutcome::ConditionFailed)
            }
            Err(error) => Err(self.store_error(error, &capture.get())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_and_regions_are_read() {
        assert_eq!(
            http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(784_111_777))
        );
        assert_eq!(http_date("yesterday"), None);
        let captured = Captured::default();
        assert_eq!(
            named_region(
                &captured,
                "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'"
            )
            .as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(named_region(&captured, "no region here"), None);
        let redirected = Captured {
            date: None,
            bucket_region: Some("ap-northeast-1".to_string()),
        };
        assert_eq!(named_region(&redirected, "anything").as_deref(), Some("ap-northeast-1"));
    }
}
