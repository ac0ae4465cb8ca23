//! The OAuth authorization server's tables: `OAuthReads`, `OAuthWrites`.
use chrono::Duration;
use portcullis_domain::mcp::McpScopes;
use portcullis_domain::oauth::{
    AuthorizationCode, GrantType, OAuthClient, OAuthGrant, OAuthToken, TokenEndpointAuthMethod,
    TokenKind,
};
use portcullis_domain::{new_id, User};

use crate::common::*;

on_every_backend!(
    oauth_clients_round_trip_and_unused_ones_are_removed,
    oauth_grants_list_touch_and_revoke_within_their_organization,
    oauth_codes_and_refresh_tokens_are_used_exactly_once,
);

fn client(name: &str, secret: Option<&str>, created_secs: i64) -> OAuthClient {
    OAuthClient {
        id: new_id(),
        name: name.into(),
        redirect_uris: vec!["http://127.0.0.1:33418/cb".into(), "vscode://ext/cb".into()],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        auth_method: if secret.is_some() {
            TokenEndpointAuthMethod::ClientSecretPost
        } else {
            TokenEndpointAuthMethod::None
        },
        secret_hash: secret.map(str::to_string),
        created_at: at(created_secs),
    }
}

fn grant(user: &User, client: &OAuthClient, created_secs: i64) -> OAuthGrant {
    OAuthGrant {
        id: new_id(),
        org_id: user.org_id,
        user_id: user.id,
        client_id: client.id,
        scopes: McpScopes::read_only(),
        created_at: at(created_secs),
        last_used_at: None,
        revoked_at: None,
    }
}

async fn oauth_clients_round_trip_and_unused_ones_are_removed(db: &TestDb) {
    let seed = seed(db).await;
    let public = client("Claude", None, 10);
    let confidential = client("Server app", Some(&"ab".repeat(32)), 20);
    let abandoned = client("Never used", None, 30);
    let mut tx = db.store.write().await.expect("write");
    for c in [&public, &confidential, &abandoned] {
        tx.insert_oauth_client(c).await.expect("insert");
    }
    assert_conflict(tx.insert_oauth_client(&public).await);
    drop(tx);
    let mut tx = db.store.write().await.expect("write");
    for c in [&public, &confidential, &abandoned] {
        tx.insert_oauth_client(c).await.expect("insert");
    }
    tx.insert_oauth_grant(&grant(&seed.alice, &public, 40)).await.expect("grant");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    for c in [&public, &confidential, &abandoned] {
        assert_eq!(read.get_oauth_client(c.id).await.expect("get").as_ref(), Some(c));
    }
    assert_eq!(read.get_oauth_client(new_id()).await.expect("get"), None);
    assert_eq!(read.count_oauth_clients_since(at(0)).await.expect("count"), 3);
    assert_eq!(read.count_oauth_clients_since(at(20)).await.expect("count"), 2);
    drop(read);

    // Only clients without any grant, registered before the cut-off, go.
    let mut tx = db.store.write().await.expect("write");
    assert_eq!(tx.delete_unused_oauth_clients(at(25)).await.expect("gc"), 1);
    assert_eq!(tx.delete_unused_oauth_clients(at(1000)).await.expect("gc"), 1);
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert!(read.get_oauth_client(public.id).await.expect("get").is_some(), "consented to");
    assert!(read.get_oauth_client(confidential.id).await.expect("get").is_none());
    assert!(read.get_oauth_client(abandoned.id).await.expect("get").is_none());
}

async fn oauth_grants_list_touch_and_revoke_within_their_organization(db: &TestDb) {
    let seed = seed(db).await;
    let claude = client("Claude", None, 1);
    let (alice_grant, bob_grant, stranger_grant) = (
        grant(&seed.alice, &claude, 10),
        grant(&seed.bob, &claude, 20),
        grant(&seed.stranger, &claude, 30),
    );
    let mut tx = db.store.write().await.expect("write");
    tx.insert_oauth_client(&claude).await.expect("client");
    for g in [&alice_grant, &bob_grant, &stranger_grant] {
        tx.insert_oauth_grant(g).await.expect("grant");
    }
    tx.touch_oauth_grant(alice_grant.id, at(50)).await.expect("touch");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    let stored = read.get_oauth_grant(alice_grant.id).await.expect("get").expect("grant");
    assert_eq!(stored, OAuthGrant { last_used_at: Some(at(50)), ..alice_grant.clone() });
    assert_eq!(read.get_oauth_grant(new_id()).await.expect("get"), None);
    let everyone = read.list_oauth_grants(seed.org.id, None).await.expect("list");
    let ids: Vec<_> = everyone.iter().map(|a| a.grant.id).collect();
    assert_eq!(ids, vec![bob_grant.id, alice_grant.id], "newest first, own organization only");
    assert_eq!(everyone[1].client_name, "Claude");
    assert_eq!(everyone[1].user_name, seed.alice.full_name());
    let alices = read.list_oauth_grants(seed.org.id, Some(seed.alice.id)).await.expect("list");
    assert_eq!(alices.len(), 1);
    assert_eq!(alices[0].grant.id, alice_grant.id);
    drop(read);

    let mut tx = db.store.write().await.expect("write");
    assert!(!tx.revoke_oauth_grant(seed.org.id, stranger_grant.id, at(60)).await.expect("revoke"));
    assert!(tx.revoke_oauth_grant(seed.org.id, alice_grant.id, at(60)).await.expect("revoke"));
    assert!(!tx.revoke_oauth_grant(seed.org.id, alice_grant.id, at(61)).await.expect("again"));
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    let revoked = read.get_oauth_grant(alice_grant.id).await.expect("get").expect("grant");
    assert_eq!(revoked.revoked_at, Some(at(60)));
    assert!(read
        .list_oauth_grants(seed.org.id, Some(seed.alice.id))
        .await
        .expect("list")
        .is_empty());
    let other = read.list_oauth_grants(seed.other_org.id, None).await.expect("list");
    assert_eq!(other.len(), 1);
}

