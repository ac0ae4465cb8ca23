//! What the current Cakewalk docs publish (`/work/shared/spec/cakewalk-api-current.md`): one test
//! per published call or convention, named after it, with its error paths.
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{assert_problem, send, Org, TestServer};

/// The published request shape: the `request` object of `TaskDetailedViewModelV1`.
const PUBLISHED_REQUEST_KEYS: [&str; 12] = [
    "id",
    "requestType",
    "requestStatus",
    "requestedByUserId",
    "cancelledByUserId",
    "workAppId",
    "permissionLevelId",
    "targetUserId",
    "requestPurpose",
    "sourceId",
    "createdAt",
    "updatedAt",
];

/// A server with one organization, called with its read-write API credential.
struct Cakewalk {
    srv: TestServer,
    org: Org,
}

impl Cakewalk {
    async fn start() -> Self {
        let srv = TestServer::start().await;
        let org = srv.new_org("Acme").await;
        Self { srv, org }
    }

    fn call(&self, method: Method, path: &str) -> RequestBuilder {
        self.srv.api(&self.org, method, path)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        send(self.call(Method::GET, path)).await
    }

    async fn send_json(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        send(self.call(method, path).json(&body)).await
    }

    /// GET that must succeed; returns `data`.
    async fn data(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body["data"].clone()
    }

    async fn user(&self, name: &str) -> String {
        let email = format!("{}@acme.example", name.to_lowercase());
        self.srv.create_user(&self.org, name, &email, "User").await
    }

    /// A Manual work app whose grant requests have one review step, taken by `reviewer`.
    async fn app_reviewed_by(&self, name: &str, reviewer: &str, levels: &[&str]) -> AppIds {
        let (app, levels) = self.srv.create_app(&self.org, name, levels).await;
        let policy = json!({
            "name": format!("{name} review"),
            "requestType": "GrantAccessRequest",
            "steps": [{ "approver": "User", "userId": reviewer }],
        });
        let (status, body) = self.send_json(Method::POST, "/api/v1/Policies", policy).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let path = format!("/api/v1/WorkApps/{app}/Policies/GrantAccessRequest");
        let (status, body) =
            self.send_json(Method::PUT, &path, json!({ "policyId": body["data"]["id"] })).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        AppIds { app, levels }
    }

    /// Creates a request; returns the whole 201 body.
    async fn create_request(&self, kind: &str, body: Value) -> Value {
        let path = format!("/api/v1/Requests/{kind}");
        let (status, created) = self.send_json(Method::POST, &path, body).await;
        assert_eq!(status, StatusCode::CREATED, "POST {path}: {created}");
        created
    }

    /// Grants access directly (bulk grant), so that removal and change requests have something
    /// to act on.
    async fn grant_directly(&self, app: &str, user: &str, level: Option<&str>) {
        let entry = json!({ "workAppId": app, "userId": user, "permissionLevelId": level });
        let (status, body) = self.srv.bulk_grant(&self.org, json!([entry])).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// The ids of the open tasks in a request body.
    fn open_tasks(request: &Value) -> Vec<String> {
        request["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .filter(|t| t["status"] == "Open")
            .map(|t| t["id"].as_str().expect("task id").to_string())
            .collect()
    }
}

struct AppIds {
    app: String,
    levels: Vec<String>,
}

/// Asserts a 400 ProblemDetails with exactly this detail.
#[track_caller]
fn assert_bad_request(status: StatusCode, body: &Value, path: &str, detail: impl AsRef<str>) {
    assert_problem(status, body, 400, path);
    assert_eq!(body["detail"], detail.as_ref(), "{body}");
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|item| item["id"].as_str().expect("id").to_string())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn keys(object: &Value) -> Vec<String> {
    sorted(object.as_object().expect("object").keys().cloned().collect())
}

fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Two reviewers and three open review tasks: one for Ann, two for Bob.
struct TaskSetup {
    cw: Cakewalk,
    ann: String,
    bob: String,
    ann_task: String,
    bob_tasks: Vec<String>,
}

async fn tasks_for_ann_and_bob() -> TaskSetup {
    let cw = Cakewalk::start().await;
    let ann = cw.user("Ann").await;
    let bob = cw.user("Bob").await;
    let tom = cw.user("Tom").await;
    let jira = cw.app_reviewed_by("Jira", &ann, &[]).await;
    let figma = cw.app_reviewed_by("Figma", &bob, &[]).await;
    let grant = |app: &str, user: &str| json!({ "workAppId": app, "targetUserId": user });
    let r1 = cw.create_request("GrantAccess", grant(&jira.app, &tom)).await;
    let r2 = cw.create_request("GrantAccess", grant(&figma.app, &tom)).await;
    let r3 = cw.create_request("GrantAccess", grant(&figma.app, &ann)).await;
    let ann_task = Cakewalk::open_tasks(&r1["data"]).remove(0);
    let bob_tasks =
        sorted([Cakewalk::open_tasks(&r2["data"]), Cakewalk::open_tasks(&r3["data"])].concat());
    TaskSetup { cw, ann, bob, ann_task, bob_tasks }
}

#[tokio::test]
async fn get_tasks_by_user_id_returns_only_that_users_tasks() {
    let TaskSetup { cw, ann, bob, ann_task, bob_tasks } = tasks_for_ann_and_bob().await;
    assert_eq!(cw.data("/api/v1/Tasks").await.as_array().unwrap().len(), 3, "the org has three");

    let path = format!("/api/v1/Tasks?userId={ann}");
    let (status, body) = cw.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body["data"]), vec![ann_task], "only Ann's task, not the org's");
    assert_eq!(body["links"]["self"], path);
    assert!(body["links"].get("next").is_none(), "{body}");
    // TaskSimplifiedViewModelV1: the required fields and the two flags, with their types.
    let item = &body["data"][0];
    for field in ["id", "type", "createdAt", "status", "lastUpdatedAt"] {
        assert!(item[field].is_string(), "required {field}: {item}");
    }
    assert!(Uuid::parse_str(item["id"].as_str().unwrap()).is_ok());
    assert!(chrono::DateTime::parse_from_rfc3339(item["createdAt"].as_str().unwrap()).is_ok());
    assert!(chrono::DateTime::parse_from_rfc3339(item["lastUpdatedAt"].as_str().unwrap()).is_ok());
    assert_eq!(item["type"], "Review");
    assert_eq!(item["status"], "Open");
    assert_eq!(item["isAutoprovisioning"], false);
    assert_eq!(item["isActionStep"], false);
    assert_eq!(item["assignedUser"]["id"], ann.as_str());

