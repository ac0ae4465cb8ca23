//! End-to-end in headless Chromium (WebDriver via chromedriver): an employee requests access, the
//! manager and the app owner approve in their inboxes, the employee sees the app under "My apps".
//! Screenshots of every main page go to `target/screenshots/`.
//!
//! Skips with a message only when Chromium or ChromeDriver is not installed; CI installs both.
mod support;

use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use support::Portcullis;

async fn shot(browser: &Client, name: &str) {
    support::browser::save_screenshot(browser, name).await;
}

async fn sign_in(browser: &Client, base: &str, token: &str) {
    browser.delete_all_cookies().await.unwrap();
    browser.goto(&format!("{base}/login")).await.unwrap();
    browser.find(Locator::Id("token")).await.unwrap().send_keys(token).await.unwrap();
    browser.find(Locator::Css("main button[type=submit]")).await.unwrap().click().await.unwrap();
    let source = wait_for(browser, "Sign out").await;
    assert!(
        source.contains("Sign out"),
        "signed in: {source}, cookies: {:?}",
        browser.get_all_cookies().await
    );
}

/// Polls the page until it contains `text` (navigation after a click is asynchronous).
async fn wait_for(browser: &Client, text: &str) -> String {
    support::browser::wait_for(browser, text).await
}

async fn approve_first_task(browser: &Client, base: &str, who: &str) {
    browser.goto(&format!("{base}/inbox")).await.unwrap();
    let source = wait_for(browser, "Figma").await;
    assert!(source.contains("Figma"), "{who} sees the task in the inbox: {source}");
    shot(browser, &format!("inbox-{who}")).await;
    browser
        .find(Locator::Css("input[name=comment]"))
        .await
        .unwrap()
        .send_keys("Looks fine")
        .await
        .unwrap();
    browser.find(Locator::Css("button[value=approve]")).await.unwrap().click().await.unwrap();
    let after = wait_for(browser, "Nothing waits for you").await;
    assert!(after.contains("Nothing waits for you"), "{who}'s inbox is empty after approving");
}

