//! Sessions and transactions: commit, isolation, rollback by drop, `lock_org`.
use portcullis_domain::OrgRole;

use crate::common::*;

on_every_backend!(
    backend_name_and_ping,
    commit_publishes_and_isolates,
    dropping_a_write_transaction_rolls_back,
    concurrent_writers_commit_together_and_fail_alone,
    lock_org_serializes_writers_of_one_organization,
);

async fn backend_name_and_ping(db: &TestDb) {
    db.store.ping().await.expect("ping");
    let expected = if db.is_postgres() { "postgres" } else { "sqlite" };
    assert_eq!(db.store.backend(), expected);
}

async fn commit_publishes_and_isolates(db: &TestDb) {
    let org = organization("Acme");
    let owner = user(&org, "Olive", "olive@acme.example", OrgRole::Owner);
    let mut tx = db.store.write().await.expect("write");
    tx.insert_organization(&org).await.expect("insert org");
    tx.insert_user(&owner).await.expect("insert user");
    // The transaction reads its own writes…
    assert_eq!(tx.get_organization(org.id).await.expect("get"), Some(org.clone()));
    assert_eq!(tx.get_user(org.id, owner.id).await.expect("get"), Some(owner.clone()));
    // …which nobody else sees before the commit.
    {
        let mut read = db.store.read().await.expect("read");
        assert_eq!(read.get_organization(org.id).await.expect("get"), None);
        assert_eq!(read.get_user(org.id, owner.id).await.expect("get"), None);
    }
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_organization(org.id).await.expect("get"), Some(org));
    assert_eq!(read.get_user(owner.org_id, owner.id).await.expect("get"), Some(owner));
}

async fn dropping_a_write_transaction_rolls_back(db: &TestDb) {
    let seed = seed(db).await;
    let ghost = organization("Ghost");
    let carol = user(&seed.org, "Carol", "carol@acme.example", OrgRole::User);
    let mut renamed = seed.org.clone();
    renamed.name = "Renamed".into();
    renamed.updated_at = at(100);
    {
        let mut tx = db.store.write().await.expect("write");
        tx.insert_organization(&ghost).await.expect("insert");
        tx.insert_user(&carol).await.expect("insert");
        tx.update_organization(&renamed).await.expect("update");
        assert_eq!(tx.get_organization(ghost.id).await.expect("get"), Some(ghost.clone()));
        // Dropped without commit.
    }
    // A later transaction neither sees the rows nor conflicts with them.
    let mut tx = db.store.write().await.expect("write");
    assert_eq!(tx.get_organization(ghost.id).await.expect("get"), None);
    assert_eq!(tx.get_user(seed.org.id, carol.id).await.expect("get"), None);
    assert_eq!(tx.get_organization(seed.org.id).await.expect("get"), Some(seed.org.clone()));
    tx.insert_user(&carol).await.expect("the e-mail is free again");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_user(seed.org.id, carol.id).await.expect("get"), Some(carol));
    assert_eq!(read.get_organization(ghost.id).await.expect("get"), None);
}

/// Concurrent write transactions (which SQLite commits as one group): each commit that returned
/// is kept, and a writer that fails or gives up takes back only its own rows, even when it
/// shares a batch with writers that commit before and after it.
async fn concurrent_writers_commit_together_and_fail_alone(db: &TestDb) {
    let seed = seed(db).await;
    let mut writers = Vec::new();
    for i in 0..48 {
        let store = db.store.clone();
        let org = seed.org.clone();
        writers.push(tokio::spawn(async move {
            let mut tx = store.write().await.expect("write");
            let mine = user(&org, &format!("W{i}"), &format!("w{i}@acme.example"), OrgRole::User);
            tx.insert_user(&mine).await.expect("insert");
            match i % 4 {
                // Fails half-way (the e-mail is taken) and gives up: its first row goes too.
                1 => {
                    let twin = user(&org, "Twin", "alice@acme.example", OrgRole::User);
                    assert_conflict(tx.insert_user(&twin).await);
                    (mine.id, false)
                }
                // Gives up without an error.
                2 => (mine.id, false),
                _ => {
                    tokio::task::yield_now().await;
                    tx.commit().await.expect("commit");
                    (mine.id, true)
                }
            }
        }));
    }
    let mut kept = 0;
    for writer in writers {
        let (id, committed) = writer.await.expect("writer");
        let mut read = db.store.read().await.expect("read");
        let found = read.get_user(seed.org.id, id).await.expect("get");
        assert_eq!(found.is_some(), committed, "user {id}: committed {committed}");
        kept += usize::from(committed);
    }
    assert_eq!(kept, 24);
    if let Some(stats) = db.store.commit_stats() {
        // The writers queued together, so they shared commits.
        assert!(stats.writes >= 24 && stats.commits < stats.writes, "{stats:?}");
    }
    // The writing connection is free and whole afterwards.
    let mut tx = db.store.write().await.expect("write");
    let late = user(&seed.org, "Late", "late@acme.example", OrgRole::User);
    tx.insert_user(&late).await.expect("insert");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert!(read.get_user(seed.org.id, late.id).await.expect("get").is_some());
}

