//! Tests of the plan, its file format and its fingerprint.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::secrets::{SENSITIVE, SecretsError, display_field, has_redacted, restore_plan};
use super::{FILE_FORMAT_VERSION, Plan, PlanFileError, Summary, fingerprint};
use crate::diff::tests::{
    DIGEST_V2, REPO, account, account_with_repository, app_target, declare, deploy, rich_spec, role, spec, stack,
};
use crate::diff::{Action, Change, Mode};
use crate::model::{
    Actual, ApplicationState, Configuration, Desired, JobRun, JobRunState, SecurityGroupInfo, SubnetInfo,
};

/// The plan of `desired` against `actual`, as `emrstack plan` makes it; it
/// must have no errors.
fn plan_of(desired: &Desired, actual: &Actual, mode: Mode) -> Plan {
    let made = super::make(desired, actual, mode);
    assert!(!made.diagnostics.has_errors(), "{:#?}", made.diagnostics);
    made.plan.expect("no cycle")
}

// ---------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------

#[test]
fn summary_counts_changes_by_action() {
    let mut desired = stack();
    for key in ["kept", "updated", "replaced", "deleted"] {
        declare(&mut desired, key, spec(key));
    }
    let actual = deploy(&desired, &account());
    desired.applications.remove("deleted");
    desired
        .applications
        .get_mut("updated")
        .expect("updated")
        .spec
        .release_label = "emr-7.3.0".to_string();
    desired.applications.get_mut("replaced").expect("replaced").spec.name = "replaced-2".to_string();
    declare(&mut desired, "created", spec("created"));
    desired.roles.insert("created".to_string(), role("created-role"));
    let plan = plan_of(&desired, &actual, Mode::Apply);
    assert_eq!(
        plan.summary,
        Summary {
            create: 2,
            update: 1,
            replace: 1,
            delete: 1,
            no_op: 1,
        }
    );
    assert!(plan.has_changes());
    assert_eq!(plan.actionable().count(), 5);
    assert_eq!(plan.format_version, FILE_FORMAT_VERSION);
    assert_eq!((plan.stack.as_str(), plan.account_id.as_str()), ("dev", "111111111111"));
    // The changes carry their dependencies.
    let replaced = plan
        .changes
        .iter()
        .find(|c| c.address.to_string() == "application.replaced")
        .expect("replaced");
    assert_eq!(replaced.action, Action::Replace);

    let unchanged = plan_of(&stack(), &account(), Mode::Apply);
    assert_eq!(unchanged.summary, Summary::default());
    assert!(!unchanged.has_changes());
    assert!(
        !Summary {
            no_op: 3,
            ..Summary::default()
        }
        .has_changes()
    );
}

// ---------------------------------------------------------------------------
// Fingerprint
// ---------------------------------------------------------------------------

fn deployed() -> (Desired, Actual) {
    let mut desired = stack();
    declare(&mut desired, "etl", rich_spec("etl"));
    let mut trusted = role("etl-role");
    trusted.trust_applications = vec!["etl".to_string()];
    desired.roles.insert("etl".to_string(), trusted);
    crate::diff::tests::declare_repository(&mut desired, &["etl"]);
    let mut base = account_with_repository(None);
    base.subnets.insert(
        "subnet-a".to_string(),
        SubnetInfo {
            id: "subnet-a".to_string(),
            vpc_id: "vpc-1".to_string(),
            availability_zone: "us-east-1a".to_string(),
            availability_zone_id: "use1-az1".to_string(),
            cidr_block: "10.0.0.0/24".to_string(),
            available_ip_address_count: 250,
        },
    );
    base.security_groups.insert(
        "sg-1".to_string(),
        SecurityGroupInfo {
            id: "sg-1".to_string(),
            vpc_id: "vpc-1".to_string(),
            name: "workers".to_string(),
        },
    );
    let actual = deploy(&desired, &base);
    (desired, actual)
}

