//! The web console's sessions, sign-in CSRF protection, rate limits and security headers, over
//! HTTP against the in-process server (on its manual clock).
use portcullis_api::HttpConfig;
use reqwest::header::{CACHE_CONTROL, COOKIE, SET_COOKIE};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::json;

use crate::common::{assert_flashback_error, client_from, send, TestServer};

/// A browser without cookie jar or redirects: each test says which cookies it sends.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The value of cookie `name` set by a response (`None` when it is not set, or cleared).
fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response.headers().get_all(SET_COOKIE).iter().find_map(|v| {
        let pair = v.to_str().ok()?.split(';').next()?;
        let (n, value) = pair.split_once('=')?;
        (n == name && !value.is_empty()).then(|| value.to_string())
    })
}

/// The `value` of the form field `name` in an HTML page.
pub fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start =
        html.find(&marker).unwrap_or_else(|| panic!("no {name} field in {html}")) + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

pub fn location(response: &Response) -> &str {
    response.headers()["location"].to_str().unwrap()
}

pub struct Console<'a> {
    srv: &'a TestServer,
    client: reqwest::Client,
}

impl<'a> Console<'a> {
    pub fn new(srv: &'a TestServer) -> Self {
        Self { srv, client: browser() }
    }

    /// `GET /login`: the pre-session cookie and the form's token.
    async fn login_form(&self) -> (String, String) {
        let response = self.client.get(self.srv.url("/login")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let pre = set_cookie(&response, "portcullis_login").expect("pre-session cookie");
        let csrf = hidden_field(&response.text().await.unwrap(), "csrf");
        (pre, csrf)
    }

    /// `POST /login` as a browser on our page sends it.
    fn post_login(&self, cookie: Option<&str>, csrf: &str, token: &str) -> RequestBuilder {
        let mut request = self
            .client
            .post(self.srv.url("/login"))
            .header("Sec-Fetch-Site", "same-origin")
            .form(&[("token", token), ("csrf", csrf)]);
        if let Some(pre) = cookie {
            request = request.header(COOKIE, format!("portcullis_login={pre}"));
        }
        request
    }

    /// Signs in with a token; returns the session cookie's value.
    pub async fn sign_in(&self, token: &str) -> String {
        let (pre, csrf) = self.login_form().await;
        let response = self.post_login(Some(&pre), &csrf, token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{:?}", response.text().await);
        assert_eq!(location(&response), "/");
        set_cookie(&response, "portcullis_session").expect("session cookie")
    }

    pub fn get(&self, session: &str, path: &str) -> RequestBuilder {
        self.client.get(self.srv.url(path)).header(COOKIE, format!("portcullis_session={session}"))
    }

    pub fn post(&self, session: &str, path: &str, form: &[(&str, &str)]) -> RequestBuilder {
        self.client
            .post(self.srv.url(path))
            .header(COOKIE, format!("portcullis_session={session}"))
            .header("Sec-Fetch-Site", "same-origin")
            .form(form)
    }

    /// Is the session open? (`/` shows the signed-in page, else redirects to the sign-in page.)
    async fn is_open(&self, session: &str) -> bool {
        let response = self.get(session, "/").send().await.unwrap();
        match response.status() {
            StatusCode::OK => {
                assert!(response.text().await.unwrap().contains("Sign out"));
                true
            }
            StatusCode::SEE_OTHER => {
                assert_eq!(location(&response), "/login");
                false
            }
            other => panic!("unexpected {other}"),
        }
    }

    /// The form token of a signed-in page.
    pub async fn csrf(&self, session: &str) -> String {
        let page = self.get(session, "/").send().await.unwrap().text().await.unwrap();
        hidden_field(&page, "csrf")
    }
}

#[tokio::test]
async fn signing_in_needs_the_forms_token_its_cookie_and_a_same_site_request() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let console = Console::new(&srv);
    let (pre, csrf) = console.login_form().await;
    let (other_pre, other_csrf) = console.login_form().await;
    assert_ne!(pre, other_pre, "every sign-in page gets its own pre-session cookie");

    // A forged form (another site's page posting the attacker's token) lacks the cookie, or has
    // a token that is not bound to it, or the browser says it comes from elsewhere.
    let forged = [
        console.post_login(None, &csrf, &org.token),
        console.post_login(Some(&pre), "", &org.token),
        console.post_login(Some(&pre), &other_csrf, &org.token),
        console.post_login(Some(&pre), &csrf, &org.token).header("Sec-Fetch-Site", "cross-site"),
        console.post_login(Some(&pre), &csrf, &org.token).header("Sec-Fetch-Site", "same-site"),
    ];
    for request in forged {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(set_cookie(&response, "portcullis_session"), None);
        assert!(response.text().await.unwrap().contains("did not come from this site"));
    }
    let old_browser = console
        .client
        .post(srv.url("/login"))
        .header(COOKIE, format!("portcullis_login={pre}"))
        .header("Origin", "https://evil.example")
        .form(&[("token", org.token.as_str()), ("csrf", csrf.as_str())]);
    assert_eq!(old_browser.send().await.unwrap().status(), StatusCode::FORBIDDEN);

    // A wrong token: 401 and the form again, still bound to the same cookie.
    let response = console.post_login(Some(&pre), &csrf, "pct_nope").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(hidden_field(&response.text().await.unwrap(), "csrf"), csrf);

    // The genuine form: a session, and the pre-session cookie is cleared.
    let response = console.post_login(Some(&pre), &csrf, &org.token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&response, "portcullis_session").expect("session");
    let cookies: Vec<&str> =
        response.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect();
    assert!(cookies.iter().any(|c| c.starts_with("portcullis_login=;") && c.contains("Max-Age=0")));
    let session_cookie = cookies.iter().find(|c| c.starts_with("portcullis_session=")).unwrap();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(session_cookie.contains(attribute), "{session_cookie}");
    }
    // The cookie is a random id, not the token (sealed or not).
    assert!(!session.contains(&org.token) && session.len() >= 43);
    assert!(console.is_open(&session).await);