#[tokio::test]
async fn employee_requests_manager_and_owner_approve_employee_sees_the_app() {
    // The real server, on a fresh database.
    let dir = tempfile::tempdir().unwrap();
    let portcullis = Portcullis::new(format!("{}/p.db", dir.path().display()));
    let org = portcullis.init("Acme", "ines@acme.example", "Ines Admin");
    let server = portcullis.serve(&["--rate-limit-per-minute", "0"]);
    // `localhost` is a secure context, so the browser keeps the Secure session cookie over http.
    let base = format!("http://localhost:{}", server.port);

    // The people and the app, through the API.
    let http = reqwest::Client::new();
    let api = |method: reqwest::Method, path: &str, body: Value| {
        http.request(method, format!("{base}{path}"))
            .header("X-API-KEY", &org.key)
            .header("X-API-SECRET", &org.secret)
            .json(&body)
            .send()
    };
    let make_user = |name: &str, manager: Option<String>| {
        let body = json!({ "name": name, "email": format!("{}@acme.example", name.split(' ').next().unwrap().to_lowercase()), "managerId": manager });
        api(reqwest::Method::POST, "/api/v1/users", body)
    };
    let id = |v: Value| v["data"]["id"].as_str().unwrap().to_string();
    let manager = id(make_user("Mona Manager", None).await.unwrap().json().await.unwrap());
    let owner = id(make_user("Otto Owner", None).await.unwrap().json().await.unwrap());
    let employee =
        id(make_user("Erin Employee", Some(manager.clone())).await.unwrap().json().await.unwrap());
    let app = id(api(reqwest::Method::POST, "/api/v1/WorkApps", json!({ "name": "Figma", "description": "Design tool", "ownerIds": [owner], "provisioningMode": "Automatic" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap());
    for level in ["Viewer", "Editor"] {
        api(
            reqwest::Method::POST,
            &format!("/api/v1/WorkApps/{app}/PermissionLevels"),
            json!({ "name": level }),
        )
        .await
        .unwrap();
    }
    let token = |user: String| {
        let path = format!("/api/v1/users/{user}/Tokens");
        let request = api(reqwest::Method::POST, &path, json!({ "name": "browser" }));
        async move {
            request.await.unwrap().json::<Value>().await.unwrap()["data"]["token"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let (employee_token, manager_token, owner_token) =
        (token(employee).await, token(manager).await, token(owner).await);

    // The browser.
    let Some(session) = support::browser::Browser::start(&dir.path().join("chrome")).await else {
        return;
    };
    let browser = session.client.clone();

    // Sign-in page, and a bad token.
    browser.goto(&format!("{base}/login")).await.unwrap();
    shot(&browser, "login").await;
    browser.find(Locator::Id("token")).await.unwrap().send_keys("pct_wrong").await.unwrap();
    browser.find(Locator::Css("main button[type=submit]")).await.unwrap().click().await.unwrap();
    assert!(wait_for(&browser, "not valid").await.contains("not valid"));

    // 1. The employee asks for Figma at the Editor level.
    sign_in(&browser, &base, &employee_token).await;
    assert!(browser.source().await.unwrap().contains("You have no apps yet"));
    shot(&browser, "my-apps-before").await;
    browser.goto(&format!("{base}/catalogue")).await.unwrap();
    shot(&browser, "catalogue").await;
    browser
        .find(Locator::Css(&format!("#level-{app}")))
        .await
        .unwrap()
        .select_by_label("Editor")
        .await
        .unwrap();
    browser
        .find(Locator::Css(&format!("#why-{app}")))
        .await
        .unwrap()
        .send_keys("Redesign of the onboarding")
        .await
        .unwrap();
    browser
        .find(Locator::Css("form[action='/catalogue/request'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let requests = wait_for(&browser, "Pending").await;
    assert!(requests.contains("Pending") && requests.contains("Figma"), "{requests}");
    shot(&browser, "my-requests").await;

    // 2. The manager, then 3. the app owner approve in their inboxes.
    sign_in(&browser, &base, &manager_token).await;
    approve_first_task(&browser, &base, "manager").await;
    sign_in(&browser, &base, &owner_token).await;
    approve_first_task(&browser, &base, "owner").await;

    // 4. The employee sees Figma under My apps, at the Editor level.
    sign_in(&browser, &base, &employee_token).await;
    let my_apps = browser.source().await.unwrap();
    assert!(my_apps.contains("Figma") && my_apps.contains("Editor"), "{my_apps}");
    shot(&browser, "my-apps-after").await;
    browser.goto(&format!("{base}/my-requests")).await.unwrap();
    assert!(browser.source().await.unwrap().contains("Completed"));

    // The administrator's views.
    sign_in(&browser, &base, &org.token).await;
    for (path, name, expect) in [
        ("/admin/users", "admin-users", "Erin Employee"),
        ("/admin/groups", "admin-groups", "Groups"),
        ("/admin/apps", "admin-apps", "Figma"),
        (&format!("/admin/apps/{app}") as &str, "admin-app", "GrantAccessRequest"),
        ("/admin/workspaces", "admin-workspaces", "Workspaces"),
        ("/admin/webhooks", "admin-webhooks", "Webhooks"),
        ("/admin/audit", "admin-audit", "access.granted"),
    ] {
        browser.goto(&format!("{base}{path}")).await.unwrap();
        let source = wait_for(&browser, expect).await;
        assert!(source.contains(expect), "{path} shows {expect}: {source}");
        shot(&browser, name).await;
    }
    // An employee cannot open admin pages.
    sign_in(&browser, &base, &employee_token).await;
    browser.goto(&format!("{base}/admin/users")).await.unwrap();
    assert!(browser.source().await.unwrap().contains("Only administrators"));
    browser.close().await.unwrap();
}