#[test]
fn fingerprint_ignores_what_moves_on_its_own() {
    let (_, actual) = deployed();
    let original = fingerprint(&actual);
    assert_eq!(original.len(), 64);
    assert!(original.chars().all(|c| c.is_ascii_hexdigit()));
    // (what moved, edit)
    let check = |name: &str, edit: &dyn Fn(&mut Actual)| {
        let mut moved = actual.clone();
        edit(&mut moved);
        assert_eq!(fingerprint(&moved), original, "{name}");
    };
    check("application state", &|a| {
        a.applications[0].state = ApplicationState::Started
    });
    check("state details", &|a| {
        a.applications[0].state_details = Some("idle".to_string())
    });
    check("running jobs", &|a| {
        let id = a.applications[0].id.clone();
        a.running_work.entry(id).or_default().job_runs.extend(vec![JobRun {
            id: "j".to_string(),
            name: None,
            state: JobRunState::Running,
            mode: crate::model::JobRunMode::Batch,
        }]);
    });
    check("free addresses", &|a| {
        a.subnets
            .get_mut("subnet-a")
            .expect("subnet")
            .available_ip_address_count = 3
    });
    check("application order", &|a| {
        let mut other = a.applications[0].clone();
        other.id = "zzz".to_string();
        a.applications.insert(0, other.clone());
        a.applications.retain(|app| app.id != "zzz");
    });
    check("equivalent role policy", &|a| {
        let trust = &mut a.roles[0].spec.trust_policy;
        let statement = trust["Statement"][0].clone();
        *trust = json!({"Statement": statement, "Version": "2012-10-17"});
    });
}

#[test]
fn fingerprint_covers_everything_changes_are_computed_from() {
    let (_, actual) = deployed();
    let original = fingerprint(&actual);
    let check = |name: &str, edit: &dyn Fn(&mut Actual)| {
        let mut moved = actual.clone();
        edit(&mut moved);
        assert_ne!(fingerprint(&moved), original, "{name}");
    };
    check("application configuration", &|a| {
        a.applications[0].spec.release_label = "emr-7.3.0".to_string()
    });
    check("application tags", &|a| {
        a.applications[0].spec.tags.insert("x".to_string(), "y".to_string());
    });
    check("new application", &|a| {
        let mut other = a.applications[0].clone();
        other.id = "other".to_string();
        a.applications.push(other);
    });
    check("removed application", &|a| a.applications.clear());
    check("replaced application", &|a| {
        a.applications[0].id = "etl-9".to_string();
        a.applications[0].arn = "arn:aws:emr-serverless:us-east-1:111111111111:/applications/etl-9".to_string();
    });
    check("role description", &|a| {
        a.roles[0].spec.description = Some("edited".to_string())
    });
    check("removed role", &|a| a.roles.clear());
    check("repository policy", &|a| {
        a.repositories.get_mut(REPO).expect("repository").policy = None;
    });
    check("image digest", &|a| {
        a.image_digests
            .get_mut(REPO)
            .expect("digests")
            .insert("v1".to_string(), DIGEST_V2.to_string());
    });
    check("new image tag", &|a| {
        a.image_digests
            .get_mut(REPO)
            .expect("digests")
            .insert("v3".to_string(), DIGEST_V2.to_string());
    });
    check("subnet zone", &|a| {
        a.subnets.get_mut("subnet-a").expect("subnet").availability_zone_id = "use1-az3".to_string()
    });
    check("security group VPC", &|a| {
        a.security_groups.get_mut("sg-1").expect("group").vpc_id = "vpc-2".to_string()
    });
    check("account", &|a| a.account_id = "222222222222".to_string());
    check("region", &|a| a.region = "us-west-2".to_string());
}

#[test]
fn fingerprint_tells_an_empty_account_from_a_non_empty_one() {
    let empty = account();
    let (_, full) = deployed();
    assert_ne!(fingerprint(&empty), fingerprint(&full));
    // Empty accounts fingerprint alike, so a plan against one stays valid.
    assert_eq!(fingerprint(&empty), fingerprint(&account()));
    let mut one_app = account();
    one_app.applications.push(full.applications[0].clone());
    assert_ne!(fingerprint(&empty), fingerprint(&one_app));
    assert_eq!(plan_of(&stack(), &empty, Mode::Apply).fingerprint, fingerprint(&empty));
}

// ---------------------------------------------------------------------------
// Plan files
// ---------------------------------------------------------------------------