    // Forms of the session refuse another site's requests even with the right token.
    let csrf = console.csrf(&session).await;
    let cross = console
        .post(&session, "/logout", &[("csrf", &csrf)])
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert!(console.is_open(&session).await);
}

#[tokio::test]
async fn signing_out_ends_the_session_server_side_so_a_replayed_cookie_fails() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let console = Console::new(&srv);
    let session = console.sign_in(&org.token).await;
    let other_session = console.sign_in(&org.token).await;
    let csrf = console.csrf(&session).await;

    let wrong = console.post(&session, "/logout", &[("csrf", "0000")]).send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let response = console.post(&session, "/logout", &[("csrf", &csrf)]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login");
    let cleared = response.headers()[SET_COOKIE].to_str().unwrap();
    assert!(cleared.starts_with("portcullis_session=;") && cleared.contains("Max-Age=0"));

    // Replaying the old cookie (as a copy of it would) opens nothing: the session is gone.
    assert!(!console.is_open(&session).await);
    let replay = console.post(&session, "/logout", &[("csrf", &csrf)]).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&replay), "/login");
    // Only that session: the person's other session is still open.
    assert!(console.is_open(&other_session).await);
    // Signing in again from a browser that still had a session ends that one.
    let (pre, form_csrf) = console.login_form().await;
    let again = console
        .post_login(Some(&pre), &form_csrf, &org.token)
        .header(COOKIE, format!("portcullis_login={pre}; portcullis_session={other_session}"))
        .send()
        .await
        .unwrap();
    let fresh = set_cookie(&again, "portcullis_session").expect("new session");
    assert_ne!(fresh, other_session, "a new session id, never the one the browser brought");
    assert!(!console.is_open(&other_session).await);
    assert!(console.is_open(&fresh).await);
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_their_absolute_lifetime() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let console = Console::new(&srv);
    let minutes = chrono::Duration::minutes;

    // Idle: 30 minutes without a request end the session; any request before that renews it.
    let session = console.sign_in(&org.token).await;
    for _ in 0..3 {
        srv.clock.advance(minutes(29));
        assert!(console.is_open(&session).await);
    }
    srv.clock.advance(minutes(30));
    assert!(!console.is_open(&session).await);
    srv.clock.advance(-minutes(10));
    assert!(!console.is_open(&session).await, "an ended session stays ended");

    // Absolute: 12 hours after sign-in, however busy.
    let session = console.sign_in(&org.token).await;
    for _ in 0..28 {
        srv.clock.advance(minutes(25));
        assert!(console.is_open(&session).await);
    }
    srv.clock.advance(minutes(19));
    assert!(console.is_open(&session).await, "11 h 59 min after sign-in");
    srv.clock.advance(minutes(1));
    assert!(!console.is_open(&session).await, "12 h after sign-in");
}

