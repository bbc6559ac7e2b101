//! Client tokens: derived from what a call is for. A create's token names
//! the stack, the address and the request only, so a re-run after a crash or
//! a timeout sends the same token and cannot create a second application;
//! an update's token also carries a per-run nonce, since re-sending an update
//! is harmless and replaying an old one would silently change nothing.

use sha2::{Digest, Sha256};

/// A client token (64 hex characters, within the API's 1 to 64 of
/// `[A-Za-z0-9._-]`) for `parts`, each length-prefixed so parts cannot run
/// into each other.
pub(crate) fn client_token(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_deterministic_and_separate_their_parts() {
        let a = client_token(&["dev", "application.etl", "create", "{}"]);
        assert_eq!(a, client_token(&["dev", "application.etl", "create", "{}"]));
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(client_token(&["ab", "c"]), client_token(&["a", "bc"]));
    }
}
