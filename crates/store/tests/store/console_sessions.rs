//! Web console sessions and sign-in settings: `ConsoleSessionReads`, `ConsoleSessionWrites`.
use chrono::Duration;
use portcullis_domain::sso::{OrganizationSso, SsoProvider};
use portcullis_domain::{new_id, ConsoleSession, User, UserToken};

use crate::common::*;

on_every_backend!(
    console_sessions_round_trip_touch_and_end,
    single_sign_on_sessions_have_no_token,
    organization_sso_settings_round_trip,
    one_organization_is_the_sole_one,
);

async fn token_of(db: &TestDb, user: &User) -> UserToken {
    let token = UserToken {
        id: new_id(),
        org_id: user.org_id,
        user_id: user.id,
        name: "console".into(),
        secret_hash: format!("{:064x}", new_id().as_u128()),
        created_at: at(1),
        expires_at: None,
        revoked_at: None,
    };
    let mut tx = db.store.write().await.expect("write");
    tx.insert_user_token(&token).await.expect("token");
    tx.commit().await.expect("commit");
    token
}

fn session(user: &User, token: &UserToken, hash: &str, expires_in_hours: i64) -> ConsoleSession {
    ConsoleSession {
        id_hash: hash.into(),
        org_id: user.org_id,
        user_id: user.id,
        token_id: Some(token.id),
        created_at: at_ms(5_005),
        last_seen_at: at_ms(5_005),
        expires_at: at_ms(5_005) + Duration::hours(expires_in_hours),
    }
}

async fn console_sessions_round_trip_touch_and_end(db: &TestDb) {
    let seed = seed(db).await;
    let (alice_token, bob_token, stranger_token) = (
        token_of(db, &seed.alice).await,
        token_of(db, &seed.bob).await,
        token_of(db, &seed.stranger).await,
    );
    let a1 = session(&seed.alice, &alice_token, &"a1".repeat(32), 12);
    let a2 = session(&seed.alice, &alice_token, &"a2".repeat(32), 1);
    let b = session(&seed.bob, &bob_token, &"b0".repeat(32), 12);
    let s = session(&seed.stranger, &stranger_token, &"s0".repeat(32), 1);
    let mut tx = db.store.write().await.expect("write");
    for x in [&a1, &a2, &b, &s] {
        tx.insert_console_session(x).await.expect("insert");
    }
    // The same id twice is a conflict (the primary key), never a second row.
    assert!(tx.insert_console_session(&a1).await.is_err());
    drop(tx);
    let mut tx = db.store.write().await.expect("write");
    for x in [&a1, &a2, &b, &s] {
        tx.insert_console_session(x).await.expect("insert");
    }
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    for x in [&a1, &a2, &b, &s] {
        assert_eq!(read.get_console_session(&x.id_hash).await.expect("get").as_ref(), Some(x));
    }
    assert_eq!(read.get_console_session("nope").await.expect("get"), None);
    drop(read);

    let mut tx = db.store.write().await.expect("write");
    assert!(tx.touch_console_session(&a1.id_hash, at_ms(65_432)).await.expect("touch"));
    assert!(!tx.touch_console_session("nope", at(70)).await.expect("touch"));
    // Sessions whose absolute end has come: a2 and the stranger's (1 h); others stay.
    let expired =
        tx.delete_expired_console_sessions(at_ms(5_005) + Duration::hours(1)).await.expect("gc");
    assert_eq!(expired, 2);
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    let touched = read.get_console_session(&a1.id_hash).await.expect("get").expect("a1");
    assert_eq!(touched, ConsoleSession { last_seen_at: at_ms(65_432), ..a1.clone() });
    assert_eq!(read.get_console_session(&a2.id_hash).await.expect("get"), None);
    assert_eq!(read.get_console_session(&s.id_hash).await.expect("get"), None);
    drop(read);

    let mut tx = db.store.write().await.expect("write");
    let a3 = session(&seed.alice, &alice_token, &"a3".repeat(32), 12);
    tx.insert_console_session(&a3).await.expect("insert");
    // Scoped to the organization: the same user id in another organization deletes nothing.
    assert_eq!(
        tx.delete_user_console_sessions(seed.other_org.id, seed.alice.id).await.expect("del"),
        0
    );
    assert_eq!(tx.delete_user_console_sessions(seed.org.id, seed.alice.id).await.expect("del"), 2);
    assert!(tx.delete_console_session(&b.id_hash).await.expect("delete"));
    assert!(!tx.delete_console_session(&b.id_hash).await.expect("delete again"));
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    for x in [&a1, &a3, &b] {
        assert_eq!(read.get_console_session(&x.id_hash).await.expect("get"), None);
    }
}

async fn single_sign_on_sessions_have_no_token(db: &TestDb) {
    let seed = seed(db).await;
    let sso = ConsoleSession {
        id_hash: "c0".repeat(32),
        org_id: seed.alice.org_id,
        user_id: seed.alice.id,
        token_id: None,
        created_at: at(5),
        last_seen_at: at(5),
        expires_at: at(5) + Duration::hours(12),
    };
    let mut tx = db.store.write().await.expect("write");
    tx.insert_console_session(&sso).await.expect("insert");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_console_session(&sso.id_hash).await.expect("get"), Some(sso));
}

async fn organization_sso_settings_round_trip(db: &TestDb) {
    let seed = seed(db).await;
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_organization_sso(seed.org.id).await.expect("get"), None);
    // Two organizations: none is the only one.
    assert_eq!(read.sole_organization_id().await.expect("sole"), None);
    drop(read);

    let own = OrganizationSso {
        org_id: seed.org.id,
        provider: Some(SsoProvider {
            issuer: "https://idp.example.com".into(),
            client_id: "portcullis".into(),
            client_secret_sealed: vec![1, 2, 3, 0, 255],
        }),
        allow_just_in_time: true,
        updated_at: at(7),
    };
    let server_only = OrganizationSso {
        org_id: seed.other_org.id,
        provider: None,
        allow_just_in_time: false,
        updated_at: at(8),
    };
    let mut tx = db.store.write().await.expect("write");
    tx.save_organization_sso(&own).await.expect("save");
    tx.save_organization_sso(&server_only).await.expect("save");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_organization_sso(seed.org.id).await.expect("get").as_ref(), Some(&own));
    assert_eq!(read.get_organization_sso(seed.other_org.id).await.expect("get"), Some(server_only));
    drop(read);

    // Saving again replaces; deleting goes back to nothing, in that organization only.
    let back =
        OrganizationSso { provider: None, allow_just_in_time: false, updated_at: at(9), ..own };
    let mut tx = db.store.write().await.expect("write");
    tx.save_organization_sso(&back).await.expect("replace");
    assert!(tx.delete_organization_sso(seed.other_org.id).await.expect("delete"));
    assert!(!tx.delete_organization_sso(seed.other_org.id).await.expect("delete again"));
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_organization_sso(seed.org.id).await.expect("get"), Some(back));
    assert_eq!(read.get_organization_sso(seed.other_org.id).await.expect("get"), None);
}

/// `sole_organization_id` on a database with exactly one organization.
async fn one_organization_is_the_sole_one(db: &TestDb) {
    let org = organization("Solo");
    let mut tx = db.store.write().await.expect("write");
    tx.insert_organization(&org).await.expect("org");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.sole_organization_id().await.expect("sole"), Some(org.id));
}
