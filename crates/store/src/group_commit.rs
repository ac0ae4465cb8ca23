//! Group commit for SQLite: concurrent write transactions share one `COMMIT` and so one fsync.
//!
//! SQLite has one writer at a time and, with `synchronous=FULL`, every commit waits for the disk
//! (about 2 ms here). Writers therefore queue on one connection, and each runs inside the open
//! transaction of a *batch* as a savepoint: its own failure rolls back only its savepoint, its
//! success releases the savepoint. It then goes back to the end of the queue (the lock is fair,
//! first come first served): when its turn comes again, every writer that was waiting has had
//! its turn, and if the batch is still open it commits the whole batch at once. Everyone in the
//! batch then learns the outcome of that one commit. A write is acknowledged only after the
//! commit that holds it has returned, so durability is exactly that of one transaction per write;
//! a failed batch commit fails every write in it.
//!
//! Alone, a writer pays one extra hand-over of the lock and nothing else.
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use sqlx::{Executor, SqliteConnection};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::StoreError;

/// The connection that writes, and the batch it has open.
pub struct Writer {
    conn: SqliteConnection,
    batch: Option<Arc<Batch>>,
    /// A session ended without committing: its savepoint is still open and must be rolled back
    /// before the connection does anything else.
    abandoned: bool,
}

/// One open transaction shared by several writes.
#[derive(Default)]
pub struct Batch {
    /// Writes released into the batch and waiting for its commit.
    members: AtomicUsize,
    /// The outcome of the batch's commit, set once (an error as text: every member reports it).
    outcome: OnceLock<Result<(), String>>,
}

/// The queue of writers on the writing connection.
#[derive(Clone)]
pub struct GroupCommit {
    writer: Arc<Mutex<Writer>>,
    stats: Arc<Counters>,
}

#[derive(Default)]
struct Counters {
    writes: AtomicU64,
    commits: AtomicU64,
}

/// How many writes were made durable, and by how many commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitStats {
    pub writes: u64,
    pub commits: u64,
}

/// One write in progress: its savepoint is open on the writing connection.
pub struct WriteTurn {
    guard: Option<OwnedMutexGuard<Writer>>,
    queue: GroupCommit,
}

impl GroupCommit {
    pub fn new(conn: SqliteConnection) -> Self {
        Self {
            writer: Arc::new(Mutex::new(Writer { conn, batch: None, abandoned: false })),
            stats: Arc::default(),
        }
    }

    pub fn stats(&self) -> CommitStats {
        CommitStats {
            writes: self.stats.writes.load(Ordering::Relaxed),
            commits: self.stats.commits.load(Ordering::Relaxed),
        }
    }

    /// Waits for the writing connection and opens a savepoint in the current batch (starting one
    /// if none is open).
    pub async fn begin(&self) -> Result<WriteTurn, StoreError> {
        let queue = self.clone();
        // Runs to completion even if the caller stops waiting, so the connection is never left
        // half-way through BEGIN or SAVEPOINT; an unclaimed turn is abandoned like any other.
        let starting = tokio::spawn(async move {
            let mut guard = queue.writer.clone().lock_owned().await;
            settle(&mut guard).await;
            if guard.batch.is_none() {
                // IMMEDIATE takes the database's write lock up front, so a read-then-write
                // transaction cannot fail half-way with SQLITE_BUSY when another process writes.
                guard.conn.execute("BEGIN IMMEDIATE").await?;
                guard.batch = Some(Arc::new(Batch::default()));
            }
            if let Err(err) = guard.conn.execute("SAVEPOINT write_turn").await {
                fail_batch(&mut guard, &err.to_string()).await;
                return Err(err.into());
            }
            Ok(WriteTurn { guard: Some(guard), queue })
        });
        starting.await.map_err(|join| StoreError::Commit(join.to_string()))?
    }

