//! The `ObjectStore` trait: the S3 object calls emrstack needs (the stack
//! lock, job artifacts and driver logs), in domain types, with S3's
//! conditional writes and deletes. `aws::AwsCloud` implements it against S3;
//! [`FakeStore`](super::fake_store::FakeStore) in memory, with the same
//! conditional semantics.

use std::fmt;
use std::future::Future;
use std::time::SystemTime;

use super::error::CloudError;
use crate::model::S3Object;

/// The precondition of a write (S3 conditional writes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteCondition {
    /// Write whatever is there.
    Always,
    /// Only if no object has the key (`If-None-Match: *`).
    IfAbsent,
    /// Only if the current object has this ETag (`If-Match`); fails when
    /// there is no object.
    IfMatch(String),
}

/// The precondition of a delete (S3 conditional deletes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeleteCondition {
    /// Delete whatever is there; deleting nothing succeeds.
    Always,
    /// Only if the current object has this ETag (`If-Match`).
    IfMatch(String),
}

/// An object as read, with the times the service reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredObject {
    /// The object's bytes.
    pub body: Vec<u8>,
    /// The ETag, as the service quotes it (`"9b2cf535f27731c974343645a3985328"`).
    pub etag: String,
    /// When the object was written, by the service's clock (`Last-Modified`,
    /// whole seconds); `None` when the response did not say.
    pub last_modified: Option<SystemTime>,
    /// The service's clock when it answered (the HTTP `Date` header, whole
    /// seconds); `None` when the response did not say. With `last_modified`
    /// it gives the object's age without comparing two machines' clocks.
    pub server_time: Option<SystemTime>,
}

/// An object's metadata (`HeadObject`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The ETag, quoted as the service returns it.
    pub etag: String,
    /// The size in bytes.
    pub size: u64,
    /// When the object was written, by the service's clock.
    pub last_modified: Option<SystemTime>,
}

/// What a conditional write did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The object was written; its new ETag.
    Written { etag: String },
    /// The condition did not hold (S3's 412 `PreconditionFailed`, or 404
    /// `NoSuchKey` for `IfMatch` on a missing object); nothing was written.
    ConditionFailed,
}

/// What a conditional delete did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// The object is gone (for [`DeleteCondition::Always`], also when there was none).
    Deleted,
    /// The condition did not hold (a different object, or none); nothing was deleted.
    ConditionFailed,
}

/// A failed object call. The failures a caller reacts to differently are
/// variants; everything else is a classified [`CloudError`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The bucket does not exist (`NoSuchBucket`).
    #[error("the bucket does not exist ({error})")]
    NoSuchBucket { error: CloudError },
    /// The bucket is in another region than the one the call was sent to
    /// (S3's `PermanentRedirect`, or `AuthorizationHeaderMalformed` naming
    /// the expected region).
    #[error("the bucket is in {}, not in {client_region} ({error})", region_text(bucket_region.as_deref()))]
    WrongRegion {
        /// The bucket's region when the service named it.
        bucket_region: Option<String>,
        /// The region the call was sent to.
        client_region: String,
        error: Box<CloudError>,
    },
    /// Anything else, classified: `AccessDenied` for a missing permission,
    /// `Transient` and `Throttled` after the SDK's retries (a 409
    /// `ConditionalRequestConflict` is `Transient`: S3 asks to retry it).
    #[error(transparent)]
    Cloud(#[from] CloudError),
}

fn region_text(region: Option<&str>) -> String {
    match region {
        Some(region) => format!("region {region}"),
        None => "another region".to_string(),
    }
}

impl StoreError {
    /// The underlying classified error.
    pub fn cloud(&self) -> &CloudError {
        match self {
            StoreError::NoSuchBucket { error } | StoreError::Cloud(error) => error,
            StoreError::WrongRegion { error, .. } => error,
        }
    }
}

/// S3 object calls. Implementations retry throttling and transient failures
/// themselves (the SDK's policy) and respect the client-side rate limits;
/// callers see what is left.
pub trait ObjectStore: Send + Sync {
    /// The region every call goes to.
    fn store_region(&self) -> &str;

    /// `GetObject`: the object, or `None` when the key does not exist. An
    /// object larger than `max_bytes` is an error (kind `Invalid`), read no
    /// further than that.
    fn get_object(
        &self,
        object: &S3Object,
        max_bytes: usize,
    ) -> impl Future<Output = Result<Option<StoredObject>, StoreError>> + Send;

    /// `HeadObject`: the metadata, or `None` when the key does not exist.
    fn head_object(&self, object: &S3Object) -> impl Future<Output = Result<Option<ObjectMeta>, StoreError>> + Send;

    /// `PutObject` with `body` (`content_type` as given) under `condition`.
    fn put_object(
        &self,
        object: &S3Object,
        body: Vec<u8>,
        content_type: &str,
        condition: &WriteCondition,
    ) -> impl Future<Output = Result<WriteOutcome, StoreError>> + Send;

    /// `DeleteObject` under `condition`.
    fn delete_object(
        &self,
        object: &S3Object,
        condition: &DeleteCondition,
    ) -> impl Future<Output = Result<DeleteOutcome, StoreError>> + Send;
}

impl fmt::Display for WriteCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteCondition::Always => f.write_str("unconditionally"),
            WriteCondition::IfAbsent => f.write_str("If-None-Match: *"),
            WriteCondition::IfMatch(etag) => write!(f, "If-Match: {etag}"),
        }
    }
}