    assert_eq!(sorted(ids(&cw.data(&format!("/api/v1/Tasks?userId={bob}")).await)), bob_tasks);
    // A user with no tasks, or no such user: an empty page, never the org's tasks.
    let owner_has_none = cw.data(&format!("/api/v1/Tasks?userId={}", cw.org.owner_id)).await;
    assert_eq!(owner_has_none, json!([]));
    assert_eq!(cw.data(&format!("/api/v1/Tasks?userId={}", Uuid::now_v7())).await, json!([]));
    // Names match case-insensitively, as ASP.NET binds them.
    assert_eq!(ids(&cw.data(&format!("/api/v1/Tasks?USERID={ann}")).await), ids(&body["data"]));

    let path = "/api/v1/Tasks?userId=not-a-uuid";
    let (status, body) = cw.get(path).await;
    assert_problem(status, &body, 400, "/api/v1/Tasks");
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .starts_with("The query parameter userId is not valid"));
}

#[tokio::test]
async fn get_tasks_by_user_id_and_status_filters_by_task_status() {
    let TaskSetup { cw, bob, bob_tasks, .. } = tasks_for_ann_and_bob().await;
    let decided = &bob_tasks[0];
    let (status, body) = cw
        .send_json(
            Method::POST,
            &format!("/api/v1/Tasks/{decided}/Approve"),
            json!({ "userId": bob }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let open = cw.data(&format!("/api/v1/Tasks?userId={bob}&status=Open")).await;
    assert_eq!(ids(&open), vec![bob_tasks[1].clone()]);
    // The documented spelling, in any case.
    let path = format!("/api/v1/Tasks?userId={bob}&status=approved");
    let (status, body) = cw.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body["data"]), vec![decided.clone()]);
    assert_eq!(body["data"][0]["status"], "Approved");
    assert_eq!(body["links"]["self"], format!("/api/v1/Tasks?userId={bob}&status=Approved"));
    assert_eq!(cw.data(&format!("/api/v1/Tasks?userId={bob}&status=Declined")).await, json!([]));

    let (status, body) = cw.get(&format!("/api/v1/Tasks?userId={bob}&status=Done")).await;
    assert_bad_request(
        status,
        &body,
        "/api/v1/Tasks",
        "unknown task status 'Done': expected Open, Approved, Declined, Completed or Cancelled",
    );
}

#[tokio::test]
async fn get_tasks_assignee_user_id_stays_an_alias_of_user_id() {
    let TaskSetup { cw, ann, bob, ann_task, .. } = tasks_for_ann_and_bob().await;
    let by_alias = cw.data(&format!("/api/v1/Tasks?assigneeUserId={ann}")).await;
    assert_eq!(ids(&by_alias), vec![ann_task.clone()]);
    let both_alike = cw.data(&format!("/api/v1/Tasks?userId={ann}&assigneeUserId={ann}")).await;
    assert_eq!(ids(&both_alike), vec![ann_task]);

    let (status, body) = cw.get(&format!("/api/v1/Tasks?userId={ann}&assigneeUserId={bob}")).await;
    assert_bad_request(
        status,
        &body,
        "/api/v1/Tasks",
        "userId and assigneeUserId name the same user; give one of them (or the same id in both)",
    );
}

#[tokio::test]
async fn get_tasks_by_user_id_with_a_bearer_token_never_shows_another_users_tasks() {
    let TaskSetup { cw, ann, bob, ann_task, .. } = tasks_for_ann_and_bob().await;
    let token = cw.srv.token_for(&cw.org, &ann).await;
    let as_ann = |path: String| send(cw.srv.bearer(&token, Method::GET, &path));
    let (status, own) = as_ann(format!("/api/v1/Tasks?userId={ann}")).await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert_eq!(ids(&own["data"]), vec![ann_task.clone()]);
    let (status, others) = as_ann(format!("/api/v1/Tasks?userId={bob}")).await;
    assert_eq!(status, StatusCode::OK, "{others}");
    assert_eq!(others["data"], json!([]), "Bob's tasks are not Ann's to see, nor are hers Bob's");
    let (_, unfiltered) = as_ann("/api/v1/Tasks".to_string()).await;
    assert_eq!(ids(&unfiltered["data"]), vec![ann_task]);
}

