//! The emulator harness itself: start and stop by PID, the control API round
//! trip, and the server's death with its parent. No AWS SDK: EMR Serverless
//! calls here are raw rest-json requests with a SigV4-shaped Authorization
//! header (the emulator reads only its credential scope).

use std::path::Path;
use std::time::Duration;

use crate::support::emulator::{Emulator, http};
use serde_json::{Value, json};

/// Whether a process with this PID exists and is not a zombie.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.split_whitespace().nth(2).is_none_or(|state| state != "Z"),
        Err(_) => false,
    }
}

/// A raw EMR Serverless call as `account`.
fn emr(emulator: &Emulator, account: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={account}/20240101/us-east-1/emr-serverless/aws4_request, SignedHeaders=host, Signature=0"
    );
    let text = body.map(Value::to_string);
    let (status, payload) = http(
        emulator.port(),
        method,
        path,
        text.as_deref(),
        &[("Authorization", &authorization)],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    (status, serde_json::from_str(&payload).unwrap_or(Value::Null))
}

#[test]
fn starts_on_a_free_port_and_is_killed_by_pid_on_drop() {
    let emulator = Emulator::start();
    let pid = emulator.pid();
    let port = emulator.port();
    assert!(alive(pid), "the server runs");
    assert_eq!(emulator.endpoint(), format!("http://127.0.0.1:{port}"));
    let health = emulator.health();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["moto"], "5.2.5");
    drop(emulator);
    assert!(!alive(pid), "the server is gone after drop");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nothing listens any more"
    );
}

#[test]
fn a_panicking_test_still_kills_its_server() {
    let pid = std::thread::spawn(|| {
        let emulator = Emulator::start();
        let pid = emulator.pid();
        std::panic::panic_any(pid);
    })
    .join()
    .expect_err("the thread panicked")
    .downcast::<u32>()
    .map(|pid| *pid)
    .expect("the panic carried the pid");
    assert!(!alive(pid));
}

#[test]
fn the_server_exits_when_its_stdin_closes() {
    // What happens when the test process dies: the pipe closes.
    let emulator = Emulator::start();
    let pid = emulator.pid();
    let status = emulator
        .close_stdin_and_wait(Duration::from_secs(10))
        .expect("the server exited");
    assert!(status.success(), "{status:?}");
    assert!(!alive(pid));
}

#[test]
fn two_emulators_in_parallel_get_their_own_ports() {
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(Emulator::start);
        let b = scope.spawn(Emulator::start);
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_ne!(a.port(), b.port());
    assert_eq!(a.health()["status"], "ok");
    assert_eq!(b.health()["status"], "ok");
}

#[test]
fn accounts_are_fresh_twelve_digit_ids() {
    let first = Emulator::new_account();
    let second = Emulator::new_account();
    assert_ne!(first, second);
    for account in [&first, &second] {
        assert_eq!(account.len(), 12);
        assert!(account.chars().all(|c| c.is_ascii_digit()));
        assert_ne!(account, "123456789012");
    }
}

#[test]
fn the_venv_lives_under_target() {
    let venv = crate::support::emulator::venv_dir();
    if std::env::var_os("EMRSTACK_EMULATOR_VENV").is_none() {
        assert!(venv.ends_with(Path::new("target").join("emulator-venv")));
    }
}

