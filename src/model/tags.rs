//! The tags emrstack puts on the resources it owns, and what they prove.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::application::ApplicationSpec;
use super::role::RoleSpec;

/// The stack that owns a resource.
pub const STACK_TAG: &str = "emrstack:stack";
/// The resource's address in that stack (`application.etl`).
pub const ADDRESS_TAG: &str = "emrstack:address";
/// Short hashes of each field as last applied, so a later plan can tell a
/// change made outside emrstack (drift) from a change in the stack file.
/// Its presence, in the form emrstack writes, is also the proof that
/// emrstack wrote the resource ([`proves_ownership`]).
pub const APPLIED_TAG: &str = "emrstack:applied";

/// The start of the value of [`APPLIED_TAG`] on a role whose creation is
/// under way ([`creating_mark`]): `CreateRole` tags the role with it, and
/// the record replaces it once the role's policies are in place. A plan
/// that finds it knows that the apply that created the role did not finish.
pub const APPLIED_CREATING: &str = "creating";

/// The code of the binding token, the first token of every applied record
/// emrstack writes ([`binding_token`]). Field codes are the first 4 hex
/// digits of a field name's SHA-256 (`diff::fields`); the fields that come
/// first in a record written before bindings existed do not have this one
/// (checked in `diff`'s tests), so the two forms cannot be confused.
pub const BINDING_CODE: &str = "0000";

/// What an applied record is bound to: the identity of the resource it was
/// written for. A copy of a resource's tags onto a resource with another
/// name (or type, or path) does not carry the proof over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identity<'a> {
    /// An application: its name and type (`SPARK`, `HIVE`).
    Application { name: &'a str, engine: &'a str },
    /// A role: its name and path.
    Role { name: &'a str, path: &'a str },
}

