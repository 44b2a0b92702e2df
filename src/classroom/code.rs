//! Join codes and recovery codes: 40 bits in Crockford's base32 (no I, L, O or U, so no
//! look-alikes), shown in two groups of four (`K7QM-2XHD`), read back in any case with or
//! without spaces and dashes (and `O` as `0`, `I`/`L` as `1`, as Crockford prescribes).
//!
//! A class's join code is not stored: it is derived from a key kept in its own file beside
//! the database and the class's id and code generation (HMAC-SHA-256), so the instructor's
//! page can show it again; the database keeps only its hash, which is what a join is looked
//! up by. Rotating bumps the generation: the old code's hash is gone at once.

use sha2::{Digest, Sha256};

/// Crockford's base32 alphabet.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a code (8 x 5 bits = 40 bits).
const LENGTH: usize = 8;

/// A code from 5 bytes of key material.
fn encode(bytes: [u8; 5]) -> String {
    let mut bits = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let mut chars = [0u8; LENGTH];
    for slot in chars.iter_mut().rev() {
        *slot = ALPHABET[(bits & 31) as usize];
        bits >>= 5;
    }
    String::from_utf8_lossy(&chars).into_owned()
}

/// `K7QM2XHD` as people read it: `K7QM-2XHD`.
pub fn grouped(code: &str) -> String {
    match code.len() {
        LENGTH => format!("{}-{}", &code[..4], &code[4..]),
        _ => code.to_string(),
    }
}

/// What someone typed, as the code it stands for: upper case, no spaces or dashes,
/// look-alikes read as Crockford says. `None` if it cannot be a code.
pub fn normalize(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    (code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// The hash a code is stored and looked up by.
pub fn hash(code: &str) -> String {
    hex(&Sha256::digest(code.as_bytes()))
}

/// The join code of generation `generation` of class `class_id`, under `key`.
pub fn join_code(key: &[u8], class_id: &str, generation: i64) -> String {
    let mac = hmac_sha256(key, format!("join:{class_id}:{generation}").as_bytes());
    encode([mac[0], mac[1], mac[2], mac[3], mac[4]])
}

/// A fresh random code (a student's recovery code).
pub fn random() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    encode([bytes[0], bytes[1], bytes[2], bytes[3], bytes[5]])
}

/// Compares two texts in time that depends only on their lengths.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// HMAC-SHA-256 (RFC 2104).
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_reads_back_however_it_is_typed() {
        let code = join_code(b"key", "class", 1);
        assert_eq!(code.len(), 8);
        assert!(code.bytes().all(|b| ALPHABET.contains(&b)));
        let shown = grouped(&code);
        assert_eq!(normalize(&shown).as_deref(), Some(code.as_str()));
        let typed = shown.to_lowercase().replace('-', " ");
        assert_eq!(normalize(&typed).as_deref(), Some(code.as_str()));
        assert_eq!(normalize("k7qm 2xhO").as_deref(), Some("K7QM2XH0"));
        assert_eq!(normalize("K7QM-2XHU"), None, "U is not in the alphabet");
        assert_eq!(normalize("K7QM"), None);
    }

    #[test]
    fn codes_depend_on_key_class_and_generation() {
        let first = join_code(b"key", "class", 1);
        assert_eq!(first, join_code(b"key", "class", 1));
        assert_ne!(first, join_code(b"key", "class", 2));
        assert_ne!(first, join_code(b"key", "other", 1));
        assert_ne!(first, join_code(b"other key", "class", 1));
        assert_ne!(random(), random());
    }

    #[test]
    fn hmac_matches_the_rfc_4231_test_vector() {
        let mac = hmac_sha256(&[0x0b; 20], b"Hi There");
        assert_eq!(
            hex(&mac),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }

    #[test]
    fn comparison_needs_every_byte_equal() {
        assert!(same("ABCD", "ABCD"));
        assert!(!same("ABCD", "ABCE"));
        assert!(!same("ABC", "ABCD"));
    }
}