#[test]
fn control_api_round_trip() {
    let emulator = Emulator::builder().env("EMULATOR_DELAY_CREATE_MS", "0").quiet().start();
    let account = Emulator::new_account();

    // Delays and the job script round-trip.
    let delays = emulator.set_delays(json!({ "startMs": -1 }));
    assert_eq!(delays["startMs"], -1);
    assert_eq!(delays["createMs"], 0);
    emulator.set_job_script(json!([["SUBMITTED", 0.01], ["RUNNING"]]));
    assert_eq!(
        emulator.control_ok("GET", "/_emulator/job-script", None)["script"],
        json!([["SUBMITTED", 0.01], ["RUNNING"]])
    );

    // An application through the EMR Serverless API, as this account.
    let (status, created) = emr(
        &emulator,
        &account,
        "POST",
        "/applications",
        Some(&json!({ "name": "h", "releaseLabel": "emr-7.1.0", "type": "SPARK", "clientToken": "harness" })),
    );
    assert_eq!(status, 200, "{created}");
    let app_id = created["applicationId"]
        .as_str()
        .expect("an application id")
        .to_string();
    assert!(
        created["arn"]
            .as_str()
            .unwrap()
            .contains(&format!(":{account}:/applications/"))
    );

    // Held start, released through the control API.
    assert_eq!(
        emr(
            &emulator,
            &account,
            "POST",
            &format!("/applications/{app_id}/start"),
            None
        )
        .0,
        200
    );
    let get = |e: &Emulator| emr(e, &account, "GET", &format!("/applications/{app_id}"), None).1;
    assert_eq!(get(&emulator)["application"]["state"], "STARTING");
    assert_eq!(emulator.release(&account, &app_id)["application"]["state"], "STARTED");

    // An injected job that runs until cancelled blocks stop.
    let job = emulator.inject_job(&account, &app_id, Some(json!([["RUNNING"]])));
    let (status, refused) = emr(
        &emulator,
        &account,
        "POST",
        &format!("/applications/{app_id}/stop"),
        None,
    );
    assert_eq!(status, 400);
    assert!(refused["message"].as_str().unwrap().contains(&job));

    // A fault rule fires once on this account's GetApplication.
    let rule = emulator.add_fault(json!({
        "service": "emr-serverless", "operation": "GetApplication", "account": account,
        "kind": "throttle", "count": 1
    }));
    let (status, _) = emr(&emulator, &account, "GET", &format!("/applications/{app_id}"), None);
    assert_eq!(status, 429);
    assert_eq!(
        emr(&emulator, &account, "GET", &format!("/applications/{app_id}"), None).0,
        200
    );
    let rules = emulator.faults();
    assert_eq!(rules["rules"][0]["id"], rule.as_str());
    assert_eq!(rules["rules"][0]["fired"], 1);
    emulator.remove_fault(&rule);
    assert_eq!(emulator.faults()["rules"], json!([]));

    // Call counts, per account, then reset.
    let counts = emulator.call_counts(Some(&account));
    assert_eq!(counts["faulted"]["emr-serverless:GetApplication"], 1);
    assert_eq!(emulator.served(&account, "emr-serverless:CreateApplication"), 1);
    // One GetApplication before the fault, one after it: the faulted one is not served.
    assert_eq!(emulator.served(&account, "emr-serverless:GetApplication"), 2);
    emulator.reset_call_counts();
    assert_eq!(emulator.call_counts(None)["totals"]["served"], 0);

    // Rate limiting with a tiny bucket.
    emulator.set_rate_limit(json!({ "enabled": true, "rate": 0, "burst": 1 }));
    assert_eq!(emr(&emulator, &account, "GET", "/applications", None).0, 200);
    assert_eq!(emr(&emulator, &account, "GET", "/applications", None).0, 429);
    emulator.set_rate_limit(json!({ "enabled": false }));

    // A bad request to the control API is a 400 with a reason.
    let (status, body) = emulator
        .control("POST", "/_emulator/faults", Some(&json!({ "kind": "explode" })))
        .unwrap();
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("kind"));

    // Reset: configuration back to start-up values, resources gone.
    emulator.reset(true);
    assert_eq!(emulator.control_ok("GET", "/_emulator/delays", None)["startMs"], 300);
    assert_eq!(
        emr(&emulator, &account, "GET", &format!("/applications/{app_id}"), None).0,
        404
    );
}

#[test]
fn aws_env_points_a_client_at_the_emulator() {
    let emulator = Emulator::builder().quiet().start();
    let env = emulator.aws_env("111122223333");
    let get = |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    assert_eq!(get("AWS_ENDPOINT_URL"), Some(emulator.endpoint()));
    assert_eq!(get("AWS_ACCESS_KEY_ID").as_deref(), Some("111122223333"));
    assert_eq!(get("AWS_REGION").as_deref(), Some("us-east-1"));
}
