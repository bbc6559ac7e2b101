//! `FakeStore`: an in-memory [`ObjectStore`] with S3's conditional write and
//! delete semantics, its whole-second `Last-Modified` and `Date`, buckets in
//! regions, and injected failures, for fast tests of the stack lock (with
//! tokio's paused time: its clock is tokio's).
//!
//! Each call is atomic, as S3's conditional writes are ("the first write
//! operation to finish succeeds", S3 user guide, conditional writes).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use tokio::time::Instant;

use super::error::{CloudError, ErrorKind};
use super::store::{
    DeleteCondition, DeleteOutcome, ObjectMeta, ObjectStore, StoreError, StoredObject, WriteCondition, WriteOutcome,
};
use crate::model::S3Object;

/// A failure to inject into the next matching call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Injected {
    /// The call fails before doing anything.
    Fail(ErrorKind),
    /// The call does its work, then reports this failure, as when the
    /// response is lost and the SDK's retry sees the first attempt's effect.
    FailAfter(ErrorKind),
}

#[derive(Clone, Debug)]
struct Entry {
    body: Vec<u8>,
    etag: String,
    written: SystemTime,
}

#[derive(Debug, Default)]
struct State {
    /// Bucket name -> region.
    buckets: BTreeMap<String, String>,
    objects: BTreeMap<(String, String), Entry>,
    /// Denied IAM actions (`s3:PutObject`).
    denied: BTreeSet<String>,
    /// Failures for the next calls of an operation (`PutObject`), in order.
    injected: BTreeMap<String, VecDeque<Injected>>,
    /// Calls per operation, failed ones included.
    calls: BTreeMap<String, u64>,
}

/// An in-memory S3 for tests.
#[derive(Debug)]
pub struct FakeStore {
    region: String,
    state: Mutex<State>,
    /// The service clock: `epoch` plus tokio time since `started`.
    epoch: SystemTime,
    started: Instant,
}

/// The ETag S3 gives a single-part upload: the MD5 of the body, quoted. A
/// SHA-256 prefix stands in for the MD5: what matters is that the same body
/// gets the same ETag and different bodies different ones.
fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// S3 compares ETags quoted or not.
fn same_etag(a: &str, b: &str) -> bool {
    a.trim_matches('"') == b.trim_matches('"')
}

/// Truncates to whole seconds, as `Last-Modified` and `Date` are.
fn whole_seconds(time: SystemTime) -> SystemTime {
    let seconds = time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    UNIX_EPOCH + Duration::from_secs(seconds)
}

