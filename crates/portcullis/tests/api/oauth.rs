//! The OAuth 2.1 authorization server for MCP clients, over raw HTTP: metadata, registration,
//! consent in the console, code exchange with PKCE, refresh rotation and reuse detection,
//! revocation, and every documented error (on the server's manual clock).
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::header::COOKIE;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::{send, TestServer};
use crate::console::{browser, hidden_field, location, Console};

const VERIFIER: &str = "a-very-long-code-verifier-with-enough-entropy-0123456789";
const REDIRECT: &str = "http://127.0.0.1:33418/callback";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The query parameters of a URL.
fn query_of(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url).expect("url").query_pairs().into_owned().collect()
}

fn param(url: &str, name: &str) -> Option<String> {
    query_of(url).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

async fn register(srv: &TestServer, body: Value) -> (StatusCode, Value) {
    send(srv.client.post(srv.url("/oauth/register")).json(&body)).await
}

/// Registers a public client like Claude Code does; returns its id.
async fn public_client(srv: &TestServer) -> String {
    let (status, body) = register(
        srv,
        json!({
            "client_name": "Claude Code",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["client_id"].as_str().expect("client_id").to_string()
}

fn authorize_query(srv: &TestServer, client_id: &str, extra: &[(&str, &str)]) -> String {
    let resource = srv.url("/mcp");
    let challenge = challenge(VERIFIER);
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("state", "st4te"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("resource", resource.as_str()),
    ];
    for (k, v) in extra {
        pairs.retain(|(name, _)| name != k);
        if !v.is_empty() {
            pairs.push((k, v));
        }
    }
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// A person signed in to the console.
struct Person<'a> {
    console: Console<'a>,
    session: String,
}

impl<'a> Person<'a> {
    async fn sign_in(srv: &'a TestServer, token: &str) -> Self {
        let console = Console::new(srv);
        let session = console.sign_in(token).await;
        Self { console, session }
    }

    /// `GET /oauth/authorize?…`: the response (consent page, error page or redirect).
    async fn authorize(&self, query: &str) -> reqwest::Response {
        self.console.get(&self.session, &format!("/oauth/authorize?{query}")).send().await.unwrap()
    }

    /// Shows the consent page and answers it; returns where the browser is sent.
    async fn decide(&self, query: &str, decision: &str) -> String {
        let response = self.authorize(query).await;
        assert_eq!(response.status(), StatusCode::OK);
        let page = response.text().await.unwrap();
        let csrf = hidden_field(&page, "csrf");
        let mut form: Vec<(String, String)> = query_of(&format!("http://x/?{query}"));
        form.push(("csrf".into(), csrf));
        form.push(("decision".into(), decision.into()));
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let response =
            self.console.post(&self.session, "/oauth/authorize", &form).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{:?}", response.text().await);
        location(&response).to_string()
    }

    /// Allows the request; returns the code.
    async fn allow(&self, query: &str) -> String {
        let to = self.decide(query, "allow").await;
        assert!(to.starts_with(REDIRECT), "{to}");
        param(&to, "code").expect("code")
    }
}

async fn token_request(srv: &TestServer, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = srv.client.post(srv.url("/oauth/token")).form(form).send().await.unwrap();
    if response.status() == StatusCode::OK {
        assert_eq!(response.headers()["cache-control"], "no-store");
    }
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn exchange(
    srv: &TestServer,
    client_id: &str,
    code: &str,
    verifier: &str,
) -> (StatusCode, Value) {
    token_request(
        srv,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn refresh(srv: &TestServer, client_id: &str, token: &str) -> (StatusCode, Value) {
    token_request(
        srv,
        &[("grant_type", "refresh_token"), ("client_id", client_id), ("refresh_token", token)],
    )
    .await
}

#[track_caller]
fn assert_oauth_error(status: StatusCode, body: &Value, expected_status: u16, error: &str) {
    assert_eq!(status.as_u16(), expected_status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
}

fn s(v: &Value) -> &str {
    v.as_str().expect("string")
}

#[tokio::test]
async fn an_mcp_client_connects_refreshes_and_is_disconnected() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;

    // Discovery: the protected resource names us as its authorization server.
    let (status, resource) =
        send(srv.client.get(srv.url("/.well-known/oauth-protected-resource/mcp"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resource["resource"], srv.url("/mcp"));
    assert_eq!(resource["authorization_servers"], json!([srv.base]));
    assert_eq!(resource["scopes_supported"].as_array().unwrap().len(), 4);
    assert_eq!(resource["bearer_methods_supported"], json!(["header"]));
    let (_, plain) = send(srv.client.get(srv.url("/.well-known/oauth-protected-resource"))).await;
    assert_eq!(plain, resource);
    let (status, server) =
        send(srv.client.get(srv.url("/.well-known/oauth-authorization-server"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(server["issuer"], srv.base);
    assert_eq!(server["authorization_endpoint"], srv.url("/oauth/authorize"));
    assert_eq!(server["token_endpoint"], srv.url("/oauth/token"));
    assert_eq!(server["registration_endpoint"], srv.url("/oauth/register"));
    assert_eq!(server["revocation_endpoint"], srv.url("/oauth/revoke"));
    assert_eq!(server["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(server["response_types_supported"], json!(["code"]));

    let client_id = public_client(&srv).await;

    // Not signed in: to the sign-in page, which comes back to the request afterwards.
    let query = authorize_query(&srv, &client_id, &[("scope", "mcp:users.read mcp:requests.read")]);
    let anonymous =
        browser().get(srv.url(&format!("/oauth/authorize?{query}"))).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&anonymous), "/login");
    let waiting = anonymous
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| {
            v.to_str().unwrap().strip_prefix("portcullis_oauth_return=").map(str::to_string)
        })
        .expect("return cookie");
    assert!(waiting.contains("SameSite=Lax"), "{waiting}");
    let cookie = waiting.split(';').next().unwrap().to_string();
    let login = browser().get(srv.url("/login")).send().await.unwrap();
    let pre = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| {
            v.to_str()
                .unwrap()
                .strip_prefix("portcullis_login=")
                .map(|c| c.split(';').next().unwrap().to_string())
        })
        .expect("pre-session cookie");
    let csrf = hidden_field(&login.text().await.unwrap(), "csrf");
    let signed_in = browser()
        .post(srv.url("/login"))
        .header("Sec-Fetch-Site", "same-origin")
        .header(COOKIE, format!("portcullis_login={pre}; portcullis_oauth_return={cookie}"))
        .form(&[("token", org.token.as_str()), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&signed_in), format!("/oauth/authorize?{query}"));

    // The consent page names the client, where the code goes, the scopes and the person.
    let owner = Person::sign_in(&srv, &org.token).await;
    let page = owner.authorize(&query).await;
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("form-action 'self' http://127.0.0.1:33418"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("Claude Code"), "{html}");
    assert!(html.contains("127.0.0.1"), "{html}");
    assert!(html.contains("mcp:users.read") && html.contains("mcp:requests.read"));
    assert!(!html.contains("mcp:requests.write"), "only the requested scopes");
    assert!(html.contains("See people in the directory"));
    assert!(html.contains("Owner"), "who is signed in");

    // Allow: the code comes back with the state and the issuer (RFC 9207).
    let to = owner.decide(&query, "allow").await;
    assert_eq!(param(&to, "state").as_deref(), Some("st4te"));
    assert_eq!(param(&to, "iss").as_deref(), Some(srv.base.as_str()));
    let code = param(&to, "code").expect("code");

    let (status, tokens) = exchange(&srv, &client_id, &code, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], "mcp:users.read mcp:requests.read");
    let access = s(&tokens["access_token"]).to_string();
    let refresh_token = s(&tokens["refresh_token"]).to_string();
    assert!(access.starts_with("pca_") && refresh_token.starts_with("pcr_"));
    assert!(portcullis_service::secrets::is_oauth_access_token(&access));

    let caller = srv.service.authenticate_oauth_access_token(&access).await.expect("caller");
    assert_eq!(caller.actor.user_id().map(|u| u.to_string()), Some(org.owner_id.clone()));
    assert_eq!(caller.scopes.to_text(), "mcp:users.read mcp:requests.read");
    assert_eq!(caller.client_id, client_id);
    assert_eq!(caller.client_name, "Claude Code");
    assert_eq!(srv.service.public_base_url().as_deref(), Some(srv.base.as_str()));
    assert!(srv.service.authenticate_oauth_access_token(&refresh_token).await.is_err());

    // Refresh rotates: a new pair, optionally narrower; the old refresh token is refused, and
    // presenting it again revokes the grant.
    let (status, narrower) = token_request(
        &srv,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client_id),
            ("refresh_token", &refresh_token),
            ("scope", "mcp:users.read"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{narrower}");
    assert_eq!(narrower["scope"], "mcp:users.read");
    let second_access = s(&narrower["access_token"]).to_string();
    let second_refresh = s(&narrower["refresh_token"]).to_string();
    let caller = srv.service.authenticate_oauth_access_token(&second_access).await.unwrap();
    assert_eq!(caller.scopes.to_text(), "mcp:users.read");
    let (status, wider) = token_request(
        &srv,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client_id),
            ("refresh_token", &second_refresh),
            ("scope", "mcp:requests.write"),
        ],
    )
    .await;
    assert_oauth_error(status, &wider, 400, "invalid_scope");

    // The access token ends after an hour.
    srv.clock.advance(chrono::Duration::minutes(59));
    assert!(srv.service.authenticate_oauth_access_token(&second_access).await.is_ok());
    srv.clock.advance(chrono::Duration::minutes(1));
    assert!(srv.service.authenticate_oauth_access_token(&second_access).await.is_err());

    let (status, again) = refresh(&srv, &client_id, &refresh_token).await;
    assert_oauth_error(status, &again, 400, "invalid_grant");
    // The replay revoked the grant: the refresh token issued after it is dead too.
    let (status, after_reuse) = refresh(&srv, &client_id, &second_refresh).await;
    assert_oauth_error(status, &after_reuse, 400, "invalid_grant");
    let audit = srv
        .db
        .strings("SELECT action FROM audit_events WHERE action LIKE 'oauth_grant.%' ORDER BY occurred_at, action")
        .await
        .unwrap();
    assert_eq!(audit, vec!["oauth_grant.created", "oauth_grant.revoked"]);
    let logged = srv
        .db
        .strings("SELECT COALESCE(after_json, '') || COALESCE(before_json, '') FROM audit_events")
        .await
        .unwrap();
    assert!(logged.iter().all(|a| !a.contains("pca_") && !a.contains("pcr_")), "no token audited");

    // A second connection (signed in again: the hour ended the idle console session), and
    // revoking its refresh token (RFC 7009) ends its access token too.
    let owner = Person::sign_in(&srv, &org.token).await;
    let code = owner.allow(&authorize_query(&srv, &client_id, &[])).await;
    let (_, tokens) = exchange(&srv, &client_id, &code, VERIFIER).await;
    assert_eq!(
        tokens["scope"],
        "mcp:users.read mcp:workapps.read mcp:requests.read mcp:requests.write"
    );
    let access = s(&tokens["access_token"]).to_string();
    for token in ["pcr_unknown", s(&tokens["refresh_token"])] {
        let response = srv
            .client
            .post(srv.url("/oauth/revoke"))
            .form(&[("token", token), ("client_id", client_id.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert!(srv.service.authenticate_oauth_access_token(&access).await.is_err());

    // A third: revoked in the console, its tokens stop at once.
    let code = owner.allow(&authorize_query(&srv, &client_id, &[])).await;
    let (_, tokens) = exchange(&srv, &client_id, &code, VERIFIER).await;
    let access = s(&tokens["access_token"]).to_string();
    assert!(srv.service.authenticate_oauth_access_token(&access).await.is_ok());
    let list = owner.console.get(&owner.session, "/settings/assistants").send().await.unwrap();
    let html = list.text().await.unwrap();
    assert!(html.contains("Claude Code"), "{html}");
    let action = html
        .split("action=\"")
        .filter_map(|rest| rest.split('"').next())
        .find(|a| a.starts_with("/settings/assistants/"))
        .expect("a revoke form")
        .to_string();
    assert!(action.starts_with("/settings/assistants/"), "{action}");
    let csrf = hidden_field(&html, "csrf");
    let forged =
        owner.console.post(&owner.session, &action, &[("csrf", "nope")]).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let done =
        owner.console.post(&owner.session, &action, &[("csrf", &csrf)]).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert!(srv.service.authenticate_oauth_access_token(&access).await.is_err());
    let (status, body) = refresh(&srv, &client_id, s(&tokens["refresh_token"])).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    let list = owner.console.get(&owner.session, "/settings/assistants").send().await.unwrap();
    assert!(list.text().await.unwrap().contains("No assistant is connected"));
}

#[tokio::test]
async fn registration_refuses_bad_metadata() {
    let srv = TestServer::start().await;
    for (body, error) in [
        (json!({}), "invalid_redirect_uri"),
        (json!({ "redirect_uris": ["http://evil.example/cb"] }), "invalid_redirect_uri"),
        (json!({ "redirect_uris": ["javascript:alert(1)"] }), "invalid_redirect_uri"),
        (json!({ "redirect_uris": ["https://a.example/cb#x"] }), "invalid_redirect_uri"),
        (
            json!({ "redirect_uris": ["https://a.example/cb"], "grant_types": ["implicit"] }),
            "invalid_client_metadata",
        ),
        (
            json!({ "redirect_uris": ["https://a.example/cb"], "response_types": ["token"] }),
            "invalid_client_metadata",
        ),
        (
            json!({ "redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "private_key_jwt" }),
            "invalid_client_metadata",
        ),
        (
            json!({ "redirect_uris": ["https://a.example/cb"], "client_name": "x".repeat(201) }),
            "invalid_client_metadata",
        ),
        (json!({ "redirect_uris": "https://a.example/cb" }), "invalid_client_metadata"),
    ] {
        let (status, answer) = register(&srv, body.clone()).await;
        assert_oauth_error(status, &answer, 400, error);
    }
    // A confidential client gets a secret, once; a default name from its redirect host.
    let (status, body) =
        register(&srv, json!({ "redirect_uris": ["https://app.example/cb"] })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["client_name"], "app.example");
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
    assert!(s(&body["client_secret"]).starts_with("pcc_"));
}

#[tokio::test]
async fn every_authorization_and_token_error_is_answered_as_documented() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let client_id = public_client(&srv).await;
    let owner = Person::sign_in(&srv, &org.token).await;

    // Unknown client and unregistered redirect URI: an error page, never a redirect.
    for query in [
        authorize_query(&srv, "00000000-0000-7000-8000-000000000000", &[]),
        authorize_query(&srv, &client_id, &[("redirect_uri", "http://127.0.0.1:33418/other")]),
        authorize_query(&srv, &client_id, &[("redirect_uri", "https://evil.example/cb")]),
    ] {
        let response = owner.authorize(&query).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(response.headers().get("location").is_none());
    }
    // Everything else goes back to the client with the state.
    for (extra, error) in [
        (vec![("code_challenge", "")], "invalid_request"),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("scope", "mcp:everything")], "invalid_scope"),
        (vec![("resource", "https://elsewhere.example/mcp")], "invalid_request"),
        (vec![("response_type", "token")], "unsupported_response_type"),
    ] {
        let response = owner.authorize(&authorize_query(&srv, &client_id, &extra)).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{extra:?}");
        let to = location(&response);
        assert!(to.starts_with(REDIRECT), "{to}");
        assert_eq!(param(to, "error").as_deref(), Some(error), "{extra:?}");
        assert_eq!(param(to, "state").as_deref(), Some("st4te"));
    }
    // A loopback client may come back on another port.
    let other_port =
        authorize_query(&srv, &client_id, &[("redirect_uri", "http://127.0.0.1:5000/callback")]);
    assert_eq!(owner.authorize(&other_port).await.status(), StatusCode::OK);
    // Deny.
    let to = owner.decide(&authorize_query(&srv, &client_id, &[]), "deny").await;
    assert_eq!(param(&to, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&to, "state").as_deref(), Some("st4te"));
    assert!(param(&to, "code").is_none());

    // Token endpoint errors.
    let code = owner.allow(&authorize_query(&srv, &client_id, &[])).await;
    let (status, body) = exchange(&srv, &client_id, &code, &"x".repeat(50)).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    let (status, body) =
        exchange(&srv, "00000000-0000-7000-8000-000000000000", &code, VERIFIER).await;
    assert_oauth_error(status, &body, 401, "invalid_client");
    let other_client = public_client(&srv).await;
    let (status, body) = exchange(&srv, &other_client, &code, VERIFIER).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    let (status, body) = token_request(
        &srv,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("code", &code),
            ("code_verifier", VERIFIER),
            ("redirect_uri", "http://127.0.0.1:1/else"),
        ],
    )
    .await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    let (status, body) = token_request(
        &srv,
        &[("grant_type", "authorization_code"), ("client_id", &client_id), ("code", &code)],
    )
    .await;
    assert_oauth_error(status, &body, 400, "invalid_request");
    let (status, body) =
        token_request(&srv, &[("grant_type", "password"), ("client_id", &client_id)]).await;
    assert_oauth_error(status, &body, 400, "unsupported_grant_type");
    let (status, body) = token_request(&srv, &[("client_id", &client_id)]).await;
    assert_oauth_error(status, &body, 400, "invalid_request");
    let (status, body) = send(
        srv.client.post(srv.url("/oauth/token")).json(&json!({"grant_type": "refresh_token"})),
    )
    .await;
    assert_oauth_error(status, &body, 400, "invalid_request");

    // The code works (mismatches above did not use it up), then never again: reusing it
    // revokes the grant it made.
    let (status, tokens) = exchange(&srv, &client_id, &code, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (status, body) = exchange(&srv, &client_id, &code, VERIFIER).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
    assert!(srv.service.authenticate_oauth_access_token(s(&tokens["access_token"])).await.is_err());

    // A code expires after ten minutes.
    let code = owner.allow(&authorize_query(&srv, &client_id, &[])).await;
    srv.clock.advance(chrono::Duration::minutes(10));
    let (status, body) = exchange(&srv, &client_id, &code, VERIFIER).await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
}

#[tokio::test]
async fn confidential_clients_authenticate_and_deactivated_people_lose_their_assistants() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (status, registered) = register(
        &srv,
        json!({ "redirect_uris": [REDIRECT], "grant_types": ["authorization_code", "refresh_token"], "client_name": "Server app" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (client_id, secret) =
        (s(&registered["client_id"]).to_string(), s(&registered["client_secret"]).to_string());
    let (alice_id, alice_token) = srv.user_with_token(&org, "Alice", "User").await;
    let alice = Person::sign_in(&srv, &alice_token).await;
    let code = alice.allow(&authorize_query(&srv, &client_id, &[])).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let wrong = srv
        .client
        .post(srv.url("/oauth/token"))
        .basic_auth(&client_id, Some("pcc_wrong"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().contains_key("www-authenticate"));
    let missing = srv
        .client
        .post(srv.url("/oauth/token"))
        .form(
            &[("client_id", client_id.as_str())]
                .iter()
                .chain(form.iter())
                .copied()
                .collect::<Vec<_>>(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let (status, tokens) = send(
        srv.client.post(srv.url("/oauth/token")).basic_auth(&client_id, Some(&secret)).form(&form),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = s(&tokens["access_token"]).to_string();
    assert!(srv.service.authenticate_oauth_access_token(&access).await.is_ok());

    // Another organization's administrator can neither see nor revoke it; Alice's own
    // administrator can.
    let other = srv.new_org("Globex").await;
    let stranger = Person::sign_in(&srv, &other.token).await;
    let page = stranger.console.get(&stranger.session, "/admin/assistants").send().await.unwrap();
    assert!(!page.text().await.unwrap().contains("Server app"));
    let grant_id = srv.db.strings("SELECT id FROM oauth_grants").await.unwrap().remove(0);
    let csrf = stranger.console.csrf(&stranger.session).await;
    let refused = stranger
        .console
        .post(
            &stranger.session,
            &format!("/admin/assistants/{grant_id}/revoke"),
            &[("csrf", &csrf)],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    assert!(srv.service.authenticate_oauth_access_token(&access).await.is_ok());
    let owner = Person::sign_in(&srv, &org.token).await;
    let page = owner
        .console
        .get(&owner.session, "/admin/assistants")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Server app") && page.contains("Alice"), "{page}");

    // Alice is deactivated: her assistant's tokens stop working.
    let deactivate = srv
        .api(&org, Method::PATCH, &format!("/api/v1/users/{alice_id}"))
        .json(&json!({ "statusName": "Deactivated" }));
    let (status, body) = send(deactivate).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(srv.service.authenticate_oauth_access_token(&access).await.is_err());
    let (status, body) =
        send(srv.client.post(srv.url("/oauth/token")).basic_auth(&client_id, Some(&secret)).form(
            &[("grant_type", "refresh_token"), ("refresh_token", s(&tokens["refresh_token"]))],
        ))
        .await;
    assert_oauth_error(status, &body, 400, "invalid_grant");
}
