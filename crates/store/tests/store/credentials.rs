//! API credentials and user tokens: `CredentialReads`, `CredentialWrites`.
use portcullis_domain::{new_id, AccessLevel, ApiCredential, UserToken};
use portcullis_domain::{TokenId, UserId};

use crate::common::*;

on_every_backend!(
    api_credentials_round_trip_and_revoke,
    user_tokens_round_trip_and_revoke,
    revoking_all_of_a_users_tokens_keeps_earlier_revocations_and_other_users
);

fn credential(org_id: uuid::Uuid, name: &str, access_level: AccessLevel) -> ApiCredential {
    ApiCredential {
        id: new_id(),
        org_id,
        name: name.into(),
        secret_hash: format!("{:064x}", new_id().as_u128()),
        access_level,
        created_at: at_ms(10_010),
        revoked_at: None,
    }
}

async fn api_credentials_round_trip_and_revoke(db: &TestDb) {
    let seed = seed(db).await;
    let rw = credential(seed.org.id, "CI", AccessLevel::ReadWrite);
    let ro = credential(seed.org.id, "Dashboard", AccessLevel::ReadOnly);
    let mut already_revoked = credential(seed.org.id, "Old", AccessLevel::ReadOnly);
    already_revoked.revoked_at = Some(at_ms(10_500));
    let foreign = credential(seed.other_org.id, "Theirs", AccessLevel::ReadWrite);
    let mut tx = db.store.write().await.expect("write");
    for c in [&rw, &ro, &already_revoked, &foreign] {
        tx.insert_api_credential(c).await.expect("insert");
    }
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    for c in [&rw, &ro, &already_revoked, &foreign] {
        // Looked up by id alone: authentication does not know the organization yet.
        assert_eq!(read.get_api_credential(c.id).await.expect("get").as_ref(), Some(c));
    }
    assert_eq!(read.get_api_credential(new_id()).await.expect("get"), None);
    let mut mine = vec![rw.clone(), ro.clone(), already_revoked.clone()];
    mine.sort_by_key(|c| c.id);
    assert_eq!(read.list_api_credentials(seed.org.id).await.expect("list"), mine);
    assert_eq!(
        read.list_api_credentials(seed.other_org.id).await.expect("list"),
        vec![foreign.clone()]
    );
    drop(read);

    let mut tx = db.store.write().await.expect("write");
    assert!(tx.revoke_api_credential(seed.org.id, rw.id, at_ms(20_020)).await.expect("revoke"));
    // Revoking again keeps the first time (and still reports the credential found).
    assert!(tx.revoke_api_credential(seed.org.id, rw.id, at_ms(30_030)).await.expect("revoke"));
    assert!(tx
        .revoke_api_credential(seed.org.id, already_revoked.id, at(99))
        .await
        .expect("revoke"));
    // Another organization's credential, or none at all: not found, unchanged.
    assert!(!tx.revoke_api_credential(seed.org.id, foreign.id, at(1)).await.expect("revoke"));
    assert!(!tx.revoke_api_credential(seed.org.id, new_id(), at(1)).await.expect("revoke"));
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    let got = read.get_api_credential(rw.id).await.expect("get").expect("rw");
    assert_eq!(got.revoked_at, Some(at_ms(20_020)));
    assert_eq!(got, ApiCredential { revoked_at: Some(at_ms(20_020)), ..rw });
    assert_eq!(
        read.get_api_credential(already_revoked.id).await.expect("get"),
        Some(already_revoked)
    );
    assert_eq!(read.get_api_credential(ro.id).await.expect("get"), Some(ro));
    assert_eq!(read.get_api_credential(foreign.id).await.expect("get"), Some(foreign));
}