    /// Ends an abandoned turn when nobody else will: rolls its savepoint back and, if no
    /// committed write waits in the batch, closes the empty transaction so that other processes
    /// can write.
    async fn clean_up(self) {
        let mut guard = self.writer.lock_owned().await;
        settle(&mut guard).await;
        let idle = guard.batch.as_ref().is_some_and(|b| b.members.load(Ordering::SeqCst) == 0);
        if idle {
            if let Err(err) = guard.conn.execute("ROLLBACK").await {
                tracing::warn!(error = %err, "closing an empty write transaction failed");
            }
            guard.batch = None;
        }
    }
}

impl WriteTurn {
    fn writer(&mut self) -> &mut Writer {
        self.guard.as_mut().expect("a turn holds the writer until it ends")
    }

    /// The connection, inside this turn's savepoint.
    pub fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.writer().conn
    }

    /// Makes this write durable: releases its savepoint into the batch, lets the writers queued
    /// behind it add theirs, and returns when the commit that holds it is on disk.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        let mut guard = self.guard.take().expect("a turn holds the writer until it ends");
        let queue = self.queue.clone();
        // The rest runs to completion even if the caller stops waiting: the batch must not be
        // left open with nobody to commit it.
        let finishing = tokio::spawn(async move {
            if let Err(err) = guard.conn.execute("RELEASE write_turn").await {
                fail_batch(&mut guard, &err.to_string()).await;
                return Err(err.to_string());
            }
            let Some(batch) = guard.batch.clone() else {
                return Err("the write transaction was lost".to_string());
            };
            batch.members.fetch_add(1, Ordering::SeqCst);
            queue.stats.writes.fetch_add(1, Ordering::Relaxed);
            // Back to the end of the queue: everyone waiting now joins this batch first.
            drop(guard);
            let mut guard = queue.writer.lock_owned().await;
            if let Some(outcome) = batch.outcome.get() {
                return outcome.clone();
            }
            settle(&mut guard).await;
            if let Some(outcome) = batch.outcome.get() {
                return outcome.clone();
            }
            if !guard.batch.as_ref().is_some_and(|open| Arc::ptr_eq(open, &batch)) {
                return Err("the write transaction was lost".to_string());
            }
            let outcome = match guard.conn.execute("COMMIT").await {
                Ok(_) => {
                    queue.stats.commits.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
                Err(err) => {
                    if let Err(rollback) = guard.conn.execute("ROLLBACK").await {
                        tracing::debug!(error = %rollback, "rollback after a failed commit");
                    }
                    Err(err.to_string())
                }
            };
            let _ = batch.outcome.set(outcome.clone());
            guard.batch = None;
            outcome
        });
        match finishing.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(StoreError::Commit(message)),
            Err(join) => Err(StoreError::Commit(join.to_string())),
        }
    }
}

impl Drop for WriteTurn {
    /// Dropped without committing: the savepoint is rolled back by the next holder of the
    /// connection, or by a clean-up task if nobody else comes.
    fn drop(&mut self) {
        if let Some(mut guard) = self.guard.take() {
            guard.abandoned = true;
            drop(guard);
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(self.queue.clone().clean_up());
            }
        }
    }
}

/// Rolls back an abandoned turn's savepoint; if that is impossible the whole batch is lost.
async fn settle(writer: &mut Writer) {
    if !writer.abandoned {
        return;
    }
    writer.abandoned = false;
    let rolled_back = match writer.conn.execute("ROLLBACK TO write_turn").await {
        Ok(_) => writer.conn.execute("RELEASE write_turn").await,
        Err(err) => Err(err),
    };
    if let Err(err) = rolled_back {
        fail_batch(writer, &err.to_string()).await;
    }
}

/// The batch's transaction is broken (SQLite rolled it back, or a savepoint statement failed):
/// roll back whatever is left and tell every member its write is lost.
async fn fail_batch(writer: &mut Writer, message: &str) {
    if let Err(err) = writer.conn.execute("ROLLBACK").await {
        tracing::debug!(error = %err, "rollback of a failed write batch");
    }
    if let Some(batch) = writer.batch.take() {
        let _ = batch.outcome.set(Err(format!("the write was rolled back: {message}")));
    }
    writer.abandoned = false;
}
