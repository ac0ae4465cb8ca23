//! `/api/v1/SingleSignOn` and an organization's own sign-in link, against a real OpenID provider
//! (oidc-provider-mock, started by the test) driven over HTTP: the round trip a browser makes,
//! without the browser (the full browser round trip is `tests/sso.rs`).
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{send, TestServer};
use crate::tools::Tool;

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[header::LOCATION].to_str().expect("location").to_string()
}

/// The value a `Set-Cookie` of `response` gives cookie `name`.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get_all(header::SET_COOKIE).iter().find_map(|v| {
        let text = v.to_str().ok()?;
        let value = text.strip_prefix(&format!("{name}="))?.split(';').next()?;
        (!value.is_empty()).then(|| value.to_string())
    })
}

/// The provider's base URL as the server reaches it (an address, which the test server's
/// egress policy allows: `127.0.0.0/8`).
fn issuer(provider: &Tool) -> String {
    format!("http://127.0.0.1:{}", provider.port)
}

async fn provider_user(provider: &Tool, sub: &str, claims: Value) {
    let response = reqwest::Client::new()
        .put(format!("{}/users/{sub}", issuer(provider)))
        .json(&claims)
        .send()
        .await
        .expect("provider");
    assert_eq!(response.status(), 204);
}

/// Starts at `/login/oidc/{org}`, signs in as `sub` at the provider, and returns the callback
/// URL with the round-trip cookie, not yet followed.
async fn to_callback(srv: &TestServer, org_id: &str, sub: &str) -> (String, String) {
    let http = no_redirects();
    let start = http.get(srv.url(&format!("/login/oidc/{org_id}"))).send().await.expect("start");
    assert_eq!(start.status(), StatusCode::SEE_OTHER, "{:?}", start.text().await);
    let pending = set_cookie(&start, "portcullis_oidc").expect("round-trip cookie");
    let authorize = location(&start);
    for param in ["code_challenge_method=S256", "nonce=", "state=", "scope=openid"] {
        assert!(authorize.contains(param), "{param} in {authorize}");
    }
    let granted = http.post(&authorize).form(&[("sub", sub)]).send().await.expect("authorize");
    assert!(granted.status().is_redirection(), "{}", granted.status());
    let callback = location(&granted);
    assert!(callback.starts_with(&srv.url("/login/oidc/callback?")), "{callback}");
    (callback, pending)
}

/// Follows the callback with the cookie: the status, the session cookie if any, and the page.
async fn finish(callback: &str, pending: &str) -> (StatusCode, Option<String>, String) {
    let response = no_redirects()
        .get(callback)
        .header(header::COOKIE, format!("portcullis_oidc={pending}"))
        .send()
        .await
        .expect("callback");
    let session = set_cookie(&response, "portcullis_session");
    (response.status(), session, response.text().await.expect("page"))
}

async fn home(srv: &TestServer, session: &str) -> (StatusCode, String) {
    let response = no_redirects()
        .get(srv.url("/"))
        .header(header::COOKIE, format!("portcullis_session={session}"))
        .send()
        .await
        .expect("home");
    (response.status(), response.text().await.expect("page"))
}

