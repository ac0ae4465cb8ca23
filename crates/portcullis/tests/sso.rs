//! Single sign-on end to end: the real binary, a real OpenID provider run locally
//! (oidc-provider-mock from PyPI: discovery, JWKS, authorization code with PKCE, nonce required)
//! and headless Chromium clicking through both.
//!
//! The provider runs on `localhost` and Portcullis on `127.0.0.1`, so the provider's redirect
//! back is a cross-site navigation, as it is in production.
mod support;

use std::time::Duration;

use fantoccini::Locator;
use serde_json::{json, Value};
use support::browser::Browser;
use support::tools::Tool;
use support::{Org, Portcullis, Server};

const CLIENT_ID: &str = "portcullis-console";
const CLIENT_SECRET: &str = "provider-client-secret";

/// Tells the provider who `sub` is (the claims it puts in ID tokens and user info).
async fn provider_user(provider: &Tool, sub: &str, claims: Value) {
    let status = reqwest::Client::new()
        .put(format!("{}/users/{sub}", provider.url()))
        .json(&claims)
        .send()
        .await
        .expect("provider answers")
        .status();
    assert_eq!(status, 204, "provider took the user");
}

/// Signs in as `sub` at the provider's form, starting from Portcullis' sign-in page.
async fn sign_in_as(browser: &Browser, base: &str, sub: &str, shot: Option<&str>) -> String {
    let page = &browser.client;
    page.delete_all_cookies().await.expect("cookies");
    page.goto(&format!("{base}/login")).await.expect("login page");
    page.find(Locator::Id("sso")).await.expect("SSO button").click().await.expect("click");
    browser.wait_for("Authorize").await;
    if let Some(name) = shot {
        browser.shot(name).await;
    }
    page.find(Locator::Css("input[name=sub]"))
        .await
        .expect("subject field")
        .send_keys(sub)
        .await
        .expect("type");
    page.find(Locator::Css("form button[type=submit]"))
        .await
        .expect("authorize")
        .click()
        .await
        .expect("click");
    tokio::time::sleep(Duration::from_millis(200)).await;
    browser.wait_for("</main>").await
}

