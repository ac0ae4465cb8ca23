//! Tenant isolation as a property: for random sequences of operations by two organizations, no
//! response to one ever contains an id of the other's rows, and the other's ids answer 404.
use proptest::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{send, Org, TestServer};

#[derive(Debug, Clone)]
enum Op {
    CreateUser,
    CreateApp { levels: bool },
    Grant { app: usize, user: usize },
    CreateGroup,
    AddMember { group: usize, user: usize },
    Request { app: usize, user: usize },
    CreateWebhook,
    CreateCustomField,
    SetCustomFields { app: usize, field: usize },
    ListEverything,
    ProbeForeign { pick: usize },
}

fn op() -> impl Strategy<Value = (bool, Op)> {
    let op = prop_oneof![
        Just(Op::CreateUser),
        any::<bool>().prop_map(|levels| Op::CreateApp { levels }),
        (0usize..8, 0usize..8).prop_map(|(app, user)| Op::Grant { app, user }),
        Just(Op::CreateGroup),
        (0usize..4, 0usize..8).prop_map(|(group, user)| Op::AddMember { group, user }),
        (0usize..8, 0usize..8).prop_map(|(app, user)| Op::Request { app, user }),
        Just(Op::CreateWebhook),
        Just(Op::CreateCustomField),
        (0usize..8, 0usize..4).prop_map(|(app, field)| Op::SetCustomFields { app, field }),
        Just(Op::ListEverything),
        (0usize..64).prop_map(|pick| Op::ProbeForeign { pick }),
    ];
    (any::<bool>(), op)
}

/// What one organization owns, by kind.
#[derive(Default)]
struct Owned {
    users: Vec<String>,
    apps: Vec<(String, Option<String>)>,
    groups: Vec<String>,
    requests: Vec<String>,
    tasks: Vec<String>,
    webhooks: Vec<String>,
    /// Custom fields (Select) with their option ids.
    fields: Vec<(String, Vec<String>)>,
}

impl Owned {
    fn all_ids(&self, org: &Org) -> Vec<String> {
        let mut ids = vec![org.id.clone(), org.owner_id.clone()];
        ids.extend(self.users.iter().cloned());
        ids.extend(self.apps.iter().flat_map(|(a, l)| std::iter::once(a.clone()).chain(l.clone())));
        ids.extend(self.groups.iter().cloned());
        ids.extend(self.requests.iter().cloned());
        ids.extend(self.tasks.iter().cloned());
        ids.extend(self.webhooks.iter().cloned());
        ids.extend(
            self.fields.iter().flat_map(|(f, o)| std::iter::once(f.clone()).chain(o.clone())),
        );
        ids
    }

    /// Paths naming this organization's objects.
    fn object_paths(&self, org: &Org) -> Vec<String> {
        let mut paths = vec![format!("/api/v1/users/{}", org.owner_id)];
        paths.extend(self.users.iter().map(|u| format!("/api/v1/users/{u}")));
        for (a, _) in &self.apps {
            paths.push(format!("/api/v1/WorkApps/{a}"));
            paths.push(format!("/api/v1/WorkApps/{a}/Accesses"));
            paths.push(format!("/api/v1/WorkApps/{a}/PermissionLevels"));
            paths.push(format!("/api/v1/WorkApps/{a}/CustomFields"));
        }
        paths.extend(self.groups.iter().map(|g| format!("/api/v1/UsersGroups/{g}/Users")));
        paths.extend(self.requests.iter().map(|r| format!("/api/v1/Requests/{r}")));
        paths.extend(self.tasks.iter().map(|t| format!("/api/v1/Tasks/{t}")));
        paths.extend(self.webhooks.iter().map(|w| format!("/api/v1/Webhooks/{w}/Deliveries")));
        paths.extend(self.fields.iter().map(|(f, _)| format!("/api/v1/CustomFields/{f}")));
        paths
    }
}

const LISTS: &[&str] = &[
    "/api/v1/users",
    "/api/v1/WorkApps",
    "/api/v1/UsersGroups",
    "/api/v1/Requests",
    "/api/v1/Tasks",
    "/api/v1/Policies",
    "/api/v1/Webhooks",
    "/api/v1/ApiCredentials",
    "/api/v1/AuditLog",
    "/api/v1/CustomFields",
];

