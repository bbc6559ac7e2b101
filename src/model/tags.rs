//! The tags emrstack puts on the resources it owns.

/// The stack that owns a resource.
pub const STACK_TAG: &str = "emrstack:stack";
/// The resource's address in that stack (`application.etl`).
pub const ADDRESS_TAG: &str = "emrstack:address";
/// Short hashes of each field as last applied, so a later plan can tell a
/// change made outside emrstack (drift) from a change in the stack file.
pub const APPLIED_TAG: &str = "emrstack:applied";

/// Every tag key emrstack reserves; the stack file may not set them.
pub const RESERVED_TAGS: [&str; 3] = [STACK_TAG, ADDRESS_TAG, APPLIED_TAG];

/// The prefix of the reserved tag keys.
pub const RESERVED_PREFIX: &str = "emrstack:";

/// Whether a tag key is managed by emrstack rather than by the user.
pub fn is_reserved(key: &str) -> bool {
    key.starts_with(RESERVED_PREFIX)
}
