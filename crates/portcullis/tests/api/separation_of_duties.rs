//! Separation of duties, honest attribution, and the manager attribute as governance data.
//!
//! Nobody decides a task of a request they created or that is about their own access; one person
//! approves at most one step of a request (unless the organization allows more); a credential's
//! `userId` names only an active assignee who may decide; acting for someone is audited with both
//! the real actor and the named user; only administrators change a user's manager or e-mail.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{assert_flashback_error, assert_problem, send, Org, TestServer};

/// An organization with people and apps, and shortcuts for the calls these tests make.
struct World {
    srv: TestServer,
    org: Org,
}

impl World {
    async fn start() -> Self {
        let srv = TestServer::start().await;
        let org = srv.new_org("Acme").await;
        Self { srv, org }
    }

    async fn person(&self, name: &str, role: &str) -> (String, String) {
        self.srv.user_with_token(&self.org, name, role).await
    }

    async fn set_manager(&self, user: &str, manager: &str) {
        let path = format!("/api/v1/users/{user}");
        let (status, body) = send(
            self.srv.api(&self.org, Method::PATCH, &path).json(&json!({ "managerId": manager })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// An Automatic app with these owners.
    async fn app(&self, name: &str, owners: &[&str]) -> String {
        let body = json!({ "name": name, "ownerIds": owners, "provisioningMode": "Automatic" });
        self.srv.create_app_with(&self.org, body, &[]).await.0
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        send(self.srv.api(&self.org, Method::POST, path).json(&body)).await
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = send(self.srv.api(&self.org, Method::GET, path)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body["data"].clone()
    }

    async fn request(&self, id: &str) -> Value {
        self.get(&format!("/api/v1/Requests/{id}")).await
    }

    /// A grant request made with a bearer token; returns the created request.
    async fn request_as(&self, token: &str, app: &str, target: &str) -> Value {
        let (status, body) = send(
            self.srv
                .bearer(token, Method::POST, "/api/v1/Requests/GrantAccess")
                .json(&json!({ "workAppId": app, "targetUserId": target })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["data"].clone()
    }

    /// Approves (or declines) a task with a bearer token.
    async fn decide_as(&self, token: &str, task: &str, verb: &str) -> (StatusCode, Value) {
        send(self.srv.bearer(token, Method::POST, &format!("/api/v1/Tasks/{task}/{verb}"))).await
    }

    /// Approves a task with the credential, naming `user` as the decider.
    async fn approve_for(&self, task: &str, user: &str) -> (StatusCode, Value) {
        self.post(&format!("/api/v1/Tasks/{task}/Approve"), json!({ "userId": user })).await
    }

    /// A user created with this status (`Invited`, `Deactivated`).
    async fn user_with_status(&self, name: &str, status: &str) -> String {
        let email = format!("{}@{}.example", name.to_lowercase(), self.org.id);
        let (code, body) = self
            .post("/api/v1/users", json!({ "name": name, "email": email, "statusName": status }))
            .await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
        assert_eq!(body["data"]["statusName"], status);
        body["data"]["id"].as_str().unwrap().to_string()
    }

    /// Assigns a task to a user behind the API's back, as a task assigned before separation of
    /// duties existed would be.
    async fn assign_directly(&self, task: &str, user: &str, position: usize) {
        let sql = format!(
            "INSERT INTO task_assignees (task_id, user_id, org_id, position) \
             VALUES ('{task}', '{user}', '{}', {position})",
            self.org.id
        );
        self.srv.db.execute(&sql).await.expect("direct assignment");
    }

    async fn deactivate(&self, user: &str) {
        let path = format!("/api/v1/users/{user}");
        let body = json!({ "statusName": "Deactivated" });
        let (status, body) = send(self.srv.api(&self.org, Method::PATCH, &path).json(&body)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    async fn set_allow_same_approver(&self, allow: bool) {
        let (status, body) = send(
            self.srv
                .api(&self.org, Method::PATCH, "/api/v1/OrganizationSettings")
                .json(&json!({ "allowSameApproverForMultipleSteps": allow })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Audit rows of an action, oldest first.
    async fn audit(&self, action: &str) -> Vec<Value> {
        self.get(&format!("/api/v1/AuditLog?action={action}")).await.as_array().unwrap().clone()
    }
}

/// The open task of a request: its id and its assignees.
fn open_task(request: &Value) -> (String, Vec<String>) {
    let task = request["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["status"] == "Open")
        .unwrap_or_else(|| panic!("no open task: {request}"));
    let assignees = task["assigneeIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    (task["id"].as_str().unwrap().to_string(), assignees)
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[track_caller]
fn assert_separation_refusal(status: StatusCode, body: &Value, path: &str, why: &str) {
    assert_problem(status, body, 403, path);
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.starts_with("Separation of duties"), "{detail}");
    assert!(detail.contains(why), "{detail} should say {why:?}");
}

#[tokio::test]
async fn a_manager_who_owns_the_app_cannot_approve_any_step_of_his_own_request() {
    let w = World::start().await;
    let (boss, boss_token) = w.person("Boss", "User").await;
    let (mark, mark_token) = w.person("Mark", "User").await;
    let (olga, olga_token) = w.person("Olga", "User").await;
    let (rita, _) = w.person("Rita", "User").await;
    w.set_manager(&rita, &mark).await;
    w.set_manager(&mark, &boss).await;
    let shared = w.app("Salesforce", &[&mark, &olga]).await;
    let his_own = w.app("Tableau", &[&mark]).await;

    // Mark asks for his report Rita on an app he co-owns (default policy: Manager → App owner).
    let r = w.request_as(&mark_token, &shared, &rita).await;
    assert_eq!(r["createdByUserId"], mark.as_str());
    let (step1, assignees) = open_task(&r);
    assert_eq!(assignees, vec![boss.clone()], "the Manager step goes to Mark's own manager");
    assert_eq!(r["blockedReason"], Value::Null);
    let path = format!("/api/v1/Tasks/{step1}/Approve");
    let (status, body) = w.decide_as(&mark_token, &step1, "Approve").await;
    assert_problem(status, &body, 403, &path);
    // Naming him through a credential does not make him an approver either.
    let (status, body) = w.approve_for(&step1, &mark).await;
    assert_problem(status, &body, 403, &path);
    let (status, body) = w.decide_as(&boss_token, &step1, "Approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let r = w.request(r["id"].as_str().unwrap()).await;
    let (step2, assignees) = open_task(&r);
    assert_eq!(assignees, vec![olga.clone()], "the App owner step goes to the other owner");
    let (status, body) = w.decide_as(&mark_token, &step2, "Approve").await;
    assert_problem(status, &body, 403, &format!("/api/v1/Tasks/{step2}/Approve"));
    let (status, body) = w.decide_as(&olga_token, &step2, "Approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(w.request(r["id"].as_str().unwrap()).await["status"], "Completed");

    // On an app only he owns, the owner step falls back to the administrators (the org owner).
    let r = w.request_as(&mark_token, &his_own, &rita).await;
    let (step1, assignees) = open_task(&r);
    assert_eq!(assignees, vec![boss.clone()]);
    w.decide_as(&boss_token, &step1, "Approve").await;
    let r = w.request(r["id"].as_str().unwrap()).await;
    let (step2, assignees) = open_task(&r);
    assert_eq!(assignees, vec![w.org.owner_id.clone()], "not Mark: the administrators");
    let (status, body) = w.decide_as(&mark_token, &step2, "Decline").await;
    assert_problem(status, &body, 403, &format!("/api/v1/Tasks/{step2}/Decline"));

    // Asking for himself: his manager, then the other owner; never Mark.
    let mut r = w.request_as(&mark_token, &shared, &mark).await;
    for expected in [&boss, &olga] {
        let (task, assignees) = open_task(&r);
        assert_eq!(&assignees, &vec![expected.clone()]);
        let (status, body) = w.decide_as(&mark_token, &task, "Approve").await;
        assert_separation_refusal(
            status,
            &body,
            &format!("/api/v1/Tasks/{task}/Approve"),
            "you created this request",
        );
        w.approve_for(&task, expected).await;
        r = w.request(r["id"].as_str().unwrap()).await;
    }
    assert_eq!(r["status"], "Completed");
}

#[tokio::test]
async fn an_administrator_cannot_self_grant_a_privileged_level() {
    let w = World::start().await;
    let owner_token = w.org.token.clone();
    let (adam, adam_token) = w.person("Adam", "Administrator").await;
    let (alma, alma_token) = w.person("Alma", "Administrator").await;
    let (aws, levels) = w
        .srv
        .create_app_with(
            &w.org,
            json!({ "name": "AWS", "provisioningMode": "Automatic" }),
            &["ReadOnly", "Admin"],
        )
        .await;
    let (_, body) = w
        .post(
            "/api/v1/Policies",
            json!({ "name": "Admins approve", "requestType": "GrantAccessRequest",
                    "steps": [{ "approver": "Administrators" }] }),
        )
        .await;
    let admins_policy = body["data"]["id"].as_str().unwrap().to_string();
    let path = format!(
        "/api/v1/WorkApps/{aws}/PermissionLevels/{}/Policies/GrantAccessRequest",
        levels[1]
    );
    let (status, _) =
        send(w.srv.api(&w.org, Method::PUT, &path).json(&json!({ "policyId": admins_policy })))
            .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Adam asks for Admin on AWS for himself: the other administrators and the owner review.
    let (status, created) =
        send(w.srv.bearer(&adam_token, Method::POST, "/api/v1/Requests/GrantAccess").json(
            &json!({ "workAppId": aws, "targetUserId": adam, "permissionLevelId": levels[1] }),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (task, assignees) = open_task(&created["data"]);
    assert_eq!(sorted(assignees), sorted(vec![w.org.owner_id.clone(), alma.clone()]));
    // As an ADMINISTRATOR he could decide any task, but not this one.
    let (status, body) = w.decide_as(&adam_token, &task, "Approve").await;
    assert_separation_refusal(
        status,
        &body,
        &format!("/api/v1/Tasks/{task}/Approve"),
        "you created this request",
    );
    assert!(w.srv.accesses(&w.org, &aws).await.is_empty());
    let (status, body) = w.decide_as(&alma_token, &task, "Approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(w.srv.accesses(&w.org, &aws).await.len(), 1, "granted by another administrator");

    // The owner asks while Alma and Adam are deactivated: no other administrator is left.
    for admin in [&adam, &alma] {
        w.deactivate(admin).await;
    }
    let owner = w.org.owner_id.clone();
    let (status, created) =
        send(w.srv.bearer(&owner_token, Method::POST, "/api/v1/Requests/GrantAccess").json(
            &json!({ "workAppId": aws, "targetUserId": owner, "permissionLevelId": levels[1] }),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let r = &created["data"];
    assert_eq!(r["status"], "Pending", "not approved, not failed: waiting for an operator");
    let (task, assignees) = open_task(r);
    assert!(assignees.is_empty(), "nobody is assigned: {r}");
    let reason = r["blockedReason"].as_str().unwrap().to_string();
    assert!(reason.starts_with("No eligible approver:"), "{reason}");
    assert!(reason.contains(&format!("user {owner} created the request")), "{reason}");
    assert!(reason.contains("PUT /api/v1/Tasks/{taskId}/Assignees"), "{reason}");
    assert_eq!(r["tasks"][0]["unassignedReason"], reason.as_str());
    let shown = w.get(&format!("/api/v1/Tasks/{task}")).await;
    assert_eq!(shown["unassignedReason"], reason.as_str());
    assert_eq!(shown["assignedUser"], Value::Null);
    // The owner can neither decide it nor choose who does.
    let (status, body) = w.decide_as(&owner_token, &task, "Approve").await;
    assert_separation_refusal(
        status,
        &body,
        &format!("/api/v1/Tasks/{task}/Approve"),
        "you created this request",
    );
    let assign = format!("/api/v1/Tasks/{task}/Assignees");
    let (status, body) =
        send(w.srv.bearer(&owner_token, Method::PUT, &assign).json(&json!({ "userIds": [alma] })))
            .await;
    assert_separation_refusal(status, &body, &assign, "you created the request");
    assert!(w.srv.accesses(&w.org, &aws).await.iter().all(|a| a["user"]["id"] != owner.as_str()));

    // The operator resolves it: a new administrator is assigned through the API and approves.
    let (ines, ines_token) = w.person("Ines", "Administrator").await;
    let (status, body) =
        send(w.srv.api(&w.org, Method::PUT, &assign).json(&json!({ "userIds": [owner] }))).await;
    assert_problem(status, &body, 400, &assign);
    assert!(body["detail"].as_str().unwrap().contains("created the request"), "{body}");
    let (status, body) =
        send(w.srv.api(&w.org, Method::PUT, &assign).json(&json!({ "userIds": [ines] }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["assigneeIds"], json!([ines]));
    assert_eq!(body["data"]["unassignedReason"], Value::Null);
    let r = w.request(r["id"].as_str().unwrap()).await;
    assert_eq!(r["blockedReason"], Value::Null);
    let reassigned = w.audit("task.reassigned").await;
    assert_eq!(reassigned.len(), 1);
    assert_eq!(reassigned[0]["before"]["unassignedReason"], reason.as_str());
    assert_eq!(reassigned[0]["after"]["assigneeIds"], json!([ines]));
    let (status, body) = w.decide_as(&ines_token, &task, "Approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(w.request(r["id"].as_str().unwrap()).await["status"], "Completed");
}

#[tokio::test]
async fn an_app_owner_approves_at_most_one_step_of_a_request_for_his_report() {
    let w = World::start().await;
    // Owen manages Rita and owns the app; he is an administrator too, so only separation of
    // duties (not his role) can keep him from a step.
    let (owen, owen_token) = w.person("Owen", "Administrator").await;
    let (rita, rita_token) = w.person("Rita", "User").await;
    let (boss, boss_token) = w.person("Boss", "User").await;
    w.set_manager(&rita, &owen).await;
    w.set_manager(&owen, &boss).await;
    let app = w.app("Figma", &[&owen]).await;

    // Rita asks; Owen approves the Manager step…
    let r = w.request_as(&rita_token, &app, &rita).await;
    let (step1, assignees) = open_task(&r);
    assert_eq!(assignees, vec![owen.clone()]);
    let (status, body) = w.decide_as(&owen_token, &step1, "Approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // …so the App owner step goes to the other administrators, and he cannot take it.
    let r = w.request(r["id"].as_str().unwrap()).await;
    let (step2, assignees) = open_task(&r);
    assert_eq!(assignees, vec![w.org.owner_id.clone()]);
    let (status, body) = w.decide_as(&owen_token, &step2, "Approve").await;
    assert_separation_refusal(
        status,
        &body,
        &format!("/api/v1/Tasks/{step2}/Approve"),
        "you approved an earlier step of this request",
    );
    // Nor through a credential naming him.
    let (status, body) = w.approve_for(&step2, &owen).await;
    assert_problem(status, &body, 403, &format!("/api/v1/Tasks/{step2}/Approve"));
    let (status, _) = w.decide_as(&w.org.token, &step2, "Approve").await;
    assert_eq!(status, StatusCode::OK);

    // When Owen is the one asking for Rita, he takes no step at all: his manager, then the admins.
    let other = w.app("Miro", &[&owen]).await;
    let r = w.request_as(&owen_token, &other, &rita).await;
    let (step1, assignees) = open_task(&r);
    assert_eq!(assignees, vec![boss.clone()]);
    w.decide_as(&boss_token, &step1, "Approve").await;
    let (_, assignees) = open_task(&w.request(r["id"].as_str().unwrap()).await);
    assert_eq!(assignees, vec![w.org.owner_id.clone()]);

    // An organization that allows it lets one person take both steps.
    w.set_allow_same_approver(true).await;
    let third = w.app("Notion", &[&owen]).await;
    let r = w.request_as(&rita_token, &third, &rita).await;
    let (step1, _) = open_task(&r);
    w.decide_as(&owen_token, &step1, "Approve").await;
    let r = w.request(r["id"].as_str().unwrap()).await;
    let (step2, assignees) = open_task(&r);
    assert_eq!(assignees, vec![owen.clone()]);
    let (status, body) = w.decide_as(&owen_token, &step2, "Approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The requester and the target stay out even then.
    let fourth = w.app("Slack", &[&rita]).await;
    let r = w.request_as(&rita_token, &fourth, &rita).await;
    let (step1, _) = open_task(&r);
    w.decide_as(&owen_token, &step1, "Approve").await;
    let (_, assignees) = open_task(&w.request(r["id"].as_str().unwrap()).await);
    // The owner Rita is out: the administrators take the step, Owen among them now.
    assert_eq!(sorted(assignees), sorted(vec![w.org.owner_id.clone(), owen.clone()]));
}

/// The test server serves the console too.
async fn console(srv: &TestServer) -> String {
    srv.base.clone()
}

/// A signed-in console session: the cookie and the page's CSRF token.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

fn form(fields: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

impl Browser {
    /// Signs in as the sign-in page does: its pre-session cookie and form token, same-site.
    async fn sign_in(base: &str, token: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let cookie_of = |response: &reqwest::Response| {
            response
                .headers()
                .get("set-cookie")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .expect("cookie")
                .to_string()
        };
        let page = http.get(format!("{base}/login")).send().await.expect("login page");
        let pre_session = cookie_of(&page);
        let html = page.text().await.expect("login html");
        let marker = "name=\"csrf\" value=\"";
        let at = html.find(marker).expect("the form's token") + marker.len();
        let csrf = html[at..].split('"').next().expect("token").to_string();
        let response = http
            .post(format!("{base}/login"))
            .header("cookie", &pre_session)
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("token", token), ("csrf", &csrf)]))
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "signed in");
        Self { http, base: base.to_string(), cookie: cookie_of(&response) }
    }

    async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("page");
        (response.status(), response.text().await.expect("text"))
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(fields))
            .send()
            .await
            .expect("post");
        (response.status(), response.text().await.expect("text"))
    }

    /// The CSRF token the console puts into its forms.
    async fn csrf(&self) -> String {
        let (_, html) = self.page("/catalogue").await;
        let at = html.find("name=\"csrf\" value=\"").expect("a form with a csrf token");
        let rest = &html[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

#[tokio::test]
async fn the_console_inbox_does_not_offer_the_requesters_own_task_and_refuses_a_forged_post() {
    let w = World::start().await;
    let base = console(&w.srv).await;
    let owner = w.org.owner_id.clone();
    let (app, _) = w.srv.create_app(&w.org, "Figma", &[]).await;
    // The owner, the only administrator, asks for the app in the catalogue.
    let browser = Browser::sign_in(&base, &w.org.token).await;
    let csrf = browser.csrf().await;
    let (status, _) = browser
        .post(
            "/catalogue/request",
            &[("csrf", &csrf), ("work_app_id", &app), ("justification", "")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let requests = w.get(&format!("/api/v1/Requests?targetUserId={owner}")).await;
    let r = &requests[0];
    let (task, assignees) = open_task(r);
    assert!(assignees.is_empty(), "{r}");
    let (_, mine) = browser.page("/my-requests").await;
    assert!(mine.contains("Waiting for an administrator to assign an approver."), "{mine}");

    // The inbox offers nothing, even when the task was assigned to him (as before this rule
    // existed): it lists only the tasks he may decide.
    w.assign_directly(&task, &owner, 0).await;
    let (status, inbox) = browser.page("/inbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(inbox.contains("Nothing waits for you"), "{inbox}");
    assert!(!inbox.contains(&task), "{inbox}");

    // A forged decision (valid session and CSRF token, crafted task id) is refused.
    for decision in ["approve", "decline"] {
        let (status, page) = browser
            .post(&format!("/inbox/{task}/decide"), &[("csrf", &csrf), ("decision", decision)])
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
        assert!(page.contains("Separation of duties"), "{page}");
    }
    assert_eq!(w.get(&format!("/api/v1/Tasks/{task}")).await["status"], "Open");

    // Someone else's task is still offered, and deciding it works.
    let (ann, _) = w.person("Ann", "User").await;
    let (other_app, _) = w.srv.create_app(&w.org, "Miro", &[]).await;
    let (_, created) = w
        .post(
            "/api/v1/Requests/GrantAccess",
            json!({ "workAppId": other_app, "targetUserId": ann }),
        )
        .await;
    let (theirs, _) = open_task(&created["data"]);
    let (_, inbox) = browser.page("/inbox").await;
    assert!(inbox.contains(&theirs), "{inbox}");
    let (status, _) = browser
        .post(&format!("/inbox/{theirs}/decide"), &[("csrf", &csrf), ("decision", "approve")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(w.get(&format!("/api/v1/Tasks/{theirs}")).await["status"], "Approved");
}

#[tokio::test]
async fn an_api_credential_naming_the_requester_or_target_as_user_id_on_approve_is_refused() {
    let w = World::start().await;
    let (mona, _) = w.person("Mona", "User").await;
    let (ann, _) = w.person("Ann", "User").await;
    let (tom, _) = w.person("Tom", "User").await;
    let (quit, _) = w.person("Quentin", "User").await;
    w.set_manager(&tom, &mona).await;
    let app = w.app("Jira", &[&mona]).await;
    let (status, created) = w
        .post(
            "/api/v1/Requests/GrantAccess",
            json!({ "workAppId": app, "targetUserId": tom, "createdByUserId": ann }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (task, assignees) = open_task(&created["data"]);
    assert_eq!(assignees, vec![mona.clone()]);
    let path = format!("/api/v1/Tasks/{task}/Approve");
    // Neither the requester, nor the target, nor anyone else who is not an assignee.
    for (who, why) in [(&ann, "created the request"), (&tom, "is the user the request is about")] {
        let (status, body) = w.approve_for(&task, who).await;
        assert_separation_refusal(status, &body, &path, why);
        assert!(body["detail"].as_str().unwrap().contains(who.as_str()), "{body}");
    }
    let (status, body) = w.approve_for(&task, &w.org.owner_id).await;
    assert_problem(status, &body, 403, &path);
    assert!(body["detail"].as_str().unwrap().contains("not an active assignee"), "{body}");
    // Even if they were assigned (a task assigned before these rules): separation of duties.
    for (position, (who, why)) in
        [(&ann, "created the request"), (&tom, "is the user the request is about")]
            .into_iter()
            .enumerate()
    {
        w.assign_directly(&task, who, position + 1).await;
        let (status, body) = w.approve_for(&task, who).await;
        assert_separation_refusal(status, &body, &path, why);
    }
    // An assignee who has been deactivated is no longer one.
    w.assign_directly(&task, &quit, 9).await;
    w.deactivate(&quit).await;
    let (status, body) = w.approve_for(&task, &quit).await;
    assert_problem(status, &body, 403, &path);
    assert!(body["detail"].as_str().unwrap().contains("not an active assignee"), "{body}");
    assert_eq!(w.get(&format!("/api/v1/Tasks/{task}")).await["status"], "Open");

    // The assignee may be named: recorded as the decider, with the credential as the actor.
    let (status, body) = w.approve_for(&task, &mona).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["executedByUser"]["id"], mona.as_str());
    let approved = w.audit("task.approved").await;
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0]["actorType"], "credential");
    assert_eq!(approved[0]["onBehalfOfUserId"], mona.as_str());
    assert_eq!(approved[0]["after"]["decidedByUserId"], mona.as_str());
}

#[tokio::test]
async fn created_by_and_triggered_by_must_name_active_users_and_are_audited_beside_the_actor() {
    let w = World::start().await;
    let (ann, ann_token) = w.person("Ann", "User").await;
    let (admin, admin_token) = w.person("Adam", "Administrator").await;
    let invited = w.user_with_status("Ivy", "Invited").await;
    let gone = w.user_with_status("Gus", "Deactivated").await;
    let ghost = uuid::Uuid::now_v7().to_string();
    let app = w.app("Notion", &[]).await;
    let path = "/api/v1/Requests/GrantAccess";

    for (creator, code, says) in
        [(&invited, 400, "is Invited"), (&gone, 400, "is Deactivated"), (&ghost, 404, "not found")]
    {
        let (status, body) = w
            .post(
                path,
                json!({ "workAppId": app, "targetUserId": ann, "createdByUserId": creator }),
            )
            .await;
        assert_problem(status, &body, code, path);
        assert!(body["detail"].as_str().unwrap().contains(says), "{body}");
    }
    // With a personal token the requester is its holder, administrators included.
    for token in [&ann_token, &admin_token] {
        let (status, body) = send(w.srv.bearer(token, Method::POST, path).json(
            &json!({ "workAppId": app, "targetUserId": ann, "createdByUserId": w.org.owner_id }),
        ))
        .await;
        assert_problem(status, &body, 403, path);
    }
    assert_eq!(w.get("/api/v1/Requests").await, json!([]), "nothing was created");

    // A credential naming Ann: the audit rows keep the credential and record Ann beside it.
    let (status, created) = w
        .post(path, json!({ "workAppId": app, "targetUserId": ann, "createdByUserId": ann }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["data"]["createdByUserId"], ann.as_str());
    let rows = w.audit("request.created").await;
    assert_eq!(rows[0]["actorType"], "credential");
    assert_eq!(rows[0]["onBehalfOfUserId"], ann.as_str());
    let task_rows = w.audit("task.created").await;
    assert_eq!(task_rows[0]["onBehalfOfUserId"], ann.as_str(), "every row of the change");
    // A person acting with their own token acts for nobody else.
    let (status, _) = send(w.srv.bearer(
        &ann_token,
        Method::POST,
        &format!("/api/v1/Requests/{}/Cancel", created["data"]["id"].as_str().unwrap()),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    let cancelled = w.audit("request.cancelled").await;
    assert_eq!(
        (cancelled[0]["actorType"].as_str(), cancelled[0]["actorId"].as_str()),
        (Some("user"), Some(ann.as_str()))
    );
    assert_eq!(cancelled[0]["onBehalfOfUserId"], Value::Null);

    // triggeredByUserId on group membership: the same rules.
    let (_, group) = w.post("/api/v1/UsersGroups", json!({ "name": "Ops" })).await;
    let group = group["data"]["id"].as_str().unwrap().to_string();
    let (status, _) = send(
        w.srv
            .api(&w.org, Method::PUT, &format!("/api/v1/UsersGroups/{group}/DefaultWorkApps"))
            .json(&json!({ "data": [{ "workAppId": app }] })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let members = format!("/api/v1/UsersGroups/{group}/Users");
    for (trigger, code) in [(&invited, 400), (&gone, 400), (&ghost, 404)] {
        let (status, body) =
            w.post(&members, json!({ "userIds": [ann], "triggeredByUserId": trigger })).await;
        assert_problem(status, &body, code, &members);
    }
    let (_, listed) = send(w.srv.api(&w.org, Method::GET, &members)).await;
    assert_eq!(listed["data"], json!([]), "nobody was added");
    let (status, body) =
        w.post(&members, json!({ "userIds": [ann], "triggeredByUserId": admin })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let added = w.audit("group.member_added").await;
    assert_eq!(added[0]["actorType"], "credential");
    assert_eq!(added[0]["onBehalfOfUserId"], admin.as_str());
    // The request the membership made is Adam's: he is kept from its tasks.
    let requests = w.get(&format!("/api/v1/Requests?targetUserId={ann}&status=Pending")).await;
    assert_eq!(requests[0]["createdByUserId"], admin.as_str());
    let (_, assignees) = open_task(&requests[0]);
    assert_eq!(assignees, vec![w.org.owner_id.clone()], "Ann has no manager: admins but Adam");
}

#[tokio::test]
async fn an_administrator_cannot_implicitly_approve_his_own_group_membership() {
    let w = World::start().await;
    let (adam, adam_token) = w.person("Adam", "Administrator").await;
    let (ann, _) = w.person("Ann", "User").await;
    let app = w.app("AWS", &[]).await;
    let (_, group) = w.post("/api/v1/UsersGroups", json!({ "name": "Admins" })).await;
    let group: uuid::Uuid = group["data"]["id"].as_str().unwrap().parse().unwrap();
    send(
        w.srv
            .api(&w.org, Method::PUT, &format!("/api/v1/UsersGroups/{group}/DefaultWorkApps"))
            .json(&json!({ "data": [{ "workAppId": app }] })),
    )
    .await;
    // Group membership is a credential endpoint; the service rule covers any caller that is a
    // person (the console, MCP tools).
    let actor = w.srv.service.authenticate_bearer(&adam_token).await.expect("token");
    let ctx = portcullis_service::Ctx::new(actor, None);
    let ids = [adam.parse().unwrap(), ann.parse().unwrap()];
    let refused = w.srv.service.add_group_members(&ctx, group, &ids, None, true).await;
    match refused {
        Err(portcullis_service::ServiceError::Forbidden(m)) => {
            assert!(m.starts_with("Separation of duties"), "{m}")
        }
        other => panic!("expected 403, got {other:?}"),
    }
    assert!(w.srv.accesses(&w.org, &app).await.is_empty(), "nothing was granted");
    // Without implicit approval his request follows the policy, reviewed by someone else.
    let added = w.srv.service.add_group_members(&ctx, group, &ids, None, false).await.unwrap();
    assert_eq!((added.added, added.requests_created), (2, 2));
    let requests = w.get(&format!("/api/v1/Requests?targetUserId={adam}")).await;
    assert_eq!(requests[0]["createdByUserId"], adam.as_str());
    let (_, assignees) = open_task(&requests[0]);
    assert_eq!(assignees, vec![w.org.owner_id.clone()]);
}

#[tokio::test]
async fn the_workspaces_role_cannot_re_parent_users_or_change_their_e_mail() {
    let w = World::start().await;
    let (_, wendy_token) = w.person("Wendy", "Workspaces").await;
    let (mona, _) = w.person("Mona", "User").await;
    let (wes, _) = w.person("Wes", "User").await;
    let (tom, _) = w.person("Tom", "User").await;
    w.set_manager(&tom, &mona).await;
    let path = format!("/organization/users/{tom}");

    // Changing the e-mail: refused, nothing changes.
    let (status, body) = send(
        w.srv.bearer(&wendy_token, Method::PUT, &path).json(&json!({ "email": "x@evil.example" })),
    )
    .await;
    assert_flashback_error(status, &body, 403);
    // Renaming still works.
    let (status, body) = send(
        w.srv.bearer(&wendy_token, Method::PUT, &path).json(&json!({ "lastName": "Renamed" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A manager in a Flashback body is not a field of that API: it changes nothing.
    send(w.srv.bearer(&wendy_token, Method::PUT, &path).json(&json!({ "managerId": wes }))).await;
    let (_, created) = send(w.srv.bearer(&wendy_token, Method::POST, "/organization/users").json(
        &json!({ "email": "new@acme.example", "firstName": "New", "lastName": "Hire", "managerId": wes }),
    ))
    .await;
    let new_id = created["data"]["id"].as_str().expect("created").to_string();
    assert_eq!(w.get(&format!("/api/v1/users/{new_id}")).await["managerId"], Value::Null);

    // The service refuses her any change of a manager (setting one on a new user included).
    let actor = w.srv.service.authenticate_bearer(&wendy_token).await.expect("token");
    let ctx = portcullis_service::Ctx::new(actor, None);
    let patch = portcullis_service::UserPatch {
        manager_id: Some(Some(wes.parse().unwrap())),
        ..Default::default()
    };
    let refused = w.srv.service.update_user(&ctx, tom.parse().unwrap(), patch).await;
    assert!(
        matches!(&refused, Err(portcullis_service::ServiceError::Forbidden(m)) if m.contains("manager")),
        "{refused:?}"
    );
    let new = portcullis_service::NewUser {
        first_name: "Other".into(),
        last_name: "Hire".into(),
        email: "other@acme.example".into(),
        manager_id: Some(wes.parse().unwrap()),
        role: None,
        status: portcullis_domain::UserStatus::Invited,
    };
    let refused = w.srv.service.create_user(&ctx, new).await;
    assert!(matches!(refused, Err(portcullis_service::ServiceError::Forbidden(_))), "{refused:?}");
    let shown = w.get(&format!("/api/v1/users/{tom}")).await;
    assert_eq!(shown["managerId"], mona.as_str());
    assert_eq!(shown["email"], format!("tom@{}.example", w.org.id));
    // So Tom's approvals still go to Mona.
    let app = w.app("Jira", &[]).await;
    let (_, r) = w
        .post("/api/v1/Requests/GrantAccess", json!({ "workAppId": app, "targetUserId": tom }))
        .await;
    assert_eq!(open_task(&r["data"]).1, vec![mona.clone()]);

    // An owner may re-parent and change an e-mail; so may a read-write credential.
    let owner = portcullis_service::Ctx::new(
        w.srv.service.authenticate_bearer(&w.org.token).await.expect("token"),
        None,
    );
    let patch = portcullis_service::UserPatch {
        manager_id: Some(Some(wes.parse().unwrap())),
        email: Some("tom.new@acme.example".into()),
        ..Default::default()
    };
    let changed = w.srv.service.update_user(&owner, tom.parse().unwrap(), patch).await.unwrap();
    assert_eq!(changed.manager_id, Some(wes.parse().unwrap()));
    assert_eq!(changed.email, "tom.new@acme.example");
    w.set_manager(&tom, &mona).await;
    assert_eq!(w.get(&format!("/api/v1/users/{tom}")).await["managerId"], mona.as_str());
}

#[tokio::test]
async fn organization_settings_are_read_and_changed_by_administrators_and_audited() {
    let w = World::start().await;
    let path = "/api/v1/OrganizationSettings";
    let (_, user_token) = w.person("Ann", "User").await;
    let (_, admin_token) = w.person("Adam", "Administrator").await;
    let data = w.get(path).await;
    assert_eq!(data["allowSameApproverForMultipleSteps"], false);

    let (status, body) = send(w.srv.bearer(&user_token, Method::GET, path)).await;
    assert_problem(status, &body, 403, path);
    let patch = json!({ "allowSameApproverForMultipleSteps": true });
    let (status, body) = send(w.srv.bearer(&user_token, Method::PATCH, path).json(&patch)).await;
    assert_problem(status, &body, 403, path);
    let (_, ro) =
        w.post("/api/v1/ApiCredentials", json!({ "name": "ro", "accessLevel": "ReadOnly" })).await;
    let read_only = Org {
        key: ro["data"]["apiKey"].as_str().unwrap().to_string(),
        secret: ro["data"]["apiSecret"].as_str().unwrap().to_string(),
        ..w.org.clone()
    };
    let (status, body) = send(w.srv.api(&read_only, Method::PATCH, path).json(&patch)).await;
    assert_problem(status, &body, 403, path);
    let (status, _) = send(w.srv.api(&read_only, Method::GET, path)).await;
    assert_eq!(status, StatusCode::OK, "reading is fine for any credential");
    let (status, body) =
        send(w.srv.api(&w.org, Method::PATCH, path).json(&json!({ "allowSelfApproval": true })))
            .await;
    assert_problem(status, &body, 400, path);
    assert!(w.audit("organization.settings_updated").await.is_empty());

    let (status, body) = send(w.srv.bearer(&admin_token, Method::PATCH, path).json(&patch)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut expected = data.clone();
    expected["allowSameApproverForMultipleSteps"] = json!(true);
    assert_eq!(body["data"], expected);
    assert_eq!(body["links"]["self"], path);
    assert_eq!(w.get(path).await, expected);
    // Unchanged: nothing to audit. An empty body changes nothing either.
    send(w.srv.api(&w.org, Method::PATCH, path).json(&patch)).await;
    let (status, body) = send(w.srv.api(&w.org, Method::PATCH, path).json(&json!({}))).await;
    assert_eq!((status, &body["data"]), (StatusCode::OK, &expected));
    let rows = w.audit("organization.settings_updated").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["actorType"], "user");
    assert_eq!(rows[0]["before"], data);
    assert_eq!(rows[0]["after"], expected);

    // Another organization keeps its own.
    let other = w.srv.new_org("Other").await;
    let (_, theirs) = send(w.srv.api(&other, Method::GET, path)).await;
    assert_eq!(theirs["data"]["allowSameApproverForMultipleSteps"], false);
}

#[tokio::test]
async fn reassigning_a_task_is_for_administrators_and_checks_every_assignee() {
    let w = World::start().await;
    let (ann, ann_token) = w.person("Ann", "User").await;
    let (bob, _) = w.person("Bob", "User").await;
    let gus = w.user_with_status("Gus", "Deactivated").await;
    let app = w.app("Jira", &[]).await;
    let r = w.request_as(&ann_token, &app, &ann).await;
    let (task, _) = open_task(&r);
    let path = format!("/api/v1/Tasks/{task}/Assignees");
    let put = |body: Value| send(w.srv.api(&w.org, Method::PUT, &path).json(&body));
    let ghost = uuid::Uuid::now_v7().to_string();
    for (body, code) in [
        (json!({ "userIds": [] }), 400),
        (json!({ "userIds": vec![bob.clone(); 101] }), 400),
        (json!({ "userIds": [ghost] }), 404),
        (json!({ "userIds": [bob, gus] }), 400),
        (json!({ "userIds": [ann] }), 400),
        (json!({ "users": [bob] }), 400),
    ] {
        let (status, problem) = put(body.clone()).await;
        assert_problem(status, &problem, code, &path);
    }
    let (status, problem) =
        send(w.srv.bearer(&ann_token, Method::PUT, &path).json(&json!({ "userIds": [bob] }))).await;
    assert_problem(status, &problem, 403, &path);
    let unknown = format!("/api/v1/Tasks/{}/Assignees", uuid::Uuid::now_v7());
    let (status, problem) =
        send(w.srv.api(&w.org, Method::PUT, &unknown).json(&json!({ "userIds": [bob] }))).await;
    assert_problem(status, &problem, 404, &unknown);

    // Duplicates collapse; the new assignee finds the task in his list.
    let (status, body) = put(json!({ "userIds": [bob, bob] })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["assigneeIds"], json!([bob]));
    let tasks = w.get(&format!("/api/v1/Tasks?userId={bob}&status=Open")).await;
    assert_eq!(tasks[0]["id"], task.as_str());
    w.approve_for(&task, &bob).await;
    let (status, problem) = put(json!({ "userIds": [bob] })).await;
    assert_problem(status, &problem, 409, &path);
}
