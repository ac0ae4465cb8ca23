//! The console's administration forms over HTTP (what a browser test cannot show cheaply): forged
//! and non-admin posts refused, the service's words on a refused form, searches and paging done
//! in the store over many rows, secrets shown once, and the first-run page.
use std::collections::HashSet;

use portcullis_domain::UserStatus;
use portcullis_service::{Actor, ActorKind, Ctx, NewUser};
use reqwest::header::{CACHE_CONTROL, COOKIE, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::{send, Org, TestServer};
use crate::console::{browser, hidden_field, location, Console};

/// The `href` of the page's "Next page" link, if it has one.
fn next_link(html: &str) -> Option<String> {
    let marker = "rel=\"next\" href=\"";
    let start = html.find(marker)? + marker.len();
    Some(html[start..].split('"').next()?.replace("&amp;", "&"))
}

/// The text of the `<code data-secret="label">` element of a show-once page.
fn secret(html: &str, label: &str) -> String {
    let marker = format!("data-secret=\"{label}\">");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {label} in {html}")) + marker.len();
    html[start..].split('<').next().unwrap().to_string()
}

async fn api_json(srv: &TestServer, org: &Org, path: &str) -> Value {
    let (status, body) = send(srv.api(org, Method::GET, path)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn group_names(srv: &TestServer, org: &Org) -> Vec<String> {
    let body = api_json(srv, org, "/api/v1/UsersGroups").await;
    body["data"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap().into()).collect()
}

#[tokio::test]
async fn admin_forms_need_the_form_token_and_an_administrator() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let console = Console::new(&srv);
    let admin = console.sign_in(&org.token).await;
    let (_, employee_token) = srv.user_with_token(&org, "Erin", "User").await;
    let employee = console.sign_in(&employee_token).await;

    // No token, or another session's token: refused, nothing created.
    for csrf in ["", "0123456789abcdef0123456789abcdef"] {
        let response = console
            .post(&admin, "/admin/groups", &[("csrf", csrf), ("name", "Forged")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(response.text().await.unwrap().contains("did not come from this site"));
    }
    // A cross-site request with the right token is refused too.
    let csrf = console.csrf(&admin).await;
    let response = console
        .post(&admin, "/admin/groups", &[("csrf", &csrf), ("name", "Forged")])
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(group_names(&srv, &org).await.is_empty());

    // An employee with their own valid form token: 403 on every admin page and form.
    let employee_csrf = console.csrf(&employee).await;
    for (path, form) in [
        ("/admin/groups", vec![("name", "Mine")]),
        ("/admin/users", vec![("first_name", "X"), ("email", "x@acme.example"), ("role", "Owner")]),
        ("/admin/apps", vec![("name", "Mine"), ("provisioning_mode", "Manual")]),
        ("/admin/credentials", vec![("name", "mine")]),
        ("/admin/scim", vec![("name", "mine")]),
        ("/admin/policies", vec![("name", "Mine"), ("request_type", "GrantAccessRequest")]),
        ("/admin/webhooks", vec![("target_url", "https://example.com/hook")]),
    ] {
        let mut fields = vec![("csrf", employee_csrf.as_str())];
        fields.extend(form);
        let response = console.post(&employee, path, &fields).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "POST {path}");
        assert!(response.text().await.unwrap().contains("Only administrators"), "POST {path}");
        let response = console.get(&employee, path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "GET {path}");
    }
    assert!(group_names(&srv, &org).await.is_empty());

    // The administrator: created, redirected to the new group (POST-redirect-GET).
    let response = console
        .post(&admin, "/admin/groups", &[("csrf", &csrf), ("name", "Sales")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/admin/groups/"));
    assert_eq!(group_names(&srv, &org).await, vec!["Sales"]);
    // A refused form shows the service's words on the form, with its status.
    let response = console
        .post(&admin, "/admin/groups", &[("csrf", &csrf), ("name", "sales")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"form-error\"") && page.contains("already exists"), "{page}");
    assert!(page.contains("Create a group"), "the form is shown again");
    let response = console
        .post(
            &admin,
            "/admin/users",
            &[("csrf", &csrf), ("first_name", "Z"), ("email", "not-an-email"), ("role", "User")],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("form-error"));
}

#[tokio::test]
async fn lists_are_searched_and_paged_in_the_store() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let ctx = Ctx::new(Actor { org_id: org.id.parse().unwrap(), kind: ActorKind::System }, None);
    // 250 people (the page size is 100), 3 of them named Zed; and 120 groups.
    for i in 0..250 {
        let name = if i % 100 == 7 { format!("Zed{i}") } else { format!("Person{i}") };
        let new = NewUser {
            first_name: name.clone(),
            last_name: "Example".into(),
            email: format!("{}@acme.example", name.to_lowercase()),
            manager_id: None,
            role: None,
            status: UserStatus::Active,
        };
        srv.service.create_user(&ctx, new).await.expect("user");
    }
    for i in 0..120 {
        srv.service.create_group(&ctx, &format!("Team {i:03}"), None).await.expect("group");
    }
    let console = Console::new(&srv);
    let admin = console.sign_in(&org.token).await;

    // Every user once, over three pages, following the "Next page" links.
    let mut seen = HashSet::new();
    let mut path = Some("/admin/users".to_string());
    let mut pages = 0;
    while let Some(p) = path {
        let page = console.get(&admin, &p).send().await.unwrap().text().await.unwrap();
        let emails: Vec<&str> = page
            .split("<td>")
            .filter_map(|cell| cell.split('<').next())
            .filter(|text| text.ends_with("@acme.example"))
            .collect();
        assert!(emails.len() <= 100, "{p}: {} rows", emails.len());
        for email in emails {
            assert!(seen.insert(email.to_string()), "{email} shown twice");
        }
        pages += 1;
        path = next_link(&page);
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 251, "250 people and the owner");

    // A search: only the matches, no further page.
    let page =
        console.get(&admin, "/admin/users?q=ZED").send().await.unwrap().text().await.unwrap();
    for i in [7, 107, 207] {
        assert!(page.contains(&format!("zed{i}@acme.example")), "{page}");
    }
    assert!(!page.contains("person1@acme.example"));
    assert!(next_link(&page).is_none());
    // A search that pages keeps the search in its links.
    let page =
        console.get(&admin, "/admin/groups?q=team").send().await.unwrap().text().await.unwrap();
    let next = next_link(&page).expect("a second page");
    assert!(next.starts_with("/admin/groups?q=team&after="), "{next}");
    let second = console.get(&admin, &next).send().await.unwrap().text().await.unwrap();
    assert!(second.contains("Team 1") && next_link(&second).is_none());
    let page = console
        .get(&admin, "/admin/groups?q=team%2005")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Team 050") && page.contains("Team 059") && !page.contains("Team 060"));
    // A forged cursor is a 400 page, not a crash.
    let response = console.get(&admin, "/admin/users?after=nonsense").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn secrets_are_shown_once_and_never_again() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let console = Console::new(&srv);
    let admin = console.sign_in(&org.token).await;
    let csrf = console.csrf(&admin).await;

    // An API credential, read-only: the key and secret work, once shown.
    let response = console
        .post(
            &admin,
            "/admin/credentials",
            &[("csrf", &csrf), ("name", "reporting"), ("read_only", "true")],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    let page = response.text().await.unwrap();
    let (key, api_secret) = (secret(&page, "API key"), secret(&page, "API secret"));
    let reader = Org { key: key.clone(), secret: api_secret.clone(), ..org.clone() };
    let (status, _) = send(srv.api(&reader, Method::GET, "/api/v1/users")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(
        srv.api(&reader, Method::POST, "/api/v1/UsersGroups")
            .json(&serde_json::json!({ "name": "X" })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "read-only");
    let list =
        console.get(&admin, "/admin/credentials").send().await.unwrap().text().await.unwrap();
    assert!(list.contains("reporting") && list.contains("read-only"));
    assert!(!list.contains(&api_secret), "the secret is never shown again");

    // A personal token for a user.
    let user = srv.create_user(&org, "Erin Example", "erin@acme.example", "User").await;
    let response = console
        .post(
            &admin,
            &format!("/admin/users/{user}/tokens"),
            &[("csrf", &csrf), ("name", "laptop")],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    let token = secret(&response.text().await.unwrap(), "Token");
    // It opens a console session (sign-in is by personal token).
    let erin = console.sign_in(&token).await;
    let mine = console.get(&erin, "/").send().await.unwrap().text().await.unwrap();
    assert!(mine.contains("Erin Example"));
    let user_page = console
        .get(&admin, &format!("/admin/users/{user}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(user_page.contains("laptop") && !user_page.contains(&token));

    // A SCIM token.
    let response = console
        .post(&admin, "/admin/scim", &[("csrf", &csrf), ("name", "Okta")])
        .send()
        .await
        .unwrap();
    let scim = secret(&response.text().await.unwrap(), "SCIM token");
    let (status, _) = send(srv.bearer(&scim, Method::GET, "/scim/v2/Users")).await;
    assert_eq!(status, StatusCode::OK);
    let list = console.get(&admin, "/admin/scim").send().await.unwrap().text().await.unwrap();
    assert!(list.contains("Okta") && !list.contains(&scim));
}

/// `POST /setup` as the browser sends it, with the pre-session cookie of `GET /setup`.
async fn setup_post(
    srv: &TestServer,
    cookie: &str,
    csrf: &str,
    code: &str,
    org_name: &str,
) -> reqwest::Response {
    browser()
        .post(srv.url("/setup"))
        .header(COOKIE, format!("portcullis_setup={cookie}"))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[
            ("csrf", csrf),
            ("code", code),
            ("org_name", org_name),
            ("owner_name", "Ines Owner"),
            ("owner_email", "ines@acme.example"),
        ])
        .send()
        .await
        .unwrap()
}

async fn setup_form(srv: &TestServer) -> (String, String) {
    let response = browser().get(srv.url("/setup")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .find_map(|v| {
            v.to_str()
                .ok()?
                .strip_prefix("portcullis_setup=")?
                .split(';')
                .next()
                .map(str::to_string)
        })
        .expect("setup cookie");
    let csrf = hidden_field(&response.text().await.unwrap(), "csrf");
    (cookie, csrf)
}

#[tokio::test]
async fn first_run_creates_one_organization_with_the_setup_code_only() {
    let srv = TestServer::start_with_setup_code("the-right-code").await;
    for path in ["/", "/login"] {
        let response = browser().get(srv.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), "/setup");
    }
    let (cookie, csrf) = setup_form(&srv).await;
    // Without the form's cookie-bound token, or with a wrong code: refused, nothing created.
    let response = setup_post(&srv, "other", &csrf, "the-right-code", "Acme").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = setup_post(&srv, &cookie, &csrf, "the-wrong-code", "Acme").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("setup code is not right"));
    assert!(srv.service.needs_setup().await.unwrap());

    // Two submissions at once with the right code: exactly one organization.
    let (a, b) = tokio::join!(
        setup_post(&srv, &cookie, &csrf, "the-right-code", "Acme"),
        setup_post(&srv, &cookie, &csrf, "the-right-code", "Acme Twin"),
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let winner = if a.status() == StatusCode::OK { a } else { b };
    assert_eq!(winner.headers()[CACHE_CONTROL], "no-store");
    let page = winner.text().await.unwrap();
    let token = secret(&page, "Owner token");
    let org = Org {
        id: String::new(),
        owner_id: String::new(),
        key: secret(&page, "API key"),
        secret: secret(&page, "API secret"),
        token: token.clone(),
    };
    // The owner's token signs in; the key and secret call the API.
    let users = api_json(&srv, &org, "/api/v1/users").await;
    let users = users["data"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["roleName"], "Owner");
    assert_eq!(users[0]["email"], "ines@acme.example");

    // Closed for good: the page sends to the sign-in page, and a late submission is refused.
    let response = browser().get(srv.url("/setup")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login");
    let response = setup_post(&srv, &cookie, &csrf, "the-right-code", "Acme Again").await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(!response.text().await.unwrap().contains(&token), "the secrets are never shown again");
    let response = browser().get(srv.url("/login")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let console = Console::new(&srv);
    let owner = console.sign_in(&token).await;
    let page = console.get(&owner, "/admin/users").send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Ines Owner"), "the owner administers the organization");
}

#[tokio::test]
async fn first_run_is_closed_when_an_organization_exists_or_without_a_code() {
    let srv = TestServer::start_with_setup_code("code").await;
    srv.new_org("Acme").await;
    let response = browser().get(srv.url("/setup")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = browser().get(srv.url("/login")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // A server started without a code (an organization existed then): the form cannot succeed.
    let srv = TestServer::start().await;
    let (cookie, csrf) = setup_form(&srv).await;
    let response = setup_post(&srv, &cookie, &csrf, "", "Acme").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(srv.service.needs_setup().await.unwrap());
}
