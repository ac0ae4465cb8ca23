//! A short-lived in-memory cache of API credentials, so that authenticating a request is a hash
//! and a constant-time compare, not a database round trip.
//!
//! Only the stored *hash* is cached, never a secret. Revoking a credential drops it from this
//! process's cache at once; other server processes notice within [`CREDENTIAL_TTL`].
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use portcullis_domain::ApiCredential;
use uuid::Uuid;

/// How long a cached credential is trusted before it is read again.
pub const CREDENTIAL_TTL: Duration = Duration::from_secs(10);
/// Bound on cached entries (one per credential in use; cleared when full).
const MAX_ENTRIES: usize = 10_000;

/// A cached credential and when it was read.
type Entry = (Arc<ApiCredential>, Instant);

#[derive(Clone, Default)]
pub struct CredentialCache {
    entries: Arc<RwLock<HashMap<Uuid, Entry>>>,
}

impl CredentialCache {
    pub fn get(&self, id: Uuid) -> Option<Arc<ApiCredential>> {
        let entries = self.entries.read().ok()?;
        let (cred, at) = entries.get(&id)?;
        (at.elapsed() < CREDENTIAL_TTL).then(|| cred.clone())
    }

    pub fn put(&self, cred: Arc<ApiCredential>) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(cred.id, (cred, Instant::now()));
        }
    }

    pub fn forget(&self, id: Uuid) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(&id);
        }
    }
}
