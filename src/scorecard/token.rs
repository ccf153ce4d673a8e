//! Capability tokens for share links: 256 bits from the operating system's random source,
//! base64url without padding (43 characters).

use base64::prelude::{BASE64_URL_SAFE_NO_PAD, Engine};

const TOKEN_BYTES: usize = 32;
const TOKEN_CHARS: usize = 43;

/// A fresh token. The operating system's random source failing is not recoverable.
pub fn generate() -> String {
    let mut bytes = [0_u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    BASE64_URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `text` has a token's shape, checked before any database look-up.
pub fn well_formed(text: &str) -> bool {
    text.len() == TOKEN_CHARS
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_256_random_bits_in_url_safe_text() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert!(well_formed(&a), "{a}");
        assert_eq!(BASE64_URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert!(!well_formed("short"));
        assert!(!well_formed(&"a/".repeat(22)[..43]));
    }
}
