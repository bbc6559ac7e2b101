//! The lock protocol on [`FakeStore`] with tokio's paused clock: a lease of
//! two minutes costs nothing to wait out.

use std::sync::Mutex as StdMutex;
use std::time::Duration;

use futures::future::join_all;
use tokio::sync::watch;
use tokio::time::{Instant, advance, sleep};

use super::*;
use crate::cloud::fake_store::{FakeStore, Injected};

const BUCKET: &str = "locks-bucket";

fn object() -> S3Object {
    lock_object(
        &S3Location {
            bucket: BUCKET.to_string(),
            prefix: "ci/locks".to_string(),
        },
        "shop",
    )
}

fn store() -> FakeStore {
    let store = FakeStore::new("us-east-1");
    store.create_bucket(BUCKET);
    store
}

fn request(pid: u32, timeout: Duration) -> LockRequest {
    LockRequest {
        object: object(),
        stack: "shop".to_string(),
        command: "apply".to_string(),
        who: Who {
            user: format!("user{pid}"),
            host: "ci-runner".to_string(),
            pid,
            ci_run_url: Some(format!("https://ci.example/runs/{pid}")),
        },
        timeout,
    }
}

/// A stop channel nobody signals.
fn never() -> (watch::Sender<Option<String>>, watch::Receiver<Option<String>>) {
    watch::channel(None)
}

async fn take<'a>(store: &'a FakeStore, pid: u32, timeout: Duration) -> Result<Lock<'a, FakeStore>, LockError> {
    let (_tx, mut rx) = never();
    acquire(
        store,
        &request(pid, timeout),
        &LockSettings::default(),
        &SilentLockObserver,
        &mut rx,
    )
    .await
}

fn current(store: &FakeStore) -> Option<LockRecord> {
    store.peek(&object()).and_then(|(body, _)| LockRecord::from_json(&body))
}

/// Records every event.
#[derive(Default)]
struct Recorder(StdMutex<Vec<LockEvent>>);

impl LockObserver for Recorder {
    fn event(&self, event: &LockEvent) {
        self.0.lock().unwrap().push(event.clone());
    }
}

impl Recorder {
    fn events(&self) -> Vec<LockEvent> {
        self.0.lock().unwrap().clone()
    }
}

#[tokio::test(start_paused = true)]
async fn acquire_writes_the_record_and_a_second_acquirer_is_told_who_holds_it() {
    let store = store();
    let lock = take(&store, 1, Duration::ZERO).await.unwrap();
    let record = current(&store).unwrap();
    assert_eq!(record.id, lock.id().await);
    assert_eq!(
        (
            record.stack.as_str(),
            record.command.as_str(),
            record.user.as_str(),
            record.pid
        ),
        ("shop", "apply", "user1", 1)
    );
    assert_eq!(record.lease_ms, 120_000);
    assert_eq!(record.ci_run_url.as_deref(), Some("https://ci.example/runs/1"));
    assert_eq!(object().key, "ci/locks/shop.lock");

    advance(Duration::from_secs(10)).await;
    match take(&store, 2, Duration::ZERO).await {
        Err(LockError::Held { holder, waited, .. }) => {
            assert_eq!(holder.id(), Some(record.id.as_str()));
            assert_eq!(holder.age, Some(Duration::from_secs(10)));
            assert!(!holder.expired);
            assert_eq!(waited, Duration::ZERO);
            let text = LockError::Held {
                object: object(),
                holder,
                waited,
            }
            .to_string();
            for part in [
                "user1@ci-runner (pid 1)",
                "`emrstack apply`",
                &record.acquired_at,
                &record.id,
                "https://ci.example/runs/1",
                "s3://locks-bucket/ci/locks/shop.lock",
            ] {
                assert!(text.contains(part), "`{part}` in {text}");
            }
        }
        other => panic!("expected Held, got {other:?}"),
    }
    assert_eq!(lock.release().await.unwrap(), Released::Deleted);
    assert_eq!(store.peek(&object()), None);
    take(&store, 2, Duration::ZERO).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_waiter_takes_the_lock_when_the_holder_releases_it() {
    let store = store();
    let first = take(&store, 1, Duration::ZERO).await.unwrap();
    let recorder = Recorder::default();
    let (_tx, mut rx) = never();
    let started = Instant::now();
    let (second_request, settings) = (request(2, Duration::from_secs(300)), LockSettings::default());
    let waiter = acquire(&store, &second_request, &settings, &recorder, &mut rx);
    let releaser = async {
        sleep(Duration::from_secs(40)).await;
        first.release().await.unwrap()
    };
    let (second, released) = tokio::join!(waiter, releaser);
    assert_eq!(released, Released::Deleted);
    let second = second.unwrap();
    // Polls back off (1, 2, 4, 8, 15, 15 s, give or take the jitter), so the
    // waiter notices within one poll interval of the release.
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(40) && waited <= Duration::from_secs(40 + 18),
        "{waited:?}"
    );
    assert_eq!(second.record().await.took_over_from, None);
    assert_eq!(current(&store).unwrap().pid, 2);
    let waits: Vec<_> = recorder
        .events()
        .into_iter()
        .filter(|event| matches!(event, LockEvent::Waiting { .. }))
        .collect();
    assert_eq!(waits.len(), 1, "the wait is announced once: {waits:?}");
    // Far fewer polls than seconds waited.
    assert!(store.calls("GetObject") <= 10, "{}", store.calls("GetObject"));
}