async fn user_tokens_round_trip_and_revoke(db: &TestDb) {
    let seed = seed(db).await;
    let token = |user: &portcullis_domain::User, name: &str| UserToken {
        id: new_id(),
        org_id: user.org_id,
        user_id: user.id,
        name: name.into(),
        secret_hash: format!("{:064x}", new_id().as_u128()),
        created_at: at_ms(11_011),
        expires_at: None,
        revoked_at: None,
    };
    let plain = token(&seed.alice, "laptop");
    let expiring = UserToken { expires_at: Some(at_ms(86_400_123)), ..token(&seed.alice, "ci") };
    let revoked = UserToken {
        expires_at: Some(at(1_000)),
        revoked_at: Some(at_ms(12_012)),
        ..token(&seed.bob, "old")
    };
    let foreign = token(&seed.stranger, "theirs");
    let mut tx = db.store.write().await.expect("write");
    for t in [&plain, &expiring, &revoked, &foreign] {
        tx.insert_user_token(t).await.expect("insert");
    }
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    for t in [&plain, &expiring, &revoked, &foreign] {
        assert_eq!(read.get_user_token(t.id).await.expect("get").as_ref(), Some(t));
    }
    assert_eq!(read.get_user_token(new_id()).await.expect("get"), None);
    drop(read);

    let mut tx = db.store.write().await.expect("write");
    // Only the token's own user, in its organization, revokes it.
    assert!(!tx
        .revoke_user_token(seed.org.id, UserId(seed.bob.id), TokenId(plain.id), at(5))
        .await
        .expect("revoke"));
    assert!(!tx
        .revoke_user_token(seed.other_org.id, UserId(seed.alice.id), TokenId(plain.id), at(5))
        .await
        .expect("revoke"));
    assert!(tx
        .revoke_user_token(seed.org.id, UserId(seed.alice.id), TokenId(plain.id), at_ms(13_013))
        .await
        .expect("revoke"));
    // A second revocation keeps the first time.
    assert!(tx
        .revoke_user_token(seed.org.id, UserId(seed.alice.id), TokenId(plain.id), at(50))
        .await
        .expect("revoke"));
    assert!(tx
        .revoke_user_token(seed.org.id, UserId(seed.bob.id), TokenId(revoked.id), at(50))
        .await
        .expect("revoke"));
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    assert_eq!(
        read.get_user_token(plain.id).await.expect("get"),
        Some(UserToken { revoked_at: Some(at_ms(13_013)), ..plain })
    );
    assert_eq!(read.get_user_token(revoked.id).await.expect("get"), Some(revoked));
    assert_eq!(read.get_user_token(expiring.id).await.expect("get"), Some(expiring));
    assert_eq!(read.get_user_token(foreign.id).await.expect("get"), Some(foreign));
}

async fn revoking_all_of_a_users_tokens_keeps_earlier_revocations_and_other_users(db: &TestDb) {
    let seed = seed(db).await;
    let token = |user: &portcullis_domain::User, revoked_at| UserToken {
        id: new_id(),
        org_id: user.org_id,
        user_id: user.id,
        name: "t".into(),
        secret_hash: format!("{:064x}", new_id().as_u128()),
        created_at: at(1),
        expires_at: None,
        revoked_at,
    };
    let (live, also_live, old) =
        (token(&seed.alice, None), token(&seed.alice, None), token(&seed.alice, Some(at(2))));
    let (bobs, strangers) = (token(&seed.bob, None), token(&seed.stranger, None));
    let mut tx = db.store.write().await.expect("write");
    for t in [&live, &also_live, &old, &bobs, &strangers] {
        tx.insert_user_token(t).await.expect("insert");
    }
    let alice = UserId(seed.alice.id);
    assert_eq!(tx.revoke_all_user_tokens(seed.org.id, alice, at(10)).await.expect("revoke"), 2);
    assert_eq!(tx.revoke_all_user_tokens(seed.org.id, alice, at(20)).await.expect("revoke"), 0);
    // Another organization's id for the user: nothing.
    assert_eq!(
        tx.revoke_all_user_tokens(seed.other_org.id, UserId(seed.stranger.id), at(10))
            .await
            .expect("revoke"),
        1
    );
    assert_eq!(
        tx.revoke_all_user_tokens(seed.other_org.id, UserId(seed.bob.id), at(10))
            .await
            .expect("revoke"),
        0
    );
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    for t in [&live, &also_live] {
        let got = read.get_user_token(t.id).await.expect("get").expect("token");
        assert_eq!(got.revoked_at, Some(at(10)));
    }
    assert_eq!(read.get_user_token(old.id).await.expect("get"), Some(old));
    assert_eq!(read.get_user_token(bobs.id).await.expect("get"), Some(bobs));
    let got = read.get_user_token(strangers.id).await.expect("get").expect("token");
    assert_eq!(got.revoked_at, Some(at(10)));
}
