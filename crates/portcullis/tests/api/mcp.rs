//! The MCP server at `/mcp`, driven by a client we did not write: the official MCP Python SDK
//! (`mcp` from PyPI) connects over Streamable HTTP, lists the tools and calls them as an
//! employee, an app owner, an approver, an administrator and API keys; each sees and does what
//! they could in the console, and every call lands in the audit log with `source: "mcp"`.
use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{send, Org, TestServer};
use crate::tools;

/// Where the SDK script lives.
fn client_script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/mcp_client.py")
}

/// Runs the SDK script with `plan`; `None` when the tools cannot be installed here (and not
/// required).
async fn run_sdk(plan: Value) -> Option<Value> {
    let python = tokio::task::spawn_blocking(tools::python).await.expect("install")?;
    // The server runs on this test's runtime: wait for the client on a blocking thread.
    let out = tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new(python)
            .arg(client_script())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start the MCP client");
        let mut stdin = child.stdin.take().expect("stdin");
        std::io::Write::write_all(&mut stdin, plan.to_string().as_bytes()).expect("plan");
        drop(stdin);
        child.wait_with_output().expect("MCP client")
    })
    .await
    .expect("MCP client thread");
    let text = String::from_utf8_lossy(&out.stdout);
    let value: Value = serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!("client output {text:?} ({e}); stderr: {}", String::from_utf8_lossy(&out.stderr))
    });
    Some(value)
}

/// One caller's session: the headers it authenticates with.
struct Caller {
    headers: Value,
}

impl Caller {
    fn token(token: &str) -> Self {
        Caller { headers: json!({ "Authorization": format!("Bearer {token}") }) }
    }

    fn key(org: &Org) -> Self {
        Caller { headers: json!({ "X-API-KEY": org.key, "X-API-SECRET": org.secret }) }
    }

    /// Lists the tools and makes the calls; returns the tool names and each call's result.
    async fn session(&self, srv: &TestServer, calls: &[(&str, Value)]) -> Option<Session> {
        let calls: Vec<Value> =
            calls.iter().map(|(tool, args)| json!({ "tool": tool, "arguments": args })).collect();
        let plan = json!({ "url": srv.url("/mcp"), "headers": self.headers, "calls": calls });
        let out = run_sdk(plan).await?;
        assert!(out.get("error").is_none(), "the SDK failed: {out}");
        Some(Session { out })
    }

    /// Makes one call; its result.
    async fn call(&self, srv: &TestServer, tool: &str, args: Value) -> Option<Outcome> {
        let s = self.session(srv, &[(tool, args)]).await?;
        Some(s.result(0))
    }
}

struct Session {
    out: Value,
}