#[tokio::test]
async fn deleting_a_user_ends_their_sessions_and_tokens_and_reactivating_revives_neither() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let console = Console::new(&srv);
    let (ann, ann_token) = srv.user_with_token(&org, "Ann", "User").await;
    let (bob, bob_token) = srv.user_with_token(&org, "Bob", "User").await;
    let (ann_session, bob_session) =
        (console.sign_in(&ann_token).await, console.sign_in(&bob_token).await);

    // Flashback: delete, then activate.
    let path = format!("/organization/users/{ann}");
    assert_eq!(send(srv.bearer(&org.token, Method::DELETE, &path)).await.0, StatusCode::OK);
    assert!(!console.is_open(&ann_session).await);
    let activate = format!("{path}/activate");
    assert_eq!(send(srv.bearer(&org.token, Method::POST, &activate)).await.0, StatusCode::OK);
    assert!(!console.is_open(&ann_session).await, "the session stays closed");
    let (status, body) = send(srv.bearer(&ann_token, Method::GET, "/user/profile")).await;
    assert_flashback_error(status, &body, 401);

    // Cakewalk: status Deactivated, then Active.
    let user_path = format!("/api/v1/users/{bob}");
    for status in ["Deactivated", "Active"] {
        let change =
            srv.api(&org, Method::PATCH, &user_path).json(&json!({ "statusName": status }));
        assert_eq!(send(change).await.0, StatusCode::OK);
    }
    assert!(!console.is_open(&bob_session).await);
    let (status, body) = send(srv.bearer(&bob_token, Method::GET, "/user/profile")).await;
    assert_flashback_error(status, &body, 401);

    // A new token (and a session opened with it) works.
    let new_token = srv.token_for(&org, &bob).await;
    assert!(console.is_open(&console.sign_in(&new_token).await).await);
    let owner_session = console.sign_in(&org.token).await;
    assert!(console.is_open(&owner_session).await, "other people's sessions are untouched");
}

#[tokio::test]
async fn revoking_the_sign_in_token_ends_the_session() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let console = Console::new(&srv);
    let (ann, ann_token) = srv.user_with_token(&org, "Ann", "User").await;
    let session = console.sign_in(&ann_token).await;
    let (token_id, _) = ann_token.trim_start_matches("pct_").split_once('_').unwrap();
    let token_id = uuid::Uuid::parse_str(token_id).unwrap();
    let revoke = srv.api(&org, Method::DELETE, &format!("/api/v1/users/{ann}/Tokens/{token_id}"));
    assert!(send(revoke).await.0.is_success());
    assert!(!console.is_open(&session).await);
}

#[tokio::test]
async fn console_pages_and_api_responses_carry_security_headers() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let console = Console::new(&srv);
    let session = console.sign_in(&org.token).await;
    let check = |response: &Response, html: bool| {
        let h = response.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert_eq!(csp.contains("style-src 'self'"), html, "{csp}");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
    };
    for path in ["/", "/admin/users", "/inbox"] {
        let response = console.get(&session, path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        check(&response, true);
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store", "{path}");
    }
    let login = console.client.get(srv.url("/login")).send().await.unwrap();
    check(&login, true);
    let css = console.client.get(srv.url("/assets/console.css")).send().await.unwrap();
    check(&css, false);
    assert!(css.headers()[CACHE_CONTROL].to_str().unwrap().contains("max-age"));
    for response in [
        srv.api(&org, Method::GET, "/api/v1/users").send().await.unwrap(),
        srv.bearer(&org.token, Method::GET, "/organization/users").send().await.unwrap(),
        srv.client.get(srv.url("/api/v1/users")).send().await.unwrap(),
        srv.client.get(srv.url("/no/such/route")).send().await.unwrap(),
    ] {
        check(&response, false);
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    }
}

#[tokio::test]
async fn console_traffic_and_sign_ins_are_limited_per_address_with_an_html_429() {
    let srv = TestServer::start_with(HttpConfig {
        console_per_minute: 6,
        sign_ins_per_minute: 2,
        ..HttpConfig::without_rate_limits()
    })
    .await;
    let org = srv.new_org("Acme").await;
    let console = Console::new(&srv);
    // Two sign-ins (2 page loads + 2 attempts), then the third attempt is refused, valid or not.
    let _ = console.sign_in(&org.token).await;
    let (pre, csrf) = console.login_form().await;
    let _ = console.sign_in(&org.token).await;
    let refused = console.post_login(Some(&pre), &csrf, &org.token).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert!(refused.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(refused.text().await.unwrap().contains("Too many requests"));
    // Pages: 3 loaded so far, 3 more, then 429.
    for _ in 0..3 {
        assert_eq!(console.client.get(srv.url("/login")).send().await.unwrap().status(), 200);
    }
    let page = console.client.get(srv.url("/login")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    // Per address: another client address is not affected; the API is not either.
    let elsewhere = client_from([127, 0, 0, 4]);
    assert_eq!(elsewhere.get(srv.url("/login")).send().await.unwrap().status(), 200);
    assert_eq!(send(srv.api(&org, Method::GET, "/api/v1/users")).await.0, StatusCode::OK);
    // A minute later (the server's clock) the address is served again.
    srv.clock.advance(chrono::Duration::seconds(60));
    let _ = console.sign_in(&org.token).await;
}