/// Checks a 201 of request creation: `requestId` at the top level and in `data`, the request
/// in `data`, and its purpose under both names.
fn assert_created_request(created: &Value, request_type: &str, purpose: &str) -> String {
    let id = created["requestId"].as_str().expect("top-level requestId").to_string();
    assert!(Uuid::parse_str(&id).is_ok(), "{created}");
    let data = &created["data"];
    assert_eq!(data["requestId"], id.as_str(), "{created}");
    assert_eq!(data["id"], id.as_str(), "{created}");
    assert_eq!(data["requestType"], request_type);
    assert_eq!(data["requestStatus"], "Pending");
    assert_eq!(data["status"], "Pending");
    assert_eq!(data["requestPurpose"], purpose);
    assert_eq!(data["justification"], purpose);
    assert_eq!(created["links"]["self"], format!("/api/v1/Requests/{id}"));
    for key in PUBLISHED_REQUEST_KEYS {
        assert!(data.get(key).is_some(), "data lacks {key}: {created}");
    }
    id
}

#[tokio::test]
async fn grant_access_with_grant_access_purpose_answers_201_with_request_id() {
    let cw = Cakewalk::start().await;
    let ann = cw.user("Ann").await;
    let tom = cw.user("Tom").await;
    let salesforce = cw.app_reviewed_by("Salesforce", &ann, &["Viewer", "Editor"]).await;
    // The published body, exactly.
    let created = cw
        .create_request(
            "GrantAccess",
            json!({
                "createdByUserId": cw.org.owner_id,
                "targetUserId": tom,
                "workAppId": salesforce.app,
                "permissionLevelId": salesforce.levels[1],
                "grantAccessPurpose": "Quarterly forecast",
            }),
        )
        .await;
    let id = assert_created_request(&created, "GrantAccessRequest", "Quarterly forecast");
    let data = &created["data"];
    assert_eq!(data["requestedByUserId"], cw.org.owner_id.as_str());
    assert_eq!(data["createdByUserId"], cw.org.owner_id.as_str());
    assert_eq!(data["targetUserId"], tom.as_str());
    assert_eq!(data["workAppId"], salesforce.app.as_str());
    assert_eq!(data["permissionLevelId"], salesforce.levels[1].as_str());

    // The request as GET /Requests/{id} shows it, and inside its task: the published shape.
    let request = cw.data(&format!("/api/v1/Requests/{id}")).await;
    assert_eq!(request["requestPurpose"], "Quarterly forecast");
    let task = cw.data(&format!("/api/v1/Tasks/{}", Cakewalk::open_tasks(&request)[0])).await;
    let embedded = &task["request"];
    assert_eq!(keys(embedded), sorted(PUBLISHED_REQUEST_KEYS.map(String::from).to_vec()));
    assert_eq!(embedded["id"], id.as_str());
    assert_eq!(embedded["requestType"], "GrantAccessRequest");
    assert_eq!(embedded["requestStatus"], "Pending");
    assert_eq!(embedded["requestedByUserId"], cw.org.owner_id.as_str());
    assert_eq!(embedded["cancelledByUserId"], Value::Null);
    assert_eq!(embedded["requestPurpose"], "Quarterly forecast");
    assert_eq!(embedded["sourceId"], Value::Null);
    assert_eq!(embedded["createdAt"], request["createdAt"]);
    assert_eq!(embedded["updatedAt"], request["updatedAt"]);
}

#[tokio::test]
async fn remove_access_with_remove_access_purpose_answers_201_with_request_id() {
    let cw = Cakewalk::start().await;
    let tom = cw.user("Tom").await;
    let (app, _) = cw.srv.create_app(&cw.org, "Slack", &[]).await;
    cw.grant_directly(&app, &tom, None).await;
    let created = cw
        .create_request(
            "RemoveAccess",
            json!({
                "createdByUserId": cw.org.owner_id,
                "targetUserId": tom,
                "workAppId": app,
                "removeAccessPurpose": "Left the team",
            }),
        )
        .await;
    assert_created_request(&created, "RemoveAccessRequest", "Left the team");
}

#[tokio::test]
async fn change_permission_with_change_permission_purpose_answers_201_with_request_id() {
    let cw = Cakewalk::start().await;
    let tom = cw.user("Tom").await;
    let (app, levels) = cw.srv.create_app(&cw.org, "GitHub", &["Read", "Write"]).await;
    cw.grant_directly(&app, &tom, Some(&levels[0])).await;
    let created = cw
        .create_request(
            "ChangePermission",
            json!({
                "createdByUserId": cw.org.owner_id,
                "targetUserId": tom,
                "workAppId": app,
                "permissionLevelId": levels[1],
                "changePermissionPurpose": "Needs to merge",
            }),
        )
        .await;
    assert_created_request(&created, "ChangePermissionLevelRequest", "Needs to merge");
    assert_eq!(created["data"]["permissionLevelId"], levels[1].as_str());
}

