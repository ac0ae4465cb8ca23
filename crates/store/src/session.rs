//! Read sessions and write transactions: different types, so a read path cannot write.
//!
//! Every repository trait is implemented once, for any [`Session`]; the write traits only for
//! [`Writable`] sessions.
use async_trait::async_trait;
use uuid::Uuid;

use crate::sql::{query, Db};
use crate::{ReadTx, StoreError, WriteTx};

/// Something that holds a connection. Public only so that the repository impls can name it;
/// it is not reachable from outside the crate.
pub trait Session: Send {
    fn db(&mut self) -> &mut Db;
}

/// A session that may change data: a write transaction.
pub trait Writable: Session {}

/// A pooled connection for reads that need no atomicity across statements.
pub struct ReadSession(pub(crate) Db);

/// A write transaction: nothing is visible to others until [`WriteTx::commit`]; dropping it
/// rolls back.
pub struct WriteSession(pub(crate) Db);

impl Session for ReadSession {
    fn db(&mut self) -> &mut Db {
        &mut self.0
    }
}

impl Session for WriteSession {
    fn db(&mut self) -> &mut Db {
        &mut self.0
    }
}

impl Writable for WriteSession {}

impl ReadTx for ReadSession {}
impl ReadTx for WriteSession {}

#[async_trait]
impl WriteTx for WriteSession {
    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.0.commit().await
    }

    async fn lock_org(&mut self, org_id: Uuid) -> Result<(), StoreError> {
        match &mut self.0 {
            // A transaction-scoped advisory lock on a key derived from the organization id,
            // released at commit or rollback.
            Db::PgWrite(_) => {
                let bytes = org_id.as_bytes();
                let mut key = [0u8; 8];
                key.copy_from_slice(&bytes[8..16]);
                query("SELECT pg_advisory_xact_lock($1)")
                    .bind(i64::from_be_bytes(key))
                    .execute(&mut self.0)
                    .await?;
                Ok(())
            }
            // SQLite has one writer at a time already.
            _ => Ok(()),
        }
    }
}