async fn lock_org_serializes_writers_of_one_organization(db: &TestDb) {
    let seed = seed(db).await;
    let mut a = db.store.write().await.expect("write");
    a.lock_org(seed.org.id).await.expect("lock");
    // Taking it again in the same transaction is fine.
    a.lock_org(seed.org.id).await.expect("re-lock");
    if let Raw::Postgres { store, .. } = &db.raw {
        // The documented lock: a transaction-scoped advisory lock on the last 8 bytes of the
        // organization id. Another session cannot take it while `a` holds it…
        let key = |org: uuid::Uuid| {
            let mut k = [0u8; 8];
            k.copy_from_slice(&org.as_bytes()[8..16]);
            i64::from_be_bytes(k)
        };
        let try_lock = |org: uuid::Uuid| async move {
            let mut conn = store.pool().begin().await.expect("begin");
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
                .bind(key(org))
                .fetch_one(&mut *conn)
                .await
                .expect("try lock");
            conn.rollback().await.expect("rollback");
            got
        };
        assert!(!try_lock(seed.org.id).await, "the organization is locked by `a`");
        // …while another organization's lock is free,
        assert!(try_lock(seed.other_org.id).await);
        // and a writer of another organization is not held up.
        let mut c = db.store.write().await.expect("write");
        bounded("lock of another org", c.lock_org(seed.other_org.id)).await.expect("lock");
        drop(c);
        // A second writer of the organization waits for `a`, and then sees what `a` wrote.
        let carol = user(&seed.org, "Carol", "carol@acme.example", OrgRole::User);
        a.insert_user(&carol).await.expect("insert");
        let waiter = {
            let store = db.store.clone();
            let (org_id, carol_id) = (seed.org.id, carol.id);
            tokio::spawn(async move {
                let mut b = store.write().await.expect("write");
                b.lock_org(org_id).await.expect("lock");
                let seen = b.get_user(org_id, carol_id).await.expect("get");
                b.commit().await.expect("commit");
                seen
            })
        };
        let k = key(seed.org.id) as u64;
        let (hi, lo) = ((k >> 32) as i64, (k & 0xffff_ffff) as i64);
        bounded("second writer to queue on the lock", async {
            loop {
                let waiting: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
                       AND objsubid = 1 AND classid::bigint = $1 AND objid::bigint = $2",
                )
                .bind(hi)
                .bind(lo)
                .fetch_one(store.pool())
                .await
                .expect("pg_locks");
                if waiting > 0 {
                    break;
                }
                tokio::task::yield_now().await;
            }
        })
        .await;
        assert!(!waiter.is_finished(), "the second writer is blocked while `a` holds the lock");
        // The lock goes with the commit.
        a.commit().await.expect("commit");
        let seen = bounded("second writer", waiter).await.expect("join");
        assert_eq!(seen, Some(carol), "the second writer ran after the first committed");
        assert!(try_lock(seed.org.id).await, "released at commit");
        // And with a rollback: a dropped transaction's lock does not block the next writer.
        let mut b = db.store.write().await.expect("write");
        b.lock_org(seed.org.id).await.expect("lock");
        drop(b);
        let mut d = db.store.write().await.expect("write");
        bounded("lock after rollback", d.lock_org(seed.org.id)).await.expect("lock");
        d.commit().await.expect("commit");
    } else {
        // SQLite: one writer at a time already; the lock is a no-op that must not fail.
        a.commit().await.expect("commit");
        let mut b = db.store.write().await.expect("write");
        b.lock_org(seed.org.id).await.expect("lock");
        b.lock_org(seed.other_org.id).await.expect("lock");
        drop(b);
        let mut c = db.store.write().await.expect("write");
        bounded("lock after rollback", c.lock_org(seed.org.id)).await.expect("lock");
        c.commit().await.expect("commit");
    }
}