#[tokio::test(start_paused = true)]
async fn a_waiter_gives_up_after_its_timeout_naming_the_holder() {
    let store = store();
    let _first = take(&store, 1, Duration::ZERO).await.unwrap();
    let started = Instant::now();
    match take(&store, 2, Duration::from_secs(20)).await {
        Err(LockError::Held { holder, waited, .. }) => {
            assert_eq!(holder.record.unwrap().pid, 1);
            assert!(waited >= Duration::from_secs(20), "{waited:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(21));
}

#[tokio::test(start_paused = true)]
async fn an_expired_lease_is_taken_over_by_exactly_one_of_many_contenders() {
    let store = store();
    // The holder dies: nothing renews its lease and nothing releases it.
    let dead = take(&store, 1, Duration::ZERO).await.unwrap();
    let dead_id = dead.id().await;
    drop(dead);

    // Not before the lease (plus S3's one-second granularity) has run out.
    advance(Duration::from_secs(121)).await;
    assert!(matches!(
        take(&store, 2, Duration::ZERO).await,
        Err(LockError::Held { .. })
    ));
    advance(Duration::from_secs(1)).await;

    let contenders = (10..30).map(|pid| take(&store, pid, Duration::ZERO));
    let results = join_all(contenders).await;
    let winners: Vec<&Lock<'_, FakeStore>> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one contender wins");
    let winner = winners[0];
    assert_eq!(winner.record().await.took_over_from.as_deref(), Some(dead_id.as_str()));
    let winner_id = winner.id().await;
    assert_eq!(current(&store).unwrap().id, winner_id);
    assert_eq!(
        current(&store).unwrap().took_over_from.as_deref(),
        Some(dead_id.as_str())
    );
    for result in &results {
        if let Err(error) = result {
            match error {
                LockError::Held { holder, .. } => assert_eq!(holder.id(), Some(winner_id.as_str())),
                other => panic!("{other:?}"),
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_live_holder_renews_and_is_never_taken_over() {
    let store = store();
    let lock = take(&store, 1, Duration::ZERO).await.unwrap();
    let (lost_tx, lost_rx) = watch::channel(None);
    let mut etags = vec![store.peek(&object()).unwrap().1];
    let watcher = async {
        // Ten minutes, five times the lease: contenders never get in.
        for _ in 0..30 {
            sleep(Duration::from_secs(20)).await;
            match take(&store, 2, Duration::ZERO).await {
                Err(LockError::Held { holder, .. }) => {
                    assert!(!holder.expired);
                    assert!(holder.age.unwrap() <= Duration::from_secs(31), "{:?}", holder.age);
                }
                other => panic!("{other:?}"),
            }
            let etag = store.peek(&object()).unwrap().1;
            if etags.last() != Some(&etag) {
                etags.push(etag);
            }
        }
    };
    lock.hold(watcher, &lost_tx, &SilentLockObserver).await;
    assert_eq!(*lost_rx.borrow(), None);
    assert!(
        etags.len() >= 19,
        "a renewal every 30 s changes the ETag: {}",
        etags.len()
    );
    assert!(current(&store).unwrap().renewals >= 19);
    assert_eq!(lock.release().await.unwrap(), Released::Deleted);
}

#[tokio::test(start_paused = true)]
async fn a_holder_whose_lock_is_taken_over_stops_and_leaves_the_new_lock_alone() {
    let store = store();
    let lock = take(&store, 1, Duration::ZERO).await.unwrap();
    let (lost_tx, mut lost_rx) = watch::channel(None);
    let recorder = Recorder::default();
    let usurper = LockRecord::new(
        "shop",
        "destroy",
        &request(7, Duration::ZERO).who,
        Duration::from_secs(120),
        SystemTime::now(),
    );
    let started = Instant::now();
    let work = async {
        sleep(Duration::from_secs(40)).await;
        // Someone deletes the lock and another process takes it (as after
        // `emrstack unlock`).
        store.poke(&object(), &usurper.to_json());
        lost_rx.wait_for(Option::is_some).await.unwrap().clone()
    };
    let reason = lock.hold(work, &lost_tx, &recorder).await.unwrap();
    // Noticed at the next renewal, at 60 s.
    assert_eq!(started.elapsed(), Duration::from_secs(60));
    assert!(reason.contains("user7@ci-runner (pid 7)"), "{reason}");
    assert!(reason.contains(&usurper.id), "{reason}");
    assert!(recorder.events().contains(&LockEvent::Lost { reason: reason.clone() }));
    assert_eq!(lock.lost().await, Some(reason));
    match lock.release().await.unwrap() {
        Released::NotOurs { current: Some(holder) } => assert_eq!(holder.id(), Some(usurper.id.as_str())),
        other => panic!("{other:?}"),
    }
    assert_eq!(current(&store).unwrap().id, usurper.id, "the new holder's lock stays");
}

#[tokio::test(start_paused = true)]
async fn a_deleted_lock_object_loses_the_lease() {
    let store = store();
    let lock = take(&store, 1, Duration::ZERO).await.unwrap();
    let (lost_tx, mut lost_rx) = watch::channel(None);
    let work = async {
        store.remove(&object());
        lost_rx.wait_for(Option::is_some).await.unwrap().clone()
    };
    let reason = lock.hold(work, &lost_tx, &SilentLockObserver).await.unwrap();
    assert!(reason.contains("deleted"), "{reason}");
    assert_eq!(lock.release().await.unwrap(), Released::NotOurs { current: None });
}

#[tokio::test(start_paused = true)]
async fn a_holder_that_cannot_renew_gives_up_before_anyone_may_take_over() {
    let store = store();
    let lock = take(&store, 1, Duration::ZERO).await.unwrap();
    let started = Instant::now();
    store.inject("PutObject", Injected::Fail(ErrorKind::Transient));
    store.deny("s3:PutObject");
    let (lost_tx, mut lost_rx) = watch::channel(None);
    let recorder = Recorder::default();
    let work = async {
        let _ = lost_rx.wait_for(Option::is_some).await.unwrap();
        started.elapsed()
    };
    let lost_after = lock.hold(work, &lost_tx, &recorder).await;
    // Given up at lease - lease/8 = 105 s, never later.
    assert!(
        lost_after <= Duration::from_secs(105) && lost_after >= Duration::from_secs(100),
        "{lost_after:?}"
    );
    let failures = recorder
        .events()
        .iter()
        .filter(|event| matches!(event, LockEvent::RenewalFailed { .. }))
        .count();
    assert!(failures >= 10, "renewals are retried every 5 s: {failures}");
    store.allow("s3:PutObject");
    // A contender still sees a live lease at that moment, and takes over
    // only after it ran out by S3's clock.
    assert!(matches!(
        take(&store, 2, Duration::ZERO).await,
        Err(LockError::Held { .. })
    ));
    advance(Duration::from_secs(122) - started.elapsed()).await;
    let next = take(&store, 2, Duration::ZERO).await.unwrap();
    assert!(next.record().await.took_over_from.is_some());
    assert!(matches!(lock.release().await.unwrap(), Released::NotOurs { .. }));
}

#[tokio::test(start_paused = true)]
async fn writes_whose_answers_were_lost_are_recognised_as_ours() {
    let store = store();
    // The acquiring write lands, but the caller sees a failure.
    store.inject("PutObject", Injected::FailAfter(ErrorKind::Transient));
    let lock = take(&store, 1, Duration::ZERO).await.unwrap();
    assert_eq!(current(&store).unwrap().id, lock.id().await);
    // So does a renewal: the retry's If-Match fails, and the object turns
    // out to be the renewal itself.
    let (lost_tx, lost_rx) = watch::channel(None);
    let work = async {
        sleep(Duration::from_secs(25)).await;
        store.inject("PutObject", Injected::FailAfter(ErrorKind::Transient));
        sleep(Duration::from_secs(60)).await;
    };
    lock.hold(work, &lost_tx, &SilentLockObserver).await;
    assert_eq!(*lost_rx.borrow(), None);
    assert_eq!(current(&store).unwrap().renewals, 2);
    assert_eq!(lock.release().await.unwrap(), Released::Deleted);
}

#[tokio::test(start_paused = true)]
async fn release_follows_a_renewal_that_landed_after_its_answer_was_lost() {
    let store = store();
    let lock = take(&store, 1, Duration::ZERO).await.unwrap();
    // The object changed under the lock's last known ETag, but it is still
    // this lock (a renewal whose answer never came back).
    let mut record = current(&store).unwrap();
    record.renewals = 5;
    store.poke(&object(), &record.to_json());
    assert_eq!(lock.release().await.unwrap(), Released::Deleted);
    assert_eq!(store.peek(&object()), None);
}

#[tokio::test(start_paused = true)]
async fn unlock_deletes_only_the_lock_with_that_id() {
    let store = store();
    let lock = take(&store, 1, Duration::ZERO).await.unwrap();
    let id = lock.id().await;
    let before = store.peek(&object()).unwrap();
    match unlock(
        &store,
        &object(),
        "0123456789abcdef0123456789abcdef",
        &LockSettings::default(),
    )
    .await
    {
        Err(LockError::WrongId { holder, given, .. }) => {
            assert_eq!(holder.id(), Some(id.as_str()));
            assert_eq!(given, "0123456789abcdef0123456789abcdef");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.peek(&object()), Some(before), "a wrong ID changes nothing");
    assert_eq!(store.calls("DeleteObject"), 0);
    match unlock(&store, &object(), &id, &LockSettings::default()).await.unwrap() {
        Unlocked::Deleted { holder } => assert_eq!(holder.record.unwrap().pid, 1),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.peek(&object()), None);
    assert_eq!(
        unlock(&store, &object(), &id, &LockSettings::default()).await.unwrap(),
        Unlocked::NotHeld
    );
}

#[tokio::test(start_paused = true)]
async fn errors_name_the_bucket_the_region_and_the_missing_permission() {
    let store = FakeStore::new("us-east-1");
    match take(&store, 1, Duration::ZERO).await {
        Err(error @ LockError::NoSuchBucket { .. }) => {
            assert!(
                error.to_string().contains("bucket `locks-bucket` does not exist"),
                "{error}"
            )
        }
        other => panic!("{other:?}"),
    }
    store.create_bucket_in(BUCKET, "eu-west-1");
    match take(&store, 1, Duration::ZERO).await {
        Err(error @ LockError::WrongRegion { .. }) => {
            let text = error.to_string();
            assert!(
                text.contains("region eu-west-1") && text.contains("us-east-1"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
    store.create_bucket(BUCKET);
    store.deny("s3:PutObject");
    match take(&store, 1, Duration::ZERO).await {
        Err(error @ LockError::AccessDenied { .. }) => {
            let text = error.to_string();
            assert!(text.contains("`s3:PutObject`"), "{text}");
            assert!(text.contains("arn:aws:s3:::locks-bucket/ci/locks/shop.lock"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    store.allow("s3:PutObject");
    let lock = take(&store, 1, Duration::ZERO).await.unwrap();
    store.deny("s3:GetObject");
    match take(&store, 2, Duration::ZERO).await {
        Err(error @ LockError::AccessDenied { actions, .. }) => {
            assert_eq!(actions, READ);
            assert!(error.to_string().contains("no permission to read"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    store.allow("s3:GetObject");
    store.deny("s3:DeleteObject");
    assert!(matches!(
        lock.release().await,
        Err(LockError::AccessDenied { actions: DELETE, .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn expiry_is_judged_by_the_services_clock_not_the_holders() {
    let store = store();
    let who = request(5, Duration::ZERO).who;
    // A holder whose clock is two hours behind: its record says the lease
    // ran out long ago, but it has just written the object.
    let behind = LockRecord::new(
        "shop",
        "apply",
        &who,
        Duration::from_secs(120),
        SystemTime::now() - Duration::from_secs(7200),
    );
    store.poke(&object(), &behind.to_json());
    advance(Duration::from_secs(5)).await;
    assert!(matches!(
        take(&store, 2, Duration::ZERO).await,
        Err(LockError::Held { .. })
    ));
    // A holder whose clock is two hours ahead: its record says the lease runs
    // for hours yet, but nothing was written for more than the lease.
    let ahead = LockRecord::new(
        "shop",
        "apply",
        &who,
        Duration::from_secs(120),
        SystemTime::now() + Duration::from_secs(7200),
    );
    store.poke(&object(), &ahead.to_json());
    advance(Duration::from_secs(122)).await;
    let lock = take(&store, 2, Duration::ZERO).await.unwrap();
    assert_eq!(lock.record().await.took_over_from.as_deref(), Some(ahead.id.as_str()));
}

#[test]
fn without_the_services_times_the_record_is_compared_with_the_local_clock() {
    let who = request(5, Duration::ZERO).who;
    let now = SystemTime::now();
    let record = LockRecord::new("shop", "apply", &who, Duration::from_secs(120), now);
    let lease = Duration::from_secs(120);
    assert!(!Holder::expired(
        Some(&record),
        None,
        lease,
        now + Duration::from_secs(100)
    ));
    assert!(Holder::expired(
        Some(&record),
        None,
        lease,
        now + Duration::from_secs(122)
    ));
    // Not a lock record: the default lease applies to S3's age; without S3's
    // times it never expires.
    assert!(Holder::expired(None, Some(Duration::from_secs(122)), lease, now));
    assert!(!Holder::expired(None, None, lease, now + Duration::from_secs(99_999)));
    // A record claiming a lease of a year is held to an hour.
    let mut long = record.clone();
    long.lease_ms = 365 * 24 * 3600 * 1000;
    assert!(Holder::expired(
        Some(&long),
        Some(Duration::from_secs(3602)),
        lease,
        now
    ));
}

#[tokio::test(start_paused = true)]
async fn a_foreign_object_blocks_until_it_is_older_than_a_lease() {
    let store = store();
    store.poke(&object(), b"not a lock record");
    match take(&store, 1, Duration::ZERO).await {
        Err(error @ LockError::Held { .. }) => {
            assert!(error.to_string().contains("not an emrstack lock record"), "{error}")
        }
        other => panic!("{other:?}"),
    }
    advance(Duration::from_secs(122)).await;
    take(&store, 1, Duration::ZERO).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_stop_request_ends_the_wait_without_taking_the_lock() {
    let store = store();
    let _first = take(&store, 1, Duration::ZERO).await.unwrap();
    let (tx, mut rx) = never();
    let started = Instant::now();
    let (second_request, settings) = (request(2, Duration::from_secs(600)), LockSettings::default());
    let waiter = acquire(&store, &second_request, &settings, &SilentLockObserver, &mut rx);
    let stopper = async {
        sleep(Duration::from_secs(7)).await;
        tx.send(Some("interrupted".to_string())).unwrap();
    };
    let (result, ()) = tokio::join!(waiter, stopper);
    match result {
        Err(LockError::Cancelled { reason, .. }) => assert_eq!(reason, "interrupted"),
        other => panic!("{other:?}"),
    }
    assert_eq!(started.elapsed(), Duration::from_secs(7));
    assert_eq!(current(&store).unwrap().pid, 1);
}

#[test]
fn settings_from_the_environment() {
    let lookup = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    };
    let (settings, problems) = LockSettings::from_vars(lookup(&[]));
    assert_eq!(settings, LockSettings::default());
    assert!(problems.is_empty());
    let (settings, problems) = LockSettings::from_vars(lookup(&[
        (ENV_LEASE_MS, "2000"),
        (ENV_RENEW_MS, "500"),
        (ENV_POLL_MS, "50"),
        (ENV_MAX_POLL_MS, "200"),
    ]));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(settings.lease, Duration::from_millis(2000));
    assert_eq!(settings.renew_every, Duration::from_millis(500));
    assert_eq!(settings.first_poll, Duration::from_millis(50));
    assert_eq!(settings.max_poll, Duration::from_millis(200));
    // An unreadable value is ignored; the default renewal (30 s) is then
    // longer than the lease, so it becomes a quarter of the lease.
    let (settings, problems) = LockSettings::from_vars(lookup(&[(ENV_LEASE_MS, "1000"), (ENV_RENEW_MS, "soon")]));
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(settings.renew_every, Duration::from_millis(250));
    let (settings, problems) = LockSettings::from_vars(lookup(&[(ENV_LEASE_MS, "1000"), (ENV_RENEW_MS, "1000")]));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(settings.renew_every, Duration::from_millis(250));
}
