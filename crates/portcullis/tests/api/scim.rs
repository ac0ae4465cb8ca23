//! The SCIM 2.0 service provider at `/scim/v2`: tokens, discovery, and the request sequences
//! Okta and Microsoft Entra ID document for provisioning users and pushing groups.
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};

use crate::common::{send, Org, TestServer};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

struct Scim {
    srv: TestServer,
    org: Org,
    token: String,
}

impl Scim {
    async fn start() -> Self {
        let srv = TestServer::start().await;
        let org = srv.new_org("Acme").await;
        let token = scim_token(&srv, &org).await;
        Self { srv, org, token }
    }

    fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.srv
            .client
            .request(method, self.srv.url(&format!("/scim/v2{path}")))
            .bearer_auth(&self.token)
            .header("content-type", "application/scim+json")
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.req(method, path);
        if let Some(body) = body {
            req = req.body(body.to_string());
        }
        send(req).await
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    async fn create(&self, path: &str, body: Value) -> Value {
        let (status, created) = self.call(Method::POST, path, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "POST {path}: {created}");
        created
    }

    async fn patch(&self, path: &str, operations: Value) -> Value {
        let body = json!({ "schemas": [PATCH], "Operations": operations });
        let (status, patched) = self.call(Method::PATCH, path, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "PATCH {path}: {patched}");
        patched
    }

    /// The user as the Cakewalk API shows it.
    async fn cakewalk_user(&self, id: &str) -> Value {
        let (status, body) =
            send(self.srv.api(&self.org, Method::GET, &format!("/api/v1/users/{id}"))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].clone()
    }

    async fn group_members(&self, group: &str) -> Vec<String> {
        let (status, body) = send(self.srv.api(
            &self.org,
            Method::GET,
            &format!("/api/v1/UsersGroups/{group}/Users"),
        ))
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let mut ids: Vec<String> = body["data"]
            .as_array()
            .expect("members")
            .iter()
            .map(|u| u["id"].as_str().expect("id").to_string())
            .collect();
        ids.sort();
        ids
    }
}

async fn scim_token(srv: &TestServer, org: &Org) -> String {
    let (status, body) =
        send(srv.api(org, Method::POST, "/api/v1/ScimTokens").json(&json!({ "name": "Okta" })))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"]["token"].as_str().expect("token").to_string()
}

fn assert_scim_error(status: StatusCode, body: &Value, expected: u16, scim_type: Option<&str>) {
    assert_eq!(status.as_u16(), expected, "{body}");
    assert_eq!(body["schemas"], json!([ERROR]), "{body}");
    assert_eq!(body["status"], expected.to_string(), "status is a string: {body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    if let Some(t) = scim_type {
        assert_eq!(body["scimType"], t, "{body}");
    }
}

fn okta_user(email: &str, given: &str, family: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": email,
        "name": { "givenName": given, "familyName": family },
        "emails": [{ "primary": true, "value": email, "type": "work" }],
        "displayName": format!("{given} {family}"),
        "locale": "en-US",
        "externalId": format!("00u{}", given.to_lowercase()),
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
}

