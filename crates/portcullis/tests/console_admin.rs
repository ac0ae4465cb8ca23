//! The administrator's console end to end in headless Chromium (WebDriver via chromedriver): the
//! first-run page on a fresh server, then every administration form, each result checked in the
//! page and through the API. One browser for the whole run; a screenshot of each action goes to
//! `target/screenshots/admin-<action>.png`.
//!
//! Skips with a message only when Chromium or ChromeDriver is not installed; CI installs both.
mod support;

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use support::Portcullis;

/// The shared headless browser, with helpers for forms on pages of `base`.
struct Browser {
    session: support::browser::Browser,
    client: Client,
    base: String,
}

impl Browser {
    async fn shot(&self, name: &str) {
        self.session.shot(name).await;
    }

    async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    async fn fill(&self, css: &str, text: &str) {
        let field =
            self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    async fn choose(&self, css: &str, value: &str) {
        let select =
            self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        select.select_by_value(value).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Polls the page until it contains `text` (navigation after a click is asynchronous).
    async fn wait_for(&self, text: &str) -> String {
        let mut source = String::new();
        for _ in 0..50 {
            source = self.client.source().await.unwrap();
            if source.contains(text) {
                return source;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page never showed {text:?}: {source}");
    }

    /// The text of a show-once secret on the page.
    async fn secret(&self, label: &str) -> String {
        let css = format!("code[data-secret='{label}']");
        self.client.find(Locator::Css(&css)).await.unwrap().text().await.unwrap()
    }

    async fn current_path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }
}

/// The server's log without terminal colours.
fn plain(log: &str) -> String {
    let mut out = String::new();
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[tokio::test]
async fn an_administrator_sets_up_and_runs_the_organization_from_the_console() {
    // A fresh server on an empty database: it prints a one-time setup code.
    let dir = tempfile::tempdir().unwrap();
    let portcullis = Portcullis::new(format!("{}/p.db", dir.path().display()));
    let server = portcullis.serve(&["--rate-limit-per-minute", "0"]);
    let base = format!("http://localhost:{}", server.port);
    let log = plain(&server.logs());
    let code = log
        .split("setup_code=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no setup code in the log: {log}"))
        .to_string();

    let Some(session) = support::browser::Browser::start(&dir.path().join("chrome")).await else {
        return;
    };
    let client = session.client.clone();
    let b = Browser { session, client, base: base.clone() };

    // 1. First run: `/` leads to `/setup`; a wrong code is refused, the right one creates the
    //    organization and shows the owner's token and an API key and secret once.
    b.goto("/").await;
    b.wait_for("Set up Portcullis").await;
    assert_eq!(b.current_path().await, "/setup");
    b.fill("#code", "not-the-code").await;
    b.fill("#org_name", "Acme").await;
    b.fill("#owner_name", "Ines Admin").await;
    b.fill("#owner_email", "ines@acme.example").await;
    b.click("main button[type=submit]").await;
    b.wait_for("setup code is not right").await;
    b.fill("#code", &code).await;
    b.fill("#org_name", "Acme").await;
    b.fill("#owner_name", "Ines Admin").await;
    b.fill("#owner_email", "ines@acme.example").await;
    b.shot("setup-first-run").await;
    b.click("main button[type=submit]").await;
    b.wait_for("Your organization is ready").await;
    b.shot("setup-done").await;
    let owner_token = b.secret("Owner token").await;
    let (key, secret) = (b.secret("API key").await, b.secret("API secret").await);

    let http = reqwest::Client::new();
    let api = |path: &str| {
        http.get(format!("{base}{path}"))
            .header("X-API-KEY", &key)
            .header("X-API-SECRET", &secret)
            .send()
    };
    let get = |path: String| {
        let request = api(&path);
        async move {
            let response = request.await.unwrap();
            assert!(response.status().is_success(), "GET {path}: {}", response.status());
            response.json::<Value>().await.unwrap()
        }
    };

    // Signing in with the owner's token.
    b.client.delete_all_cookies().await.unwrap();
    b.goto("/login").await;
    b.fill("#token", &owner_token).await;
    b.click("main button[type=submit]").await;
    b.wait_for("Sign out").await;

    // 2. Users: create two, the second with the first as manager; change a role; deactivate
    //    and reactivate.
    b.goto("/admin/users").await;
    for (first, last, email, manager) in [
        ("Mona", "Manager", "mona@acme.example", ""),
        ("Erin", "Employee", "erin@acme.example", "mona@acme.example"),
    ] {
        b.goto("/admin/users").await;
        b.fill("#first_name", first).await;
        b.fill("#last_name", last).await;
        b.fill("#email", email).await;
        b.fill("#manager", manager).await;
        b.click("form[method=post][action='/admin/users'] button[type=submit]").await;
        b.wait_for(&format!("User: {first} {last}")).await;
    }
    b.shot("admin-user-create").await;
    let erin_path = b.current_path().await;
    let erin = erin_path.rsplit('/').next().unwrap().to_string();
    let mona_id = |users: &Value| {
        users["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == "mona@acme.example")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let users = get("/api/v1/users".into()).await;
    let mona = mona_id(&users);
    let erin_json = get(format!("/api/v1/users/{erin}")).await;
    assert_eq!(erin_json["data"]["managerId"], mona.as_str());
    b.choose("#role", "Workspaces").await;
    b.click(&format!("form[method=post][action='{erin_path}'] button[type=submit]")).await;
    b.wait_for("role Workspaces").await;
    b.shot("admin-user-role").await;
    assert_eq!(get(format!("/api/v1/users/{erin}")).await["data"]["roleName"], "Workspaces");
    b.click(&format!("form[method=post][action='{erin_path}/deactivate'] button")).await;
    b.wait_for("Reactivate").await;
    b.shot("admin-user-deactivate").await;
    assert_eq!(get(format!("/api/v1/users/{erin}")).await["data"]["statusName"], "Deactivated");
    b.click(&format!("form[method=post][action='{erin_path}/reactivate'] button")).await;
    b.wait_for("Deactivating offboards").await;
    assert_ne!(get(format!("/api/v1/users/{erin}")).await["data"]["statusName"], "Deactivated");
    b.goto("/admin/users?q=erin").await;
    b.wait_for("erin@acme.example").await;
    assert!(!b.client.source().await.unwrap().contains("mona@acme.example"));
    b.shot("admin-users-search").await;

    // 3. A personal token for Erin, shown once; it signs in. (Signed back in as the owner next.)
    b.goto(&erin_path).await;
    b.fill("#token-name", "laptop").await;
    b.click(&format!("form[method=post][action='{erin_path}/tokens'] button")).await;
    b.wait_for("Personal token created").await;
    b.shot("admin-token-once").await;
    let erin_token = b.secret("Token").await;
    b.goto(&erin_path).await;
    let page = b.wait_for("laptop").await;
    assert!(!page.contains(&erin_token), "never shown again");

    // 4. Apps: create with an owner, edit, add a level.
    b.goto("/admin/apps").await;
    b.fill("#name", "Figma").await;
    b.choose("#provisioning_mode", "Automatic").await;
    b.fill("#description", "Design tool").await;
    b.fill("#owners", "mona@acme.example").await;
    b.click("form[method=post][action='/admin/apps'] button[type=submit]").await;
    b.wait_for("App: Figma").await;
    b.shot("admin-app-create").await;
    let app_path = b.current_path().await;
    let app = app_path.rsplit('/').next().unwrap().to_string();
    let app_json = get(format!("/api/v1/WorkApps/{app}")).await;
    assert_eq!(app_json["data"]["provisioningMode"], "Automatic");
    assert_eq!(app_json["data"]["ownerIds"], json!([mona]));
    b.fill("#description", "Design and prototyping").await;
    b.click(&format!("form[method=post][action='{app_path}'] button[type=submit]")).await;
    b.wait_for("Design and prototyping").await;
    b.shot("admin-app-edit").await;
    assert_eq!(
        get(format!("/api/v1/WorkApps/{app}")).await["data"]["description"],
        "Design and prototyping"
    );
    for level in ["Viewer", "Editor"] {
        b.fill("#level-name", level).await;
        b.click(&format!("form[method=post][action='{app_path}/levels'] button")).await;
        b.wait_for(&format!("<td>{level}")).await;
    }
    b.shot("admin-app-levels").await;
    let levels = get(format!("/api/v1/WorkApps/{app}/PermissionLevels")).await;
    assert_eq!(levels["data"].as_array().unwrap().len(), 2);

    // 5. Groups: create, add a member found by search, a default app and a hidden app.
    b.goto("/admin/groups").await;
    b.fill("#name", "Design").await;
    b.fill("#description", "The designers").await;
    b.click("form[method=post][action='/admin/groups'] button[type=submit]").await;
    b.wait_for("Group: Design").await;
    let group_path = b.current_path().await;
    let group = group_path.rsplit('/').next().unwrap().to_string();
    b.fill("#member_q", "erin").await;
    b.click("form[role=search] button").await;
    b.wait_for("Add Erin Employee").await;
    b.click("button[aria-label='Add Erin Employee']").await;
    b.wait_for("Remove Erin Employee").await;
    b.shot("admin-group-members").await;
    let members = get(format!("/api/v1/UsersGroups/{group}/Users")).await;
    assert_eq!(members["data"][0]["id"], erin.as_str(), "{members}");
    b.fill("#default-app", "figma").await;
    b.fill("#default-level", "Viewer").await;
    b.click(&format!("form[method=post][action='{group_path}/defaults'] button")).await;
    b.wait_for("Remove default app Figma").await;
    b.shot("admin-group-apps").await;
    let app_json = get(format!("/api/v1/WorkApps/{app}")).await;
    assert_eq!(app_json["data"]["defaultUsersGroups"], json!([group]));
    b.fill("#default-app", "Nothing such").await;
    b.click(&format!("form[method=post][action='{group_path}/defaults'] button")).await;
    b.wait_for("There is no app named").await;
    b.shot("admin-form-error").await;

    // 6. Policies: two steps (the manager, then Mona), assigned to the app's grant requests.
    b.goto("/admin/policies").await;
    b.fill("#name", "Manager then Mona").await;
    b.choose("#request_type", "GrantAccessRequest").await;
    b.choose("#approver_0", "Manager").await;
    b.choose("#approver_1", "User").await;
    b.fill("input[name=user_1]", "mona@acme.example").await;
    b.click("form[method=post][action='/admin/policies'] button[type=submit]").await;
    b.wait_for("Policy: Manager then Mona").await;
    b.shot("admin-policy-steps").await;
    let policy_path = b.current_path().await;
    let policy = policy_path.rsplit('/').next().unwrap().to_string();
    let policy_json = get(format!("/api/v1/Policies/{policy}")).await;
    assert_eq!(
        policy_json["data"]["steps"],
        json!([{ "approver": "Manager" }, { "approver": "User", "userId": mona }]),
        "{policy_json}"
    );
    b.goto(&app_path).await;
    b.choose("#policy-GrantAccessRequest", &policy).await;
    b.click("button[aria-label='Set the policy for GrantAccessRequest']").await;
    b.wait_for("Manager then Mona v1 (app)").await;
    b.shot("admin-app-policy").await;

    // 7. An API credential, read-only, shown once; then revoked.
    b.goto("/admin/credentials").await;
    b.fill("#name", "reporting").await;
    b.click("input[name=read_only]").await;
    b.click("form[method=post][action='/admin/credentials'] button[type=submit]").await;
    b.wait_for("API credential created").await;
    b.shot("admin-credential-once").await;
    let (ro_key, ro_secret) = (b.secret("API key").await, b.secret("API secret").await);
    let reading = http
        .get(format!("{base}/api/v1/users"))
        .header("X-API-KEY", &ro_key)
        .header("X-API-SECRET", &ro_secret)
        .send()
        .await
        .unwrap();
    assert_eq!(reading.status(), 200);
    b.goto("/admin/credentials").await;
    b.click("button[aria-label='Revoke credential reporting']").await;
    let page = b.wait_for("revoked").await;
    assert!(!page.contains(&ro_secret));
    b.shot("admin-credentials").await;
    let reading = http
        .get(format!("{base}/api/v1/users"))
        .header("X-API-KEY", &ro_key)
        .header("X-API-SECRET", &ro_secret)
        .send()
        .await
        .unwrap();
    assert_eq!(reading.status(), 401, "revoked");

    // 8. A SCIM token, shown once; then revoked.
    b.goto("/admin/scim").await;
    b.fill("#name", "Okta").await;
    b.click("form[method=post][action='/admin/scim'] button[type=submit]").await;
    b.wait_for("SCIM token created").await;
    b.shot("admin-scim-once").await;
    let scim = b.secret("SCIM token").await;
    let listing =
        http.get(format!("{base}/scim/v2/Users")).bearer_auth(&scim).send().await.unwrap();
    assert_eq!(listing.status(), 200);
    b.goto("/admin/scim").await;
    b.click("button[aria-label='Revoke SCIM token Okta']").await;
    b.wait_for("revoked").await;
    let listing =
        http.get(format!("{base}/scim/v2/Users")).bearer_auth(&scim).send().await.unwrap();
    assert_eq!(listing.status(), 401);

    // 9. A webhook: created (the signing secret shown once), its deliveries, deleted.
    b.goto("/admin/webhooks").await;
    b.fill("#target_url", "https://127.0.0.1:9/hooks").await;
    b.click("input[value='request.created']").await;
    b.click("form[method=post][action='/admin/webhooks'] button[type=submit]").await;
    b.wait_for("Webhook created").await;
    b.shot("admin-webhook-once").await;
    assert!(b.secret("Signing secret").await.starts_with("whsec_"));
    let hooks = get("/api/v1/Webhooks".into()).await;
    assert_eq!(hooks["data"].as_array().unwrap().len(), 1, "{hooks}");
    b.goto("/admin/webhooks").await;
    b.wait_for("https://127.0.0.1:9/hooks").await;
    b.click("button[aria-label='Delete the webhook to https://127.0.0.1:9/hooks']").await;
    b.wait_for("No webhook yet").await;
    assert!(get("/api/v1/Webhooks".into()).await["data"].as_array().unwrap().is_empty());

    // 10. Every change left its audit row.
    b.goto("/admin/audit").await;
    b.wait_for("webhook.created").await;
    b.shot("admin-audit").await;

    // Erin's token still opens the console, but no admin page: she is not an administrator.
    b.client.delete_all_cookies().await.unwrap();
    b.goto("/login").await;
    b.fill("#token", &erin_token).await;
    b.click("main button[type=submit]").await;
    b.wait_for("Sign out").await;
    b.goto("/admin/credentials").await;
    b.wait_for("Only administrators").await;
    b.client.close().await.unwrap();
}
