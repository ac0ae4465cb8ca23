//! Encryption at rest for secrets the server must read back (webhook signing secrets, the
//! organizations' RSA private keys): XChaCha20-Poly1305 under one 256-bit master key.
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::ServiceError;

const NONCE_LEN: usize = 24;

/// Seals and opens secrets with the master key. The key never leaves this type.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// From 32 raw key bytes.
    pub fn new(key: &[u8; 32]) -> Self {
        Self { cipher: XChaCha20Poly1305::new(key.into()) }
    }

    /// From the base64 text of 32 key bytes (what `--master-key` takes).
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let bytes =
            STANDARD.decode(text.trim()).map_err(|_| "the master key is not base64".to_string())?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "the master key must be 32 bytes (base64 of 32 bytes)".to_string())?;
        Ok(Self::new(&key))
    }

    /// A fresh random key, as base64 (for key files and tests).
    pub fn generate_key_base64() -> String {
        STANDARD.encode(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// nonce ‖ ciphertext ‖ tag
    pub fn seal(&self, plaintext: &[u8]) -> Result<Vec<u8>, ServiceError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, plaintext)
            .map_err(|_| ServiceError::Crypto("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, ServiceError> {
        if sealed.len() < NONCE_LEN {
            return Err(ServiceError::Crypto("sealed secret too short".into()));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.cipher.decrypt(XNonce::from_slice(nonce), body).map_err(|_| {
            ServiceError::Crypto(
                "cannot decrypt a stored secret: is the master key the one it was sealed with?"
                    .into(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_and_detects_the_wrong_key() {
        let a = SecretBox::from_base64(&SecretBox::generate_key_base64()).unwrap();
        let b = SecretBox::from_base64(&SecretBox::generate_key_base64()).unwrap();
        let sealed = a.seal(b"whsec_secret").unwrap();
        assert_ne!(&sealed[NONCE_LEN..], b"whsec_secret");
        assert_eq!(a.open(&sealed).unwrap(), b"whsec_secret");
        assert!(b.open(&sealed).is_err());
        assert!(SecretBox::from_base64("short").is_err());
    }
}
