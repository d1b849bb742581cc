//! The book's password hashing (chapter 8, `computeHash`), reproduced byte for byte.
//!
//! `computeHash(password, salt)` calls Node's `crypto.pbkdf2(password, salt, 4096, 512,
//! 'sha512')` with the salt as the base64 *text* it stores in `passwordSalt`: Node turns a
//! string into its UTF-8 bytes, so the PBKDF2 salt is the bytes of that text, not the 512
//! random bytes it encodes. The derived key is stored base64 in `passwordHash`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::Sha512;
use std::sync::LazyLock;
use subtle::ConstantTimeEq;

/// PBKDF2 iterations of the book's `computeHash`.
pub const ITERATIONS: u32 = 4096;
/// Length of the book's derived key (and of its random salt, before base64), in bytes.
pub const KEY_BYTES: usize = 512;

/// What comparing a password with a stored hash found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Matches,
    DoesNotMatch,
    /// The stored salt or hash cannot be what `computeHash` wrote (empty salt, hash not the
    /// base64 of 512 bytes): no password can match it.
    Unusable,
}

/// The book's derived key for `password` and the stored salt text.
pub fn derive(password: &str, salt_text: &str) -> Vec<u8> {
    let mut key = vec![0u8; KEY_BYTES];
    pbkdf2::pbkdf2_hmac::<Sha512>(
        password.as_bytes(),
        salt_text.as_bytes(),
        ITERATIONS,
        &mut key,
    );
    key
}

/// `passwordHash` as the book writes it: the derived key, base64 (standard alphabet, padded,
/// like Node's `Buffer.toString('base64')`).
pub fn hash_like_the_book(password: &str, salt_text: &str) -> String {
    STANDARD.encode(derive(password, salt_text))
}

/// Compares `password` with the stored `passwordHash`, in constant time over the key's bytes so
/// the time taken says nothing about how much of it matched.
pub fn verify(password: &str, salt_text: &str, stored_hash: &str) -> Verdict {
    let derived = derive(password, salt_text);
    let stored = match STANDARD.decode(stored_hash.trim()) {
        Ok(bytes) if bytes.len() == KEY_BYTES && !salt_text.is_empty() => bytes,
        _ => return Verdict::Unusable,
    };
    if bool::from(derived.ct_eq(&stored)) {
        Verdict::Matches
    } else {
        Verdict::DoesNotMatch
    }
}

/// A salt of the book's shape: the base64 text of 512 bytes (684 characters), so a decoy
/// derivation hashes as many salt blocks as a real one.
static DECOY_SALT: LazyLock<String> = LazyLock::new(|| STANDARD.encode([0u8; KEY_BYTES]));

/// Derives a key that nobody compares with anything: the path for an unknown or unverified
/// user costs as much as a wrong password, so the answer's timing does not tell which it was.
pub fn spend_the_same_time(password: &str) {
    std::hint::black_box(derive(password, &DECOY_SALT));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoy_salt_has_the_books_shape() {
        assert_eq!(DECOY_SALT.len(), 684);
    }

    #[test]
    fn a_mangled_stored_hash_is_unusable_not_a_mismatch() {
        assert_eq!(verify("pw", "c2FsdA==", "not base64!"), Verdict::Unusable);
        assert_eq!(
            verify("pw", "c2FsdA==", &STANDARD.encode([1u8; 64])),
            Verdict::Unusable
        );
        assert_eq!(
            verify("pw", "", &STANDARD.encode([1u8; KEY_BYTES])),
            Verdict::Unusable
        );
        assert_eq!(
            verify("pw", "c2FsdA==", &STANDARD.encode([1u8; KEY_BYTES])),
            Verdict::DoesNotMatch
        );
    }
}