#[tokio::test]
async fn request_purpose_over_1024_characters_or_empty_is_400() {
    let cw = Cakewalk::start().await;
    let tom = cw.user("Tom").await;
    let (app, levels) = cw.srv.create_app(&cw.org, "GitHub", &["Read", "Write"]).await;
    let grant = |purpose: &str| {
        json!({ "workAppId": app, "targetUserId": tom, "permissionLevelId": levels[0],
                "grantAccessPurpose": purpose })
    };
    let path = "/api/v1/Requests/GrantAccess";
    let too_long = "x".repeat(1025);
    for (purpose, detail) in [
        (too_long.as_str(), "grantAccessPurpose must be at most 1024 characters"),
        ("", "grantAccessPurpose must not be empty"),
        ("   ", "grantAccessPurpose must not be empty"),
    ] {
        let (status, body) = cw.send_json(Method::POST, path, grant(purpose)).await;
        assert_bad_request(status, &body, path, detail);
    }
    // The other two bodies name their own field.
    cw.grant_directly(&app, &tom, Some(&levels[0])).await;
    for (kind, body, detail) in [
        (
            "RemoveAccess",
            json!({ "workAppId": app, "targetUserId": tom, "removeAccessPurpose": "y".repeat(1025) }),
            "removeAccessPurpose must be at most 1024 characters",
        ),
        (
            "ChangePermission",
            json!({ "workAppId": app, "targetUserId": tom, "permissionLevelId": levels[1],
                    "changePermissionPurpose": "" }),
            "changePermissionPurpose must not be empty",
        ),
    ] {
        let path = format!("/api/v1/Requests/{kind}");
        let (status, problem) = cw.send_json(Method::POST, &path, body).await;
        assert_bad_request(status, &problem, &path, detail);
    }
    assert_eq!(cw.data("/api/v1/Requests").await, json!([]), "nothing was created");

    // 1024 characters (not bytes) is the longest purpose.
    let longest = "é".repeat(1024);
    let created = cw
        .create_request(
            "ChangePermission",
            json!({ "workAppId": app, "targetUserId": tom, "permissionLevelId": levels[1],
                    "changePermissionPurpose": longest }),
        )
        .await;
    assert_eq!(created["data"]["requestPurpose"], longest.as_str());
}

#[tokio::test]
async fn grant_access_with_justification_keeps_working_and_both_names_must_agree() {
    let cw = Cakewalk::start().await;
    let tom = cw.user("Tom").await;
    let ann = cw.user("Ann").await;
    let eve = cw.user("Eve").await;
    let (app, _) = cw.srv.create_app(&cw.org, "Zoom", &[]).await;
    let path = "/api/v1/Requests/GrantAccess";

    // Different texts under the two names: refused, nothing created.
    let (status, body) = cw
        .send_json(
            Method::POST,
            path,
            json!({ "workAppId": app, "targetUserId": tom,
                    "grantAccessPurpose": "Sales calls", "justification": "Something else" }),
        )
        .await;
    assert_bad_request(
        status,
        &body,
        path,
        "grantAccessPurpose and justification are two names for the same text; give one of them",
    );
    assert_eq!(cw.data("/api/v1/Requests").await, json!([]));

    // The same text under both: fine.
    let created = cw
        .create_request(
            "GrantAccess",
            json!({ "workAppId": app, "targetUserId": tom,
                    "grantAccessPurpose": "Sales calls", "justification": " Sales calls " }),
        )
        .await;
    assert_created_request(&created, "GrantAccessRequest", "Sales calls");
    // The older name alone, as before (up to 2,000 characters).
    let long = "j".repeat(2000);
    let created = cw
        .create_request(
            "GrantAccess",
            json!({ "workAppId": app, "targetUserId": ann, "justification": long }),
        )
        .await;
    assert_created_request(&created, "GrantAccessRequest", &long);
    // Neither: still allowed, with an empty purpose (today's rule).
    let created =
        cw.create_request("GrantAccess", json!({ "workAppId": app, "targetUserId": eve })).await;
    assert_created_request(&created, "GrantAccessRequest", "");
}