impl FakeStore {
    /// A store whose clients call `region`, with no buckets. Its clock starts
    /// at a fixed, whole-second time and runs with tokio's (pausable) clock.
    pub fn new(region: &str) -> FakeStore {
        FakeStore {
            region: region.to_string(),
            state: Mutex::new(State::default()),
            epoch: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            started: Instant::now(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The service's clock now (with sub-second precision).
    pub fn now(&self) -> SystemTime {
        self.epoch + self.started.elapsed()
    }

    /// Creates a bucket in the store's region.
    pub fn create_bucket(&self, bucket: &str) {
        let region = self.region.clone();
        self.create_bucket_in(bucket, &region);
    }

    /// Creates a bucket in `region`.
    pub fn create_bucket_in(&self, bucket: &str, region: &str) {
        self.state().buckets.insert(bucket.to_string(), region.to_string());
    }

    /// Refuses every call that needs `action` (`s3:PutObject`) with `AccessDenied`.
    pub fn deny(&self, action: &str) {
        self.state().denied.insert(action.to_string());
    }

    /// Allows `action` again.
    pub fn allow(&self, action: &str) {
        self.state().denied.remove(action);
    }

    /// Queues a failure for the next call of `operation` (`PutObject`).
    pub fn inject(&self, operation: &str, failure: Injected) {
        self.state()
            .injected
            .entry(operation.to_string())
            .or_default()
            .push_back(failure);
    }

    /// Removes every queued failure.
    pub fn clear_injected(&self) {
        self.state().injected.clear();
    }

    /// How many calls of `operation` were made, failed ones included.
    pub fn calls(&self, operation: &str) -> u64 {
        self.state().calls.get(operation).copied().unwrap_or(0)
    }

    /// The object's body and ETag, read without a call.
    pub fn peek(&self, object: &S3Object) -> Option<(Vec<u8>, String)> {
        self.state()
            .objects
            .get(&(object.bucket.clone(), object.key.clone()))
            .map(|entry| (entry.body.clone(), entry.etag.clone()))
    }

    /// Writes an object without a call (another client's write).
    pub fn poke(&self, object: &S3Object, body: &[u8]) -> String {
        let etag = etag_of(body);
        let written = self.now();
        self.state().objects.insert(
            (object.bucket.clone(), object.key.clone()),
            Entry {
                body: body.to_vec(),
                etag: etag.clone(),
                written,
            },
        );
        etag
    }

    /// Deletes an object without a call.
    pub fn remove(&self, object: &S3Object) {
        self.state()
            .objects
            .remove(&(object.bucket.clone(), object.key.clone()));
    }

    /// Counts the call, then checks, in S3's order: the bucket's existence
    /// and region, permissions, then an injected failure.
    fn begin(
        &self,
        state: &mut State,
        operation: &str,
        object: &S3Object,
        actions: &[&str],
    ) -> Result<Option<Injected>, StoreError> {
        *state.calls.entry(operation.to_string()).or_insert(0) += 1;
        let error = |kind, code: &str, message: String| CloudError::new(kind, operation, message).with_code(code);
        match state.buckets.get(&object.bucket) {
            None => {
                return Err(StoreError::NoSuchBucket {
                    error: error(
                        ErrorKind::NotFound,
                        "NoSuchBucket",
                        "The specified bucket does not exist".to_string(),
                    ),
                });
            }
            Some(region) if region != &self.region => {
                return Err(StoreError::WrongRegion {
                    bucket_region: Some(region.clone()),
                    client_region: self.region.clone(),
                    error: Box::new(error(
                        ErrorKind::Invalid,
                        "PermanentRedirect",
                        "The bucket you are attempting to access must be addressed using the specified endpoint."
                            .to_string(),
                    )),
                });
            }
            Some(_) => {}
        }
        if let Some(action) = actions.iter().find(|action| state.denied.contains(**action)) {
            return Err(StoreError::Cloud(error(
                ErrorKind::AccessDenied,
                "AccessDenied",
                format!(
                    "User: arn:aws:iam::123456789012:user/test is not authorized to perform: {action} on resource: \"{}\"",
                    object.arn()
                ),
            )));
        }
        let injected = state.injected.get_mut(operation).and_then(VecDeque::pop_front);
        match injected {
            Some(Injected::Fail(kind)) => Err(StoreError::Cloud(error(
                kind,
                "Injected",
                "injected failure".to_string(),
            ))),
            other => Ok(other),
        }
    }
}

/// The failure a `FailAfter` reports once the work is done.
fn after(operation: &str, injected: Option<Injected>) -> Result<(), StoreError> {
    match injected {
        Some(Injected::FailAfter(kind)) => Err(StoreError::Cloud(
            CloudError::new(kind, operation, "injected failure after the call took effect").with_code("Injected"),
        )),
        _ => Ok(()),
    }
}

impl ObjectStore for FakeStore {
    fn store_region(&self) -> &str {
        &self.region
    }

    async fn get_object(&self, object: &S3Object, max_bytes: usize) -> Result<Option<StoredObject>, StoreError> {
        let now = self.now();
        let mut state = self.state();
        let injected = self.begin(&mut state, "GetObject", object, &["s3:GetObject"])?;
        let found = state.objects.get(&(object.bucket.clone(), object.key.clone())).cloned();
        after("GetObject", injected)?;
        let Some(entry) = found else {
            return Ok(None);
        };
        if entry.body.len() > max_bytes {
            return Err(StoreError::Cloud(CloudError::new(
                ErrorKind::Invalid,
                "GetObject",
                format!(
                    "{object} is {} bytes, more than the {max_bytes} expected",
                    entry.body.len()
                ),
            )));
        }
        Ok(Some(StoredObject {
            body: entry.body,
            etag: entry.etag,
            last_modified: Some(whole_seconds(entry.written)),
            server_time: Some(whole_seconds(now)),
        }))
    }

    async fn head_object(&self, object: &S3Object) -> Result<Option<ObjectMeta>, StoreError> {
        let mut state = self.state();
        let injected = self.begin(&mut state, "HeadObject", object, &["s3:GetObject"])?;
        let found = state
            .objects
            .get(&(object.bucket.clone(), object.key.clone()))
            .map(|entry| ObjectMeta {
                etag: entry.etag.clone(),
                size: entry.body.len() as u64,
                last_modified: Some(whole_seconds(entry.written)),
            });
        after("HeadObject", injected)?;
        Ok(found)
    }

    async fn put_object(
        &self,
        object: &S3Object,
        body: Vec<u8>,
        _content_type: &str,
        condition: &WriteCondition,
    ) -> Result<WriteOutcome, StoreError> {
        let now = self.now();
        let mut state = self.state();
        let actions: &[&str] = match condition {
            WriteCondition::IfMatch(_) => &["s3:PutObject", "s3:GetObject"],
            _ => &["s3:PutObject"],
        };
        let injected = self.begin(&mut state, "PutObject", object, actions)?;
        let key = (object.bucket.clone(), object.key.clone());
        let current = state.objects.get(&key);
        let holds = match condition {
            WriteCondition::Always => true,
            WriteCondition::IfAbsent => current.is_none(),
            WriteCondition::IfMatch(etag) => current.is_some_and(|entry| same_etag(&entry.etag, etag)),
        };
        if !holds {
            after("PutObject", injected)?;
            return Ok(WriteOutcome::ConditionFailed);
        }
        let etag = etag_of(&body);
        state.objects.insert(
            key,
            Entry {
                body,
                etag: etag.clone(),
                written: now,
            },
        );
        after("PutObject", injected)?;
        Ok(WriteOutcome::Written { etag })
    }

    async fn delete_object(&self, object: &S3Object, condition: &DeleteCondition) -> Result<DeleteOutcome, StoreError> {
        let mut state = self.state();
        let actions: &[&str] = match condition {
            DeleteCondition::IfMatch(_) => &["s3:DeleteObject", "s3:GetObject"],
            DeleteCondition::Always => &["s3:DeleteObject"],
        };
        let injected = self.begin(&mut state, "DeleteObject", object, actions)?;
        let key = (object.bucket.clone(), object.key.clone());
        let holds = match condition {
            DeleteCondition::Always => true,
            DeleteCondition::IfMatch(etag) => state
                .objects
                .get(&key)
                .is_some_and(|entry| same_etag(&entry.etag, etag)),
        };
        if !holds {
            after("DeleteObject", injected)?;
            return Ok(DeleteOutcome::ConditionFailed);
        }
        state.objects.remove(&key);
        after("DeleteObject", injected)?;
        Ok(DeleteOutcome::Deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object() -> S3Object {
        S3Object {
            bucket: "b".to_string(),
            key: "locks/s.lock".to_string(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn conditional_writes_and_deletes_follow_s3() {
        let store = FakeStore::new("us-east-1");
        store.create_bucket("b");
        let o = object();
        let written = store
            .put_object(&o, b"one".to_vec(), "application/json", &WriteCondition::IfAbsent)
            .await
            .unwrap();
        let WriteOutcome::Written { etag } = written else {
            panic!("{written:?}")
        };
        assert_eq!(
            store
                .put_object(&o, b"two".to_vec(), "application/json", &WriteCondition::IfAbsent)
                .await
                .unwrap(),
            WriteOutcome::ConditionFailed
        );
        assert_eq!(
            store
                .put_object(
                    &o,
                    b"two".to_vec(),
                    "",
                    &WriteCondition::IfMatch("\"nope\"".to_string())
                )
                .await
                .unwrap(),
            WriteOutcome::ConditionFailed
        );
        // S3 compares ETags with or without quotes.
        let unquoted = etag.trim_matches('"').to_string();
        let second = store
            .put_object(&o, b"two".to_vec(), "", &WriteCondition::IfMatch(unquoted))
            .await
            .unwrap();
        let WriteOutcome::Written { etag: second } = second else {
            panic!("{second:?}")
        };
        assert_ne!(second, etag);
        assert_eq!(
            store
                .delete_object(&o, &DeleteCondition::IfMatch(etag.clone()))
                .await
                .unwrap(),
            DeleteOutcome::ConditionFailed
        );
        assert_eq!(
            store
                .delete_object(&o, &DeleteCondition::IfMatch(second))
                .await
                .unwrap(),
            DeleteOutcome::Deleted
        );
        assert_eq!(store.get_object(&o, 100).await.unwrap(), None);
        // If-Match on a missing object fails (S3: 404 NoSuchKey).
        assert_eq!(
            store
                .put_object(&o, b"x".to_vec(), "", &WriteCondition::IfMatch(etag))
                .await
                .unwrap(),
            WriteOutcome::ConditionFailed
        );
        assert_eq!(
            store.delete_object(&o, &DeleteCondition::Always).await.unwrap(),
            DeleteOutcome::Deleted
        );
    }

    #[tokio::test(start_paused = true)]
    async fn times_are_whole_seconds_of_tokio_time() {
        let store = FakeStore::new("us-east-1");
        store.create_bucket("b");
        tokio::time::advance(Duration::from_millis(1500)).await;
        store
            .put_object(&object(), b"x".to_vec(), "", &WriteCondition::Always)
            .await
            .unwrap();
        tokio::time::advance(Duration::from_millis(2700)).await;
        let read = store.get_object(&object(), 10).await.unwrap().unwrap();
        let age = read
            .server_time
            .unwrap()
            .duration_since(read.last_modified.unwrap())
            .unwrap();
        assert_eq!(age, Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn buckets_regions_permissions_and_injected_failures() {
        let store = FakeStore::new("us-east-1");
        let o = object();
        assert!(matches!(
            store.get_object(&o, 10).await,
            Err(StoreError::NoSuchBucket { .. })
        ));
        store.create_bucket_in("b", "eu-west-1");
        match store.get_object(&o, 10).await {
            Err(StoreError::WrongRegion { bucket_region, .. }) => {
                assert_eq!(bucket_region.as_deref(), Some("eu-west-1"))
            }
            other => panic!("{other:?}"),
        }
        store.create_bucket("b");
        store.deny("s3:GetObject");
        let denied = store
            .put_object(&o, b"x".to_vec(), "", &WriteCondition::IfMatch("\"e\"".to_string()))
            .await
            .unwrap_err();
        assert_eq!(denied.cloud().kind, ErrorKind::AccessDenied);
        assert!(denied.to_string().contains("s3:GetObject"), "{denied}");
        store.allow("s3:GetObject");
        store.inject("PutObject", Injected::FailAfter(ErrorKind::Transient));
        let lost = store
            .put_object(&o, b"x".to_vec(), "", &WriteCondition::IfAbsent)
            .await
            .unwrap_err();
        assert_eq!(lost.cloud().kind, ErrorKind::Transient);
        assert_eq!(store.peek(&o).map(|(body, _)| body), Some(b"x".to_vec()));
        assert_eq!(store.calls("PutObject"), 2);
        assert!(store.get_object(&o, 0).await.is_err(), "larger than max_bytes");
    }
}