#[tokio::test]
async fn scim_tokens_are_shown_once_listed_revoked_and_only_open_scim() {
    let s = Scim::start().await;
    assert!(s.token.starts_with("pcs_"), "{}", s.token);
    let (status, list) = send(s.srv.api(&s.org, Method::GET, "/api/v1/ScimTokens")).await;
    assert_eq!(status, StatusCode::OK);
    let listed = &list["data"][0];
    assert_eq!(listed["name"], "Okta");
    assert!(listed.get("token").is_none(), "the value is shown once: {listed}");
    let id = listed["id"].as_str().expect("id").to_string();

    // The SCIM token opens /scim/v2 and nothing else; other credentials do not open /scim/v2.
    assert_eq!(s.call(Method::GET, "/Users", None).await.0, StatusCode::OK);
    let (status, body) = send(s.srv.bearer(&s.token, Method::GET, "/api/v1/users")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = send(s.srv.bearer(&s.org.token, Method::GET, "/scim/v2/Users")).await;
    assert_scim_error(status, &body, 401, None);
    let (status, body) = send(s.srv.client.get(s.srv.url("/scim/v2/Users"))).await;
    assert_scim_error(status, &body, 401, None);

    // Bad bodies and unknown ids are refused with ProblemDetails; nothing is created.
    for body in [json!({}), json!({ "name": "x", "scope": "all" }), json!({ "name": "  " })] {
        let (status, problem) =
            send(s.srv.api(&s.org, Method::POST, "/api/v1/ScimTokens").json(&body)).await;
        crate::common::assert_problem(status, &problem, 400, "/api/v1/ScimTokens");
    }
    let unknown = format!("/api/v1/ScimTokens/{}", uuid::Uuid::now_v7());
    let (status, problem) = send(s.srv.api(&s.org, Method::DELETE, &unknown)).await;
    crate::common::assert_problem(status, &problem, 404, &unknown);
    let (_, list) = send(s.srv.api(&s.org, Method::GET, "/api/v1/ScimTokens")).await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1), "{list}");
    let read_only = s.srv.read_only(&s.org).await;
    let (status, _) = send(
        s.srv.api(&read_only, Method::POST, "/api/v1/ScimTokens").json(&json!({ "name": "x" })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a read-only credential cannot make one");

    // Only administrators manage SCIM tokens.
    let (_, employee) = s.srv.user_with_token(&s.org, "Eve", "User").await;
    let (status, _) = send(s.srv.bearer(&employee, Method::GET, "/api/v1/ScimTokens")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let other = s.srv.new_org("Other").await;
    let (status, _) =
        send(s.srv.api(&other, Method::DELETE, &format!("/api/v1/ScimTokens/{id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another organization's token");

    let path = format!("/api/v1/ScimTokens/{id}");
    let (status, _) = send(s.srv.api(&s.org, Method::DELETE, &path)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = s.call(Method::GET, "/Users", None).await;
    assert_scim_error(status, &body, 401, None);
    let (status, _) = send(s.srv.api(&s.org, Method::DELETE, &path)).await;
    assert_eq!(status, StatusCode::CONFLICT, "already revoked");
}

#[tokio::test]
async fn discovery_describes_what_is_supported() {
    let s = Scim::start().await;
    let config = s.get("/ServiceProviderConfig").await;
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["filter"]["supported"], true);
    assert_eq!(config["bulk"]["supported"], false);
    assert_eq!(config["sort"]["supported"], false);
    assert_eq!(config["authenticationSchemes"][0]["type"], "oauthbearertoken");
    let types = s.get("/ResourceTypes").await;
    let names: Vec<&str> = types["Resources"]
        .as_array()
        .expect("types")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, vec!["User", "Group"]);
    assert_eq!(types["Resources"][0]["schemaExtensions"][0]["schema"], ENTERPRISE);
    let schemas = s.get("/Schemas").await;
    let ids: Vec<&str> = schemas["Resources"]
        .as_array()
        .expect("schemas")
        .iter()
        .filter_map(|t| t["id"].as_str())
        .collect();
    assert!(ids.contains(&USER) && ids.contains(&GROUP) && ids.contains(&ENTERPRISE), "{ids:?}");
    let user = s.get(&format!("/Schemas/{USER}")).await;
    let user_name = user["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .find(|a| a["name"] == "userName")
        .expect("userName");
    assert_eq!(user_name["required"], true);
    assert_eq!(user_name["uniqueness"], "server");
    let (status, body) = s.call(Method::GET, "/Schemas/urn:nope", None).await;
    assert_scim_error(status, &body, 404, None);
}

/// The sequence Okta documents for its SCIM 2.0 provisioning: look the user up by userName,
/// create them, read, update with PUT, deactivate and reactivate with PATCH.
#[tokio::test]
async fn okta_user_provisioning_sequence() {
    let s = Scim::start().await;
    let found = s
        .get("/Users?filter=userName%20eq%20%22ada%40acme.example%22&startIndex=1&count=100")
        .await;
    assert_eq!(found["totalResults"], 0);
    assert_eq!(found["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:ListResponse");

    let created = s.create("/Users", okta_user("ada@acme.example", "Ada", "Lovelace")).await;
    let id = created["id"].as_str().expect("id").to_string();
    assert_eq!(created["userName"], "ada@acme.example");
    assert_eq!(created["active"], true);
    assert_eq!(created["externalId"], "00uada");
    assert_eq!(created["meta"]["resourceType"], "User");
    assert!(created["meta"]["location"]
        .as_str()
        .is_some_and(|l| l.ends_with(&format!("/scim/v2/Users/{id}"))));
    assert!(created.get("password").is_none(), "unpublished attributes are not kept: {created}");
    let user = s.cakewalk_user(&id).await;
    assert_eq!(user["email"], "ada@acme.example");
    assert_eq!(user["name"], "Ada Lovelace");
    assert_eq!(user["statusName"], "Invited", "invited until they sign in");

    let found = s
        .get("/Users?filter=userName%20eq%20%22ADA%40acme.example%22&startIndex=1&count=100")
        .await;
    assert_eq!(found["totalResults"], 1, "userName is case-insensitive");
    assert_eq!(found["Resources"][0]["id"], id.as_str());
    assert_eq!(s.get(&format!("/Users/{id}")).await["name"]["familyName"], "Lovelace");

    // Profile update: Okta PUTs the whole user.
    let mut profile = okta_user("ada@acme.example", "Ada", "King");
    profile["id"] = json!(id);
    let (status, replaced) = s.call(Method::PUT, &format!("/Users/{id}"), Some(profile)).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["name"]["familyName"], "King");
    assert_eq!(s.cakewalk_user(&id).await["name"], "Ada King");

    // Deactivation: the person's tokens stop working at once.
    let token = s.srv.token_for(&s.org, &id).await;
    assert_eq!(send(s.srv.bearer(&token, Method::GET, "/user/profile")).await.0, StatusCode::OK);
    let patched = s
        .patch(&format!("/Users/{id}"), json!([{ "op": "replace", "value": { "active": false } }]))
        .await;
    assert_eq!(patched["active"], false);
    assert_eq!(s.cakewalk_user(&id).await["statusName"], "Deactivated");
    let (status, _) = send(s.srv.bearer(&token, Method::GET, "/user/profile")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let inactive = s.get("/Users?filter=active%20eq%20false").await;
    assert_eq!(inactive["totalResults"], 1);

    let patched = s
        .patch(&format!("/Users/{id}"), json!([{ "op": "replace", "value": { "active": true } }]))
        .await;
    assert_eq!(patched["active"], true);
    assert_ne!(s.cakewalk_user(&id).await["statusName"], "Deactivated");

    // The audit log says the identity provider did it.
    let (_, audit) =
        send(s.srv.api(&s.org, Method::GET, "/api/v1/AuditLog?action=user.created")).await;
    let row = audit["data"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["targetId"] == id.as_str()))
        .unwrap_or_else(|| panic!("no user.created row for {id}: {audit}"));
    assert_eq!(row["actorType"], "scim_token", "{row}");
}

/// Okta's group push: create the group, add and remove members with PATCH, rename it.
#[tokio::test]
async fn okta_group_push_sequence() {
    let s = Scim::start().await;
    let ada = s.create("/Users", okta_user("ada@acme.example", "Ada", "Lovelace")).await;
    let bob = s.create("/Users", okta_user("bob@acme.example", "Bob", "Byte")).await;
    let (ada, bob) = (ada["id"].as_str().expect("id"), bob["id"].as_str().expect("id"));

    let group = s
        .create(
            "/Groups",
            json!({ "schemas": [GROUP], "displayName": "Engineering", "members": [] }),
        )
        .await;
    let gid = group["id"].as_str().expect("id").to_string();
    let path = format!("/Groups/{gid}");
    let patched = s
        .patch(
            &path,
            json!([{ "op": "add", "path": "members", "value": [
                { "value": ada, "display": "ada@acme.example" },
                { "value": bob, "display": "bob@acme.example" }
            ]}]),
        )
        .await;
    assert_eq!(patched["members"].as_array().map(Vec::len), Some(2), "{patched}");
    let mut both = vec![ada.to_string(), bob.to_string()];
    both.sort();
    assert_eq!(s.group_members(&gid).await, both);

    s.patch(&path, json!([{ "op": "remove", "path": format!("members[value eq \"{bob}\"]") }]))
        .await;
    assert_eq!(s.group_members(&gid).await, vec![ada.to_string()]);

    let renamed = s
        .patch(
            &path,
            json!([{ "op": "replace", "value": { "id": gid, "displayName": "Platform" } }]),
        )
        .await;
    assert_eq!(renamed["displayName"], "Platform");
    let found = s.get("/Groups?filter=displayName%20eq%20%22platform%22").await;
    assert_eq!(found["totalResults"], 1);

    // A group the provider manages keeps its name and members out of our own API's reach.
    let (status, body) = send(
        s.srv
            .api(&s.org, Method::PATCH, &format!("/api/v1/UsersGroups/{gid}"))
            .json(&json!({ "name": "Renamed" })),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = send(
        s.srv
            .api(&s.org, Method::POST, &format!("/api/v1/UsersGroups/{gid}/Users"))
            .json(&json!({ "userIds": [bob] })),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let (status, _) = s.call(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = s.call(Method::GET, &path, None).await;
    assert_scim_error(status, &body, 404, None);
}

/// What Microsoft Entra ID sends: PascalCase ops, booleans as strings, the enterprise extension
/// with a manager given as a bare id, members added and removed with value arrays, and users
/// deleted after their soft delete.
#[tokio::test]
async fn entra_id_provisioning_sequence() {
    let s = Scim::start().await;
    let found = s.get("/Users?filter=userName+eq+%22grace%40acme.example%22").await;
    assert_eq!(found["totalResults"], 0);
    let boss = s.create("/Users", okta_user("boss@acme.example", "Bea", "Boss")).await;
    let boss = boss["id"].as_str().expect("id").to_string();
    let created = s
        .create(
            "/Users",
            json!({
                "schemas": [USER, ENTERPRISE],
                "externalId": "grace",
                "userName": "grace@acme.example",
                "active": true,
                "displayName": "Grace Hopper",
                "emails": [{ "primary": true, "type": "work", "value": "grace@acme.example" }],
                "name": { "formatted": "Grace Hopper", "familyName": "Hopper", "givenName": "Grace" },
                "title": "Rear Admiral",
                ENTERPRISE: { "employeeNumber": "1906", "department": "Navy" }
            }),
        )
        .await;
    let id = created["id"].as_str().expect("id").to_string();
    assert_eq!(created[ENTERPRISE]["department"], "Navy");
    assert!(created["schemas"].as_array().is_some_and(|s| s.contains(&json!(ENTERPRISE))));
    let path = format!("/Users/{id}");

    let patched = s
        .patch(
            &path,
            json!([
                { "op": "Replace", "path": "displayName", "value": "Grace B. Hopper" },
                { "op": "Add", "path": "emails[type eq \"work\"].value", "value": "grace@acme.example" },
                { "op": "Replace", "path": format!("{ENTERPRISE}:manager"), "value": boss },
                { "op": "Replace", "path": format!("{ENTERPRISE}:department"), "value": "Computing" }
            ]),
        )
        .await;
    assert_eq!(patched["displayName"], "Grace B. Hopper");
    assert_eq!(patched[ENTERPRISE]["manager"]["value"], boss.as_str());
    assert_eq!(patched[ENTERPRISE]["department"], "Computing");
    assert_eq!(s.cakewalk_user(&id).await["managerId"], boss.as_str());

    s.patch(&path, json!([{ "op": "Remove", "path": format!("{ENTERPRISE}:manager") }])).await;
    assert_eq!(s.cakewalk_user(&id).await["managerId"], Value::Null);

    // Groups: Entra creates them empty, then adds and removes members with value arrays.
    let group = s
        .create("/Groups", json!({ "schemas": [GROUP], "externalId": "g-1", "displayName": "Ops" }))
        .await;
    let gid = group["id"].as_str().expect("id").to_string();
    let gpath = format!("/Groups/{gid}");
    s.patch(&gpath, json!([{ "op": "Add", "path": "members", "value": [{ "value": id }] }])).await;
    assert_eq!(s.group_members(&gid).await, vec![id.clone()]);
    let lean = s.get("/Groups?filter=displayName+eq+%22Ops%22&excludedAttributes=members").await;
    assert_eq!(lean["totalResults"], 1);
    assert!(lean["Resources"][0].get("members").is_none(), "{lean}");
    s.patch(&gpath, json!([{ "op": "Remove", "path": "members", "value": [{ "value": id }] }]))
        .await;
    assert!(s.group_members(&gid).await.is_empty());

    // Soft delete, then delete: the user is deactivated and gone from SCIM.
    let patched =
        s.patch(&path, json!([{ "op": "Replace", "path": "active", "value": "False" }])).await;
    assert_eq!(patched["active"], false);
    let (status, _) = s.call(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = s.call(Method::GET, &path, None).await;
    assert_scim_error(status, &body, 404, None);
    assert_eq!(s.cakewalk_user(&id).await["statusName"], "Deactivated", "the record stays");
    // Provisioning the same person again revives that record.
    let again = s.create("/Users", okta_user("grace@acme.example", "Grace", "Hopper")).await;
    assert_eq!(again["id"], id.as_str());
    assert_eq!(again["active"], true);
}

#[tokio::test]
async fn lists_page_with_start_index_and_count_and_filter_on_the_documented_attributes() {
    let s = Scim::start().await;
    for i in 0..5 {
        s.create("/Users", okta_user(&format!("u{i}@acme.example"), &format!("User{i}"), "Test"))
            .await;
    }
    // The owner made by init is a user too.
    let all = s.get("/Users").await;
    assert_eq!(all["totalResults"], 6);
    let page = s.get("/Users?startIndex=2&count=2").await;
    assert_eq!(page["totalResults"], 6);
    assert_eq!(page["startIndex"], 2);
    assert_eq!(page["itemsPerPage"], 2);
    assert_eq!(page["Resources"][0]["id"], all["Resources"][1]["id"]);
    let counted = s.get("/Users?count=0").await;
    assert_eq!(counted["totalResults"], 6);
    assert_eq!(counted["Resources"], json!([]));

    let cases = [
        ("userName sw \"u1\"", 1),
        // The owner made by init is owner@acme.example.
        ("userName co \"@acme.example\" and not (userName eq \"u0@acme.example\")", 5),
        ("emails.value ew \"acme.example\"", 6),
        ("emails[value eq \"u2@acme.example\"]", 1),
        ("externalId eq \"00uuser3\"", 1),
        ("externalId pr", 5),
        ("userName eq \"u1@acme.example\" or userName eq \"u2@acme.example\"", 2),
        ("displayName eq \"User4 Test\"", 1),
        ("active eq true", 6),
        ("name.givenName eq \"user0\"", 1),
    ];
    // The same query as a POST to /.search (RFC 7644 §3.4.3), per resource type.
    let (status, found) = s
        .call(
            Method::POST,
            "/Users/.search",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": "userName sw \"u\"", "startIndex": 1, "count": 2, "attributes": ["userName"]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["totalResults"], 5);
    assert_eq!(found["itemsPerPage"], 2);
    assert!(found["Resources"][0].get("name").is_none(), "only userName (and id): {found}");
    assert!(found["Resources"][0]["userName"].is_string(), "{found}");
    let (status, body) = s
        .call(
            Method::POST,
            "/Users/.search",
            Some(json!({ "schemas": [], "filter": "userName pr" })),
        )
        .await;
    assert_scim_error(status, &body, 400, Some("invalidSyntax"));
    let (status, body) = s
        .call(
            Method::POST,
            "/.search",
            Some(json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"] })),
        )
        .await;
    assert_scim_error(status, &body, 501, None);

    for (filter, expected) in cases {
        let q: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
        let found = s.get(&format!("/Users?filter={q}")).await;
        assert_eq!(found["totalResults"], expected, "{filter}: {found}");
    }
}

#[tokio::test]
async fn errors_use_the_scim_error_schema() {
    let s = Scim::start().await;
    let (status, body) = s.call(Method::GET, "/Users?filter=userName%20eq", None).await;
    assert_scim_error(status, &body, 400, Some("invalidFilter"));
    let (status, body) = s.call(Method::GET, "/Users?filter=title%20eq%20%22x%22", None).await;
    assert_scim_error(status, &body, 400, Some("invalidFilter"));
    let (status, body) = s.call(Method::GET, "/Users?filtr=userName%20pr", None).await;
    assert_scim_error(status, &body, 400, Some("invalidValue"));
    let (status, body) = s.call(Method::GET, "/Users?count=ten", None).await;
    assert_scim_error(status, &body, 400, Some("invalidValue"));
    let unknown = uuid::Uuid::now_v7();
    let (status, body) = s.call(Method::GET, &format!("/Users/{unknown}"), None).await;
    assert_scim_error(status, &body, 404, None);
    let (status, body) = s.call(Method::GET, "/Users/not-a-uuid", None).await;
    assert_scim_error(status, &body, 404, None);

    let (status, body) = send(s.req(Method::POST, "/Users").body("{ not json")).await;
    assert_scim_error(status, &body, 400, Some("invalidSyntax"));
    let plain = s.srv.client.post(s.srv.url("/scim/v2/Users")).bearer_auth(&s.token);
    let (status, body) = send(plain.header("content-type", "text/plain").body("{}")).await;
    assert_scim_error(status, &body, 415, None);
    let (status, body) = s.call(Method::POST, "/Users", Some(json!({ "schemas": [USER] }))).await;
    assert_scim_error(status, &body, 400, Some("invalidValue"));
    let (status, body) = s
        .call(Method::POST, "/Users", Some(json!({ "schemas": [USER], "userName": "no-mail" })))
        .await;
    assert_scim_error(status, &body, 400, Some("invalidValue"));

    s.create("/Users", okta_user("ada@acme.example", "Ada", "Lovelace")).await;
    let (status, body) =
        s.call(Method::POST, "/Users", Some(okta_user("ADA@acme.example", "Ada", "Again"))).await;
    assert_scim_error(status, &body, 409, Some("uniqueness"));
    s.create("/Groups", json!({ "schemas": [GROUP], "displayName": "Ops" })).await;
    let (status, body) = s
        .call(Method::POST, "/Groups", Some(json!({ "schemas": [GROUP], "displayName": "ops" })))
        .await;
    assert_scim_error(status, &body, 409, Some("uniqueness"));

    // A PATCH without the PatchOp schema, or with a path that names nothing we publish.
    let ada = s.get("/Users?filter=userName%20eq%20%22ada%40acme.example%22").await;
    let id = ada["Resources"][0]["id"].as_str().expect("id").to_string();
    let (status, body) =
        s.call(Method::PATCH, &format!("/Users/{id}"), Some(json!({ "Operations": [] }))).await;
    assert_scim_error(status, &body, 400, None);
    let bad = json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "path": "nickName", "value": "x" }] });
    let (status, body) = s.call(Method::PATCH, &format!("/Users/{id}"), Some(bad)).await;
    assert_scim_error(status, &body, 400, Some("invalidPath"));
    let remove = json!({ "schemas": [PATCH], "Operations": [{ "op": "remove" }] });
    let (status, body) = s.call(Method::PATCH, &format!("/Users/{id}"), Some(remove)).await;
    assert_scim_error(status, &body, 400, Some("noTarget"));

    // The identity provider cannot deactivate the organization's last owner (a conflict, not a
    // uniqueness error); a PUT onto another user's e-mail is one.
    let deactivate = json!({ "schemas": [PATCH], "Operations": [{ "op": "replace", "value": { "active": false } }] });
    let (status, body) =
        s.call(Method::PATCH, &format!("/Users/{}", s.org.owner_id), Some(deactivate)).await;
    assert_scim_error(status, &body, 409, None);
    assert!(body.get("scimType").is_none(), "{body}");
    let bob = s.create("/Users", okta_user("bob@acme.example", "Bob", "Byte")).await;
    let bob = bob["id"].as_str().expect("id").to_string();
    let (status, body) = s
        .call(
            Method::PUT,
            &format!("/Users/{bob}"),
            Some(okta_user("ada@acme.example", "Bob", "Byte")),
        )
        .await;
    assert_scim_error(status, &body, 409, Some("uniqueness"));
}

#[tokio::test]
async fn another_organizations_directory_is_invisible() {
    let s = Scim::start().await;
    let other = s.srv.new_org("Other").await;
    let stranger = s.srv.create_user(&other, "Stan Ger", "stan@other.example", "User").await;
    let (status, body) = s.call(Method::GET, &format!("/Users/{stranger}"), None).await;
    assert_scim_error(status, &body, 404, None);
    let q = "/Users?filter=userName%20eq%20%22stan%40other.example%22";
    assert_eq!(s.get(q).await["totalResults"], 0);
    let (status, body) = s
        .call(
            Method::POST,
            "/Groups",
            Some(json!({ "schemas": [GROUP], "displayName": "Mixed", "members": [{ "value": stranger }] })),
        )
        .await;
    assert_scim_error(status, &body, 400, Some("invalidValue"));
    let (status, body) = s
        .call(Method::PATCH, &format!("/Users/{stranger}"), Some(json!({
            "schemas": [PATCH], "Operations": [{ "op": "replace", "value": { "active": false } }]
        })))
        .await;
    assert_scim_error(status, &body, 404, None);
    let (status, _) = s.call(Method::DELETE, &format!("/Users/{stranger}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Joiners and leavers pushed by the identity provider: with no-touch onboarding a new user who
/// joins a group over SCIM holds its default apps at once (a user created long ago gets a
/// request instead), and `active: false` offboards them (here: revoked at once).
#[tokio::test]
async fn scim_joiners_get_default_apps_and_leavers_lose_their_accesses() {
    let s = Scim::start().await;
    let api =
        |method: Method, path: &str, body: Value| send(s.srv.api(&s.org, method, path).json(&body));
    let (status, body) = api(
        Method::PATCH,
        "/api/v1/OrganizationSettings",
        json!({ "noTouchOnboarding": true, "leaverAccessAction": "RevokeAtOnce" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let slack = s
        .srv
        .create_app_with(&s.org, json!({ "name": "Slack", "provisioningMode": "Automatic" }), &[])
        .await
        .0;
    let group = s.create("/Groups", json!({ "schemas": [GROUP], "displayName": "Eng" })).await;
    let gid = group["id"].as_str().expect("id").to_string();
    // Default apps of a provider-managed group stay ours to set.
    let (status, body) = api(
        Method::PUT,
        &format!("/api/v1/UsersGroups/{gid}/DefaultWorkApps"),
        json!({ "data": [{ "workAppId": slack }] }),
    )
    .await;
    assert!(status.is_success(), "{body}");

    let veteran = s.create("/Users", okta_user("vera@acme.example", "Vera", "Veteran")).await;
    let veteran = veteran["id"].as_str().expect("id").to_string();
    s.srv.clock.advance(chrono::Duration::hours(48));
    let joiner = s.create("/Users", okta_user("joe@acme.example", "Joe", "Joiner")).await;
    let joiner = joiner["id"].as_str().expect("id").to_string();
    s.patch(
        &format!("/Groups/{gid}"),
        json!([{ "op": "add", "path": "members", "value": [{ "value": joiner }, { "value": veteran }] }]),
    )
    .await;
    let holders: Vec<String> = s
        .srv
        .accesses(&s.org, &slack)
        .await
        .iter()
        .filter_map(|a| a["user"]["id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(holders, vec![joiner.clone()], "only the joiner is approved at once");
    let (_, requests) =
        send(s.srv.api(&s.org, Method::GET, &format!("/api/v1/Requests?targetUserId={veteran}")))
            .await;
    assert_eq!(requests["data"].as_array().map(Vec::len), Some(1), "{requests}");
    assert_ne!(requests["data"][0]["status"], "Completed", "{requests}");

    s.patch(
        &format!("/Users/{joiner}"),
        json!([{ "op": "replace", "value": { "active": false } }]),
    )
    .await;
    assert!(s.srv.accesses(&s.org, &slack).await.is_empty(), "the leaver's access is revoked");
    let (_, audit) =
        send(s.srv.api(&s.org, Method::GET, "/api/v1/AuditLog?action=user.offboarded")).await;
    let row = &audit["data"][0];
    assert_eq!(row["targetId"], joiner.as_str(), "{audit}");
    assert_eq!(row["actorType"], "scim_token", "{audit}");
}