#[tokio::test]
async fn get_requests_filters_by_status_request_type_and_last_updated_after() {
    let cw = Cakewalk::start().await;
    let ann = cw.user("Ann").await;
    let bob = cw.user("Bob").await;
    let reviewed = cw.app_reviewed_by("Notion", &ann, &[]).await;
    let (plain, _) = cw.srv.create_app(&cw.org, "Miro", &[]).await;
    let grant = |app: &str, user: &str| json!({ "workAppId": app, "targetUserId": user });

    let first = cw.create_request("GrantAccess", grant(&reviewed.app, &bob)).await;
    let first_id = first["requestId"].as_str().unwrap().to_string();
    cw.srv.clock.advance(chrono::Duration::minutes(1));
    let second = cw.create_request("GrantAccess", grant(&plain, &ann)).await;
    let second_id = second["requestId"].as_str().unwrap().to_string();
    let second_updated = cw.srv.now();
    cw.srv.clock.advance(chrono::Duration::minutes(1));
    cw.grant_directly(&plain, &bob, None).await;
    let removal = cw.create_request("RemoveAccess", grant(&plain, &bob)).await;
    let removal_id = removal["requestId"].as_str().unwrap().to_string();
    cw.srv.clock.advance(chrono::Duration::minutes(1));
    let task = Cakewalk::open_tasks(&first["data"]).remove(0);
    let (status, body) =
        cw.send_json(Method::POST, &format!("/api/v1/Tasks/{task}/Decline"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let after = timestamp(second_updated);
    let cases: Vec<(String, Vec<&String>)> = vec![
        ("".into(), vec![&first_id, &second_id, &removal_id]),
        ("status=Declined".into(), vec![&first_id]),
        ("status=pending".into(), vec![&second_id, &removal_id]),
        ("requestType=RemoveAccessRequest".into(), vec![&removal_id]),
        ("requestType=GrantAccessRequest".into(), vec![&first_id, &second_id]),
        ("requestType=ArchiveWorkAppRequest".into(), vec![]),
        // Strictly after the second request's creation: the removal, and the declined first.
        (format!("lastUpdatedAfter={after}"), vec![&first_id, &removal_id]),
        (format!("requestType=GrantAccessRequest&lastUpdatedAfter={after}"), vec![&first_id]),
        (
            format!("status=Pending&requestType=GrantAccessRequest&workAppId={plain}"),
            vec![&second_id],
        ),
    ];
    for (query, expected) in cases {
        let path = format!("/api/v1/Requests?{query}");
        let got = sorted(ids(&cw.data(&path).await));
        let expected = sorted(expected.into_iter().cloned().collect());
        assert_eq!(got, expected, "{path}");
    }
    let path = format!("/api/v1/Requests?requestType=GrantAccessRequest&lastUpdatedAfter={after}");
    let (_, body) = cw.get(&path).await;
    assert_eq!(body["links"]["self"], path, "links keep the filters");

    for (query, detail) in [
        (
            "requestType=GrantAccess",
            "unknown request type 'GrantAccess': expected GrantAccessRequest, \
             RemoveAccessRequest, ChangePermissionLevelRequest, AddNewManagedWorkAppRequest or \
             ArchiveWorkAppRequest",
        ),
        (
            "status=Open",
            "unknown request status 'Open': expected Pending, Approved, Declined, Completed, \
             Cancelled or Failed",
        ),
    ] {
        let (status, body) = cw.get(&format!("/api/v1/Requests?{query}")).await;
        assert_bad_request(status, &body, "/api/v1/Requests", detail);
    }
    let (status, body) = cw.get("/api/v1/Requests?lastUpdatedAfter=yesterday").await;
    assert_problem(status, &body, 400, "/api/v1/Requests");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.starts_with("The query parameter lastUpdatedAfter is not valid: "), "{body}");
}

/// The accepted names as the 400 lists them, from the OpenAPI document's query parameters.
fn accepted_from_doc(op: &Value) -> Vec<String> {
    op["parameters"]
        .as_array()
        .map(|params| {
            params
                .iter()
                .filter(|p| p["in"] == "query" && p["name"] != "page[cursor]")
                .map(|p| match p["name"].as_str().unwrap() {
                    "cursor" => "cursor (or page[cursor])".to_string(),
                    name => name.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn unknown_query_parameter_is_400_naming_the_accepted_ones() {
    let cw = Cakewalk::start().await;
    let (_, doc) = send(cw.srv.client.get(cw.srv.url("/openapi.json"))).await;
    // Every Cakewalk GET that documents query parameters refuses any other name, and its 400
    // lists exactly the documented ones (so the document and the accepted names agree).
    let mut checked = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        let op = &item["get"];
        let accepted = accepted_from_doc(op);
        if !template.starts_with("/api/") || accepted.is_empty() {
            continue;
        }
        let path = template
            .split('/')
            .map(|segment| match segment {
                "{requestType}" => "GrantAccessRequest".to_string(),
                s if s.starts_with('{') => Uuid::now_v7().to_string(),
                s => s.to_string(),
            })
            .collect::<Vec<_>>()
            .join("/");
        // A list's cursor is sent along (empty: the first page); an endpoint without one gets
        // only the unknown name.
        let pages = accepted.iter().any(|a| a.starts_with("cursor"));
        let query = if pages { "cursor=&assignee=x" } else { "assignee=x" };
        let (status, body) = cw.get(&format!("{path}?{query}")).await;
        assert_bad_request(
            status,
            &body,
            &path,
            format!(
                "Unknown query parameter 'assignee'. Accepted query parameters: {}.",
                accepted.join(", ")
            ),
        );
        checked.push(template.clone());
    }
    for list in [
        "/api/v1/users",
        "/api/v1/WorkApps",
        "/api/v1/WorkApps/{workAppId}/Accesses",
        "/api/v1/WorkApps/{workAppId}/PermissionLevels",
        "/api/v1/UsersGroups",
        "/api/v1/UsersGroups/{usersGroupId}/Users",
        "/api/v1/UsersGroups/{usersGroupId}/DefaultWorkApps",
        "/api/v1/UsersGroups/{usersGroupId}/HiddenWorkApps",
        "/api/v1/Policies",
        "/api/v1/Policies/CompatiblePolicies/{requestType}",
        "/api/v1/Requests",
        "/api/v1/Tasks",
        "/api/v1/AuditLog",
        "/api/v1/Webhooks/{webhookId}/Deliveries",
        "/api/v1/AccessReviews",
        "/api/v1/AccessReviews/{accessReviewId}/Items",
        "/api/v1/AccessReviews/{accessReviewId}/Export",
    ] {
        assert!(checked.iter().any(|c| c == list), "{list} documents no query parameters");
    }
    let (status, body) = cw.get("/api/v1/Tasks?assignee=x").await;
    assert_bad_request(
        status,
        &body,
        "/api/v1/Tasks",
        "Unknown query parameter 'assignee'. Accepted query parameters: cursor (or \
         page[cursor]), userId, status, assigneeUserId, requestId.",
    );
    // Lists without paging or filters accept nothing.
    for path in ["/api/v1/Webhooks", "/api/v1/ApiCredentials"] {
        let (status, body) = cw.get(&format!("{path}?cursor=abc")).await;
        assert_bad_request(
            status,
            &body,
            path,
            "Unknown query parameter 'cursor'. This endpoint accepts no query parameters.",
        );
        assert_eq!(cw.get(path).await.0, StatusCode::OK);
    }
    // Several unknown names are all named; a name given twice is refused.
    let (status, body) = cw.get("/api/v1/users?limit=5&pageSize=5").await;
    assert_problem(status, &body, 400, "/api/v1/users");
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .starts_with("Unknown query parameters 'limit', 'pageSize'."));
    let (status, body) = cw.get("/api/v1/Requests?status=Pending&Status=Approved").await;
    assert_bad_request(
        status,
        &body,
        "/api/v1/Requests",
        "The query parameter status is given more than once.",
    );
}

#[tokio::test]
async fn page_cursor_works_exactly_like_cursor() {
    let cw = Cakewalk::start().await;
    for i in 0..101 {
        cw.srv.create_app(&cw.org, &format!("App {i:03}"), &[]).await;
    }
    let (status, first) = cw.get("/api/v1/WorkApps").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["data"].as_array().unwrap().len(), 100);
    let next = first["links"]["next"].as_str().expect("a second page").to_string();
    let cursor = next.strip_prefix("/api/v1/WorkApps?cursor=").expect("cursor link").to_string();

    let (_, by_cursor) = cw.get(&next).await;
    assert_eq!(by_cursor["data"].as_array().unwrap().len(), 1);
    assert_eq!(by_cursor["links"]["self"], next);
    assert!(by_cursor["links"].get("next").is_none());
    // The pagination docs' spelling, raw or percent-encoded, and in another case.
    for path in [
        format!("/api/v1/WorkApps?page[cursor]={cursor}"),
        format!("/api/v1/WorkApps?page%5Bcursor%5D={cursor}"),
        format!("/api/v1/WorkApps?PAGE[CURSOR]={cursor}"),
    ] {
        let (status, body) = cw.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(body, by_cursor, "{path}");
    }

    let (status, body) =
        cw.get(&format!("/api/v1/WorkApps?cursor={cursor}&page[cursor]={cursor}")).await;
    assert_bad_request(
        status,
        &body,
        "/api/v1/WorkApps",
        "The query parameter cursor is given more than once (page[cursor] is the same parameter).",
    );
    let (status, body) = cw.get("/api/v1/WorkApps?page[cursor]=garbage").await;
    assert_bad_request(
        status,
        &body,
        "/api/v1/WorkApps",
        "The cursor is not valid; follow links.next verbatim.",
    );
}

#[tokio::test]
async fn request_bodies_are_accepted_as_application_json_text_json_and_application_plus_json() {
    let cw = Cakewalk::start().await;
    let path = "/api/v1/UsersGroups";
    for (i, content_type) in [
        "application/json",
        "application/json; charset=utf-8",
        "text/json",
        "Text/JSON; charset=utf-8",
        "application/problem+json",
        "application/vnd.api+json",
    ]
    .into_iter()
    .enumerate()
    {
        let body = json!({ "name": format!("Group {i}") }).to_string();
        let request = cw.call(Method::POST, path).header("content-type", content_type).body(body);
        let (status, created) = send(request).await;
        assert_eq!(status, StatusCode::CREATED, "{content_type}: {created}");
    }
    let (app, _) = cw.srv.create_app(&cw.org, "Figma", &[]).await;
    let patch = cw
        .call(Method::PATCH, &format!("/api/v1/WorkApps/{app}"))
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"description":"Design"}"#);
    let (status, body) = send(patch).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["description"], "Design");
}

#[tokio::test]
async fn request_body_as_text_plain_or_another_type_is_415() {
    let cw = Cakewalk::start().await;
    let path = "/api/v1/UsersGroups";
    for content_type in [
        Some("text/plain"),
        Some("application/xml"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonp"),
        Some("application/+json"),
        Some("multipart/form-data"),
        None,
    ] {
        let mut request = cw.call(Method::POST, path).body(r#"{"name":"Ops"}"#);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let (status, body) = send(request).await;
        assert_problem(status, &body, 415, path);
        assert_eq!(body["title"], "Unsupported Media Type");
        assert_eq!(
            body["detail"],
            "The body must be JSON: Content-Type application/json, text/json or application/*+json.",
            "{content_type:?}"
        );
    }
    assert_eq!(cw.data(path).await, json!([]), "nothing was created");

    // The optional body of Approve: JSON types are read, others refused; an empty body is no
    // body whatever its type.
    let ann = cw.user("Ann").await;
    let tom = cw.user("Tom").await;
    let reviewed = cw.app_reviewed_by("Jira", &ann, &[]).await;
    let created = cw
        .create_request("GrantAccess", json!({ "workAppId": reviewed.app, "targetUserId": tom }))
        .await;
    let task = Cakewalk::open_tasks(&created["data"]).remove(0);
    let approve = format!("/api/v1/Tasks/{task}/Approve");
    let (status, body) = send(
        cw.call(Method::POST, &approve)
            .header("content-type", "text/plain")
            .body(r#"{"comment":"ok"}"#),
    )
    .await;
    assert_problem(status, &body, 415, &approve);
    assert_eq!(cw.data(&format!("/api/v1/Tasks/{task}")).await["status"], "Open");
    let (status, body) = send(
        cw.call(Method::POST, &approve)
            .header("content-type", "text/json")
            .body(r#"{"comment":"ok"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["comment"], "ok");
}

#[tokio::test]
async fn a_trailing_slash_reaches_the_same_route() {
    let cw = Cakewalk::start().await;
    let ann = cw.user("Ann").await;
    let (status, group) =
        cw.send_json(Method::POST, "/api/v1/UsersGroups/", json!({ "name": "Ops" })).await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let group = group["data"]["id"].as_str().unwrap().to_string();
    // The docs title it `GET /UsersGroups/`.
    for path in ["/api/v1/UsersGroups/", "/api/v1/usersgroups/", "/API/V1/UsersGroups/"] {
        let (status, body) = cw.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(ids(&body["data"]), vec![group.clone()], "{path}");
        assert_eq!(body["links"]["self"], "/api/v1/UsersGroups");
    }
    let (status, _) = cw.get(&format!("/api/v1/usersgroups/{group}/users/")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = cw.get(&format!("/api/v1/Tasks/?userId={ann}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["links"]["self"], format!("/api/v1/Tasks?userId={ann}"));
    // Errors name the canonical path.
    let missing = Uuid::now_v7();
    let (status, body) = cw.get(&format!("/api/v1/requests/{missing}/")).await;
    assert_problem(status, &body, 404, &format!("/api/v1/Requests/{missing}"));
    // The Flashback API too.
    for path in ["/workspace/", "/organization/users/"] {
        let (status, body) = send(cw.srv.bearer(&cw.org.token, Method::GET, path)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(body["success"], true, "{path}: {body}");
    }
    // Not a route with a slash added anywhere else.
    let (status, body) = cw.get("/api/v1/UsersGroups//").await;
    assert_problem(status, &body, 404, "/api/v1/UsersGroups//");
}

#[tokio::test]
async fn read_only_key_write_is_403_forbidden_operation() {
    let cw = Cakewalk::start().await;
    let (status, body) = cw
        .send_json(
            Method::POST,
            "/api/v1/ApiCredentials",
            json!({ "name": "reporting", "accessLevel": "ReadOnly" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut read_only = cw.org.clone();
    read_only.key = body["data"]["apiKey"].as_str().unwrap().to_string();
    read_only.secret = body["data"]["apiSecret"].as_str().unwrap().to_string();
    let tom = cw.user("Tom").await;
    let (app, _) = cw.srv.create_app(&cw.org, "Zoom", &[]).await;
    let some_task = Uuid::now_v7();

    let writes = [
        (
            Method::POST,
            "/api/v1/Requests/GrantAccess".to_string(),
            Some(json!({ "workAppId": app, "targetUserId": tom, "grantAccessPurpose": "x" })),
        ),
        (Method::POST, "/api/v1/Requests/GrantAccess".to_string(), None),
        (Method::POST, format!("/api/v1/Tasks/{some_task}/Approve"), None),
        (Method::POST, format!("/api/v1/Tasks/{some_task}/Decline"), Some(json!({}))),
        (
            Method::PUT,
            format!("/api/v1/WorkApps/{app}/Policies/GrantAccessRequest"),
            Some(json!({ "policyId": Uuid::now_v7() })),
        ),
        (Method::PATCH, format!("/api/v1/WorkApps/{app}"), Some(json!({ "name": "Zoom 2" }))),
        (Method::DELETE, format!("/api/v1/Webhooks/{}", Uuid::now_v7()), None),
        (Method::POST, "/api/v1/UsersGroups".to_string(), Some(json!({ "name": "Ops" }))),
    ];
    for (method, path, body) in writes {
        let mut request = cw.srv.api(&read_only, method.clone(), &path);
        request = match body {
            Some(body) => request.json(&body),
            // A malformed body does not turn the 403 into a 400.
            None => request.header("content-type", "application/json").body("{"),
        };
        let (status, problem) = send(request).await;
        assert_problem(status, &problem, 403, &path);
        assert_eq!(problem["title"], "Forbidden operation", "{method} {path}");
        assert_eq!(
            problem["detail"], "This API key is read-only and cannot perform write operations.",
            "{method} {path}"
        );
    }
    assert_eq!(cw.data("/api/v1/Requests").await, json!([]), "nothing was written");
    let (status, _) = send(cw.srv.api(&read_only, Method::GET, "/api/v1/Requests")).await;
    assert_eq!(status, StatusCode::OK, "reads still work");
}

#[tokio::test]
async fn approve_and_decline_accept_comment_user_id_and_triggered_by_user_id() {
    let cw = Cakewalk::start().await;
    let ann = cw.user("Ann").await;
    let bob = cw.user("Bob").await;
    let reviewed = cw.app_reviewed_by("Jira", &ann, &[]).await;
    let mut open = Vec::new();
    for name in ["Tom", "Tim", "Tia"] {
        let user = cw.user(name).await;
        let created = cw
            .create_request(
                "GrantAccess",
                json!({ "workAppId": reviewed.app, "targetUserId": user }),
            )
            .await;
        open.push(Cakewalk::open_tasks(&created["data"]).remove(0));
    }

    // A credential decides on behalf of the user it names as triggeredByUserId.
    let path = format!("/api/v1/Tasks/{}/Approve", open[0]);
    let (status, body) = cw
        .send_json(Method::POST, &path, json!({ "comment": "ok", "triggeredByUserId": ann }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "Approved");
    assert_eq!(body["data"]["comment"], "ok");
    assert_eq!(body["data"]["executedByUser"]["id"], ann.as_str());

    // userId and triggeredByUserId naming different users: refused, nothing decided.
    let path = format!("/api/v1/Tasks/{}/Decline", open[1]);
    let (status, body) =
        cw.send_json(Method::POST, &path, json!({ "userId": ann, "triggeredByUserId": bob })).await;
    assert_bad_request(
        status,
        &body,
        &path,
        "userId and triggeredByUserId name the same user; give one of them (or the same id in \
         both)",
    );
    assert_eq!(cw.data(&format!("/api/v1/Tasks/{}", open[1])).await["status"], "Open");
    // An unknown user: 404.
    let (status, body) =
        cw.send_json(Method::POST, &path, json!({ "triggeredByUserId": Uuid::now_v7() })).await;
    assert_problem(status, &body, 404, &path);

    // With a bearer token the field cannot widen who may decide: not an assignee → 403 whoever
    // it names; an assignee may name only themselves.
    let bob_token = cw.srv.token_for(&cw.org, &bob).await;
    let ann_token = cw.srv.token_for(&cw.org, &ann).await;
    let as_user =
        |token: &str, body: Value| send(cw.srv.bearer(token, Method::POST, &path).json(&body));
    let (status, body) = as_user(&bob_token, json!({ "triggeredByUserId": ann })).await;
    assert_problem(status, &body, 403, &path);
    let (status, body) = as_user(&ann_token, json!({ "triggeredByUserId": bob })).await;
    assert_problem(status, &body, 403, &path);
    assert_eq!(cw.data(&format!("/api/v1/Tasks/{}", open[1])).await["status"], "Open");
    let (status, body) =
        as_user(&ann_token, json!({ "triggeredByUserId": ann, "comment": "no budget" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "Declined");
    assert_eq!(body["data"]["executedByUser"]["id"], ann.as_str());
    assert_eq!(body["data"]["comment"], "no budget");

    // userId keeps working alone.
    let path = format!("/api/v1/Tasks/{}/Approve", open[2]);
    let (status, body) = cw.send_json(Method::POST, &path, json!({ "userId": ann })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["executedByUser"]["id"], ann.as_str());
    // An unknown field is still a 400.
    let (status, body) = cw.send_json(Method::POST, &path, json!({ "reason": "x" })).await;
    assert_problem(status, &body, 400, &path);
}

#[tokio::test]
async fn openapi_declares_the_published_parameters_and_fields() {
    let cw = Cakewalk::start().await;
    let (_, doc) = send(cw.srv.client.get(cw.srv.url("/openapi.json"))).await;
    let params = |path: &str| -> Vec<(String, Value)> {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} has parameters"))
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| (p["name"].as_str().unwrap().to_string(), p["schema"].clone()))
            .collect()
    };
    let names = |path: &str| params(path).into_iter().map(|(n, _)| n).collect::<Vec<_>>();
    assert_eq!(
        names("/api/v1/Tasks"),
        ["cursor", "userId", "status", "assigneeUserId", "requestId", "page[cursor]"]
    );
    assert_eq!(
        names("/api/v1/Requests"),
        [
            "cursor",
            "status",
            "requestType",
            "lastUpdatedAfter",
            "targetUserId",
            "workAppId",
            "page[cursor]"
        ]
    );
    let format_of = |path: &str, name: &str| {
        params(path).into_iter().find(|(n, _)| n == name).unwrap().1["format"].clone()
    };
    assert_eq!(format_of("/api/v1/Tasks", "userId"), "uuid");
    assert_eq!(format_of("/api/v1/Requests", "lastUpdatedAfter"), "date-time");
    assert!(names("/api/v1/users").contains(&"page[cursor]".to_string()));

    let schemas = &doc["components"]["schemas"];
    for (schema, field) in [
        ("GrantAccessBody", "grantAccessPurpose"),
        ("RemoveAccessBody", "removeAccessPurpose"),
        ("ChangePermissionBody", "changePermissionPurpose"),
    ] {
        let property = &schemas[schema]["properties"][field];
        assert_eq!(property["minLength"], 1, "{schema}.{field}: {property}");
        assert_eq!(property["maxLength"], 1024, "{schema}.{field}: {property}");
        assert!(schemas[schema]["properties"]["justification"].is_object());
    }
    assert!(schemas["DecisionBody"]["properties"]["triggeredByUserId"].is_object());
    let grant = &doc["paths"]["/api/v1/Requests/GrantAccess"]["post"]["responses"];
    assert_eq!(
        grant["201"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/CreatedRequest"
    );
    assert!(grant["415"].is_object());
    let required = schemas["CreatedRequest"]["required"].as_array().unwrap();
    for field in ["requestId", "data", "links"] {
        assert!(required.contains(&json!(field)), "CreatedRequest requires {field}");
    }
    let published = keys(&schemas["RequestModelView"]["properties"]);
    assert_eq!(published, sorted(PUBLISHED_REQUEST_KEYS.map(String::from).to_vec()));
}