async fn api_get(server: &Server, org: &Org, path: &str) -> Value {
    org.sign(reqwest::Client::new().get(server.url(path)))
        .send()
        .await
        .expect("api")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn people_sign_in_through_the_identity_provider() {
    let Some(provider) = Tool::openid_provider() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(browser) = Browser::start(&dir.path().join("chrome")).await else { return };

    let portcullis = Portcullis::new(format!("{}/p.db", dir.path().display()))
        .env("PORTCULLIS_OIDC_ISSUER", &provider.url())
        .env("PORTCULLIS_OIDC_CLIENT_ID", CLIENT_ID)
        .env("PORTCULLIS_OIDC_CLIENT_SECRET", CLIENT_SECRET);
    let org = portcullis.init("Acme", "ines@acme.example", "Ines Admin");
    let server = portcullis.serve(&["--rate-limit-per-minute", "0"]);
    let base = server.base.clone();
    let http = reqwest::Client::new();

    // An invited employee (not validated yet), and the people the provider knows.
    let created: Value = org
        .sign(http.post(server.url("/api/v1/users")))
        .json(&json!({ "name": "Erin Employee", "email": "erin@acme.example", "statusName": "Invited" }))
        .send()
        .await
        .expect("create user")
        .json()
        .await
        .expect("json");
    let erin = created["data"]["id"].as_str().expect("id").to_string();
    let invited = api_get(&server, &org, &format!("/api/v1/users/{erin}")).await;
    assert_eq!(invited["data"]["statusName"], "Invited", "{invited}");
    let verified = |email: &str, given: &str| json!({ "email": email, "email_verified": true, "given_name": given, "family_name": "Example" });
    provider_user(&provider, "erin", verified("Erin@Acme.example", "Erin")).await;
    provider_user(&provider, "ines", verified("ines@acme.example", "Ines")).await;
    provider_user(&provider, "newcomer", verified("newcomer@acme.example", "Nova")).await;
    provider_user(
        &provider,
        "unverified",
        json!({ "email": "erin@acme.example", "email_verified": false }),
    )
    .await;

    // The sign-in page offers single sign-on next to the token form.
    browser.client.goto(&format!("{base}/login")).await.expect("login");
    let login = browser.wait_for("single sign-on").await;
    assert!(login.contains("Sign in with single sign-on"), "{login}");
    browser.shot("sso-login").await;

    // 1. The invited employee signs in (e-mail matched whatever its case) and is now Active.
    let home = sign_in_as(&browser, &base, "erin", Some("sso-provider-form")).await;
    assert!(home.contains("Sign out") && home.contains("Erin"), "signed in as Erin: {home}");
    browser.shot("sso-signed-in").await;
    let validated = api_get(&server, &org, &format!("/api/v1/users/{erin}")).await;
    assert_eq!(validated["data"]["statusName"], "Active", "{validated}");

    // 2. Signing out really ends the session: the old cookie opens nothing.
    let cookie =
        browser.client.get_named_cookie("portcullis_session").await.expect("session cookie");
    browser
        .client
        .find(Locator::Css("header form button"))
        .await
        .expect("sign out")
        .click()
        .await
        .expect("click");
    browser.wait_for("Sign in to Portcullis").await;
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{base}/"))
        .header("cookie", format!("portcullis_session={}", cookie.value()))
        .send()
        .await
        .expect("replay");
    assert_eq!(replay.status(), 303, "the signed-out session is gone");

    // 3. An e-mail the provider has not verified is refused.
    let refused = sign_in_as(&browser, &base, "unverified", None).await;
    assert!(refused.contains("has not verified your e-mail"), "{refused}");
    browser.shot("sso-refused-unverified").await;

    // 4. Someone the organization does not know is refused …
    let unknown = sign_in_as(&browser, &base, "newcomer", None).await;
    assert!(unknown.contains("There is no account for your e-mail"), "{unknown}");
    browser.shot("sso-refused-unknown").await;

    // … until it allows just-in-time creation; then they sign in as a new, active user.
    let patched = org
        .sign(http.patch(server.url("/api/v1/SingleSignOn")))
        .json(&json!({ "allowJustInTimeCreation": true }))
        .send()
        .await
        .expect("patch");
    assert_eq!(patched.status(), 200);
    let settings: Value = patched.json().await.expect("json");
    assert_eq!(settings["data"]["usesServerProvider"], true, "{settings}");
    assert_eq!(settings["data"]["redirectUri"], format!("{base}/login/oidc/callback"));
    let newcomer = sign_in_as(&browser, &base, "newcomer", None).await;
    assert!(newcomer.contains("Sign out") && newcomer.contains("Nova"), "{newcomer}");
    let users = api_get(&server, &org, "/api/v1/users").await;
    let found = users["data"]
        .as_array()
        .and_then(|all| all.iter().find(|u| u["email"] == "newcomer@acme.example"))
        .unwrap_or_else(|| panic!("the newcomer exists: {users}"));
    assert_eq!(found["statusName"], "Active", "{found}");
    assert_eq!(found["name"], "Nova Example", "{found}");

    // 5. A deactivated person's session ends at once, and they cannot sign in again.
    let ines_home = sign_in_as(&browser, &base, "ines", None).await;
    assert!(ines_home.contains("Sign out"), "{ines_home}");
    let erin_cookie = {
        let home = sign_in_as(&browser, &base, "erin", None).await;
        assert!(home.contains("Sign out"), "{home}");
        browser
            .client
            .get_named_cookie("portcullis_session")
            .await
            .expect("cookie")
            .value()
            .to_string()
    };
    let deactivated = org
        .sign(http.patch(server.url(&format!("/api/v1/users/{erin}"))))
        .json(&json!({ "statusName": "Deactivated" }))
        .send()
        .await
        .expect("deactivate");
    assert!(deactivated.status().is_success(), "{}", deactivated.status());
    let after = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{base}/"))
        .header("cookie", format!("portcullis_session={erin_cookie}"))
        .send()
        .await
        .expect("after");
    assert_eq!(after.status(), 303, "a deactivated person's session ends");
    let again = sign_in_as(&browser, &base, "erin", None).await;
    assert!(again.contains("Your account is deactivated"), "{again}");

    // A callback that did not start here is refused (no round-trip cookie, forged state).
    browser.client.delete_all_cookies().await.expect("cookies");
    browser.client.goto(&format!("{base}/login/oidc/callback?code=x&state=y")).await.expect("goto");
    let forged = browser.wait_for("Sign-in failed").await;
    assert!(forged.contains("did not start here"), "{forged}");
    // The provider's refusal is shown in words.
    browser
        .client
        .goto(&format!("{base}/login/oidc/callback?error=access_denied&state=y"))
        .await
        .expect("goto");
    let denied = browser.wait_for("Sign-in failed").await;
    assert!(denied.contains("did not sign you in (access_denied)"), "{denied}");

    // The server logged neither the client secret nor anyone's code.
    assert!(!server.logs().contains(CLIENT_SECRET), "the client secret is never logged");
}
