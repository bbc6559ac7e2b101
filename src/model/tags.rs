//! The tags emrstack puts on the resources it owns, and what they prove.

use std::collections::BTreeMap;

/// The stack that owns a resource.
pub const STACK_TAG: &str = "emrstack:stack";
/// The resource's address in that stack (`application.etl`).
pub const ADDRESS_TAG: &str = "emrstack:address";
/// Short hashes of each field as last applied, so a later plan can tell a
/// change made outside emrstack (drift) from a change in the stack file.
/// Its presence, in the form emrstack writes, is also the proof that
/// emrstack wrote the resource ([`proves_ownership`]).
pub const APPLIED_TAG: &str = "emrstack:applied";

/// The value of [`APPLIED_TAG`] on a role whose creation is under way:
/// `CreateRole` tags the role with it, and the record replaces it once the
/// role's policies are in place. A plan that finds it knows that the apply
/// that created the role did not finish.
pub const APPLIED_CREATING: &str = "creating";

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

/// Whether a resource's tags show that emrstack wrote it: an
/// [`APPLIED_TAG`] that is a record emrstack writes, or the mark of a role
/// creation under way. The ownership tags alone prove nothing: anyone can
/// set them. emrstack changes or deletes only resources with this proof
/// (docs/ownership.md).
pub fn proves_ownership(tags: &BTreeMap<String, String>) -> bool {
    tags.get(APPLIED_TAG)
        .is_some_and(|value| value == APPLIED_CREATING || is_applied_record(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_records_in_emrstacks_form_prove_ownership() {
        let check = |value: Option<&str>, expect: bool| {
            let mut tags = BTreeMap::from([
                (STACK_TAG.to_string(), "dev".to_string()),
                (ADDRESS_TAG.to_string(), "application.etl".to_string()),
            ]);
            if let Some(value) = value {
                tags.insert(APPLIED_TAG.to_string(), value.to_string());
            }
            assert_eq!(proves_ownership(&tags), expect, "{value:?}");
        };
        check(Some("1a2b=abcdef 3c4d=012345"), true);
        check(Some("1a2b=abcdef"), true);
        check(Some(APPLIED_CREATING), true);
        check(None, false);
        check(Some(""), false);
        check(Some("yes"), false);
        check(Some("00=000000"), false);
        check(Some("1A2B=ABCDEF"), false);
        check(Some("1a2b=abcdef  3c4d=012345"), false);
    }
}
