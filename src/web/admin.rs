//! The optional instance lock: when an admin password is configured, creating a scorecard
//! (or a demo copy) asks for it. Share links keep working without it: they are their own
//! capability. The password is kept only as an argon2 hash.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::config::Config;

/// The configured lock, as an argon2 PHC string; `None` leaves creation open.
pub fn load(config: &Config) -> Result<Option<String>, String> {
    if let Some(hash) = config.admin_password_hash.as_deref() {
        let hash = hash.trim();
        argon2::PasswordHash::new(hash).map_err(|e| {
            format!(
                "the admin password hash is not an argon2 hash ({e}): make one with `scorecard hash-password` (--admin-password-hash or SCORECARD_ADMIN_PASSWORD_HASH)"
            )
        })?;
        return Ok(Some(hash.to_string()));
    }
    if let Some(path) = &config.admin_password_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "cannot read the admin password file {}: {e} (--admin-password-file or SCORECARD_ADMIN_PASSWORD_FILE)",
                path.display()
            )
        })?;
        let password = text.trim_end_matches(['\r', '\n']);
        if password.is_empty() {
            return Err(format!(
                "the admin password file {} is empty",
                path.display()
            ));
        }
        // A file may hold the hash itself, or the password (hashed here, kept in memory).
        if argon2::PasswordHash::new(password).is_ok() {
            return Ok(Some(password.to_string()));
        }
        return hash(password).map(Some);
    }
    Ok(None)
}

/// An argon2id hash of `password` with a fresh random salt, as a PHC string.
pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Whether `password` matches the lock. Argon2 is slow by design; call it off the async
/// threads.
pub fn verify(hash: &str, password: &str) -> bool {
    PasswordVerifier::<str>::verify_password(&Argon2::default(), password.as_bytes(), hash).is_ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_hash_verifies_its_password_and_no_other() {
        let hash = super::hash("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(super::verify(&hash, "correct horse"));
        assert!(!super::verify(&hash, "correct horse "));
        assert!(!super::verify(&hash, ""));
    }
}
