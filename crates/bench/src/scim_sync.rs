//! scim-sync: an identity provider's first sync over `/scim/v2` — users created one `POST` at a
//! time, then groups with their members — by one client and by 8 concurrent clients, and the
//! latency of a `userName eq` lookup at that size. The lookup's baseline is a SCIM request that
//! reads nothing (`ServiceProviderConfig`) on the same server.
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::json;

use crate::harness::{report, Server};

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const LOOKUPS: usize = 2_000;

struct Target {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Target {
    async fn start() -> (Server, Target) {
        let server = Server::start().await;
        let issued = server
            .service
            .issue_scim_token_for_org(server.org.organization_id, "bench")
            .await
            .expect("SCIM token");
        let target = Target {
            base: format!("{}/scim/v2", server.base),
            token: issued.value,
            client: reqwest::Client::new(),
        };
        (server, target)
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = response.status();
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(status.as_u16(), 201, "POST {path}: {body}");
        body
    }

    async fn get_ms(&self, path: &str) -> f64 {
        let started = Instant::now();
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request");
        assert!(response.status().is_success(), "GET {path}: {}", response.status());
        response.bytes().await.expect("body");
        started.elapsed().as_secs_f64() * 1e3
    }
}

fn user(i: usize) -> serde_json::Value {
    json!({
        "schemas": [USER_URN],
        "userName": format!("user{i}@sync.bench.example"),
        "externalId": format!("00u{i}"),
        "name": { "givenName": format!("User{i}"), "familyName": "Bench" },
        "emails": [{ "value": format!("user{i}@sync.bench.example"), "type": "work", "primary": true }],
        "active": true
    })
}

/// Creates `users` users then `groups` groups (each with an equal share of the users as members)
/// with `clients` concurrent clients; returns the wall time and the users' ids.
async fn sync(
    target: &Target,
    users: usize,
    groups: usize,
    clients: usize,
) -> (Duration, Vec<String>) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let target = Target {
            base: target.base.clone(),
            token: target.token.clone(),
            client: target.client.clone(),
        };
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in (c..users).step_by(clients) {
                let created = target.post("/Users", user(i)).await;
                ids.push(created["id"].as_str().expect("id").to_string());
            }
            ids
        }));
    }
    let mut ids = Vec::with_capacity(users);
    for task in tasks {
        ids.extend(task.await.expect("task"));
    }
    let per_group = (ids.len() / groups.max(1)).max(1);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let target = Target {
            base: target.base.clone(),
            token: target.token.clone(),
            client: target.client.clone(),
        };
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            for g in (c..groups).step_by(clients) {
                let members: Vec<_> = ids
                    .iter()
                    .skip(g * per_group)
                    .take(per_group)
                    .map(|id| json!({ "value": id }))
                    .collect();
                target
                    .post("/Groups", json!({ "schemas": [GROUP_URN], "displayName": format!("Group {g}"), "members": members }))
                    .await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    (started.elapsed(), ids)
}

fn p(histogram: &Histogram<u64>, q: f64) -> f64 {
    histogram.value_at_quantile(q) as f64 / 1e3
}

pub async fn run(users: usize, groups: usize) {
    for clients in [1, 8] {
        let (_server, target) = Target::start().await;
        let (took, ids) = sync(&target, users, groups, clients).await;
        report(
            &format!("scim-sync-{users}-users-{groups}-groups-{clients}-clients"),
            took.as_secs_f64(),
            "s",
            None,
        );
        report(
            &format!("scim-sync-resources-per-second-{clients}-clients"),
            (users + groups) as f64 / took.as_secs_f64(),
            "resources/s",
            None,
        );
        if clients == 1 {
            let mut lookups = Histogram::<u64>::new(3).expect("histogram");
            let mut baseline = Histogram::<u64>::new(3).expect("histogram");
            for n in 0..LOOKUPS {
                let i = (n * 7919) % ids.len().max(1);
                let filter = format!("userName%20eq%20%22user{i}%40sync.bench.example%22");
                let ms = target.get_ms(&format!("/Users?filter={filter}")).await;
                lookups.record((ms * 1e3) as u64).expect("record");
                let ms = target.get_ms("/ServiceProviderConfig").await;
                baseline.record((ms * 1e3) as u64).expect("record");
            }
            report(
                &format!("scim-lookup-username-eq-p50-at-{users}"),
                p(&lookups, 0.5),
                "ms",
                Some(p(&baseline, 0.5)),
            );
            report(
                &format!("scim-lookup-username-eq-p99-at-{users}"),
                p(&lookups, 0.99),
                "ms",
                Some(p(&baseline, 0.99)),
            );
        }
    }
}