async fn oauth_codes_and_refresh_tokens_are_used_exactly_once(db: &TestDb) {
    let seed = seed(db).await;
    let claude = client("Claude", None, 1);
    let g = grant(&seed.alice, &claude, 2);
    let code = AuthorizationCode {
        code_hash: "c1".repeat(32),
        grant_id: g.id,
        redirect_uri: "http://127.0.0.1:33418/cb".into(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        scopes: McpScopes::all(),
        expires_at: at(2) + Duration::minutes(10),
        used_at: None,
    };
    let token = |hash: &str, kind: TokenKind| OAuthToken {
        token_hash: hash.repeat(32),
        grant_id: g.id,
        kind,
        scopes: McpScopes::read_only(),
        created_at: at(3),
        expires_at: at(3) + kind.lifetime(),
        used_at: None,
    };
    let (access, refresh) = (token("a1", TokenKind::Access), token("r1", TokenKind::Refresh));
    let mut tx = db.store.write().await.expect("write");
    tx.insert_oauth_client(&claude).await.expect("client");
    tx.insert_oauth_grant(&g).await.expect("grant");
    tx.insert_oauth_code(&code).await.expect("code");
    tx.insert_oauth_token(&access).await.expect("access");
    tx.insert_oauth_token(&refresh).await.expect("refresh");
    assert_conflict(tx.insert_oauth_token(&refresh).await);
    drop(tx);
    let mut tx = db.store.write().await.expect("write");
    tx.insert_oauth_client(&claude).await.expect("client");
    tx.insert_oauth_grant(&g).await.expect("grant");
    tx.insert_oauth_code(&code).await.expect("code");
    tx.insert_oauth_token(&access).await.expect("access");
    tx.insert_oauth_token(&refresh).await.expect("refresh");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_oauth_code(&code.code_hash).await.expect("get").as_ref(), Some(&code));
    assert_eq!(read.get_oauth_code("nope").await.expect("get"), None);
    assert_eq!(
        read.get_oauth_token(&access.token_hash).await.expect("get").as_ref(),
        Some(&access)
    );
    assert_eq!(read.get_oauth_token("nope").await.expect("get"), None);
    drop(read);

    // Two transactions, one after the other (as two servers would): only the first wins.
    for (first, expected) in [(true, true), (false, false)] {
        let mut tx = db.store.write().await.expect("write");
        let won_code = tx.consume_oauth_code(&code.code_hash, at(5)).await.expect("consume");
        let won_token = tx.use_oauth_token(&refresh.token_hash, at(5)).await.expect("use");
        assert_eq!((won_code, won_token), (expected, expected), "first: {first}");
        tx.commit().await.expect("commit");
    }
    let mut tx = db.store.write().await.expect("write");
    assert!(!tx.consume_oauth_code("nope", at(5)).await.expect("consume"));
    drop(tx);
    let mut read = db.store.read().await.expect("read");
    let used = read.get_oauth_code(&code.code_hash).await.expect("get").expect("code");
    assert_eq!(used.used_at, Some(at(5)));
    let rotated = read.get_oauth_token(&refresh.token_hash).await.expect("get").expect("token");
    assert_eq!(rotated.used_at, Some(at(5)));
    drop(read);

    // Expired codes and tokens go: the code (10 min) and the access token (1 h), not the refresh.
    let mut tx = db.store.write().await.expect("write");
    let gone = tx.delete_expired_oauth_codes_and_tokens(at(3) + Duration::hours(1)).await;
    assert_eq!(gone.expect("gc"), 2);
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_oauth_token(&access.token_hash).await.expect("get"), None);
    assert!(read.get_oauth_token(&refresh.token_hash).await.expect("get").is_some());
}