#[test]
fn a_saved_plan_loads_back_unchanged() {
    let (mut desired, actual) = deployed();
    desired.applications.get_mut("etl").expect("etl").spec.name = "etl-2".to_string();
    let plan = plan_of(&desired, &actual, Mode::Apply);
    assert!(plan.changes.iter().any(|c| !c.depends_on.is_empty()));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.json");
    plan.save(&path).expect("saved");
    let loaded = Plan::load(&path).expect("loaded");
    assert_eq!(loaded, plan);
    assert!(!has_redacted(&loaded));
}

#[test]
fn plan_files_of_other_versions_or_formats_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = plan_of(&stack(), &account(), Mode::Apply);
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("written");
        path
    };
    let mut value = serde_json::to_value(&plan).expect("serialises");
    value["format_version"] = json!(FILE_FORMAT_VERSION + 1);
    let newer = write("newer.json", &value.to_string());
    match Plan::load(&newer) {
        Err(PlanFileError::Version { found, .. }) => assert_eq!(found, u64::from(FILE_FORMAT_VERSION + 1)),
        other => panic!("expected a version error, got {other:?}"),
    }
    let message = Plan::load(&newer).expect_err("refused").to_string();
    assert!(
        message.contains(&format!("format version {}", FILE_FORMAT_VERSION + 1)),
        "{message}"
    );
    // Version 1 stored secrets as unsalted SHA-256 hashes.
    value["format_version"] = json!(1);
    let older = write("older.json", &value.to_string());
    let message = Plan::load(&older).expect_err("refused").to_string();
    assert!(
        message.contains("format version 1; this emrstack reads version 2; it was made by an older emrstack")
            && message.contains("emrstack plan --out"),
        "{message}"
    );

    if let Value::Object(map) = &mut value {
        map.remove("format_version");
    }
    let unversioned = write("unversioned.json", &value.to_string());
    assert!(matches!(Plan::load(&unversioned), Err(PlanFileError::Format { .. })));

    let garbage = write("garbage.json", "not a plan {");
    assert!(matches!(Plan::load(&garbage), Err(PlanFileError::Format { .. })));

    let other_json = write("other.json", r#"{"format_version": 2, "hello": "world"}"#);
    assert!(matches!(Plan::load(&other_json), Err(PlanFileError::Format { .. })));

    let missing = dir.path().join("missing.json");
    assert!(matches!(Plan::load(&missing), Err(PlanFileError::Read { .. })));
}

#[cfg(unix)]
#[test]
fn plan_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = plan_of(&stack(), &account(), Mode::Apply);
    let mode = |path: &std::path::Path| std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777;
    let fresh = dir.path().join("fresh.json");
    plan.save(&fresh).expect("saved");
    assert_eq!(mode(&fresh), 0o600);
    // Saving over an existing, readable file tightens it too.
    let existing = dir.path().join("existing.json");
    std::fs::write(&existing, "old").expect("written");
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    plan.save(&existing).expect("saved");
    assert_eq!(mode(&existing), 0o600);
    assert_eq!(Plan::load(&existing).expect("loaded"), plan);
}

// ---------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------

const PASSWORD_KEY: &str = "javax.jdo.option.ConnectionPassword";
const PASSWORD: &str = "hunter2-correct-horse";
const NEW_PASSWORD: &str = "battery-staple-42";

fn with_password(desired: &mut Desired, key: &str, password: &str) {
    let spec = &mut desired.applications.get_mut(key).expect("application").spec;
    spec.runtime_configuration.retain(|c| c.classification != "hive-site");
    spec.runtime_configuration.push(Configuration {
        classification: "hive-site".to_string(),
        properties: BTreeMap::from([
            (PASSWORD_KEY.to_string(), password.to_string()),
            ("hive.metastore.uris".to_string(), "thrift://metastore:9083".to_string()),
        ]),
        configurations: Vec::new(),
    });
}

/// Saves `plan` and returns the raw text of the file and the loaded plan.
fn save_and_load(plan: &Plan) -> (String, Plan) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.json");
    plan.save(&path).expect("saved");
    let text = std::fs::read_to_string(&path).expect("read");
    (text, Plan::load(&path).expect("loaded"))
}

