//! Joiner, mover, leaver: the settings on `/api/v1/OrganizationSettings`, offboarding through
//! every deactivation path, group leave, manager changes, and no-touch onboarding for SCIM joins.
use portcullis_domain::AccessLevel;
use portcullis_service::{Actor, ActorKind, Ctx};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{assert_problem, send, Org, TestServer};

const SETTINGS: &str = "/api/v1/OrganizationSettings";
const GROUPS: &str = "/api/v1/UsersGroups";

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

    async fn get(&self, path: &str) -> Value {
        let (status, body) = send(self.srv.api(&self.org, Method::GET, path)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body["data"].clone()
    }

    async fn send(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        send(self.srv.api(&self.org, method, path).json(&body)).await
    }

    async fn ok(&self, method: Method, path: &str, body: Value) -> Value {
        let (status, answer) = self.send(method, path, body).await;
        assert!(status.is_success(), "{path}: {status} {answer}");
        answer
    }

    async fn settings(&self, patch: Value) {
        self.ok(Method::PATCH, SETTINGS, patch).await;
    }

    async fn user(&self, name: &str) -> String {
        let email = format!("{}@acme.example", name.to_lowercase());
        self.srv.create_user(&self.org, name, &email, "User").await
    }

    async fn set_manager(&self, user: &str, manager: Option<&str>) {
        self.ok(Method::PATCH, &format!("/api/v1/users/{user}"), json!({ "managerId": manager }))
            .await;
    }

    async fn app(&self, name: &str, mode: &str, owner: Option<&str>) -> String {
        let mut body = json!({ "name": name, "provisioningMode": mode });
        if let Some(owner) = owner {
            body["ownerIds"] = json!([owner]);
        }
        self.srv.create_app_with(&self.org, body, &[]).await.0
    }

    async fn grant(&self, app: &str, user: &str) {
        let (status, body) =
            self.srv.bulk_grant(&self.org, json!([{ "workAppId": app, "userId": user }])).await;
        assert!(status.is_success(), "{body}");
    }

    async fn holders(&self, app: &str) -> Vec<String> {
        let accesses = self.srv.accesses(&self.org, app).await;
        accesses.iter().map(|a| a["user"]["id"].as_str().unwrap().to_string()).collect()
    }

    async fn requests_about(&self, user: &str) -> Vec<Value> {
        let data = self.get(&format!("/api/v1/Requests?targetUserId={user}")).await;
        data.as_array().unwrap().clone()
    }

    async fn request(&self, id: &str) -> Value {
        self.get(&format!("/api/v1/Requests/{id}")).await
    }

    async fn group(&self, name: &str, defaults: &[&str]) -> String {
        let created = self.ok(Method::POST, GROUPS, json!({ "name": name })).await;
        let id = created["data"]["id"].as_str().unwrap().to_string();
        let data: Vec<Value> = defaults.iter().map(|a| json!({ "workAppId": a })).collect();
        self.ok(Method::PUT, &format!("{GROUPS}/{id}/DefaultWorkApps"), json!({ "data": data }))
            .await;
        id
    }

    async fn join(&self, group: &str, users: &[&str]) {
        let body = json!({ "userIds": users, "implicitlyApproveRequests": true });
        self.ok(Method::POST, &format!("{GROUPS}/{group}/Users"), body).await;
    }

    async fn leave(&self, group: &str, user: &str) {
        let path = format!("{GROUPS}/{group}/Users/{user}");
        let (status, body) = send(self.srv.api(&self.org, Method::DELETE, &path)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }

    async fn audit(&self, action: &str) -> Vec<Value> {
        let rows = self.get(&format!("/api/v1/AuditLog?action={action}")).await;
        rows.as_array().unwrap().clone()
    }

    /// Ann asks for `app` (a Review task for her manager, by the default grant policy).
    async fn ask(&self, user: &str, app: &str) -> Value {
        let body = json!({ "workAppId": app, "targetUserId": user, "createdByUserId": user });
        self.ok(Method::POST, "/api/v1/Requests/GrantAccess", body).await["data"].clone()
    }

    async fn task(&self, id: &str) -> Value {
        self.get(&format!("/api/v1/Tasks/{id}")).await
    }

    async fn deactivate(&self, user: &str) {
        self.ok(
            Method::PATCH,
            &format!("/api/v1/users/{user}"),
            json!({ "statusName": "Deactivated" }),
        )
        .await;
    }

    fn ctx(&self, kind: ActorKind) -> Ctx {
        Ctx::new(Actor { org_id: self.org.id.parse().unwrap(), kind }, None)
    }

    fn scim(&self) -> Ctx {
        self.ctx(ActorKind::Scim { token_id: Uuid::now_v7() })
    }
}

fn ids(people: &Value) -> Vec<String> {
    let mut out: Vec<String> = people
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().map_or_else(|| p["id"].as_str().unwrap().to_string(), str::to_string))
        .collect();
    out.sort();
    out
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn jml_settings_have_defaults_change_by_patch_and_refuse_bad_values() {
    let w = World::start().await;
    let data = w.get(SETTINGS).await;
    assert_eq!(
        data,
        json!({
            "allowSameApproverForMultipleSteps": false,
            "noTouchOnboarding": false,
            "joinerWindowHours": 24,
            "groupLeaveAction": "RemoveAccess",
            "leaverAccessAction": "RemoveAccess",
        })
    );
    let patch = json!({
        "noTouchOnboarding": true,
        "joinerWindowHours": 720,
        "groupLeaveAction": "Keep",
        "leaverAccessAction": "RevokeAtOnce",
    });
    let (status, body) = w.send(Method::PATCH, SETTINGS, patch.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut expected = data.clone();
    for (k, v) in patch.as_object().unwrap() {
        expected[k] = v.clone();
    }
    assert_eq!(body["data"], expected);
    assert_eq!(w.get(SETTINGS).await, expected);
    let rows = w.audit("organization.settings_updated").await;
    assert_eq!((rows.len(), &rows[0]["before"], &rows[0]["after"]), (1, &data, &expected));

    // Out of range, unknown values (exact spelling), wrong types and unknown properties: 400,
    // and nothing changes.
    for bad in [
        json!({ "joinerWindowHours": 0 }),
        json!({ "joinerWindowHours": 721 }),
        json!({ "joinerWindowHours": -5, "noTouchOnboarding": false }),
        json!({ "joinerWindowHours": "24" }),
        json!({ "joinerWindowHours": 1.5 }),
        json!({ "groupLeaveAction": "Delete" }),
        json!({ "groupLeaveAction": "keep" }),
        json!({ "leaverAccessAction": "RemoveAccess", "groupLeaveAction": 1 }),
        json!({ "leaverAccessAction": "Revoke" }),
        json!({ "leaverAction": "RevokeAtOnce" }),
    ] {
        let (status, body) = w.send(Method::PATCH, SETTINGS, bad.clone()).await;
        assert_problem(status, &body, 400, SETTINGS);
        assert_eq!(w.get(SETTINGS).await, expected, "{bad} changed nothing");
    }
    let (status, body) = w.send(Method::PATCH, SETTINGS, json!({ "joinerWindowHours": 0 })).await;
    assert_problem(status, &body, 400, SETTINGS);
    assert!(body["detail"].as_str().unwrap().contains("joinerWindowHours"), "{body}");
    let (_, body) = w.send(Method::PATCH, SETTINGS, json!({ "groupLeaveAction": "Delete" })).await;
    assert!(body["detail"].as_str().unwrap().contains("RemoveAccess or Keep"), "{body}");
    w.settings(json!({ "joinerWindowHours": 1 })).await;
    assert_eq!(w.get(SETTINGS).await["joinerWindowHours"], 1);
    assert_eq!(w.audit("organization.settings_updated").await.len(), 2);
}

/// Everything a leaver leaves behind, and what offboarding must do with it.
struct Leaver {
    w: World,
    /// The leaver (Lee): a manager, an app owner, a requester, an access holder, a reviewer.
    lee: String,
    lee_token: String,
    ann: String,
    admin: String,
    auto_app: String,
    manual_app: String,
    /// Ann's grant request: its Review task is assigned to Lee (her manager).
    anns_task: String,
    /// Lee's own open grant request, and the request Lee made for Ann.
    lees_request: String,
    /// A pending removal of Lee's access to the already-removing app (kept by RemoveAccess).
    open_removal: String,
    removing_app: String,
    review: String,
}

impl Leaver {
    async fn start() -> Self {
        let w = World::start().await;
        let admin = w.srv.create_user(&w.org, "Adam", "adam@acme.example", "Administrator").await;
        let lee = w.user("Lee").await;
        let lee_token = w.srv.token_for(&w.org, &lee).await;
        let ann = w.user("Ann").await;
        w.set_manager(&ann, Some(&lee)).await;
        let auto_app = w.app("Slack", "Automatic", Some(&admin)).await;
        let manual_app = w.app("Legacy ERP", "Manual", Some(&admin)).await;
        let removing_app = w.app("Zoom", "Automatic", Some(&admin)).await;
        let wanted = w.app("Figma", "Automatic", Some(&admin)).await;
        for app in [&auto_app, &manual_app, &removing_app] {
            w.grant(app, &lee).await;
        }
        w.grant(&auto_app, &ann).await;
        let anns = w.ask(&ann, &wanted).await;
        let anns_task = anns["tasks"][0]["id"].as_str().unwrap().to_string();
        assert_eq!(ids(&anns["tasks"][0]["assigneeIds"]), vec![lee.clone()], "Lee approves");
        let lees = w.ask(&lee, &wanted).await;
        let body = json!({ "workAppId": removing_app, "targetUserId": lee });
        let removal = w.ok(Method::POST, "/api/v1/Requests/RemoveAccess", body).await;
        assert_eq!(removal["data"]["status"], "Pending", "{removal}");
        // A Manager campaign over Slack: Lee reviews Ann's access.
        let body = json!({
            "name": "Q3", "accessReviewType": "Manager", "dueDate": w.srv.timestamp_in(chrono::Duration::days(7)),
            "workAppIds": [auto_app], "createdByUserId": w.org.owner_id,
        });
        let review = w.ok(Method::POST, "/api/v1/AccessReviews", body).await["data"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        Self {
            lee,
            lee_token,
            ann,
            admin,
            auto_app,
            manual_app,
            anns_task,
            lees_request: lees["id"].as_str().unwrap().to_string(),
            open_removal: removal["data"]["id"].as_str().unwrap().to_string(),
            removing_app,
            review,
            w,
        }
    }

    async fn item_reviewers(&self, user: &str) -> Value {
        let items = self.w.get(&format!("/api/v1/AccessReviews/{}/Items", self.review)).await;
        let item = items.as_array().unwrap().iter().find(|i| i["user"]["id"] == user).cloned();
        let item = item.unwrap_or_else(|| panic!("no item of {user}: {items}"));
        json!({ "reviewers": item["reviewers"], "unassignedReason": item["unassignedReason"] })
    }

    /// What every offboarding does, whatever the access setting.
    async fn assert_offboarded(&self) {
        let w = &self.w;
        let user = w.get(&format!("/api/v1/users/{}", self.lee)).await;
        assert_eq!(user["statusName"], "Deactivated");
        let (status, _) = send(w.srv.bearer(&self.lee_token, Method::GET, "/user/profile")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the leaver's token stops working");
        let lees = w.request(&self.lees_request).await;
        assert_eq!(lees["status"], "Cancelled", "{lees}");
        assert!(lees["tasks"].as_array().unwrap().iter().all(|t| t["status"] == "Cancelled"));
        // Ann's task goes to the fallback approvers: the administrators and owners.
        let task = w.task(&self.anns_task).await;
        assert_eq!(task["status"], "Open");
        let fallback = sorted(vec![w.org.owner_id.clone(), self.admin.clone()]);
        assert_eq!(ids(&task["assigneeIds"]), fallback, "{task}");
        let moved = w.audit("task.reassigned").await;
        assert!(moved.iter().any(|r| r["targetId"] == self.anns_task.as_str()), "{moved:?}");
        // Lee's review item of Ann's access goes to the administrators too.
        let item = self.item_reviewers(&self.ann).await;
        assert_eq!(ids(&item["reviewers"]), fallback, "{item}");
        assert_eq!(w.audit("access_review.item_reassigned").await.len(), 1);
        let rows = w.audit("user.offboarded").await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["targetId"], self.lee.as_str());
        assert_eq!(rows[0]["after"]["tasksReassigned"], 1);
        assert_eq!(rows[0]["after"]["reviewItemsReassigned"], 1);
    }
}

#[tokio::test]
async fn deactivating_through_the_cakewalk_api_offboards_with_removal_requests() {
    let l = Leaver::start().await;
    let w = &l.w;
    w.deactivate(&l.lee).await;
    l.assert_offboarded().await;

    // Automatic app: removed at once; Manual app: an approved removal waiting for its action.
    assert_eq!(w.holders(&l.auto_app).await, vec![l.ann.clone()]);
    assert_eq!(w.holders(&l.manual_app).await, vec![l.lee.clone()], "until someone acts");
    let removals: Vec<Value> = w
        .requests_about(&l.lee)
        .await
        .into_iter()
        .filter(|r| r["requestType"] == "RemoveAccessRequest")
        .collect();
    assert_eq!(removals.len(), 3, "{removals:?}");
    let manual = removals.iter().find(|r| r["workAppId"] == l.manual_app.as_str()).unwrap();
    assert_eq!(manual["status"], "Approved");
    assert_eq!(manual["createdByUserId"], Value::Null, "made by the offboarding, not a person");
    let action = &manual["tasks"][0];
    assert_eq!((&action["type"], &action["status"]), (&json!("Action"), &json!("Open")));
    assert_eq!(ids(&action["assigneeIds"]), vec![l.admin.clone()], "the app's owner acts");
    let auto = removals.iter().find(|r| r["workAppId"] == l.auto_app.as_str()).unwrap();
    assert_eq!(auto["status"], "Completed");
    // The removal that was already open is kept, not doubled (it follows its policy).
    let open = w.request(&l.open_removal).await;
    assert_eq!(open["status"], "Pending");
    assert_eq!(w.holders(&l.removing_app).await, vec![l.lee.clone()]);
    // Carrying out the Manual app's action removes the last access.
    let path = format!("/api/v1/Tasks/{}/Approve", action["id"].as_str().unwrap());
    w.ok(Method::POST, &path, json!({})).await;
    assert!(w.holders(&l.manual_app).await.is_empty());

    let row = &w.audit("user.offboarded").await[0];
    assert_eq!(row["after"]["leaverAccessAction"], "RemoveAccess");
    assert_eq!(row["after"]["removalRequestsOpened"], 2);
    assert_eq!(row["after"]["requestsCancelled"], 1);
    assert_eq!(row["actorType"], "credential");
    assert_eq!(w.audit("user.deleted").await.len(), 0, "a PATCH records user.updated");
}

#[tokio::test]
async fn deleting_through_the_flashback_api_offboards_and_revoke_at_once_removes_everything() {
    let l = Leaver::start().await;
    let w = &l.w;
    w.settings(json!({ "leaverAccessAction": "RevokeAtOnce" })).await;
    let path = format!("/organization/users/{}", l.lee);
    let (status, body) = send(w.srv.bearer(&w.org.token, Method::DELETE, &path)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    l.assert_offboarded().await;

    for app in [&l.manual_app, &l.removing_app] {
        assert!(w.holders(app).await.is_empty(), "Manual apps too: nobody is asked to act");
    }
    assert_eq!(w.holders(&l.auto_app).await, vec![l.ann.clone()]);
    let removed = w.audit("access.removed").await;
    assert_eq!(removed.len(), 3, "{removed:?}");
    assert!(removed.iter().all(|r| r["before"]["reason"] == "offboarding"));
    // No removal request was opened, and the open one is cancelled: its access is gone.
    assert_eq!(w.request(&l.open_removal).await["status"], "Cancelled");
    let requests = w.requests_about(&l.lee).await;
    assert!(requests.iter().all(|r| r["status"] == "Cancelled"), "{requests:?}");
    let row = &w.audit("user.offboarded").await[0];
    assert_eq!(row["actorType"], "user");
    assert_eq!(row["actorId"], w.org.owner_id.as_str());
    assert_eq!(
        (&row["after"]["accessesRevoked"], &row["after"]["requestsCancelled"]),
        (&json!(3), &json!(2))
    );
    assert_eq!(w.audit("user.deleted").await.len(), 1);
    // Deleting again changes nothing more.
    let (status, _) = send(w.srv.bearer(&w.org.token, Method::DELETE, &path)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(w.audit("user.offboarded").await.len(), 1);
}

#[tokio::test]
async fn offboarding_is_one_transaction_a_failure_midway_changes_nothing() {
    let l = Leaver::start().await;
    let w = &l.w;
    // Make the last write of the offboarding fail: the `user.offboarded` audit row.
    let trigger = match &w.srv.db {
        crate::common::TestDb::Sqlite(_) => {
            vec!["CREATE TRIGGER fail_offboarding BEFORE INSERT ON audit_events
             WHEN NEW.action = 'user.offboarded'
             BEGIN SELECT RAISE(ABORT, 'offboarding refused'); END"
                .to_string()]
        }
        crate::common::TestDb::Postgres { .. } => vec![
            "CREATE FUNCTION fail_offboarding() RETURNS trigger AS $$
             BEGIN RAISE EXCEPTION 'offboarding refused'; END $$ LANGUAGE plpgsql"
                .to_string(),
            "CREATE TRIGGER fail_offboarding BEFORE INSERT ON audit_events FOR EACH ROW
             WHEN (NEW.action = 'user.offboarded') EXECUTE FUNCTION fail_offboarding()"
                .to_string(),
        ],
    };
    for sql in &trigger {
        w.srv.db.execute(sql).await.expect("trigger");
    }
    let (status, _) = w
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{}", l.lee),
            json!({ "statusName": "Deactivated" }),
        )
        .await;
    assert!(status.is_server_error(), "{status}");
    // Nothing happened: the user, the token, the accesses, the requests and tasks are as before.
    let user = w.get(&format!("/api/v1/users/{}", l.lee)).await;
    assert_eq!(user["statusName"], "Active");
    let (status, body) = send(w.srv.bearer(&l.lee_token, Method::GET, "/user/profile")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(w.holders(&l.auto_app).await.len(), 2);
    assert_eq!(w.request(&l.lees_request).await["status"], "Pending");
    assert_eq!(ids(&w.task(&l.anns_task).await["assigneeIds"]), vec![l.lee.clone()]);
    assert!(w.audit("user").await.iter().all(|r| r["action"] != "user.updated"
        || r["targetId"] != l.lee.as_str()
        || r["after"]["statusName"] != "Deactivated"));
    assert!(w.audit("access.removed").await.is_empty());
}

#[tokio::test]
async fn leaving_a_group_requests_removal_of_its_default_apps_unless_another_group_gives_them() {
    let w = World::start().await;
    let owner = w.user("Olga").await;
    let ann = w.user("Ann").await;
    let slack = w.app("Slack", "Automatic", Some(&owner)).await;
    let erp = w.app("ERP", "Manual", Some(&owner)).await;
    let zoom = w.app("Zoom", "Automatic", Some(&owner)).await;
    let eng = w.group("Engineering", &[&slack, &erp, &zoom]).await;
    let all = w.group("Everyone", &[&zoom]).await;
    w.join(&eng, &[&ann]).await;
    w.join(&all, &[&ann]).await;
    // The Manual app's grant needs its action; carry it out.
    let reqs = w.requests_about(&ann).await;
    let erp_req = reqs.iter().find(|r| r["workAppId"] == erp.as_str()).unwrap();
    let path = format!("/api/v1/Tasks/{}/Approve", erp_req["tasks"][0]["id"].as_str().unwrap());
    w.ok(Method::POST, &path, json!({})).await;
    for app in [&slack, &erp, &zoom] {
        assert_eq!(w.holders(app).await, vec![ann.clone()]);
    }

    w.leave(&eng, &ann).await;
    let removals: Vec<Value> = w
        .requests_about(&ann)
        .await
        .into_iter()
        .filter(|r| r["requestType"] == "RemoveAccessRequest")
        .collect();
    let mut apps: Vec<String> =
        removals.iter().map(|r| r["workAppId"].as_str().unwrap().to_string()).collect();
    apps.sort();
    assert_eq!(apps, sorted(vec![slack.clone(), erp.clone()]), "Everyone still gives Zoom");
    for r in &removals {
        // The normal removal flow: the default policy's app-owner review.
        assert_eq!(r["status"], "Pending", "{r}");
        assert_eq!(r["sourceGroupId"], eng.as_str());
        assert_eq!(
            (&r["tasks"][0]["type"], ids(&r["tasks"][0]["assigneeIds"])),
            (&json!("Review"), vec![owner.clone()])
        );
    }
    assert_eq!(w.holders(&slack).await, vec![ann.clone()], "until approved");
    // Approving the ERP removal leads to its action task (Manual app).
    let erp_removal = removals.iter().find(|r| r["workAppId"] == erp.as_str()).unwrap();
    let path = format!("/api/v1/Tasks/{}/Approve", erp_removal["tasks"][0]["id"].as_str().unwrap());
    let decided = w.ok(Method::POST, &path, json!({})).await;
    let request = w.request(erp_removal["id"].as_str().unwrap()).await;
    assert_eq!(request["status"], "Approved", "{decided}");
    assert_eq!(request["tasks"][1]["type"], "Action");

    // Leaving again is 404 and opens nothing; leaving Everyone now removes Zoom.
    let path = format!("{GROUPS}/{eng}/Users/{ann}");
    let (status, body) = send(w.srv.api(&w.org, Method::DELETE, &path)).await;
    assert_problem(status, &body, 404, &path);
    w.leave(&all, &ann).await;
    let zoom_removals = w
        .requests_about(&ann)
        .await
        .into_iter()
        .filter(|r| r["requestType"] == "RemoveAccessRequest" && r["workAppId"] == zoom.as_str())
        .count();
    assert_eq!(zoom_removals, 1);
}

#[tokio::test]
async fn with_keep_leaving_a_group_leaves_accesses_alone() {
    let w = World::start().await;
    w.settings(json!({ "groupLeaveAction": "Keep" })).await;
    let ann = w.user("Ann").await;
    let slack = w.app("Slack", "Automatic", None).await;
    let eng = w.group("Engineering", &[&slack]).await;
    w.join(&eng, &[&ann]).await;
    w.leave(&eng, &ann).await;
    assert_eq!(w.holders(&slack).await, vec![ann.clone()]);
    let requests = w.requests_about(&ann).await;
    assert_eq!(requests.len(), 1, "only the grant: {requests:?}");
    assert_eq!(w.audit("group.member_removed").await.len(), 1);
}

#[tokio::test]
async fn bulk_removal_of_members_is_all_or_nothing() {
    let w = World::start().await;
    let (ann, bob, cat) = (w.user("Ann").await, w.user("Bob").await, w.user("Cat").await);
    let slack = w.app("Slack", "Automatic", None).await;
    let eng = w.group("Engineering", &[&slack]).await;
    w.join(&eng, &[&ann, &bob]).await;
    let group: Uuid = eng.parse().unwrap();
    let [ann_id, bob_id, cat_id] = [&ann, &bob, &cat].map(|u| u.parse::<Uuid>().unwrap());
    let admin = w.ctx(ActorKind::Credential { id: Uuid::now_v7(), access: AccessLevel::ReadWrite });
    // Cat is not a member: nothing changes.
    let err = w.srv.service.remove_group_members(&admin, group, &[ann_id, cat_id]).await;
    assert!(
        matches!(err, Err(portcullis_service::ServiceError::NotFound(ref m)) if m.contains(&cat)),
        "{err:?}"
    );
    assert_eq!(w.get(&format!("{GROUPS}/{eng}")).await["numberOfUsers"], 2);
    let scim = w.scim();
    let out =
        w.srv.service.remove_group_members(&scim, group, &[ann_id, bob_id, ann_id]).await.unwrap();
    assert_eq!((out.removed, out.requests_created), (2, 2));
    assert_eq!(w.get(&format!("{GROUPS}/{eng}")).await["numberOfUsers"], 0);
    let rows = w.audit("group.member_removed").await;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["actorType"] == "scim_token"), "{rows:?}");
}

#[tokio::test]
async fn a_manager_change_moves_open_approval_tasks_and_review_items_to_the_new_manager() {
    let w = World::start().await;
    let (old, new, ann) = (w.user("Olga").await, w.user("Nick").await, w.user("Ann").await);
    w.set_manager(&ann, Some(&old)).await;
    let slack = w.app("Slack", "Automatic", None).await;
    let figma = w.app("Figma", "Automatic", None).await;
    let zoom = w.app("Zoom", "Automatic", None).await;
    w.grant(&slack, &ann).await;
    // Old also approves a task of someone else's request (not moved).
    let bob = w.user("Bob").await;
    w.set_manager(&bob, Some(&old)).await;
    let bobs = w.ask(&bob, &zoom).await;
    let anns = w.ask(&ann, &figma).await;
    let anns_task = anns["tasks"][0]["id"].as_str().unwrap().to_string();
    let body = json!({
        "name": "Q3", "accessReviewType": "Manager", "dueDate": w.srv.timestamp_in(chrono::Duration::days(7)),
        "workAppIds": [slack], "createdByUserId": w.org.owner_id,
    });
    let review = w.ok(Method::POST, "/api/v1/AccessReviews", body).await["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reviewers = || async {
        let items = w.get(&format!("/api/v1/AccessReviews/{review}/Items")).await;
        ids(&items[0]["reviewers"])
    };
    assert_eq!(reviewers().await, vec![old.clone()]);

    w.set_manager(&ann, Some(&new)).await;
    assert_eq!(ids(&w.task(&anns_task).await["assigneeIds"]), vec![new.clone()]);
    assert_eq!(reviewers().await, vec![new.clone()]);
    let bobs_task = bobs["tasks"][0]["id"].as_str().unwrap();
    assert_eq!(ids(&w.task(bobs_task).await["assigneeIds"]), vec![old.clone()], "Bob's stays");
    let moved = w.audit("task.reassigned").await;
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0]["after"]["reason"], "manager changed");
    assert_eq!(w.audit("access_review.item_reassigned").await.len(), 1);

    // No manager any more: the administrators (here the owner) take both.
    w.set_manager(&ann, None).await;
    assert_eq!(ids(&w.task(&anns_task).await["assigneeIds"]), vec![w.org.owner_id.clone()]);
    assert_eq!(reviewers().await, vec![w.org.owner_id.clone()]);
}

#[tokio::test]
async fn no_touch_onboarding_approves_scim_joins_of_joiners_at_once() {
    let w = World::start().await;
    let owner = w.user("Olga").await;
    let mona = w.user("Mona").await;
    let slack = w.app("Slack", "Automatic", Some(&owner)).await;
    let erp = w.app("ERP", "Manual", Some(&owner)).await;
    let eng = w.group("Engineering", &[&slack, &erp]).await;
    let group: Uuid = eng.parse().unwrap();
    let joiner = w.user("Jo").await;
    w.set_manager(&joiner, Some(&mona)).await;
    // Off (the default): a SCIM join follows the policy.
    join(&w, w.scim(), group, &joiner).await;
    assert_eq!(statuses(&w, &slack, &joiner).await, ["erp:Pending", "slack:Pending"]);

    w.settings(json!({ "noTouchOnboarding": true, "joinerWindowHours": 2 })).await;
    let fresh = w.user("Fred").await;
    // A join by an administrator's credential still follows the policy…
    let admin = w.ctx(ActorKind::Credential { id: Uuid::now_v7(), access: AccessLevel::ReadWrite });
    join(&w, admin, group, &fresh).await;
    assert_eq!(statuses(&w, &slack, &fresh).await, ["erp:Pending", "slack:Pending"]);
    // …a SCIM join of a joiner is approved at once: Slack granted, ERP awaiting its action.
    let newbie = w.user("Nina").await;
    let outcome = join(&w, w.scim(), group, &newbie).await;
    assert_eq!(outcome.requests_created, 2);
    assert_eq!(statuses(&w, &slack, &newbie).await, ["erp:Approved", "slack:Completed"]);
    assert!(w.holders(&slack).await.contains(&newbie));
    // …but not of a user created longer ago than the joiner window.
    let veteran = w.user("Vera").await;
    w.srv.clock.advance(chrono::Duration::hours(2));
    join(&w, w.scim(), group, &veteran).await;
    assert_eq!(statuses(&w, &slack, &veteran).await, ["erp:Pending", "slack:Pending"]);
}

/// Adds `user` to `group` through the service as `ctx` (no implicit approval asked for).
async fn join(
    w: &World,
    ctx: Ctx,
    group: Uuid,
    user: &str,
) -> portcullis_service::AddMembersOutcome {
    let id: Uuid = user.parse().unwrap();
    w.srv.service.add_group_members(&ctx, group, &[id], None, false).await.unwrap()
}

/// `app:status` of each request about `user` ("slack" for `slack`, "erp" for the other app).
async fn statuses(w: &World, slack: &str, user: &str) -> Vec<String> {
    let mut s: Vec<String> = w
        .requests_about(user)
        .await
        .iter()
        .map(|r| {
            let app = if r["workAppId"] == slack { "slack" } else { "erp" };
            format!("{app}:{}", r["status"].as_str().unwrap())
        })
        .collect();
    s.sort();
    s
}

#[tokio::test]
async fn administrators_change_the_jml_settings_in_the_console() {
    use crate::console::Console;
    let w = World::start().await;
    let console = Console::new(&w.srv);
    let admin = console.sign_in(&w.org.token).await;
    let page = console.get(&admin, "/admin/settings").send().await.unwrap().text().await.unwrap();
    assert!(page.contains("No-touch onboarding") && page.contains("value=\"24\""), "{page}");
    let csrf = console.csrf(&admin).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("no_touch_onboarding", "true"),
        ("joiner_window_hours", "48"),
        ("group_leave_action", "Keep"),
        ("leaver_access_action", "RevokeAtOnce"),
    ];
    let response = console.post(&admin, "/admin/settings", &form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let data = w.get(SETTINGS).await;
    assert_eq!(
        data,
        json!({
            "allowSameApproverForMultipleSteps": false,
            "noTouchOnboarding": true,
            "joinerWindowHours": 48,
            "groupLeaveAction": "Keep",
            "leaverAccessAction": "RevokeAtOnce",
        })
    );
    // Out of range: refused, nothing saved; without the form token: refused.
    let mut bad = form;
    bad[2] = ("joiner_window_hours", "0");
    let response = console.post(&admin, "/admin/settings", &bad).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    bad[0] = ("csrf", "forged");
    bad[2] = ("joiner_window_hours", "5");
    let response = console.post(&admin, "/admin/settings", &bad).send().await.unwrap();
    assert!(response.status().is_client_error());
    assert_eq!(w.get(SETTINGS).await, data);
    // Not for employees.
    let (_, token) = w.srv.user_with_token(&w.org, "Ann", "User").await;
    let ann = console.sign_in(&token).await;
    let response = console.get(&ann, "/admin/settings").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}