impl Session {
    fn tool_names(&self) -> BTreeSet<String> {
        self.out["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .map(|t| t["name"].as_str().expect("name").to_string())
            .collect()
    }

    fn tool(&self, name: &str) -> Value {
        self.out["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .find(|t| t["name"] == name)
            .cloned()
            .expect(name)
    }

    fn result(&self, i: usize) -> Outcome {
        let r = &self.out["results"][i];
        Outcome {
            is_error: r["isError"] == true,
            data: r["structured"].clone(),
            text: r["text"].as_str().unwrap_or_default().to_string(),
        }
    }
}

#[derive(Debug)]
struct Outcome {
    is_error: bool,
    data: Value,
    text: String,
}

impl Outcome {
    fn ok(self) -> Value {
        assert!(!self.is_error, "tool failed: {}", self.text);
        self.data
    }

    fn refused(self, words: &str) {
        assert!(self.is_error, "expected a refusal, got {}", self.data);
        assert!(self.text.contains(words), "{:?} does not say {words:?}", self.text);
    }
}

const READ_TOOLS: [&str; 12] = [
    "GetMyUserInformation",
    "GetUserByEmail",
    "GetUserInformation",
    "GetWorkAppCustomFields",
    "GetWorkAppPermissionLevels",
    "ListAllUsers",
    "ListManagedWorkApps",
    "ListRecentRequests",
    "ListUserAccessesByEmails",
    "ListUsersByWorkAppIds",
    "SearchOpenRequests",
    "SearchTemplatesOrWorkAppsByName",
];

const WRITE_SCOPE_TOOLS: [&str; 7] = [
    "ApproveTask",
    "DecideAccessReviewItem",
    "DeclineTask",
    "ListMyAccessReviewItems",
    "ListMyTasks",
    "RequestAccess",
    "RequestRemoval",
];

/// An organization with an employee (Ada, managed by Mona), an app owner (Otto, owner of
/// Salesforce), a colleague (Grace, who holds Salesforce and Figma) and an Unmanaged app.
struct World {
    srv: TestServer,
    org: Org,
    ada: (String, String),
    mona: (String, String),
    otto: (String, String),
    grace: String,
    salesforce: (String, Vec<String>),
    figma: String,
    payroll: String,
}

impl World {
    async fn new() -> World {
        let srv = TestServer::start().await;
        let org = srv.new_org("Acme").await;
        let mona = srv.user_with_token(&org, "Mona", "User").await;
        let otto = srv.user_with_token(&org, "Otto", "User").await;
        let ada = srv.user_with_token(&org, "Ada", "User").await;
        let grace = srv.create_user(&org, "Grace", "grace@acme.example", "User").await;
        for user in [&ada.0, &grace] {
            let path = format!("/api/v1/users/{user}");
            let (status, body) =
                send(srv.api(&org, Method::PATCH, &path).json(&json!({ "managerId": mona.0 })))
                    .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let salesforce = srv
            .create_app_with(
                &org,
                json!({ "name": "Salesforce", "ownerIds": [otto.0] }),
                &["Standard", "Admin"],
            )
            .await;
        let (figma, _) = srv.create_app(&org, "Figma", &[]).await;
        let (payroll, _) = srv
            .create_app_with(&org, json!({ "name": "Payroll", "statusName": "Unmanaged" }), &[])
            .await;
        let (status, body) = srv
            .bulk_grant(
                &org,
                json!([
                    { "workAppId": salesforce.0, "userId": grace, "permissionLevelId": salesforce.1[1] },
                    { "workAppId": figma, "userId": grace },
                    { "workAppId": figma, "userId": ada.0 },
                ]),
            )
            .await;
        assert!(status.is_success(), "{body}");
        World { srv, org, ada, mona, otto, grace, salesforce, figma, payroll }
    }

    async fn audit(&self, action: &str) -> Vec<Value> {
        let path = format!("/api/v1/AuditLog?action={action}");
        let (status, body) = send(self.srv.api(&self.org, Method::GET, &path)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].as_array().expect("data").clone()
    }
}

fn app_names(data: &Value) -> BTreeSet<String> {
    data["workApps"]
        .as_array()
        .expect("workApps")
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn an_employee_sees_what_the_console_shows_them_and_nothing_more() {
    let w = World::new().await;
    let ada = Caller::token(&w.ada.1);
    let grace_email = "grace@acme.example";
    let ada_email = format!("ada@{}.example", w.org.id);
    let calls = [
        ("GetMyUserInformation", json!({})),
        ("ListAllUsers", json!({})),
        ("GetUserByEmail", json!({ "email": grace_email })),
        (
            "ListUserAccessesByEmails",
            json!({ "emails": format!("{ada_email}, {grace_email}, nobody@acme.example") }),
        ),
        ("ListUsersByWorkAppIds", json!({ "workAppIds": w.salesforce.0 })),
        ("ListManagedWorkApps", json!({})),
        ("SearchTemplatesOrWorkAppsByName", json!({ "name": "a" })),
        ("GetWorkAppPermissionLevels", json!({ "workAppId": w.salesforce.0 })),
        ("GetWorkAppPermissionLevels", json!({ "workAppId": w.payroll })),
        ("GetWorkAppCustomFields", json!({ "workAppId": w.figma })),
        ("GetUserInformation", json!({ "userId": w.grace })),
    ];
    let Some(s) = ada.session(&w.srv, &calls).await else { return };
    assert_eq!(s.out["protocol"], "2026-07-28");
    // A personal token holds every scope: all 19 tools, with their hints and required inputs.
    let mut all: BTreeSet<String> = set(&READ_TOOLS);
    all.extend(set(&WRITE_SCOPE_TOOLS));
    assert_eq!(s.tool_names(), all);
    let request_access = s.tool("RequestAccess");
    assert_eq!(request_access["readOnly"], false);
    assert_eq!(request_access["destructive"], false);
    assert_eq!(request_access["required"], json!(["workAppId", "justification"]));
    assert_eq!(s.tool("RequestRemoval")["destructive"], true);
    assert_eq!(s.tool("ListMyTasks")["readOnly"], true);
    assert!(s.tool("GetUserByEmail")["description"].as_str().unwrap().len() > 40);

    let me = s.result(0).ok();
    assert_eq!(me["user"]["id"], w.ada.0.as_str());
    assert_eq!(me["accesses"].as_array().unwrap().len(), 1);
    assert_eq!(me["accesses"][0]["workAppName"], "Figma");
    assert_eq!(me["accessesLimited"], false);
    s.result(1).refused("WORKSPACES role");
    // A colleague's profile, but none of their accesses (Ada owns no app).
    let grace = s.result(2).ok();
    assert_eq!(grace["user"]["email"], grace_email);
    assert_eq!(grace["accesses"], json!([]));
    assert_eq!(grace["accessesLimited"], true);
    let people = s.result(3).ok();
    let people = people["people"].as_array().unwrap();
    assert_eq!(people.len(), 3);
    assert_eq!(people[0]["user"]["accesses"].as_array().unwrap().len(), 1);
    assert_eq!(people[1]["user"]["accesses"], json!([]));
    assert_eq!(people[2]["found"], false);
    s.result(4).refused("Only the app's owners");
    assert_eq!(app_names(&s.result(5).ok()), set(&["Figma", "Salesforce"]));
    // The Unmanaged app is not offered to her, by listing or by search.
    assert_eq!(app_names(&s.result(6).ok()), set(&["Figma", "Salesforce"]));
    let levels = s.result(7).ok();
    assert_eq!(levels["permissionLevels"].as_array().unwrap().len(), 2);
    s.result(8).refused("not found");
    assert_eq!(s.result(9).ok()["customFields"], json!([]));
    assert_eq!(s.result(10).ok()["accesses"], json!([]));

    // Every call is audited as hers, through MCP, with the client's name.
    let rows = w.audit("mcp.tool_called").await;
    assert_eq!(rows.len(), calls.len());
    for (row, (tool, _)) in rows.iter().zip(calls.iter()) {
        assert_eq!(row["actorId"], w.ada.0.as_str());
        assert_eq!(row["source"], "mcp");
        assert!(row["clientName"].as_str().unwrap().starts_with("python-httpx"), "{row}");
        assert_eq!(row["after"]["tool"], *tool);
    }
    assert_eq!(rows[1]["after"]["outcome"], "error");
    assert!(rows[1]["after"]["error"].as_str().unwrap().contains("WORKSPACES"));
    assert_eq!(rows[0]["after"]["outcome"], "ok");
}

#[tokio::test]
async fn owners_and_administrators_see_further() {
    let w = World::new().await;
    // The owner of Salesforce sees who holds it, and Grace's Salesforce access only.
    let otto = Caller::token(&w.otto.1);
    let calls = [
        ("ListUsersByWorkAppIds", json!({ "workAppIds": w.salesforce.0 })),
        (
            "ListUsersByWorkAppIds",
            json!({ "workAppIds": format!("{},{}", w.salesforce.0, w.figma) }),
        ),
        ("GetUserByEmail", json!({ "email": "GRACE@acme.example" })),
    ];
    let Some(s) = otto.session(&w.srv, &calls).await else { return };
    let holders = s.result(0).ok();
    let holders = &holders["workApps"][0]["holders"];
    assert_eq!(holders.as_array().unwrap().len(), 1);
    assert_eq!(holders[0]["user"]["id"], w.grace.as_str());
    assert_eq!(holders[0]["permissionLevel"]["name"], "Admin");
    s.result(1).refused("Only the app's owners");
    let grace = s.result(2).ok();
    let names: Vec<&str> = grace["accesses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["workAppName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Salesforce"]);

    // An administrator sees everyone and everything.
    let admin = Caller::token(&w.org.token);
    let calls = [
        ("ListAllUsers", json!({})),
        (
            "ListUsersByWorkAppIds",
            json!({ "workAppIds": format!("{}, {}", w.salesforce.0, w.figma) }),
        ),
        ("GetUserByEmail", json!({ "email": "grace@acme.example" })),
        ("SearchTemplatesOrWorkAppsByName", json!({ "name": "PAY" })),
        ("GetWorkAppPermissionLevels", json!({ "workAppId": w.payroll })),
        ("ListUsersByWorkAppIds", json!({ "workAppIds": "not-a-uuid" })),
        ("GetUserInformation", json!({ "userId": "nope" })),
        ("ListRecentRequests", json!({ "limit": 101 })),
        ("GetUserByEmail", json!({ "email": "nobody@acme.example" })),
        ("SearchTemplatesOrWorkAppsByName", json!({ "name": "  " })),
        ("GetMyUserInformation", json!({ "unexpected": 1 })),
    ];
    let Some(s) = admin.session(&w.srv, &calls).await else { return };
    assert_eq!(s.result(0).ok()["users"].as_array().unwrap().len(), 5);
    let apps = s.result(1).ok();
    assert_eq!(apps["workApps"][1]["holders"].as_array().unwrap().len(), 2);
    assert_eq!(s.result(2).ok()["accesses"].as_array().unwrap().len(), 2);
    assert_eq!(app_names(&s.result(3).ok()), set(&["Payroll"]));
    assert_eq!(s.result(4).ok()["permissionLevels"], json!([]));
    s.result(5).refused("is not a work app id");
    s.result(6).refused("Invalid arguments");
    s.result(7).refused("limit must be between 1 and 100");
    s.result(8).refused("no user with e-mail");
    s.result(9).refused("name must not be empty");
    s.result(10).refused("unknown field");
}

#[tokio::test]
async fn requests_and_approvals_follow_the_policy_as_the_caller() {
    let w = World::new().await;
    let ada = Caller::token(&w.ada.1);
    let mona = Caller::token(&w.mona.1);
    let otto = Caller::token(&w.otto.1);
    let (salesforce, levels) = &w.salesforce;

    // Ada asks for Salesforce through her assistant; the default policy asks her manager first.
    let Some(created) = ada
        .call(&w.srv, "RequestAccess", json!({
            "workAppId": salesforce, "permissionLevelId": levels[0], "justification": "pipeline review",
        }))
        .await
    else {
        return;
    };
    let request = created.ok()["request"].clone();
    assert_eq!(request["status"], "Pending");
    assert_eq!(request["targetUserId"], w.ada.0.as_str());
    assert_eq!(request["createdByUserId"], w.ada.0.as_str());
    let request_id = request["id"].as_str().unwrap().to_string();
    // The change is audited by the use case, as hers, through MCP.
    let created_rows = w.audit("request.created").await;
    assert_eq!(created_rows.len(), 1);
    assert_eq!(created_rows[0]["source"], "mcp");
    assert_eq!(created_rows[0]["actorId"], w.ada.0.as_str());

    // She cannot approve her own request, nor ask again while it is open.
    let Some(s) = mona.session(&w.srv, &[("ListMyTasks", json!({}))]).await else { return };
    let tasks = s.result(0).ok();
    let task = tasks["tasks"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(tasks["tasks"].as_array().unwrap().len(), 1);
    let Some(s) = ada
        .session(&w.srv, &[
            ("ApproveTask", json!({ "taskId": task })),
            ("RequestAccess", json!({ "workAppId": salesforce, "permissionLevelId": levels[0], "justification": "again" })),
            ("ListMyTasks", json!({})),
            ("ListRecentRequests", json!({})),
            ("SearchOpenRequests", json!({ "workAppId": salesforce })),
            ("SearchOpenRequests", json!({ "userEmail": "grace@acme.example" })),
        ])
        .await
    else {
        return;
    };
    assert!(s.result(0).is_error, "the requester may not approve");
    s.result(1).refused("already an open request");
    assert_eq!(s.result(2).ok()["tasks"], json!([]));
    assert_eq!(s.result(3).ok()["requests"][0]["id"], request_id.as_str());
    assert_eq!(s.result(4).ok()["requests"].as_array().unwrap().len(), 1);
    assert_eq!(s.result(5).ok()["requests"], json!([]), "not hers to see");

    // The manager approves; the owner approves the second step and carries out the action.
    let Some(s) = mona
        .session(&w.srv, &[("ApproveTask", json!({ "taskId": task, "comment": "ok from me" }))])
        .await
    else {
        return;
    };
    assert_eq!(s.result(0).ok()["task"]["status"], "Approved");
    for _ in 0..2 {
        let Some(s) = otto.session(&w.srv, &[("ListMyTasks", json!({}))]).await else { return };
        let tasks = s.result(0).ok();
        let next = tasks["tasks"][0]["id"].as_str().unwrap().to_string();
        let Some(done) = otto.call(&w.srv, "ApproveTask", json!({ "taskId": next })).await else {
            return;
        };
        done.ok();
    }
    let holders: Vec<Value> = w.srv.accesses(&w.org, salesforce).await;
    assert!(holders.iter().any(|h| h["user"]["id"] == w.ada.0.as_str()), "granted after approval");
    let mut decided = w.audit("task.approved").await;
    decided.extend(w.audit("task.completed").await);
    assert_eq!(decided.len(), 3, "two approvals and the action");
    assert!(decided.iter().all(|r| r["source"] == "mcp"));

    // A removal request, declined.
    let Some(removal) = ada
        .call(
            &w.srv,
            "RequestRemoval",
            json!({ "workAppId": salesforce, "justification": "not needed any more" }),
        )
        .await
    else {
        return;
    };
    assert_eq!(removal.ok()["request"]["requestType"], "RemoveAccessRequest");
    // The removal policy asks the app's owner, who declines.
    let Some(s) = otto.session(&w.srv, &[("ListMyTasks", json!({}))]).await else { return };
    let task = s.result(0).ok()["tasks"][0]["id"].as_str().unwrap().to_string();
    let Some(declined) = otto.call(&w.srv, "DeclineTask", json!({ "taskId": task })).await else {
        return;
    };
    assert_eq!(declined.ok()["task"]["status"], "Declined");
    // Deciding it again is refused in words.
    let Some(again) = otto.call(&w.srv, "ApproveTask", json!({ "taskId": task })).await else {
        return;
    };
    assert!(again.is_error);
}

#[tokio::test]
async fn reviewers_decide_their_access_review_items_and_only_theirs() {
    let w = World::new().await;
    let body = json!({
        "name": "Q4 Salesforce", "accessReviewType": "WorkAppOwner",
        "dueDate": w.srv.timestamp_in(chrono::Duration::days(7)),
        "workAppIds": [w.salesforce.0], "createdByUserId": w.org.owner_id,
    });
    let (status, created) =
        send(w.srv.api(&w.org, Method::POST, "/api/v1/AccessReviews").json(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let review = created["data"]["id"].as_str().unwrap().to_string();

    let otto = Caller::token(&w.otto.1);
    let Some(s) = otto.session(&w.srv, &[("ListMyAccessReviewItems", json!({}))]).await else {
        return;
    };
    let items = s.result(0).ok();
    let items = items["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["accessReview"]["id"], review.as_str());
    assert_eq!(items[0]["item"]["user"]["id"], w.grace.as_str());
    let item = items[0]["item"]["id"].as_str().unwrap().to_string();

    // Ada reviews nothing and may not decide Otto's item.
    let ada = Caller::token(&w.ada.1);
    let Some(s) = ada
        .session(
            &w.srv,
            &[
                ("ListMyAccessReviewItems", json!({})),
                (
                    "DecideAccessReviewItem",
                    json!({ "accessReviewId": review, "itemId": item, "decision": "Revoke" }),
                ),
            ],
        )
        .await
    else {
        return;
    };
    assert_eq!(s.result(0).ok()["items"], json!([]));
    assert!(s.result(1).is_error);

    let Some(s) = otto
        .session(
            &w.srv,
            &[
                (
                    "DecideAccessReviewItem",
                    json!({ "accessReviewId": review, "itemId": item, "decision": "Maybe" }),
                ),
                (
                    "DecideAccessReviewItem",
                    json!({
                        "accessReviewId": review, "itemId": item, "decision": "ChangeLevel",
                        "permissionLevelId": w.salesforce.1[0], "comment": "Standard is enough",
                    }),
                ),
                ("ListMyAccessReviewItems", json!({})),
            ],
        )
        .await
    else {
        return;
    };
    s.result(0).refused("Invalid arguments");
    let decided = s.result(1).ok();
    assert_eq!(decided["item"]["decision"], "ChangeLevel");
    assert_eq!(s.result(2).ok()["items"], json!([]), "decided items leave the list");
    let rows = w.audit("access_review.item_decided").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["source"], "mcp");
}

#[tokio::test]
async fn api_keys_hold_scopes_by_their_access_and_act_for_nobody() {
    let w = World::new().await;
    let read_only = w.srv.read_only(&w.org).await;
    let Some(s) = Caller::key(&read_only)
        .session(
            &w.srv,
            &[
                ("ListAllUsers", json!({})),
                ("RequestAccess", json!({ "workAppId": w.figma, "justification": "x" })),
            ],
        )
        .await
    else {
        return;
    };
    // A read-only key sees the read tools only, and cannot call a write tool.
    assert_eq!(s.tool_names(), set(&READ_TOOLS));
    assert_eq!(s.result(0).ok()["users"].as_array().unwrap().len(), 5);
    s.result(1).refused("needs the scope mcp:requests.write");

    // A read-write key holds every scope, but the tools that act as a person refuse it.
    let Some(s) = Caller::key(&w.org)
        .session(
            &w.srv,
            &[
                ("GetMyUserInformation", json!({})),
                ("RequestAccess", json!({ "workAppId": w.figma, "justification": "x" })),
                ("ListMyAccessReviewItems", json!({})),
                ("ListRecentRequests", json!({ "limit": 5 })),
            ],
        )
        .await
    else {
        return;
    };
    assert_eq!(s.tool_names().len(), 19);
    s.result(0).refused("acts as a person");
    s.result(1).refused("acts as a person");
    s.result(2).refused("acts as a person");
    assert_eq!(s.result(3).ok()["requests"], json!([]));
    let rows = w.audit("mcp.tool_called").await;
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r["actorType"] == "credential"));
}

#[tokio::test]
async fn unauthenticated_calls_are_challenged_towards_the_oauth_metadata() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    // A bare 2026-07-28 request: the method in a header, the version and capabilities in `_meta`.
    let rpc = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": { "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    } } });
    let post = |auth: Option<&str>| {
        let mut req = srv
            .client
            .post(srv.url("/mcp"))
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/list")
            .json(&rpc);
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        req
    };
    let metadata = format!(
        "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
        srv.base
    );
    let response = post(None).send().await.expect("send");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], metadata.as_str());
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "unauthorized");

    for bad in ["Bearer pct_nope", "Bearer ", "Basic abc"] {
        let response = post(Some(bad)).send().await.expect("send");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{bad}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_string();
        assert!(challenge.starts_with(&metadata), "{challenge}");
        if bad.starts_with("Bearer") {
            assert!(challenge.ends_with("error=\"invalid_token\""), "{challenge}");
        }
    }
    // A valid personal token gets through.
    let (_, token) = srv.user_with_token(&org, "Ada", "User").await;
    let response = post(Some(&format!("Bearer {token}"))).send().await.expect("send");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn mcp_calls_count_against_the_callers_rate_limit() {
    let http = portcullis_api::HttpConfig {
        rate_limit_per_minute: 3,
        ..portcullis_api::HttpConfig::without_rate_limits()
    };
    let srv = TestServer::start_with(http).await;
    let org = srv.new_org("Acme").await;
    // A bare 2026-07-28 request: the method in a header, the version and capabilities in `_meta`.
    let rpc = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": { "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    } } });
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = srv
            .client
            .post(srv.url("/mcp"))
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/list")
            .header("authorization", format!("Bearer {}", org.token))
            .json(&rpc)
            .send()
            .await
            .expect("send");
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
}

