//! Custom fields: `/api/v1/CustomFields` (definitions, an extension) and Cakewalk's
//! `/api/v1/WorkApps/{workAppId}/CustomFields` (a work app's values), with every error path.
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{assert_problem, send, Org, TestServer};

const FIELDS: &str = "/api/v1/CustomFields";

fn app_fields(app: &str) -> String {
    format!("/api/v1/WorkApps/{app}/CustomFields")
}

fn field_path(id: &str) -> String {
    format!("{FIELDS}/{id}")
}

/// Creates a field; returns its `data`.
async fn create_field(srv: &TestServer, org: &Org, body: Value) -> Value {
    let (status, created) = send(srv.api(org, Method::POST, FIELDS).json(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{body} → {created}");
    created["data"].clone()
}

/// One field of each type; returns them by type name (Select: "Low", "High").
async fn one_field_of_each_type(
    srv: &TestServer,
    org: &Org,
) -> std::collections::HashMap<String, Value> {
    let mut out = std::collections::HashMap::new();
    for t in ["Text", "Number", "Date", "Boolean", "Url", "Select", "Person"] {
        let mut body = json!({ "name": format!("{t} field"), "type": t, "required": false });
        if t == "Select" {
            body["options"] = json!(["Low", "High"]);
        }
        out.insert(t.to_string(), create_field(srv, org, body).await);
    }
    out
}

async fn patch_values(
    srv: &TestServer,
    org: &Org,
    app: &str,
    entries: Value,
) -> (StatusCode, Value) {
    send(srv.api(org, Method::PATCH, &app_fields(app)).json(&json!({ "customFields": entries })))
        .await
}

/// Sets values, expecting 200; returns the answered list.
async fn set_values(srv: &TestServer, org: &Org, app: &str, entries: Value) -> Vec<Value> {
    let (status, body) = patch_values(srv, org, app, entries).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().expect("data").clone()
}

/// A server, an organization, and its `Select` field "Tier" (options "Low", "High").
async fn with_tier_field() -> (TestServer, Org, Value) {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let tier = create_field(
        &srv,
        &org,
        json!({ "name": "Tier", "type": "Select", "options": ["Low", "High"] }),
    )
    .await;
    (srv, org, tier)
}

/// The app's fields, as `GET /WorkApps/{id}/CustomFields` lists them.
async fn listed(srv: &TestServer, org: &Org, app: &str) -> Vec<Value> {
    let (status, body) = send(srv.api(org, Method::GET, &app_fields(app))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().expect("data").clone()
}

/// The listed entry of one field.
fn entry<'a>(list: &'a [Value], field: &Value) -> &'a Value {
    list.iter().find(|e| e["id"] == field["id"]).unwrap_or_else(|| panic!("{field} in {list:?}"))
}

/// Audit rows whose action starts with `prefix`, oldest first.
async fn audit(srv: &TestServer, org: &Org, prefix: &str) -> Vec<Value> {
    let (status, body) =
        send(srv.api(org, Method::GET, &format!("/api/v1/AuditLog?action={prefix}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().expect("data").clone()
}

/// A read-only credential of the organization.
async fn read_only(srv: &TestServer, org: &Org) -> Org {
    let (status, body) = send(
        srv.api(org, Method::POST, "/api/v1/ApiCredentials")
            .json(&json!({ "name": "reporting", "accessLevel": "ReadOnly" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Org {
        key: body["data"]["apiKey"].as_str().expect("key").to_string(),
        secret: body["data"]["apiSecret"].as_str().expect("secret").to_string(),
        ..org.clone()
    }
}

#[tokio::test]
async fn post_custom_fields_creates_fields_of_every_type_and_lists_them() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (status, body) = send(srv.api(&org, Method::POST, FIELDS).json(&json!({
        "name": " Risk tier ", "type": "select", "required": true, "options": ["Low", "High", "Critical"]
    })))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let tier = &body["data"];
    let id = tier["id"].as_str().unwrap();
    assert_eq!(body["links"]["self"], field_path(id));
    assert_eq!(tier["name"], "Risk tier", "names are trimmed");
    assert_eq!(tier["type"], "Select", "types are case-insensitive on input, canonical on output");
    assert_eq!(tier["required"], true);
    let options = tier["options"].as_array().unwrap();
    let labels: Vec<&str> = options.iter().map(|o| o["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["Low", "High", "Critical"], "options keep their order");
    let option_ids: std::collections::HashSet<&str> =
        options.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(option_ids.len(), 3, "each option has its own id");
    for key in ["id", "name", "type", "required", "options", "createdAt", "updatedAt"] {
        assert!(tier.get(key).is_some(), "missing {key}: {tier}");
    }

    // `required` defaults to false; the other types have no options.
    let mut ids = vec![id.to_string()];
    for t in ["Text", "Number", "Date", "Boolean", "Url", "Person"] {
        let field = create_field(&srv, &org, json!({ "name": t, "type": t })).await;
        assert_eq!(field["type"], t);
        assert_eq!(field["required"], false);
        assert_eq!(field["options"], json!([]));
        ids.push(field["id"].as_str().unwrap().to_string());
    }

    let (status, list) = send(srv.api(&org, Method::GET, FIELDS)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let listed: Vec<&str> =
        list["data"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(listed, ids, "oldest first");
    assert_eq!(list["links"]["self"], FIELDS);
    assert!(list["links"].get("next").is_none(), "one page: {list}");

    // One field by id; the path is matched case-insensitively like every Cakewalk route.
    let (status, got) =
        send(srv.api(&org, Method::GET, &format!("/API/V1/customfields/{id}"))).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["data"], *tier);
    assert_eq!(got["links"]["self"], field_path(id));
}

#[tokio::test]
async fn post_custom_fields_answers_400_for_bad_bodies_and_409_for_a_taken_name() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    create_field(&srv, &org, json!({ "name": "Cost centre", "type": "Text" })).await;
    let cases = [
        (json!({ "name": "X", "type": "Text", "colour": "red" }), 400, "unknown property"),
        (json!({ "type": "Text" }), 400, "missing name"),
        (json!({ "name": "X" }), 400, "missing type"),
        (json!({ "name": "  ", "type": "Text" }), 400, "blank name"),
        (json!({ "name": "X", "type": "Money" }), 400, "unknown type"),
        (json!({ "name": "X", "type": "Text", "required": "yes" }), 400, "required not a boolean"),
        (json!({ "name": "X", "type": "Select" }), 400, "Select without options"),
        (json!({ "name": "X", "type": "Select", "options": [] }), 400, "Select with no options"),
        (json!({ "name": "X", "type": "Select", "options": ["A", "a"] }), 400, "duplicate labels"),
        (json!({ "name": "X", "type": "Select", "options": ["A", ""] }), 400, "blank label"),
        (json!({ "name": "X", "type": "Text", "options": ["A"] }), 400, "options on Text"),
        (json!({ "name": "X", "type": "Person", "options": [] }), 400, "options on Person"),
        (
            json!({ "name": "COST CENTRE ", "type": "Number" }),
            409,
            "name taken, case-insensitively",
        ),
    ];
    for (payload, code, why) in cases {
        let (status, body) = send(srv.api(&org, Method::POST, FIELDS).json(&payload)).await;
        assert_eq!(status.as_u16(), code, "{why}: {body}");
        assert_problem(status, &body, code, FIELDS);
    }
    let (_, list) = send(srv.api(&org, Method::GET, FIELDS)).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "nothing refused was created");
}

#[tokio::test]
async fn post_custom_fields_answers_409_beyond_one_hundred_fields() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    for i in 0..100 {
        create_field(&srv, &org, json!({ "name": format!("Field {i}"), "type": "Text" })).await;
    }
    let (status, body) = send(
        srv.api(&org, Method::POST, FIELDS)
            .json(&json!({ "name": "One too many", "type": "Text" })),
    )
    .await;
    assert_problem(status, &body, 409, FIELDS);
    assert!(body["detail"].as_str().unwrap().contains("100"), "{body}");
    // Every field of the organization fits one page of a work app's list.
    let (app, _) = srv.create_app(&org, "Slack", &[]).await;
    let (status, page) = send(srv.api(&org, Method::GET, &app_fields(&app))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["data"].as_array().unwrap().len(), 100);
    assert!(page["links"].get("next").is_none(), "{}", page["links"]);
}

#[tokio::test]
async fn patch_custom_field_renames_requires_and_edits_options_keeping_their_ids() {
    let (srv, org, tier) = with_tier_field().await;
    create_field(&srv, &org, json!({ "name": "Owner", "type": "Person" })).await;
    let id = tier["id"].as_str().unwrap();
    let (low, high) = (tier["options"][0]["id"].clone(), tier["options"][1]["id"].clone());
    let (app, _) = srv.create_app(&org, "Slack", &[]).await;
    set_values(&srv, &org, &app, json!([{ "id": id, "value": "High" }])).await;

    // Rename the field, require it, rename "High" by id, keep "Low" by label, add "Medium".
    let path = field_path(id);
    let (status, body) = send(srv.api(&org, Method::PATCH, &path).json(&json!({
        "name": "Risk tier",
        "required": true,
        "options": ["low", { "id": high, "label": "Severe" }, "Medium"],
    })))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    assert_eq!(data["name"], "Risk tier");
    assert_eq!(data["required"], true);
    assert_eq!(data["type"], "Select");
    let options = data["options"].as_array().unwrap();
    assert_eq!(options[0], json!({ "id": low, "label": "low" }), "kept by label, new spelling");
    assert_eq!(options[1], json!({ "id": high, "label": "Severe" }), "renamed by id");
    assert_eq!(options[2]["label"], "Medium");
    assert!(options[2]["id"] != low && options[2]["id"] != high, "a new option, a new id");
    assert!(data["updatedAt"].as_str().unwrap() >= tier["updatedAt"].as_str().unwrap());
    assert_eq!(body["links"]["self"], path);

    // The app's value follows the renamed option.
    let list = listed(&srv, &org, &app).await;
    let value = entry(&list, data);
    assert_eq!(value["name"], "Risk tier");
    assert_eq!(value["required"], true);
    assert_eq!(value["value"], "Severe");
    assert_eq!(value["guidValue"], high);

    // Absent properties are left alone; an empty body changes nothing.
    let (status, same) = send(srv.api(&org, Method::PATCH, &path).json(&json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{same}");
    assert_eq!(same["data"], *data);

    // Errors: a taken name (409), unknown property, options on another type, unknown option id,
    // bad type (400), unknown field (404).
    let cases = [
        (json!({ "name": "OWNER" }), 409),
        (json!({ "colour": "red" }), 400),
        (json!({ "options": [{ "id": high, "label": "X", "colour": "red" }] }), 400),
        (json!({ "options": [{ "id": uuid::Uuid::now_v7(), "label": "X" }] }), 400),
        (json!({ "options": [] }), 400),
        (json!({ "type": "Money" }), 400),
        (json!({ "name": "" }), 400),
    ];
    for (payload, code) in cases {
        let (status, body) = send(srv.api(&org, Method::PATCH, &path).json(&payload)).await;
        assert_problem(status, &body, code, &path);
    }
    let ghost = field_path(&uuid::Uuid::now_v7().to_string());
    let (status, body) =
        send(srv.api(&org, Method::PATCH, &ghost).json(&json!({ "name": "X" }))).await;
    assert_problem(status, &body, 404, &ghost);
    let (_, after) = send(srv.api(&org, Method::GET, &path)).await;
    assert_eq!(after["data"], *data, "refused patches changed nothing");
}

#[tokio::test]
async fn patch_custom_field_type_answers_409_while_work_apps_have_values() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let field = create_field(&srv, &org, json!({ "name": "Cost", "type": "Number" })).await;
    let id = field["id"].as_str().unwrap();
    let path = field_path(id);
    let (app, _) = srv.create_app(&org, "Slack", &[]).await;
    set_values(&srv, &org, &app, json!([{ "id": id, "value": "12" }])).await;

    let (status, body) =
        send(srv.api(&org, Method::PATCH, &path).json(&json!({ "type": "Text" }))).await;
    assert_problem(status, &body, 409, &path);
    // The same type again is not a change.
    let (status, body) =
        send(srv.api(&org, Method::PATCH, &path).json(&json!({ "type": "number" }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Once no app has a value, the type may change; to Select only with options.
    set_values(&srv, &org, &app, json!([{ "id": id, "value": null }])).await;
    let (status, body) =
        send(srv.api(&org, Method::PATCH, &path).json(&json!({ "type": "Select" }))).await;
    assert_problem(status, &body, 400, &path);
    let (status, body) = send(
        srv.api(&org, Method::PATCH, &path)
            .json(&json!({ "type": "Select", "options": ["S", "M", "L"] })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["type"], "Select");
    assert_eq!(body["data"]["options"].as_array().unwrap().len(), 3);
    // Leaving Select drops the options.
    let (status, body) =
        send(srv.api(&org, Method::PATCH, &path).json(&json!({ "type": "Text" }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["options"], json!([]));
}

#[tokio::test]
async fn patch_custom_field_answers_409_when_a_removed_option_is_in_use() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let field = create_field(
        &srv,
        &org,
        json!({ "name": "Tier", "type": "Select", "options": ["Low", "High", "Spare"] }),
    )
    .await;
    let id = field["id"].as_str().unwrap();
    let path = field_path(id);
    let (app, _) = srv.create_app(&org, "Slack", &[]).await;
    set_values(&srv, &org, &app, json!([{ "id": id, "value": "High" }])).await;

    let (status, body) =
        send(srv.api(&org, Method::PATCH, &path).json(&json!({ "options": ["Low", "Spare"] })))
            .await;
    assert_problem(status, &body, 409, &path);
    assert!(body["detail"].as_str().unwrap().contains("High"), "{body}");
    // An unused option may go.
    let (status, body) =
        send(srv.api(&org, Method::PATCH, &path).json(&json!({ "options": ["Low", "High"] })))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["options"].as_array().unwrap().len(), 2);
    assert_eq!(entry(&listed(&srv, &org, &app).await, &field)["value"], "High");
}

#[tokio::test]
async fn delete_custom_field_removes_it_and_every_app_value_in_one_go() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let cost =
        create_field(&srv, &org, json!({ "name": "Cost", "type": "Number", "required": true }))
            .await;
    let note = create_field(&srv, &org, json!({ "name": "Note", "type": "Text" })).await;
    let (slack, _) = srv.create_app(&org, "Slack", &[]).await;
    let (zoom, _) = srv.create_app(&org, "Zoom", &[]).await;
    for app in [&slack, &zoom] {
        set_values(
            &srv,
            &org,
            app,
            json!([
                { "id": cost["id"], "value": "10" }, { "id": note["id"], "value": "keep" },
            ]),
        )
        .await;
    }
    let path = field_path(cost["id"].as_str().unwrap());
    let (status, body) = send(srv.api(&org, Method::DELETE, &path)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(body, Value::Null, "204 has no body");

    let (status, body) = send(srv.api(&org, Method::GET, &path)).await;
    assert_problem(status, &body, 404, &path);
    let (status, body) = send(srv.api(&org, Method::DELETE, &path)).await;
    assert_problem(status, &body, 404, &path);
    for app in [&slack, &zoom] {
        let list = listed(&srv, &org, app).await;
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(entry(&list, &note)["value"], "keep", "other fields' values stay");
        let (_, view) = send(srv.api(&org, Method::GET, &format!("/api/v1/WorkApps/{app}"))).await;
        let map = view["data"]["customFields"].as_object().unwrap();
        assert_eq!(map.keys().collect::<Vec<_>>(), [note["id"].as_str().unwrap()]);
    }
    // The name is free again, and the audit row says how many values went.
    create_field(&srv, &org, json!({ "name": "cost", "type": "Text" })).await;
    let rows = audit(&srv, &org, "custom_field.deleted").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["targetId"], cost["id"]);
    assert_eq!(rows[0]["before"]["name"], "Cost");
    assert_eq!(rows[0]["before"]["valuesRemoved"], 2);
}

#[tokio::test]
async fn get_work_app_custom_fields_lists_every_field_with_its_value_or_null() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (app, _) = srv.create_app(&org, "Slack", &[]).await;
    let path = app_fields(&app);
    let (status, empty) = send(srv.api(&org, Method::GET, &path)).await;
    assert_eq!(status, StatusCode::OK, "{empty}");
    assert_eq!(empty, json!({ "data": [], "links": { "self": path } }));

    let budget =
        create_field(&srv, &org, json!({ "name": "Budget", "type": "Number", "required": true }))
            .await;
    let docs = create_field(&srv, &org, json!({ "name": "Docs", "type": "Url" })).await;
    set_values(&srv, &org, &app, json!([{ "id": budget["id"], "value": "1200.50" }])).await;

    let (status, body) = send(srv.api(&org, Method::GET, &path)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["links"]["self"], path);
    assert_eq!(
        body["data"],
        json!([
            { "id": budget["id"], "name": "Budget", "type": "Number", "required": true, "value": "1200.50", "guidValue": null },
            { "id": docs["id"], "name": "Docs", "type": "Url", "required": false, "value": null, "guidValue": null },
        ]),
        "WorkAppCustomFieldViewModelV1 is closed: exactly these six properties"
    );
    // Every app lists every field; the path is case-insensitive.
    let (other, _) = srv.create_app(&org, "Zoom", &[]).await;
    let (status, body) =
        send(srv.api(&org, Method::GET, &format!("/api/v1/workapps/{other}/customfields"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert!(body["data"].as_array().unwrap().iter().all(|f| f["value"].is_null()));

    let ghost = app_fields(&uuid::Uuid::now_v7().to_string());
    let (status, body) = send(srv.api(&org, Method::GET, &ghost)).await;
    assert_problem(status, &body, 404, &ghost);
    let bad_cursor = format!("{path}?cursor=!!!");
    let (status, body) = send(srv.api(&org, Method::GET, &bad_cursor)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn patch_work_app_custom_fields_sets_a_value_of_every_type() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let ada = srv.create_user(&org, "Ada", "Ada@Acme.example", "User").await;
    let grace = srv.create_user(&org, "Grace", "grace@acme.example", "User").await;
    let f = one_field_of_each_type(&srv, &org).await;
    let high = f["Select"]["options"][1]["id"].as_str().unwrap().to_string();
    let (app, _) = srv.create_app(&org, "Slack", &[]).await;

    let (status, body) = patch_values(
        &srv,
        &org,
        &app,
        json!([
            { "id": f["Text"]["id"], "value": "  Cost centre 42  " },
            { "id": f["Number"]["id"], "value": "-12.50" },
            { "id": f["Date"]["id"], "value": "2026-01-31" },
            { "id": f["Boolean"]["id"], "value": "TRUE" },
            { "id": f["Url"]["id"], "value": "https://wiki.acme.example/slack" },
            { "id": f["Select"]["id"], "value": "high" },
            { "id": f["Person"]["id"], "value": "ada@acme.EXAMPLE" },
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The answer is what GET answers: every field with the app's values.
    assert_eq!(body["links"]["self"], app_fields(&app));
    let got = body["data"].as_array().unwrap().clone();
    assert_eq!(got, listed(&srv, &org, &app).await);
    let shown = |t: &str| {
        let e = entry(&got, &f[t]);
        (e["value"].clone(), e["guidValue"].clone())
    };
    assert_eq!(shown("Text"), (json!("Cost centre 42"), Value::Null), "trimmed");
    assert_eq!(shown("Number"), (json!("-12.50"), Value::Null), "kept as written");
    assert_eq!(shown("Date"), (json!("2026-01-31"), Value::Null));
    assert_eq!(shown("Boolean"), (json!("true"), Value::Null), "canonical spelling");
    assert_eq!(shown("Url"), (json!("https://wiki.acme.example/slack"), Value::Null));
    assert_eq!(shown("Select"), (json!("High"), json!(high)), "the option's label and id");
    assert_eq!(
        shown("Person"),
        (json!("Ada@Acme.example"), json!(ada)),
        "the user's e-mail and id"
    );

    // By option id and by user id; a date-time; values are replaced.
    let (status, body) = patch_values(
        &srv,
        &org,
        &app,
        json!([
            { "id": f["Select"]["id"], "value": f["Select"]["options"][0]["id"] },
            { "id": f["Person"]["id"], "value": grace },
            { "id": f["Date"]["id"], "value": "2026-01-31T09:30:00+02:00" },
            { "id": f["Number"]["id"], "value": "1e6" },
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let got = body["data"].as_array().unwrap().clone();
    assert_eq!((entry(&got, &f["Select"])["value"].clone()), json!("Low"));
    assert_eq!(entry(&got, &f["Select"])["guidValue"], f["Select"]["options"][0]["id"]);
    assert_eq!(entry(&got, &f["Person"])["value"], "grace@acme.example");
    assert_eq!(entry(&got, &f["Person"])["guidValue"], grace.as_str());
    assert_eq!(entry(&got, &f["Date"])["value"], "2026-01-31T09:30:00+02:00");
    assert_eq!(entry(&got, &f["Number"])["value"], "1e6");
    assert_eq!(entry(&got, &f["Text"])["value"], "Cost centre 42", "fields not named stay");

    // An empty list changes nothing and answers the same list.
    let (status, same) = patch_values(&srv, &org, &app, json!([])).await;
    assert_eq!(status, StatusCode::OK, "{same}");
    assert_eq!(same["data"].as_array().unwrap(), &got);
}

#[tokio::test]
async fn get_work_app_shows_its_custom_field_values_in_custom_fields() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let ada = srv.create_user(&org, "Ada", "ada@acme.example", "User").await;
    let tier = create_field(
        &srv,
        &org,
        json!({ "name": "Tier", "type": "Select", "options": ["Low", "High"] }),
    )
    .await;
    let owner = create_field(&srv, &org, json!({ "name": "Owner", "type": "Person" })).await;
    let cost = create_field(&srv, &org, json!({ "name": "Cost", "type": "Number" })).await;
    create_field(&srv, &org, json!({ "name": "Unset", "type": "Text" })).await;
    let (app, _) = srv.create_app(&org, "Slack", &[]).await;
    let (bare, _) = srv.create_app(&org, "Zoom", &[]).await;
    set_values(&srv, &org, &app, json!([
        { "id": tier["id"], "value": "Low" }, { "id": owner["id"], "value": ada }, { "id": cost["id"], "value": "7" },
    ])).await;

    // `customFields` is an object of objects of strings (Cakewalk's published shape), keyed by
    // field id, holding the fields the app has a value for.
    let expected = json!({
        tier["id"].as_str().unwrap(): { "name": "Tier", "type": "Select", "value": "Low", "guidValue": tier["options"][0]["id"] },
        owner["id"].as_str().unwrap(): { "name": "Owner", "type": "Person", "value": "ada@acme.example", "guidValue": ada },
        cost["id"].as_str().unwrap(): { "name": "Cost", "type": "Number", "value": "7" },
    });
    let (status, view) = send(srv.api(&org, Method::GET, &format!("/api/v1/WorkApps/{app}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["data"]["customFields"], expected);
    let (_, list) = send(srv.api(&org, Method::GET, "/api/v1/WorkApps")).await;
    let apps = list["data"].as_array().unwrap();
    let listed_app = apps.iter().find(|a| a["id"] == app.as_str()).unwrap();
    assert_eq!(listed_app["customFields"], expected, "listings carry them too");
    let listed_bare = apps.iter().find(|a| a["id"] == bare.as_str()).unwrap();
    assert_eq!(listed_bare["customFields"], json!({}));
}

#[tokio::test]
async fn patch_work_app_custom_fields_answers_400_for_a_value_of_the_wrong_type() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let other = srv.new_org("Globex").await;
    srv.create_user(&other, "Stranger", "stranger@globex.example", "User").await;
    let f = one_field_of_each_type(&srv, &org).await;
    let (app, _) = srv.create_app(&org, "Slack", &[]).await;
    let long = "x".repeat(2001);
    let stranger = srv.create_user(&other, "Other", "other@globex.example", "User").await;
    let cases: &[(&str, &[&str])] = &[
        ("Text", &["", "   ", &long]),
        ("Number", &["abc", "1,5", "1.", "NaN", "inf", "0x10", "1 000", "12abc"]),
        ("Date", &["2026-02-30", "31.01.2026", "2026/01/31", "tomorrow", "2026-01-31T09:30:00"]),
        ("Boolean", &["yes", "1", "0", "maybe"]),
        ("Url", &["example.com", "ftp://example.com", "https://", "javascript:alert(1)"]),
        ("Select", &["Medium", "00000000-0000-0000-0000-000000000001"]),
        (
            "Person",
            &[
                "Ada Lovelace",
                "nobody@acme.example",
                "stranger@globex.example",
                &stranger,
                "00000000-0000-0000-0000-000000000001",
            ],
        ),
    ];
    let path = app_fields(&app);
    for (t, values) in cases {
        for value in *values {
            let (status, body) =
                patch_values(&srv, &org, &app, json!([{ "id": f[*t]["id"], "value": value }]))
                    .await;
            assert_problem(status, &body, 400, &path);
            let detail = body["detail"].as_str().unwrap();
            assert!(detail.starts_with("customFields[0]: "), "{t} {value:?}: {detail}");
            assert!(detail.contains(&format!("{t} field")), "names the field: {detail}");
        }
    }
    assert!(
        listed(&srv, &org, &app).await.iter().all(|e| e["value"].is_null()),
        "nothing was written"
    );
    assert!(audit(&srv, &org, "work_app.custom_fields_changed").await.is_empty());
}

#[tokio::test]
async fn patch_work_app_custom_fields_null_removes_a_value() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let note = create_field(&srv, &org, json!({ "name": "Note", "type": "Text" })).await;
    let tier =
        create_field(&srv, &org, json!({ "name": "Tier", "type": "Select", "options": ["A"] }))
            .await;
    let (app, _) = srv.create_app(&org, "Slack", &[]).await;
    set_values(
        &srv,
        &org,
        &app,
        json!([
            { "id": note["id"], "value": "hello" }, { "id": tier["id"], "value": "A" },
        ]),
    )
    .await;

    // `value: null` removes; so does an entry without `value` (it is nullable and not required).
    let (status, body) = patch_values(
        &srv,
        &org,
        &app,
        json!([{ "id": note["id"], "value": null }, { "id": tier["id"] }]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for e in body["data"].as_array().unwrap() {
        assert_eq!((&e["value"], &e["guidValue"]), (&Value::Null, &Value::Null), "{e}");
    }
    let (_, view) = send(srv.api(&org, Method::GET, &format!("/api/v1/WorkApps/{app}"))).await;
    assert_eq!(view["data"]["customFields"], json!({}));
    // Removing a value the app does not have is fine, and writes no audit row.
    let before = audit(&srv, &org, "work_app.custom_fields_changed").await.len();
    set_values(&srv, &org, &app, json!([{ "id": note["id"], "value": null }])).await;
    assert_eq!(audit(&srv, &org, "work_app.custom_fields_changed").await.len(), before);
}

#[tokio::test]
async fn patch_work_app_custom_fields_answers_400_for_null_on_a_required_field() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let cost =
        create_field(&srv, &org, json!({ "name": "Cost", "type": "Number", "required": true }))
            .await;
    let (app, _) = srv.create_app(&org, "Slack", &[]).await;
    set_values(&srv, &org, &app, json!([{ "id": cost["id"], "value": "5" }])).await;
    let path = app_fields(&app);
    for entry_body in [json!({ "id": cost["id"], "value": null }), json!({ "id": cost["id"] })] {
        let (status, body) = patch_values(&srv, &org, &app, json!([entry_body])).await;
        assert_problem(status, &body, 400, &path);
        assert!(body["detail"].as_str().unwrap().contains("required"), "{body}");
    }
    assert_eq!(entry(&listed(&srv, &org, &app).await, &cost)["value"], "5", "the value stays");
    // A required field may stay unset on an app that never had it; a new value is fine.
    let (other, _) = srv.create_app(&org, "Zoom", &[]).await;
    assert!(entry(&listed(&srv, &org, &other).await, &cost)["value"].is_null());
    set_values(&srv, &org, &app, json!([{ "id": cost["id"], "value": "6" }])).await;
}

#[tokio::test]
async fn patch_work_app_custom_fields_is_all_or_nothing() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let note = create_field(&srv, &org, json!({ "name": "Note", "type": "Text" })).await;
    let cost = create_field(&srv, &org, json!({ "name": "Cost", "type": "Number" })).await;
    let owner = create_field(&srv, &org, json!({ "name": "Owner", "type": "Person" })).await;
    let (app, _) = srv.create_app(&org, "Slack", &[]).await;
    set_values(&srv, &org, &app, json!([{ "id": note["id"], "value": "original" }])).await;
    let before = listed(&srv, &org, &app).await;
    let audited = audit(&srv, &org, "work_app").await.len();

    let path = app_fields(&app);
    let ghost = uuid::Uuid::now_v7();
    let cases = [
        // A good entry, then a bad value: 400 naming the second entry.
        (
            json!([{ "id": note["id"], "value": "changed" }, { "id": cost["id"], "value": "ten" }]),
            400,
            "customFields[1]",
        ),
        // A good entry, then an unknown field: 404.
        (
            json!([{ "id": note["id"], "value": "changed" }, { "id": ghost, "value": "x" }]),
            404,
            "customFields[1]",
        ),
        // A good entry, then a person who is not a user: 400 (checked after every other rule).
        (
            json!([{ "id": note["id"], "value": null }, { "id": owner["id"], "value": "nobody@acme.example" }]),
            400,
            "customFields[1]",
        ),
        // The same field twice: 400.
        (
            json!([{ "id": cost["id"], "value": "1" }, { "id": cost["id"], "value": "2" }]),
            400,
            "customFields[1]",
        ),
    ];
    for (entries, code, at) in cases {
        let (status, body) = patch_values(&srv, &org, &app, entries.clone()).await;
        assert_problem(status, &body, code, &path);
        assert!(body["detail"].as_str().unwrap().starts_with(at), "{entries}: {body}");
        assert_eq!(listed(&srv, &org, &app).await, before, "{entries} wrote something");
    }
    assert_eq!(audit(&srv, &org, "work_app").await.len(), audited, "no audit row either");
}

#[tokio::test]
async fn patch_work_app_custom_fields_answers_404_for_an_unknown_app_or_field() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let note = create_field(&srv, &org, json!({ "name": "Note", "type": "Text" })).await;
    let (app, _) = srv.create_app(&org, "Slack", &[]).await;
    let ghost_app = uuid::Uuid::now_v7().to_string();
    let (status, body) =
        patch_values(&srv, &org, &ghost_app, json!([{ "id": note["id"], "value": "x" }])).await;
    assert_problem(status, &body, 404, &app_fields(&ghost_app));
    assert!(body["detail"].as_str().unwrap().contains("work app"), "{body}");
    let ghost_field = uuid::Uuid::now_v7();
    let (status, body) =
        patch_values(&srv, &org, &app, json!([{ "id": ghost_field, "value": "x" }])).await;
    assert_problem(status, &body, 404, &app_fields(&app));
    assert!(body["detail"].as_str().unwrap().contains(&ghost_field.to_string()), "{body}");
}

#[tokio::test]
async fn patch_work_app_custom_fields_answers_400_for_unknown_properties_and_malformed_bodies() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let note = create_field(&srv, &org, json!({ "name": "Note", "type": "Text" })).await;
    let (app, _) = srv.create_app(&org, "Slack", &[]).await;
    let path = app_fields(&app);
    let bodies = [
        json!({ "customFields": [], "extra": true }),
        json!({ "customFields": [{ "id": note["id"], "value": "x", "name": "Note" }] }),
        json!({ "customFields": [{ "id": note["id"], "value": 42 }] }),
        json!({ "customFields": [{ "id": "not-a-uuid", "value": "x" }] }),
        json!({ "customFields": [{ "value": "x" }] }),
        json!({ "customFields": { "id": note["id"] } }),
        json!({}),
        json!([]),
    ];
    for payload in bodies {
        let (status, body) = send(srv.api(&org, Method::PATCH, &path).json(&payload)).await;
        assert_problem(status, &body, 400, &path);
    }
    assert!(listed(&srv, &org, &app).await.iter().all(|e| e["value"].is_null()));
}

#[tokio::test]
async fn custom_fields_of_another_organization_answer_404() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let other = srv.new_org("Globex").await;
    let theirs = create_field(&srv, &other, json!({ "name": "Secret", "type": "Text" })).await;
    let (their_app, _) = srv.create_app(&other, "Their app", &[]).await;
    set_values(&srv, &other, &their_app, json!([{ "id": theirs["id"], "value": "x" }])).await;
    let mine = create_field(&srv, &org, json!({ "name": "Mine", "type": "Text" })).await;
    let (my_app, _) = srv.create_app(&org, "My app", &[]).await;

    let their_field = field_path(theirs["id"].as_str().unwrap());
    let (status, body) = send(srv.api(&org, Method::GET, &their_field)).await;
    assert_problem(status, &body, 404, &their_field);
    let (status, body) =
        send(srv.api(&org, Method::PATCH, &their_field).json(&json!({ "name": "Mine now" }))).await;
    assert_problem(status, &body, 404, &their_field);
    let (status, body) = send(srv.api(&org, Method::DELETE, &their_field)).await;
    assert_problem(status, &body, 404, &their_field);
    // Their app, with my field or theirs.
    let their_values = app_fields(&their_app);
    let (status, body) = send(srv.api(&org, Method::GET, &their_values)).await;
    assert_problem(status, &body, 404, &their_values);
    let (status, body) =
        patch_values(&srv, &org, &their_app, json!([{ "id": mine["id"], "value": "x" }])).await;
    assert_problem(status, &body, 404, &their_values);
    // My app, with their field.
    let (status, body) =
        patch_values(&srv, &org, &my_app, json!([{ "id": theirs["id"], "value": "x" }])).await;
    assert_problem(status, &body, 404, &app_fields(&my_app));
    // Listings show only my own.
    let (_, list) = send(srv.api(&org, Method::GET, FIELDS)).await;
    assert_eq!(
        list["data"].as_array().unwrap().iter().map(|f| &f["id"]).collect::<Vec<_>>(),
        [&mine["id"]]
    );
    assert_eq!(listed(&srv, &org, &my_app).await.len(), 1);
    // Nothing of theirs changed.
    let (_, got) = send(srv.api(&other, Method::GET, &their_field)).await;
    assert_eq!(got["data"], theirs);
    assert_eq!(entry(&listed(&srv, &other, &their_app).await, &theirs)["value"], "x");
}

#[tokio::test]
async fn custom_field_writes_answer_403_to_read_only_credentials() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let field = create_field(&srv, &org, json!({ "name": "Note", "type": "Text" })).await;
    let (app, _) = srv.create_app(&org, "Slack", &[]).await;
    let ro = read_only(&srv, &org).await;
    let id = field["id"].as_str().unwrap();
    let writes = [
        (Method::POST, FIELDS.to_string(), json!({ "name": "X", "type": "Text" })),
        (Method::PATCH, field_path(id), json!({ "name": "Y" })),
        (Method::DELETE, field_path(id), Value::Null),
        (Method::PATCH, app_fields(&app), json!({ "customFields": [{ "id": id, "value": "x" }] })),
    ];
    for (method, path, payload) in writes {
        let request = srv.api(&ro, method.clone(), &path);
        let request = if payload.is_null() { request } else { request.json(&payload) };
        let (status, body) = send(request).await;
        assert_problem(status, &body, 403, &path);
        assert!(body["detail"].as_str().unwrap().contains("read-only"), "{method} {path}: {body}");
    }
    for path in [FIELDS.to_string(), field_path(id), app_fields(&app)] {
        let (status, body) = send(srv.api(&ro, Method::GET, &path)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    let (_, got) = send(srv.api(&org, Method::GET, &field_path(id))).await;
    assert_eq!(got["data"], field, "nothing changed");
    assert!(audit(&srv, &org, "custom_field").await.len() == 1, "only the creation is audited");
}

#[tokio::test]
async fn custom_field_changes_write_audit_rows() {
    let (srv, org, field) = with_tier_field().await;
    let id = field["id"].as_str().unwrap();
    let (status, _) =
        send(srv.api(&org, Method::PATCH, &field_path(id)).json(&json!({ "name": "Risk" }))).await;
    assert_eq!(status, StatusCode::OK);
    // A patch that changes nothing writes no row.
    let (status, _) =
        send(srv.api(&org, Method::PATCH, &field_path(id)).json(&json!({ "name": "Risk" }))).await;
    assert_eq!(status, StatusCode::OK);
    let (app, _) = srv.create_app(&org, "Slack", &[]).await;
    set_values(&srv, &org, &app, json!([{ "id": id, "value": "High" }])).await;
    let (status, body) =
        patch_values(&srv, &org, &app, json!([{ "id": id, "value": "High" }])).await;
    assert_eq!(status, StatusCode::OK, "the same value again: {body}");
    set_values(&srv, &org, &app, json!([{ "id": id, "value": null }])).await;

    let rows = audit(&srv, &org, "custom_field").await;
    let actions: Vec<&str> = rows.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["custom_field.created", "custom_field.updated"]);
    assert!(rows.iter().all(|r| r["targetType"] == "custom_field" && r["targetId"] == id));
    assert!(rows.iter().all(|r| r["actorType"] == "credential"));
    assert_eq!(rows[0]["after"]["name"], "Tier");
    assert_eq!(rows[0]["after"]["options"], field["options"]);
    assert_eq!(
        (&rows[1]["before"]["name"], &rows[1]["after"]["name"]),
        (&json!("Tier"), &json!("Risk"))
    );

    let rows = audit(&srv, &org, "work_app.custom_fields_changed").await;
    assert_eq!(rows.len(), 2, "set, then removed; the repeat wrote nothing: {rows:?}");
    let high = &field["options"][1]["id"];
    assert_eq!(rows[0]["targetType"], "work_app");
    assert_eq!(rows[0]["targetId"], app.as_str());
    assert_eq!(rows[0]["before"], json!({ id: null }));
    assert_eq!(rows[0]["after"], json!({ id: { "value": null, "guidValue": high } }));
    assert_eq!(rows[1]["before"], json!({ id: { "value": null, "guidValue": high } }));
    assert_eq!(rows[1]["after"], json!({ id: null }));
}