fn changed_fields(plan: &Plan, address: &str) -> Vec<crate::diff::FieldChange> {
    plan.changes
        .iter()
        .find(|c| c.address.to_string() == address)
        .map(|c| c.fields.clone())
        .expect("change")
}

#[test]
fn secret_values_never_reach_the_plan_file_and_are_restored_from_the_stack() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    with_password(&mut desired, "etl", PASSWORD);
    let plan = plan_of(&desired, &account(), Mode::Apply);
    let (text, mut loaded) = save_and_load(&plan);
    assert!(!text.contains(PASSWORD), "the plan file holds the secret");
    assert!(text.contains("thrift://metastore:9083"), "other properties are kept");
    assert!(text.contains("<redacted argon2id:"));
    assert!(has_redacted(&loaded));

    restore_plan(&mut loaded, &desired).expect("restored");
    assert!(!has_redacted(&loaded));
    assert_eq!(loaded.desired, plan.desired);
    let target = |plan: &Plan| app_target(plan_change(plan, "application.etl")).desired.clone();
    assert_eq!(target(&loaded), target(&plan));
}

fn plan_change<'a>(plan: &'a Plan, address: &str) -> &'a Change {
    plan.changes
        .iter()
        .find(|c| c.address.to_string() == address)
        .expect("change")
}

#[test]
fn a_changed_secret_refuses_the_saved_plan() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    with_password(&mut desired, "etl", PASSWORD);
    let plan = plan_of(&desired, &account(), Mode::Apply);
    let (_, mut loaded) = save_and_load(&plan);
    with_password(&mut desired, "etl", NEW_PASSWORD);
    let missing = restore_plan(&mut loaded, &desired).expect_err("refused");
    assert_eq!(
        missing,
        SecretsError::Missing(vec![format!(
            "desired.applications.etl.spec.runtime_configuration.0.properties.{PASSWORD_KEY}"
        )])
    );

    // A stack that no longer has the application cannot restore it either.
    let (_, mut loaded) = save_and_load(&plan);
    assert!(restore_plan(&mut loaded, &stack()).is_err());
}

#[test]
fn secrets_in_updates_and_deletions_are_redacted_on_both_sides() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    declare(&mut desired, "old", spec("old"));
    with_password(&mut desired, "etl", PASSWORD);
    with_password(&mut desired, "old", PASSWORD);
    let actual = deploy(&desired, &account());
    with_password(&mut desired, "etl", NEW_PASSWORD);
    desired.applications.remove("old");
    let plan = plan_of(&desired, &actual, Mode::Apply);
    let update = changed_fields(&plan, "application.etl");
    assert_eq!(update.len(), 1, "{update:#?}");
    assert_eq!(update[0].before, json!(PASSWORD));
    let shown = display_field(&update[0]);
    assert_eq!((shown.before, shown.after), (json!(SENSITIVE), json!(SENSITIVE)));
    let (text, _) = save_and_load(&plan);
    assert!(!text.contains(PASSWORD), "old value leaked");
    assert!(!text.contains(NEW_PASSWORD), "new value leaked");
}

#[test]
fn secrets_added_to_a_classification_without_properties_are_redacted() {
    // The field change is then the whole `properties` map at
    // `runtime_configuration.hive-site.properties`.
    let mut desired = stack();
    let mut app = spec("etl");
    app.runtime_configuration.push(Configuration {
        classification: "hive-site".to_string(),
        properties: BTreeMap::new(),
        configurations: Vec::new(),
    });
    declare(&mut desired, "etl", app);
    let actual = deploy(&desired, &account());
    with_password(&mut desired, "etl", PASSWORD);
    let plan = plan_of(&desired, &actual, Mode::Apply);
    let fields = changed_fields(&plan, "application.etl");
    let properties = fields
        .iter()
        .find(|f| f.path == "runtime_configuration.hive-site.properties")
        .unwrap_or_else(|| panic!("{fields:#?}"));
    let shown = display_field(properties);
    assert_eq!(shown.after[PASSWORD_KEY], json!(SENSITIVE), "{shown:#?}");
    assert_eq!(shown.after["hive.metastore.uris"], json!("thrift://metastore:9083"));
    let (text, _) = save_and_load(&plan);
    assert!(!text.contains(PASSWORD), "the plan file holds the secret");
}