impl<'a> Identity<'a> {
    pub fn of_application<I>(spec: &'a ApplicationSpec<I>) -> Identity<'a> {
        Identity::Application {
            name: &spec.name,
            engine: spec.engine.api_name(),
        }
    }

    pub fn of_role(spec: &'a RoleSpec) -> Identity<'a> {
        Identity::Role {
            name: &spec.name,
            path: &spec.path,
        }
    }
}

/// The binding token of a record: [`BINDING_CODE`], `=`, and 6 hex digits
/// of the SHA-256 of the resource's kind, stack, address, name and type
/// (roles: path), the stack and address as its tags say. A record is bound
/// to the resource, and to the ownership tags, it was written for: copied
/// onto a resource with another name, type or path, or with its address
/// tag edited, it proves nothing. (A copy onto a resource with the same
/// name, type, stack and address is indistinguishable from a duplicate an
/// interrupted run left, which it is treated as; anyone who reads this
/// code can also compute a record: the proof guards against mistakes, not
/// forgery. docs/ownership.md says so.)
pub fn binding_token(identity: Identity<'_>, tags: &BTreeMap<String, String>) -> String {
    let tag = |key: &str| tags.get(key).map_or("", String::as_str);
    let parts = match identity {
        Identity::Application { name, engine } => ["application", name, engine],
        Identity::Role { name, path } => ["role", name, path],
    };
    let text = serde_json::json!([parts[0], tag(STACK_TAG), tag(ADDRESS_TAG), parts[1], parts[2]]).to_string();
    let digest = Sha256::digest(text.as_bytes());
    let hash: String = digest.iter().take(3).map(|b| format!("{b:02x}")).collect();
    format!("{BINDING_CODE}={hash}")
}

/// The [`APPLIED_TAG`] value `CreateRole` puts on a role: [`APPLIED_CREATING`]
/// and the role's [`binding_token`].
pub fn creating_mark(identity: Identity<'_>, tags: &BTreeMap<String, String>) -> String {
    format!("{APPLIED_CREATING} {}", binding_token(identity, tags))
}

/// Whether an [`APPLIED_TAG`] value marks a role creation under way (bound
/// or, written before bindings, plain `creating`).
pub fn is_creating_mark(value: &str) -> bool {
    value == APPLIED_CREATING || value.starts_with(&format!("{APPLIED_CREATING} "))
}

/// Whether an applied record starts with a binding token (written since
/// records are bound to their resource), as opposed to a record from
/// before.
pub fn is_bound_record(value: &str) -> bool {
    value
        .split(' ')
        .next()
        .is_some_and(|first| first.split_once('=').is_some_and(|(code, _)| code == BINDING_CODE))
}

/// Every tag key emrstack reserves; the stack file may not set them.
pub const RESERVED_TAGS: [&str; 3] = [STACK_TAG, ADDRESS_TAG, APPLIED_TAG];

/// The prefix of the reserved tag keys.
pub const RESERVED_PREFIX: &str = "emrstack:";

/// Whether a tag key is managed by emrstack rather than by the user.
pub fn is_reserved(key: &str) -> bool {
    key.starts_with(RESERVED_PREFIX)
}

/// Whether a value has the form of an applied record: space-separated
/// `code=hash` tokens, a 4-digit field code and a 6-digit value hash in
/// lower-case hexadecimal (`diff::fields::encode_record`), at least one.
pub fn is_applied_record(value: &str) -> bool {
    let hex =
        |text: &str, len: usize| text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    !value.is_empty()
        && value.split(' ').all(|token| {
            token
                .split_once('=')
                .is_some_and(|(code, hash)| hex(code, 4) && hex(hash, 6))
        })
}

/// Whether a resource's tags show that emrstack wrote it, for the resource
/// `identity` names: an [`APPLIED_TAG`] that is a record emrstack writes,
/// bound to this resource, or (roles only: emrstack writes it on nothing
/// else) the mark of a role creation under way, bound likewise. The
/// ownership tags alone prove nothing: anyone can set them. emrstack
/// changes or deletes only resources with this proof (docs/ownership.md).
///
/// Records and marks written before bindings existed (no binding token, a
/// plain `creating`) are still accepted, as they were then; the next apply
/// of the resource rewrites its record in the bound form.
pub fn proves_ownership(tags: &BTreeMap<String, String>, identity: Identity<'_>) -> bool {
    let Some(value) = tags.get(APPLIED_TAG) else {
        return false;
    };
    if is_creating_mark(value) {
        return matches!(identity, Identity::Role { .. })
            && (value == APPLIED_CREATING || *value == creating_mark(identity, tags));
    }
    if !is_applied_record(value) {
        return false;
    }
    if is_bound_record(value) {
        value.split(' ').next() == Some(binding_token(identity, tags).as_str())
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ownership(address: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            (STACK_TAG.to_string(), "dev".to_string()),
            (ADDRESS_TAG.to_string(), address.to_string()),
        ])
    }

    const ETL: Identity<'static> = Identity::Application {
        name: "dev-etl",
        engine: "SPARK",
    };
    const ROLE: Identity<'static> = Identity::Role {
        name: "dev-etl",
        path: "/",
    };

    #[test]
    fn only_records_in_emrstacks_form_prove_ownership() {
        let check = |value: Option<&str>, expect: bool| {
            let mut tags = ownership("application.etl");
            if let Some(value) = value {
                tags.insert(APPLIED_TAG.to_string(), value.to_string());
            }
            assert_eq!(proves_ownership(&tags, ETL), expect, "{value:?}");
        };
        let bound = binding_token(ETL, &ownership("application.etl"));
        check(Some(&format!("{bound} 1a2b=abcdef 3c4d=012345")), true);
        // Written before records were bound: accepted as then.
        check(Some("1a2b=abcdef 3c4d=012345"), true);
        check(Some("1a2b=abcdef"), true);
        check(None, false);
        check(Some(""), false);
        check(Some("yes"), false);
        check(Some("00=000000"), false);
        check(Some("1A2B=ABCDEF"), false);
        check(Some("1a2b=abcdef  3c4d=012345"), false);
        // emrstack marks a creation under way on roles only.
        check(Some(APPLIED_CREATING), false);
        check(Some(&creating_mark(ETL, &ownership("application.etl"))), false);
    }

    /// Every tag of a resource copied onto another: the record proves
    /// nothing on a resource with another name, type or path, or after its
    /// address tag was edited; on one with the same name, type, stack and
    /// address it does (a duplicate of an interrupted run looks the same).
    #[test]
    fn a_record_proves_ownership_only_of_the_resource_it_was_written_for() {
        let mut tags = ownership("application.etl");
        tags.insert(
            APPLIED_TAG.to_string(),
            format!("{} 1a2b=abcdef", binding_token(ETL, &tags)),
        );
        assert!(proves_ownership(&tags, ETL));
        for other in [
            Identity::Application {
                name: "copy-of-etl",
                engine: "SPARK",
            },
            Identity::Application {
                name: "dev-etl",
                engine: "HIVE",
            },
            Identity::Role {
                name: "dev-etl",
                path: "/",
            },
        ] {
            assert!(!proves_ownership(&tags, other), "{other:?}");
        }
        let mut readdressed = tags.clone();
        readdressed.insert(ADDRESS_TAG.to_string(), "application.other".to_string());
        assert!(!proves_ownership(&readdressed, ETL));

        let mut role = ownership("role.etl");
        role.insert(APPLIED_TAG.to_string(), creating_mark(ROLE, &role));
        assert!(proves_ownership(&role, ROLE));
        assert!(!proves_ownership(
            &role,
            Identity::Role {
                name: "dev-etl",
                path: "/other/"
            }
        ));
        // A plain `creating` from before bindings still proves a role.
        role.insert(APPLIED_TAG.to_string(), APPLIED_CREATING.to_string());
        assert!(proves_ownership(&role, ROLE));
    }
}