/// The whole OAuth round trip as an interactive MCP client makes it, with the SDK's own OAuth
/// provider: the 401 challenge, protected-resource and authorization-server metadata, dynamic
/// registration, consent in the console (signed in as usual), code exchange with PKCE, a refresh
/// when the access token is up, and revocation from the console.
#[tokio::test]
async fn an_assistant_connects_through_oauth_with_the_sdk() {
    let w = World::new().await;
    let console = crate::console::Console::new(&w.srv);
    let session = console.sign_in(&w.ada.1).await;
    let dir = tempfile::tempdir().expect("dir");
    let storage = dir.path().join("tokens.json");
    let oauth = |consent: bool| {
        json!({
            "session": session, "storage": storage, "client_name": "Test Assistant",
            "scope": "mcp:users.read mcp:workapps.read", "consent": consent,
        })
    };
    let calls = json!([
        { "tool": "GetMyUserInformation", "arguments": {} },
        { "tool": "ListManagedWorkApps", "arguments": {} },
        { "tool": "RequestAccess", "arguments": { "workAppId": w.figma, "justification": "x" } },
        { "tool": "GetMyUserInformation", "arguments": {}, "expire_token": true },
    ]);
    let plan = json!({ "url": w.srv.url("/mcp"), "oauth": oauth(true), "calls": calls });
    let Some(out) = run_sdk(plan).await else { return };
    assert!(out.get("error").is_none(), "the SDK failed: {out}");
    let s = Session { out };
    // Only the tools of the two granted scopes.
    let granted: BTreeSet<String> = READ_TOOLS
        .iter()
        .filter(|t| !matches!(**t, "ListRecentRequests" | "SearchOpenRequests"))
        .map(|t| t.to_string())
        .collect();
    assert_eq!(s.tool_names(), granted);
    assert_eq!(s.result(0).ok()["user"]["id"], w.ada.0.as_str());
    assert_eq!(app_names(&s.result(1).ok()), set(&["Figma", "Salesforce"]));
    s.result(2).refused("needs the scope mcp:requests.write");
    assert_eq!(s.result(3).ok()["user"]["id"], w.ada.0.as_str());
    // The SDK refreshed: a second access token, and both work only through their grant.
    let tokens: Vec<String> = s.out["accessTokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    let caller = w.srv.service.authenticate_oauth_access_token(&tokens[1]).await.expect("valid");
    assert_eq!(caller.client_name, "Test Assistant");
    // Every call is audited with the client's registered name.
    let rows = w.audit("mcp.tool_called").await;
    assert_eq!(rows.len(), 4);
    assert!(rows
        .iter()
        .all(|r| r["clientName"] == "Test Assistant" && r["actorId"] == w.ada.0.as_str()));
    let granted_rows = w.audit("oauth_grant.created").await;
    assert_eq!(granted_rows.len(), 1);

    // Ada disconnects the assistant in the console; its tokens stop working, and the SDK, on
    // its next start, is refused and sent back to the consent page.
    let page =
        console.get(&session, "/settings/assistants").send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Test Assistant"), "{page}");
    let revoke = page
        .split("action=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .find(|action| action.starts_with("/settings/assistants/") && action.ends_with("/revoke"))
        .expect("a revoke form")
        .to_string();
    let csrf = crate::console::hidden_field(&page, "csrf");
    let response = console.post(&session, &revoke, &[("csrf", &csrf)]).send().await.unwrap();
    assert!(response.status().is_redirection(), "{:?}", response.text().await);
    assert!(w.srv.service.authenticate_oauth_access_token(&tokens[1]).await.is_err());
    let plan = json!({
        "url": w.srv.url("/mcp"), "oauth": oauth(false),
        "calls": [{ "tool": "GetMyUserInformation", "arguments": {} }],
    });
    let Some(out) = run_sdk(plan).await else { return };
    let error = out["error"].as_str().unwrap_or_default();
    assert!(error.contains("sent to the consent page again"), "{out}");
}