#[test]
fn secrets_manager_references_are_kept_in_plan_files() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    with_password(&mut desired, "etl", "EMR.secret@metastore-password");
    let plan = plan_of(&desired, &account(), Mode::Apply);
    let (text, loaded) = save_and_load(&plan);
    assert!(text.contains("EMR.secret@metastore-password"));
    assert!(!has_redacted(&loaded));
    assert_eq!(loaded, plan);
}

#[test]
fn destroy_plans_record_their_mode() {
    let (desired, actual) = deployed();
    let plan = plan_of(&desired, &actual, Mode::Destroy);
    assert_eq!(plan.mode, Mode::Destroy);
    assert_eq!(plan.summary.delete, 3);
    let (_, loaded) = save_and_load(&plan);
    assert_eq!(loaded.mode, Mode::Destroy);
    assert!(plan.changes.iter().all(|c| c.action == Action::Delete));
}

#[test]
fn plan_files_spell_the_mode_as_they_always_have() {
    // Saved plans written before `diff::Mode` replaced `plan::PlanMode` must still load.
    for (mode, text) in [(Mode::Apply, "\"apply\""), (Mode::Destroy, "\"destroy\"")] {
        assert_eq!(serde_json::to_string(&mode).expect("serialises"), text);
        assert_eq!(serde_json::from_str::<Mode>(text).expect("loads"), mode);
    }
}

