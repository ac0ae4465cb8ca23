//! Input hardening: bounded arrays in request bodies, and identifiers (names, e-mails) that are
//! normalised and free of invisible characters.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{assert_flashback_error, assert_problem, send, TestServer};

/// `(schema, property) → maxItems` of every array property of every request body schema.
fn body_arrays(doc: &Value) -> Vec<(String, String, Option<u64>)> {
    let schemas = &doc["components"]["schemas"];
    let mut bodies = std::collections::BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let content = &op["requestBody"]["content"];
            for media in content.as_object().into_iter().flat_map(|c| c.values()) {
                if let Some(r) = media["schema"]["$ref"].as_str() {
                    bodies.insert(r.trim_start_matches("#/components/schemas/").to_string());
                }
            }
        }
    }
    let mut out = Vec::new();
    for body in bodies {
        let props = schemas[&body]["properties"].as_object().cloned().unwrap_or_default();
        for (name, prop) in props {
            let is_array = match &prop["type"] {
                Value::String(t) => t == "array",
                Value::Array(ts) => ts.iter().any(|t| t == "array"),
                _ => false,
            };
            if is_array {
                out.push((body.clone(), name, prop["maxItems"].as_u64()));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_array_in_a_request_body_is_bounded_and_one_item_too_many_is_400() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (_, doc) = send(srv.client.get(srv.url("/openapi.json"))).await;
    let arrays = body_arrays(&doc);
    assert!(arrays.len() >= 10, "{arrays:?}");
    let unbounded: Vec<_> = arrays.iter().filter(|(_, _, max)| max.is_none()).collect();
    assert!(unbounded.is_empty(), "request body arrays without maxItems: {unbounded:?}");
    let max = |schema: &str, prop: &str| {
        arrays.iter().find(|(s, p, _)| s == schema && p == prop).and_then(|(_, _, m)| *m).unwrap()
            as usize
    };
    // The documented bounds are the rules' bounds.
    assert_eq!(max("BulkAccessBody", "data"), portcullis_domain::workapp::MAX_BULK_GRANT);
    assert_eq!(max("AddUsersBody", "userIds"), portcullis_domain::groups::MAX_GROUP_ADD);
    assert_eq!(max("DefaultWorkAppsBody", "data"), portcullis_domain::workapp::MAX_BULK_GRANT);
    assert_eq!(max("CreatePolicyBody", "steps"), portcullis_domain::governance::MAX_POLICY_STEPS);
    assert_eq!(max("CreateWorkAppBody", "ownerIds"), portcullis_domain::workapp::MAX_APP_OWNERS);
    let select = portcullis_domain::custom_fields::MAX_SELECT_OPTIONS;
    assert_eq!(max("CreateCustomFieldBody", "options"), select);

    // One item over the bound is refused while the body is read, naming the bound.
    let (app, _) = srv.create_app(&org, "Figma", &[]).await;
    let group =
        send(srv.api(&org, Method::POST, "/api/v1/UsersGroups").json(&json!({ "name": "Ops" })))
            .await
            .1["data"]["id"]
            .as_str()
            .unwrap()
            .to_string();
    let id = || uuid::Uuid::now_v7().to_string();
    let ids = |n: usize| (0..n).map(|_| id()).collect::<Vec<_>>();
    let entry = json!({ "workAppId": app, "userId": id() });
    let cases = [
        (
            "/api/v1/WorkApps/Accesses".to_string(),
            Method::POST,
            json!({ "data": vec![entry; max("BulkAccessBody", "data") + 1] }),
        ),
        (
            format!("/api/v1/UsersGroups/{group}/Users"),
            Method::POST,
            json!({ "userIds": ids(max("AddUsersBody", "userIds") + 1) }),
        ),
        (
            "/api/v1/WorkApps".to_string(),
            Method::POST,
            json!({ "name": "X", "ownerIds": ids(max("CreateWorkAppBody", "ownerIds") + 1) }),
        ),
        (
            "/api/v1/Policies".to_string(),
            Method::POST,
            json!({ "name": "P", "requestType": "GrantAccess",
                    "steps": vec![json!({ "approver": "Manager" }); 11] }),
        ),
        (
            "/api/v1/Webhooks".to_string(),
            Method::POST,
            json!({ "targetUrl": "https://h.example/x", "events": vec!["user.created"; 101] }),
        ),
        (
            "/api/v1/CustomFields".to_string(),
            Method::POST,
            json!({ "name": "Tier", "type": "Select",
                    "options": (0..=select).map(|i| format!("o{i}")).collect::<Vec<_>>() }),
        ),
    ];
    for (path, method, body) in cases {
        let (status, problem) = send(srv.api(&org, method, &path).json(&body)).await;
        assert_problem(status, &problem, 400, &path);
        assert!(problem["detail"].as_str().unwrap().contains("at most"), "{path}: {problem}");
    }
}

#[tokio::test]
async fn invisible_characters_are_refused_in_names_and_emails() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let sneaky = [
        ("Ada\u{200B}", "ada1@acme.example"),
        ("Ada", "ada\u{200B}@acme.example"),
        ("Ada", "ada\u{200D}@acme.example"),
        ("Ada \u{202E}ecalevoL", "ada2@acme.example"),
        ("Ada", "\u{202E}moc.emca@ada"),
        ("Ada", "ada@acme\u{2060}.example"),
        ("\u{FEFF}Ada", "ada3@acme.example"),
    ];
    for (name, email) in sneaky {
        let create = json!({ "name": name, "email": email });
        let (status, body) = send(srv.api(&org, Method::POST, "/api/v1/users").json(&create)).await;
        assert_problem(status, &body, 400, "/api/v1/users");
        assert!(body["detail"].as_str().unwrap().contains("invisible"), "{body}");
        let flashback = json!({ "email": email, "firstName": name, "lastName": "L" });
        let (status, body) =
            send(srv.bearer(&org.token, Method::POST, "/organization/users").json(&flashback))
                .await;
        assert_flashback_error(status, &body, 400);
    }
    // Other names too (apps, groups): one rule.
    for (path, body) in [
        ("/api/v1/WorkApps", json!({ "name": "Fig\u{200B}ma" })),
        ("/api/v1/UsersGroups", json!({ "name": "Ops\u{202E}" })),
    ] {
        let (status, problem) = send(srv.api(&org, Method::POST, path).json(&body)).await;
        assert_problem(status, &problem, 400, path);
    }
}

#[tokio::test]
async fn an_address_spelt_with_other_case_or_accent_encoding_is_the_same_address() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let create = |name: &str, email: &str| {
        send(
            srv.api(&org, Method::POST, "/api/v1/users")
                .json(&json!({ "name": name, "email": email })),
        )
    };
    // Stored in NFC: the decomposed spelling comes back precomposed.
    let (status, body) = create("Zoe\u{0301} Roy", "zoe\u{0301}@acme.example").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["email"], "zo\u{e9}@acme.example");
    assert_eq!(body["data"]["name"], "Zo\u{e9} Roy");
    let (status, body) = create("Zoë", "ZO\u{c9}@ACME.EXAMPLE").await;
    assert_problem(status, &body, 409, "/api/v1/users");

    assert_eq!(create("Hans", "stra\u{df}e@acme.example").await.0, StatusCode::CREATED);
    let (status, body) = create("Hans", "STRASSE@acme.example").await;
    assert_problem(status, &body, 409, "/api/v1/users");

    // Look-alike letters of another script are another address (not a normalisation matter).
    assert_eq!(create("Ada", "ad\u{430}@acme.example").await.0, StatusCode::CREATED);
    assert_eq!(create("Ada", "ada@acme.example").await.0, StatusCode::CREATED);
}