#[tokio::test]
async fn single_sign_on_settings_are_for_administrators_and_checked() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let path = "/api/v1/SingleSignOn";

    let (status, body) = send(srv.api(&org, Method::GET, path)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"],
        json!({
            "issuer": null, "clientId": null, "clientSecretConfigured": false,
            "usesServerProvider": false, "allowJustInTimeCreation": false, "signInUrl": null,
            "redirectUri": srv.url("/login/oidc/callback"),
        })
    );

    let bad = [
        (json!({ "issuer": "https://idp.example.com" }), "must be given together"),
        (
            json!({ "issuer": "http://idp.example.com", "clientId": "a", "clientSecret": "b" }),
            "must use https",
        ),
        (
            json!({ "issuer": "https://idp.example.com/?x=1", "clientId": "a", "clientSecret": "b" }),
            "query",
        ),
        (
            json!({ "issuer": "http://127.0.0.1:9/", "clientId": "", "clientSecret": "b" }),
            "clientId",
        ),
        // Nothing listens there: the discovery document cannot load.
        (
            json!({ "issuer": "http://127.0.0.1:9", "clientId": "a", "clientSecret": "b" }),
            "could not read",
        ),
        (
            json!({ "useServerProvider": true, "issuer": "https://a.example", "clientId": "a", "clientSecret": "b" }),
            "cannot be combined",
        ),
        (json!({ "allowJustInTime": true }), "unknown field"),
        (json!({ "allowJustInTimeCreation": "yes" }), "invalid type"),
    ];
    for (body, message) in bad {
        let (status, answer) = send(srv.api(&org, Method::PATCH, path).json(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
        assert!(answer.to_string().contains(message), "{body} → {answer} (wanted {message})");
    }

    // A provider on an address the server's egress policy refuses (loopback is allowed to this
    // test server only as 127.0.0.0/8; `localhost` also resolves to ::1).
    let refused = json!({ "issuer": "https://10.1.2.3", "clientId": "a", "clientSecret": "b" });
    let (status, answer) = send(srv.api(&org, Method::PATCH, path).json(&refused)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.to_string().contains("may not call"), "{answer}");

    // Who may: not a read-only key, not an employee, not without credentials.
    let read_only = srv.read_only(&org).await;
    let patch = json!({ "allowJustInTimeCreation": true });
    let (status, _) = send(srv.api(&read_only, Method::PATCH, path).json(&patch)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let employee = srv.create_user(&org, "Erin Employee", "erin@acme.example", "USER").await;
    let token = srv.token_for(&org, &employee).await;
    for method in [Method::GET, Method::PATCH] {
        let (status, _) = send(srv.bearer(&token, method.clone(), path).json(&patch)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method}");
    }
    let (status, _) = send(srv.client.get(srv.url(path))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The owner's bearer token may; the change is audited.
    let (status, body) = send(srv.bearer(&org.token, Method::PATCH, path).json(&patch)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["allowJustInTimeCreation"], true);
    let (_, audit) =
        send(srv.api(&org, Method::GET, "/api/v1/AuditLog?action=sso_settings.updated")).await;
    assert!(audit.to_string().contains("sso_settings.updated"), "{audit}");

    // Without a provider there is nothing to sign in with.
    let (status, page) = {
        let r = no_redirects()
            .get(srv.url(&format!("/login/oidc/{}", org.id)))
            .send()
            .await
            .expect("start");
        (r.status(), r.text().await.expect("page"))
    };
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("not set up"), "{page}");
}

#[tokio::test]
async fn an_organization_signs_its_people_in_with_its_own_provider() {
    let Some(provider) = Tool::openid_provider() else { return };
    let srv = TestServer::start().await;
    let acme = srv.new_org("Acme").await;
    let globex = srv.new_org("Globex").await;
    srv.create_user(&acme, "Ada Admin", "ada@acme.example", "ADMINISTRATOR").await;
    srv.create_user(&globex, "Gus Globex", "gus@globex.example", "USER").await;
    let verified =
        |email: &str| json!({ "email": email, "email_verified": true, "name": "Someone New" });
    provider_user(&provider, "ada", verified("ada@acme.example")).await;
    provider_user(&provider, "gus", verified("gus@globex.example")).await;
    provider_user(&provider, "nina", verified("nina@acme.example")).await;

    let secret = "acme-client-secret-7f3a";
    let configure = json!({ "issuer": issuer(&provider), "clientId": "acme-portcullis", "clientSecret": secret });
    let (status, body) =
        send(srv.api(&acme, Method::PATCH, "/api/v1/SingleSignOn").json(&configure)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["issuer"], issuer(&provider));
    assert_eq!(body["data"]["clientSecretConfigured"], true);
    assert_eq!(body["data"]["signInUrl"], srv.url(&format!("/login/oidc/{}", acme.id)));
    assert!(!body.to_string().contains(secret), "the secret is never shown");
    let stored = srv.db.strings("SELECT issuer FROM organization_sso").await.expect("sql");
    assert_eq!(stored, vec![issuer(&provider)]);
    let (_, audit) = send(srv.api(&acme, Method::GET, "/api/v1/AuditLog")).await;
    assert!(!audit.to_string().contains(secret), "the secret is not in the audit log");

    // Ada signs in through Acme's link and lands in her console.
    let (callback, pending) = to_callback(&srv, &acme.id, "ada").await;
    let (status, session, page) = finish(&callback, &pending).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("http-equiv=\"refresh\""), "{page}");
    let session = session.expect("a session cookie");
    let (status, page) = home(&srv, &session).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Ada Admin"), "{page}");

    // The same callback again: the provider refuses a used code (502, in words).
    let (status, _, page) = finish(&callback, &pending).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{page}");
    assert!(page.contains("could not be used"), "{page}");

    // Another organization's person cannot sign in through Acme's link …
    let (callback, pending) = to_callback(&srv, &acme.id, "gus").await;
    let (status, session, page) = finish(&callback, &pending).await;
    assert_eq!((status, session), (StatusCode::FORBIDDEN, None), "{page}");
    assert!(page.contains("no account for your e-mail"), "{page}");

    // … nor can someone Acme does not know, until Acme allows just-in-time creation.
    let (callback, pending) = to_callback(&srv, &acme.id, "nina").await;
    assert_eq!(finish(&callback, &pending).await.0, StatusCode::FORBIDDEN);
    let jit = json!({ "allowJustInTimeCreation": true });
    let (status, body) =
        send(srv.api(&acme, Method::PATCH, "/api/v1/SingleSignOn").json(&jit)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["issuer"], issuer(&provider), "the provider stays");
    let (callback, pending) = to_callback(&srv, &acme.id, "nina").await;
    let (status, session, _) = finish(&callback, &pending).await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = home(&srv, &session.expect("session")).await;
    assert!(page.contains("Someone New"), "{page}");
    let (_, users) = send(srv.api(&acme, Method::GET, "/api/v1/users")).await;
    assert!(users.to_string().contains("nina@acme.example"), "{users}");
    let (_, globex_users) = send(srv.api(&globex, Method::GET, "/api/v1/users")).await;
    assert!(!globex_users.to_string().contains("nina@acme.example"), "created in Acme only");

    // A tampered state, a tampered cookie, and a sign-in left too long are refused.
    let (callback, pending) = to_callback(&srv, &acme.id, "ada").await;
    let forged = callback.replace("state=", "state=x");
    assert_eq!(finish(&forged, &pending).await.0, StatusCode::UNAUTHORIZED);
    let mut tampered = pending.clone();
    tampered.replace_range(10..11, if &pending[10..11] == "A" { "B" } else { "A" });
    assert_eq!(finish(&callback, &tampered).await.0, StatusCode::UNAUTHORIZED);
    let (callback, pending) = to_callback(&srv, &acme.id, "ada").await;
    srv.clock.advance(chrono::Duration::minutes(11));
    let (status, _, page) = finish(&callback, &pending).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{page}");
    assert!(page.contains("expired"), "{page}");

    // Back to the server's provider (there is none here): the link stops working.
    let back = json!({ "useServerProvider": true });
    let (status, body) =
        send(srv.api(&acme, Method::PATCH, "/api/v1/SingleSignOn").json(&back)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["issuer"], Value::Null);
    let start = no_redirects()
        .get(srv.url(&format!("/login/oidc/{}", acme.id)))
        .send()
        .await
        .expect("start");
    assert_eq!(start.status(), StatusCode::NOT_FOUND);
}