/// Every unsalted digest of `secret` a dictionary attack could look up:
/// SHA-224, SHA-256 and SHA-512 of the value, in hex (either case) and base64.
fn unsalted_digests(secret: &str) -> Vec<String> {
    use sha2::Digest;
    let mut raw: Vec<Vec<u8>> = vec![
        sha2::Sha256::digest(secret.as_bytes()).to_vec(),
        sha2::Sha512::digest(secret.as_bytes()).to_vec(),
    ];
    raw.push(sha2::Sha224::digest(secret.as_bytes()).to_vec());
    let mut out = Vec::new();
    for bytes in raw {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        out.push(hex.to_uppercase());
        out.push(hex);
        out.push(base64(&bytes));
        out.push(base64(&bytes).trim_end_matches('=').replace('+', "-").replace('/', "_"));
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn a_plan_file_holds_no_unsalted_digest_of_any_secret() {
    // Plan files stored `<redacted sha256:HEX>`: a weak password fell to a
    // dictionary in seconds. Secrets by key and inside other values.
    const URL_PASSWORD: &str = "url-pass-1234";
    const USERINFO: &str = "userinfo-pass-5678";
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    with_password(&mut desired, "etl", PASSWORD);
    let spec = &mut desired.applications.get_mut("etl").expect("etl").spec;
    spec.runtime_configuration[0].properties.insert(
        "javax.jdo.option.ConnectionURL".to_string(),
        format!("jdbc:mysql://db:3306/hive?user=hive&password={URL_PASSWORD}"),
    );
    spec.runtime_configuration[0].properties.insert(
        "hive.metastore.uris".to_string(),
        format!("thrift://hive:{USERINFO}@metastore:9083"),
    );
    let plan = plan_of(&desired, &account(), Mode::Apply);
    let (text, mut loaded) = save_and_load(&plan);
    for secret in [PASSWORD, URL_PASSWORD, USERINFO] {
        assert!(!text.contains(secret), "the plan file holds `{secret}`");
        for digest in unsalted_digests(secret) {
            assert!(
                !text.contains(&digest),
                "the plan file holds an unsalted digest of `{secret}`: {digest}"
            );
        }
    }
    assert!(
        text.contains("password=<redacted argon2id:"),
        "the rest of the URL is kept"
    );
    assert!(text.contains("\"salt\""), "{text}");
    // Two saves of one plan hash with two salts.
    let (again, _) = save_and_load(&plan);
    let hashes = |text: &str| -> Vec<String> {
        text.match_indices("<redacted argon2id:")
            .map(|(at, _)| text[at..at + 40].to_string())
            .collect()
    };
    assert!(hashes(&text).iter().all(|hash| !hashes(&again).contains(hash)));
    restore_plan(&mut loaded, &desired).expect("restored");
    assert_eq!(loaded.desired, plan.desired);
    // The applied record (short unsalted hashes of whole fields) is left
    // out of the file and computed again: apply tags with the same one.
    let record = |plan: &Plan| {
        app_target(plan_change(plan, "application.etl"))
            .desired
            .as_ref()
            .and_then(|spec| spec.tags.get(crate::model::tags::APPLIED_TAG).cloned())
    };
    assert!(record(&plan).is_some());
    assert!(!text.contains(record(&plan).as_deref().unwrap_or("-")), "{text}");
    assert_eq!(record(&loaded), record(&plan));
    assert_eq!(loaded.changes, plan.changes);
}

#[test]
fn a_secret_changed_inside_a_url_refuses_the_saved_plan() {
    let mut desired = stack();
    declare(&mut desired, "etl", spec("etl"));
    let url = |password: &str| format!("jdbc:mysql://db/hive?password={password}");
    let spec = &mut desired.applications.get_mut("etl").expect("etl").spec;
    spec.runtime_configuration.push(Configuration {
        classification: "hive-site".to_string(),
        properties: BTreeMap::from([("javax.jdo.option.ConnectionURL".to_string(), url("first-pass"))]),
        configurations: Vec::new(),
    });
    let plan = plan_of(&desired, &account(), Mode::Apply);
    let (_, mut loaded) = save_and_load(&plan);
    let spec = &mut desired.applications.get_mut("etl").expect("etl").spec;
    spec.runtime_configuration[0]
        .properties
        .insert("javax.jdo.option.ConnectionURL".to_string(), url("second-pass"));
    assert!(matches!(
        restore_plan(&mut loaded, &desired),
        Err(SecretsError::Missing(_))
    ));
}

// ---------------------------------------------------------------------------
// Rollback
// ---------------------------------------------------------------------------

#[test]
fn the_rollback_of_a_plan_is_the_account_as_the_plan_found_it() {
    // Deployed: applications `kept` and `other`, and role `runner`, which
    // trusts `kept`.
    let mut before = stack();
    declare(&mut before, "kept", spec("kept"));
    declare(&mut before, "other", spec("other"));
    let mut runner = role("runner");
    runner.trust_applications = vec!["kept".to_string()];
    runner.description = Some("before".to_string());
    before.roles.insert("runner".to_string(), runner);
    let actual = deploy(&before, &account());

    // The release updates `kept` and `runner`, which now trusts `other` and
    // a new application too, and adds a role.
    let mut after = before.clone();
    after.applications.get_mut("kept").expect("kept").spec.release_label = "emr-7.3.0".to_string();
    declare(&mut after, "created", spec("created"));
    let runner = after.roles.get_mut("runner").expect("runner");
    runner.description = Some("after".to_string());
    runner.trust_applications.push("other".to_string());
    runner.trust_applications.push("created".to_string());
    after.roles.insert("new".to_string(), role("new-role"));
    let plan = plan_of(&after, &actual, Mode::Apply);
    assert!(plan.has_changes());

    // Rolled back, the stack plans nothing against the account as it was
    // (trust policy included); what the plan created is left out.
    let rollback = super::rollback::before(&plan);
    let undo = plan_of(&rollback.desired, &actual, Mode::Apply);
    let pending: Vec<String> = undo
        .changes
        .iter()
        .filter(|change| change.action != Action::NoOp)
        .map(|change| format!("{} {} {:?}", change.action, change.address, change.fields))
        .collect();
    assert!(pending.is_empty(), "{pending:#?}");
    assert!(!rollback.desired.applications.contains_key("created"));
    assert!(!rollback.desired.roles.contains_key("new"));
    let mut reverts: Vec<String> = rollback
        .reverts
        .iter()
        .map(|(address, what)| format!("{address}: {what}"))
        .collect();
    reverts.sort();
    assert_eq!(
        reverts,
        [
            "application.created: created, to be deleted",
            "application.kept: update reverted",
            "role.new: created, to be deleted",
            "role.runner: update reverted",
        ]
    );
    assert!(rollback.irreversible.is_empty());
}
