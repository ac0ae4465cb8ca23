//! Generation and verification of API secrets and bearer tokens.
//!
//! Secrets carry 256 bits from the OS RNG, so a single SHA-256 is a safe storage hash (a slow KDF
//! protects low-entropy passwords, not random keys) and keeps verification cheap on every request.
//! Comparisons are constant-time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

const API_KEY_PREFIX: &str = "pk_";
const API_SECRET_PREFIX: &str = "sk_";
const TOKEN_PREFIX: &str = "pct_";
const SCIM_TOKEN_PREFIX: &str = "pcs_";
const OAUTH_ACCESS_PREFIX: &str = "pca_";
const OAUTH_REFRESH_PREFIX: &str = "pcr_";
const OAUTH_CLIENT_SECRET_PREFIX: &str = "pcc_";

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Hex SHA-256 of a secret, as stored.
pub fn hash_secret(secret: &str) -> String {
    // Every authenticated request hashes its secret: one buffer, no formatting machinery.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for byte in Sha256::digest(secret.as_bytes()) {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// Does `secret` match the stored hash? Constant-time in the hash comparison.
pub fn verify_secret(secret: &str, stored_hash: &str) -> bool {
    hash_secret(secret).as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

/// `X-API-KEY` for the credential with this id (the key is an identifier, not a secret).
pub fn api_key(credential_id: Uuid) -> String {
    format!("{API_KEY_PREFIX}{}", credential_id.simple())
}

pub fn parse_api_key(key: &str) -> Option<Uuid> {
    Uuid::try_parse(key.trim().strip_prefix(API_KEY_PREFIX)?).ok()
}

/// A fresh `X-API-SECRET`.
pub fn new_api_secret() -> String {
    format!("{API_SECRET_PREFIX}{}", random_secret())
}

/// A fresh bearer token for the token row `token_id`, and the secret part whose hash is stored.
pub fn new_bearer_token(token_id: Uuid) -> (String, String) {
    let secret = random_secret();
    (format!("{TOKEN_PREFIX}{}_{secret}", token_id.simple()), secret)
}

/// A fresh SCIM token for the row `token_id`, and the secret part whose hash is stored. Its own
/// prefix tells it apart from a person's token (and secret scanners can name it).
pub fn new_scim_token(token_id: Uuid) -> (String, String) {
    let secret = random_secret();
    (format!("{SCIM_TOKEN_PREFIX}{}_{secret}", token_id.simple()), secret)
}

/// Splits a SCIM token into its row id and secret part.
pub fn parse_scim_token(token: &str) -> Option<(Uuid, &str)> {
    let rest = token.trim().strip_prefix(SCIM_TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    Some((Uuid::try_parse(id).ok()?, secret))
}

/// A fresh web console session id (or any other one-off random value a cookie carries): 256
/// random bits, URL-safe base64. Only its [`hash_secret`] is stored.
pub fn new_session_id() -> String {
    random_secret()
}

/// A fresh OAuth access token for `/mcp`. The whole token is random; only its [`hash_secret`]
/// is stored and looked up.
pub fn new_oauth_access_token() -> String {
    format!("{OAUTH_ACCESS_PREFIX}{}", random_secret())
}

/// A fresh OAuth refresh token (its own prefix: it opens nothing but the token endpoint).
pub fn new_oauth_refresh_token() -> String {
    format!("{OAUTH_REFRESH_PREFIX}{}", random_secret())
}

/// A fresh secret for a confidential OAuth client.
pub fn new_oauth_client_secret() -> String {
    format!("{OAUTH_CLIENT_SECRET_PREFIX}{}", random_secret())
}

/// Is `token` an OAuth access token (by its prefix only; nothing is verified)?
pub fn is_oauth_access_token(token: &str) -> bool {
    token.trim().starts_with(OAUTH_ACCESS_PREFIX)
}

/// Splits a bearer token into its row id and secret part.
pub fn parse_bearer_token(token: &str) -> Option<(Uuid, &str)> {
    let rest = token.trim().strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    Some((Uuid::try_parse(id).ok()?, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_tokens_round_trip() {
        let id = Uuid::now_v7();
        assert_eq!(parse_api_key(&api_key(id)), Some(id));
        let (token, secret) = new_bearer_token(id);
        assert_eq!(parse_bearer_token(&token), Some((id, secret.as_str())));
        assert!(parse_bearer_token("pct_nothex_x").is_none());
        assert!(parse_api_key("sk_whatever").is_none());
        let (scim, secret) = new_scim_token(id);
        assert_eq!(parse_scim_token(&scim), Some((id, secret.as_str())));
        assert!(parse_scim_token(&token).is_none(), "a person's token is not a SCIM token");
        assert!(parse_bearer_token(&scim).is_none(), "a SCIM token is not a person's token");
        let access = new_oauth_access_token();
        assert!(is_oauth_access_token(&access));
        assert!(!is_oauth_access_token(&new_oauth_refresh_token()));
        assert!(!is_oauth_access_token(&token));
        assert!(parse_bearer_token(&access).is_none(), "an OAuth token is not a person's token");
    }

    #[test]
    fn secrets_are_long_unique_and_verify_only_themselves() {
        let a = new_api_secret();
        let b = new_api_secret();
        assert_ne!(a, b);
        assert!(a.len() >= 3 + 43, "256-bit secret expected");
        let h = hash_secret(&a);
        assert!(verify_secret(&a, &h));
        assert!(!verify_secret(&b, &h));
    }

    #[test]
    fn the_stored_hash_is_lowercase_hex_sha256_so_existing_databases_still_verify() {
        let h = hash_secret("abc");
        assert_eq!(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