async fn run(ops: Vec<(bool, Op)>) -> Result<(), TestCaseError> {
    let srv = TestServer::start().await;
    let orgs = [srv.new_org("Alpha").await, srv.new_org("Beta").await];
    let mut owned = [Owned::default(), Owned::default()];
    let mut n = 0;
    for (second, op) in ops {
        let (me, them) = if second { (1, 0) } else { (0, 1) };
        let org = &orgs[me];
        n += 1;
        let mut bodies: Vec<Value> = Vec::new();
        // The path the caller itself sent (a 404 may echo it): its ids are not a leak.
        let mut echoed: Option<String> = None;
        match op {
            Op::CreateUser => {
                let (_, b) = send(srv.api(org, Method::POST, "/api/v1/users").json(&json!({ "name": format!("U{n}"), "email": format!("u{n}@{}.example", org.id) }))).await;
                if let Some(id) = b["data"]["id"].as_str() {
                    owned[me].users.push(id.to_string());
                }
                bodies.push(b);
            }
            Op::CreateApp { levels } => {
                let (_, b) =
                    send(srv.api(org, Method::POST, "/api/v1/WorkApps").json(
                        &json!({ "name": format!("App {n}"), "provisioningMode": "Automatic" }),
                    ))
                    .await;
                let app = b["data"]["id"].as_str().unwrap_or_default().to_string();
                bodies.push(b);
                let mut level = None;
                if levels {
                    let (_, l) = send(
                        srv.api(
                            org,
                            Method::POST,
                            &format!("/api/v1/WorkApps/{app}/PermissionLevels"),
                        )
                        .json(&json!({ "name": "Member" })),
                    )
                    .await;
                    level = l["data"]["id"].as_str().map(str::to_string);
                    bodies.push(l);
                }
                owned[me].apps.push((app, level));
            }
            Op::Grant { app, user } | Op::Request { app, user }
                if owned[me].apps.is_empty() || owned[me].users.is_empty() =>
            {
                let _ = (app, user);
            }
            Op::Grant { app, user } => {
                let (a, l) = owned[me].apps[app % owned[me].apps.len()].clone();
                let u = owned[me].users[user % owned[me].users.len()].clone();
                let (_, b) = srv
                    .bulk_grant(
                        org,
                        json!([{ "workAppId": a, "userId": u, "permissionLevelId": l }]),
                    )
                    .await;
                bodies.push(b);
            }
            Op::Request { app, user } => {
                let (a, l) = owned[me].apps[app % owned[me].apps.len()].clone();
                let u = owned[me].users[user % owned[me].users.len()].clone();
                let (_, b) =
                    send(srv.api(org, Method::POST, "/api/v1/Requests/GrantAccess").json(
                        &json!({ "workAppId": a, "targetUserId": u, "permissionLevelId": l }),
                    ))
                    .await;
                if let Some(id) = b["data"]["id"].as_str() {
                    owned[me].requests.push(id.to_string());
                    for t in b["data"]["tasks"].as_array().into_iter().flatten() {
                        owned[me].tasks.push(t["id"].as_str().unwrap_or_default().to_string());
                    }
                }
                bodies.push(b);
            }
            Op::CreateGroup => {
                let (_, b) = send(
                    srv.api(org, Method::POST, "/api/v1/UsersGroups")
                        .json(&json!({ "name": format!("G{n}") })),
                )
                .await;
                if let Some(id) = b["data"]["id"].as_str() {
                    owned[me].groups.push(id.to_string());
                }
                bodies.push(b);
            }
            Op::AddMember { group, user } => {
                if !owned[me].groups.is_empty() && !owned[me].users.is_empty() {
                    let g = owned[me].groups[group % owned[me].groups.len()].clone();
                    let u = owned[me].users[user % owned[me].users.len()].clone();
                    let (_, b) = send(
                        srv.api(org, Method::POST, &format!("/api/v1/UsersGroups/{g}/Users"))
                            .json(&json!({ "userIds": [u] })),
                    )
                    .await;
                    bodies.push(b);
                }
            }
            Op::CreateWebhook => {
                let (_, b) = send(srv.api(org, Method::POST, "/api/v1/Webhooks").json(
                    &json!({ "targetUrl": "https://example.com/h", "events": ["access.granted"] }),
                ))
                .await;
                if let Some(id) = b["data"]["id"].as_str() {
                    owned[me].webhooks.push(id.to_string());
                }
                bodies.push(b);
            }
            Op::CreateCustomField => {
                let (_, b) = send(srv.api(org, Method::POST, "/api/v1/CustomFields").json(
                    &json!({ "name": format!("F{n}"), "type": "Select", "options": ["A", "B"] }),
                ))
                .await;
                if let Some(id) = b["data"]["id"].as_str() {
                    let options = b["data"]["options"].as_array().into_iter().flatten();
                    let options = options.filter_map(|o| o["id"].as_str().map(str::to_string));
                    owned[me].fields.push((id.to_string(), options.collect()));
                }
                bodies.push(b);
            }
            Op::SetCustomFields { app, field } => {
                if !owned[me].apps.is_empty() && !owned[me].fields.is_empty() {
                    let (a, _) = owned[me].apps[app % owned[me].apps.len()].clone();
                    let (f, _) = owned[me].fields[field % owned[me].fields.len()].clone();
                    let (_, b) = send(
                        srv.api(org, Method::PATCH, &format!("/api/v1/WorkApps/{a}/CustomFields"))
                            .json(&json!({ "customFields": [{ "id": f, "value": "B" }] })),
                    )
                    .await;
                    bodies.push(b);
                }
            }
            Op::ListEverything => {
                for path in LISTS {
                    let (status, b) = send(srv.api(org, Method::GET, path)).await;
                    prop_assert_eq!(status, StatusCode::OK, "{}", path);
                    bodies.push(b);
                }
                let (_, b) = send(srv.bearer(&org.token, Method::GET, "/organization/users")).await;
                bodies.push(b);
                for path in owned[me].object_paths(org) {
                    let (_, b) = send(srv.api(org, Method::GET, &path)).await;
                    bodies.push(b);
                }
            }
            Op::ProbeForeign { pick } => {
                let paths = owned[them].object_paths(&orgs[them]);
                let path = &paths[pick % paths.len()];
                let (status, b) = send(srv.api(org, Method::GET, path)).await;
                prop_assert_eq!(
                    status,
                    StatusCode::NOT_FOUND,
                    "{} of the other organization",
                    path
                );
                echoed = Some(path.clone());
                bodies.push(b);
            }
        }
        let foreign = owned[them].all_ids(&orgs[them]);
        for body in &bodies {
            let text = body.to_string();
            for id in
                foreign.iter().filter(|id| echoed.as_ref().is_none_or(|p| !p.contains(id.as_str())))
            {
                prop_assert!(
                    !id.is_empty() && !text.contains(id.as_str()),
                    "a response leaked the other organization's id {}: {}",
                    id,
                    text
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 20, ..ProptestConfig::default() })]

    #[test]
    fn no_response_to_one_organization_contains_an_id_of_the_other(ops in proptest::collection::vec(op(), 10..40)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(run(ops))?;
    }
}
