//! Instructors' passwords: Argon2id with OWASP's minimum parameters (19 MiB, 2 passes, 1
//! lane), stored as PHC strings. Hashing takes tens of milliseconds of CPU, so it runs on a
//! blocking thread, never on the async workers.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// Memory per hash in KiB (OWASP: at least 19 MiB).
const MEMORY_KIB: u32 = 19 * 1024;
/// Passes over the memory (OWASP: at least 2 with 19 MiB).
const PASSES: u32 = 2;
/// Shortest password an instructor may choose.
pub const MIN_PASSWORD_CHARS: usize = 10;

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn phc(password: &[u8]) -> Result<String, String> {
    let hashed: PasswordHash = hasher()
        .hash_password(password)
        .map_err(|e| format!("hashing the password failed: {e}"))?;
    Ok(hashed.to_string())
}

/// The PHC string of `password` with a fresh random salt.
pub async fn hash(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || phc(password.as_bytes()))
        .await
        .map_err(|e| format!("hashing the password was interrupted: {e}"))?
}

/// Whether `password` matches `stored` (Argon2 compares in constant time). With nothing
/// stored (an unknown name) a hash is computed all the same, so that the answer takes as
/// long either way and a name cannot be guessed from the time it takes.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match stored {
        Some(stored) => hasher()
            .verify_password(password.as_bytes(), stored.as_str())
            .is_ok(),
        None => {
            let _ = phc(password.as_bytes());
            false
        }
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let stored = hash("correct horse battery".into()).await.unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify("correct horse battery".into(), Some(stored.clone())).await);
        assert!(!verify("wrong horse battery".into(), Some(stored)).await);
        assert!(!verify("correct horse battery".into(), None).await);
    }
}
