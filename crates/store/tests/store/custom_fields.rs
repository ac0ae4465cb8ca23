//! Custom fields, their options and work apps' values: `CustomFieldReads`, `CustomFieldWrites`.
use std::collections::HashSet;

use portcullis_domain::custom_fields::FieldUsage;
use portcullis_domain::{
    new_id, CustomField, CustomFieldId, CustomFieldType, CustomFieldValue, Organization,
    PageRequest, SelectOption, WorkAppId,
};
use uuid::Uuid;

use crate::common::*;

on_every_backend!(
    custom_fields_round_trip_with_ordered_options,
    custom_field_names_are_unique_per_organization,
    custom_fields_page_count_and_are_scoped,
    values_upsert_read_and_delete,
    field_usage_counts_values_and_chosen_options,
    deleting_a_field_removes_its_options_and_values,
);

fn custom_field(org: &Organization, name: &str, field_type: CustomFieldType) -> CustomField {
    let options = if field_type == CustomFieldType::Select {
        ["High", "Low", "Medium"]
            .iter()
            .map(|label| SelectOption { id: new_id(), label: label.to_string() })
            .collect()
    } else {
        Vec::new()
    };
    CustomField {
        id: new_id(),
        org_id: org.id,
        name: name.into(),
        field_type,
        required: false,
        options,
        created_at: at(10),
        updated_at: at_ms(10_001),
    }
}

fn value(
    field: &CustomField,
    app: Uuid,
    text: Option<&str>,
    guid: Option<Uuid>,
) -> CustomFieldValue {
    CustomFieldValue {
        org_id: field.org_id,
        work_app_id: app,
        field_id: field.id,
        value: text.map(str::to_string),
        guid_value: guid,
        updated_at: at_ms(20_002),
    }
}

async fn insert_fields(db: &TestDb, fields: &[&CustomField]) {
    let mut tx = db.store.write().await.expect("write");
    for field in fields {
        tx.insert_custom_field(field).await.expect("insert custom field");
    }
    tx.commit().await.expect("commit fields");
}

async fn custom_fields_round_trip_with_ordered_options(db: &TestDb) {
    let seed = seed(db).await;
    let priority = CustomField {
        required: true,
        // Options keep the given order, which is neither id nor label order.
        options: ["Medium", "Low", "High", "Zoë \"quoted\" ☃"]
            .iter()
            .map(|label| SelectOption { id: new_id(), label: label.to_string() })
            .rev()
            .collect(),
        ..custom_field(&seed.org, "Priority", CustomFieldType::Select)
    };
    let budget = custom_field(&seed.org, "Budget", CustomFieldType::Number);
    insert_fields(db, &[&priority, &budget]).await;

    let mut read = db.store.read().await.expect("read");
    let got = read
        .get_custom_fields(seed.org.id, &[budget.id, priority.id, new_id()])
        .await
        .expect("get");
    let mut expected = vec![priority.clone(), budget.clone()];
    expected.sort_by_key(|f| f.id);
    assert_eq!(got, expected, "found by id, in id order, options attached; unknown ids skipped");
    assert!(read.get_custom_fields(seed.org.id, &[]).await.expect("get none").is_empty());
    drop(read);

    // An update saves every property but the creation time and replaces the options: kept ids
    // with new labels, a new option, one gone, a new order.
    let changed = CustomField {
        name: "Urgency".into(),
        required: false,
        options: vec![
            SelectOption { id: new_id(), label: "Critical".into() },
            SelectOption { id: priority.options[0].id, label: "Renamed".into() },
            priority.options[2].clone(),
        ],
        updated_at: at_ms(30_003),
        ..priority.clone()
    };
    let retyped = CustomField {
        field_type: CustomFieldType::Text,
        updated_at: at_ms(30_004),
        ..budget.clone()
    };
    let mut tx = db.store.write().await.expect("write");
    tx.update_custom_field(&CustomField { created_at: at(-5), ..changed.clone() })
        .await
        .expect("update");
    tx.update_custom_field(&retyped).await.expect("update type");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    let got = read.get_custom_fields(seed.org.id, &[priority.id]).await.expect("get");
    assert_eq!(got, vec![changed]);
    let got = read.get_custom_fields(seed.org.id, &[budget.id]).await.expect("get");
    assert_eq!(got, vec![retyped]);
}

async fn custom_field_names_are_unique_per_organization(db: &TestDb) {
    let seed = seed(db).await;
    let owner = custom_field(&seed.org, "Business owner", CustomFieldType::Person);
    let url = custom_field(&seed.org, "Docs", CustomFieldType::Url);
    insert_fields(db, &[&owner, &url]).await;
    // Same name up to case and surrounding spaces: a conflict, and nothing is left behind.
    let twin = custom_field(&seed.org, "  BUSINESS owner ", CustomFieldType::Select);
    let mut tx = db.store.write().await.expect("write");
    assert_conflict(tx.insert_custom_field(&twin).await);
    drop(tx);
    let mut tx = db.store.write().await.expect("write");
    assert_conflict(
        tx.update_custom_field(&CustomField { name: "docs".into(), ..owner.clone() }).await,
    );
    drop(tx);
    // Another organization may use the name; a field may change the case of its own name.
    let theirs = custom_field(&seed.other_org, "Business Owner", CustomFieldType::Text);
    insert_fields(db, &[&theirs]).await;
    let renamed = CustomField { name: "BUSINESS OWNER".into(), ..owner.clone() };
    let mut tx = db.store.write().await.expect("write");
    tx.update_custom_field(&renamed).await.expect("same field, other case");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert!(read.get_custom_fields(seed.org.id, &[twin.id]).await.expect("get").is_empty());
    assert_eq!(read.get_custom_fields(seed.org.id, &[owner.id]).await.expect("get"), vec![renamed]);
    assert_eq!(
        read.get_custom_fields(seed.other_org.id, &[theirs.id]).await.expect("get"),
        vec![theirs]
    );
}

async fn custom_fields_page_count_and_are_scoped(db: &TestDb) {
    let seed = seed(db).await;
    let types = CustomFieldType::ALL;
    let mut fields: Vec<CustomField> = (0..5)
        .map(|i| custom_field(&seed.org, &format!("Field {i}"), types[i % types.len()]))
        .collect();
    let theirs = custom_field(&seed.other_org, "Theirs", CustomFieldType::Select);
    insert_fields(db, &fields.iter().chain([&theirs]).collect::<Vec<_>>()).await;
    fields.sort_by_key(|f| f.id);

    let mut read = db.store.read().await.expect("read");
    let first = read
        .list_custom_fields(seed.org.id, PageRequest { after: None, limit: 2 })
        .await
        .expect("page 1");
    assert_eq!(first.items, fields[..2].to_vec(), "options are attached on listings too");
    assert_eq!(first.next_after, Some(fields[1].id));
    let second = read
        .list_custom_fields(seed.org.id, PageRequest { after: first.next_after, limit: 2 })
        .await
        .expect("page 2");
    assert_eq!(second.items, fields[2..4].to_vec());
    let last = read
        .list_custom_fields(seed.org.id, PageRequest { after: second.next_after, limit: 2 })
        .await
        .expect("page 3");
    assert_eq!(last.items, fields[4..].to_vec());
    assert_eq!(last.next_after, None);
    assert_eq!(read.count_custom_fields(seed.org.id).await.expect("count"), 5);
    assert_eq!(read.count_custom_fields(seed.other_org.id).await.expect("count"), 1);
    // Another organization's field is not found by id.
    assert!(read.get_custom_fields(seed.org.id, &[theirs.id]).await.expect("get").is_empty());
    let all = read.list_custom_fields(seed.other_org.id, PageRequest::first()).await.expect("list");
    assert_eq!(all.items, vec![theirs]);
}

async fn values_upsert_read_and_delete(db: &TestDb) {
    let seed = seed(db).await;
    let slack = work_app(seed.org.id, "Slack");
    let zoom = work_app(seed.org.id, "Zoom");
    let theirs = work_app(seed.other_org.id, "Theirs");
    insert_apps(db, &[&slack, &zoom, &theirs]).await;
    let cost = custom_field(&seed.org, "Cost", CustomFieldType::Number);
    let tier = custom_field(&seed.org, "Tier", CustomFieldType::Select);
    let owner = custom_field(&seed.org, "Owner", CustomFieldType::Person);
    let their_field = custom_field(&seed.other_org, "Cost", CustomFieldType::Number);
    insert_fields(db, &[&cost, &tier, &owner, &their_field]).await;

    let slack_cost = value(&cost, slack.id, Some("12.50"), None);
    let slack_tier = value(&tier, slack.id, None, Some(tier.options[1].id));
    // Text passes through JSON on the way in: quotes, backslashes, newlines and non-ASCII.
    let zoom_cost = value(&cost, zoom.id, Some("1e3 \"x\" \\ \n ☃"), None);
    let zoom_owner = value(&owner, zoom.id, None, Some(seed.alice.id));
    let their_value = value(&their_field, theirs.id, Some("7"), None);
    let mut tx = db.store.write().await.expect("write");
    tx.upsert_custom_field_values(&[
        slack_cost.clone(),
        slack_tier.clone(),
        zoom_cost.clone(),
        zoom_owner.clone(),
        their_value.clone(),
    ])
    .await
    .expect("upsert");
    tx.upsert_custom_field_values(&[]).await.expect("nothing to upsert");
    tx.commit().await.expect("commit");

    let sorted_values = |mut v: Vec<CustomFieldValue>| {
        v.sort_by_key(|v| (v.work_app_id, v.field_id));
        v
    };
    let mut read = db.store.read().await.expect("read");
    let got = read.custom_field_values(seed.org.id, &[slack.id, zoom.id]).await.expect("values");
    assert_eq!(
        got,
        sorted_values(vec![
            slack_cost.clone(),
            slack_tier.clone(),
            zoom_cost.clone(),
            zoom_owner.clone()
        ])
    );
    let got = read.custom_field_values(seed.org.id, &[zoom.id]).await.expect("values");
    assert_eq!(got, sorted_values(vec![zoom_cost.clone(), zoom_owner.clone()]));
    // Scoped: another organization's app shows nothing here, and its own values there.
    assert!(read.custom_field_values(seed.org.id, &[theirs.id]).await.expect("values").is_empty());
    assert_eq!(
        read.custom_field_values(seed.other_org.id, &[theirs.id, slack.id]).await.expect("values"),
        vec![their_value.clone()]
    );
    drop(read);

    // Upserting replaces a value (text to nothing and back is the caller's business).
    let slack_cost_2 = CustomFieldValue {
        value: Some("99".into()),
        updated_at: at_ms(40_004),
        ..slack_cost.clone()
    };
    let slack_tier_2 = CustomFieldValue { guid_value: Some(tier.options[2].id), ..slack_tier };
    let mut tx = db.store.write().await.expect("write");
    tx.upsert_custom_field_values(&[slack_cost_2.clone(), slack_tier_2.clone()])
        .await
        .expect("upsert again");
    // Deleting is per app and scoped to the organization.
    let removed = tx
        .delete_custom_field_values(seed.org.id, WorkAppId(zoom.id), &[cost.id, tier.id, new_id()])
        .await
        .expect("delete");
    assert_eq!(removed, 1, "only zoom's cost existed among those");
    let removed = tx
        .delete_custom_field_values(seed.org.id, WorkAppId(theirs.id), &[their_field.id])
        .await
        .expect("delete foreign");
    assert_eq!(removed, 0, "another organization's value is out of reach");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    let got = read.custom_field_values(seed.org.id, &[slack.id, zoom.id]).await.expect("values");
    assert_eq!(got, sorted_values(vec![slack_cost_2, slack_tier_2, zoom_owner]));
    assert_eq!(
        read.custom_field_values(seed.other_org.id, &[theirs.id]).await.expect("values"),
        vec![their_value]
    );
}

async fn field_usage_counts_values_and_chosen_options(db: &TestDb) {
    let seed = seed(db).await;
    let apps: Vec<_> = (0..4).map(|i| work_app(seed.org.id, &format!("App {i}"))).collect();
    insert_apps(db, &apps.iter().collect::<Vec<_>>()).await;
    let tier = custom_field(&seed.org, "Tier", CustomFieldType::Select);
    let note = custom_field(&seed.org, "Note", CustomFieldType::Text);
    let unused = custom_field(&seed.org, "Unused", CustomFieldType::Date);
    insert_fields(db, &[&tier, &note, &unused]).await;
    let (high, low) = (tier.options[0].id, tier.options[1].id);
    let mut tx = db.store.write().await.expect("write");
    tx.upsert_custom_field_values(&[
        value(&tier, apps[0].id, None, Some(high)),
        value(&tier, apps[1].id, None, Some(high)),
        value(&tier, apps[2].id, None, Some(low)),
        value(&note, apps[0].id, Some("a"), None),
        value(&note, apps[3].id, Some("b"), None),
    ])
    .await
    .expect("upsert");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    let usage = read.custom_field_usage(seed.org.id, CustomFieldId(tier.id)).await.expect("usage");
    assert_eq!(usage, FieldUsage { values: 3, options_in_use: HashSet::from([high, low]) });
    let usage = read.custom_field_usage(seed.org.id, CustomFieldId(note.id)).await.expect("usage");
    assert_eq!(usage, FieldUsage { values: 2, options_in_use: HashSet::new() });
    let usage =
        read.custom_field_usage(seed.org.id, CustomFieldId(unused.id)).await.expect("usage");
    assert_eq!(usage, FieldUsage::default());
    // Another organization sees no use of this organization's field.
    let usage =
        read.custom_field_usage(seed.other_org.id, CustomFieldId(tier.id)).await.expect("usage");
    assert_eq!(usage, FieldUsage::default());
}

async fn deleting_a_field_removes_its_options_and_values(db: &TestDb) {
    let seed = seed(db).await;
    let slack = work_app(seed.org.id, "Slack");
    let zoom = work_app(seed.org.id, "Zoom");
    insert_apps(db, &[&slack, &zoom]).await;
    let tier = custom_field(&seed.org, "Tier", CustomFieldType::Select);
    let note = custom_field(&seed.org, "Note", CustomFieldType::Text);
    insert_fields(db, &[&tier, &note]).await;
    let note_value = value(&note, slack.id, Some("keep me"), None);
    let mut tx = db.store.write().await.expect("write");
    tx.upsert_custom_field_values(&[
        value(&tier, slack.id, None, Some(tier.options[0].id)),
        value(&tier, zoom.id, None, Some(tier.options[1].id)),
        note_value.clone(),
    ])
    .await
    .expect("upsert");
    tx.commit().await.expect("commit");

    // Another organization cannot delete it.
    let mut tx = db.store.write().await.expect("write");
    let gone =
        tx.delete_custom_field(seed.other_org.id, CustomFieldId(tier.id)).await.expect("delete");
    assert_eq!(gone, None);
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(
        read.get_custom_fields(seed.org.id, &[tier.id]).await.expect("get"),
        vec![tier.clone()]
    );
    assert_eq!(
        read.custom_field_values(seed.org.id, &[slack.id, zoom.id]).await.expect("values").len(),
        3
    );
    drop(read);

    let mut tx = db.store.write().await.expect("write");
    let gone = tx.delete_custom_field(seed.org.id, CustomFieldId(tier.id)).await.expect("delete");
    assert_eq!(gone, Some(2), "both apps' values went with the field");
    assert_eq!(
        tx.delete_custom_field(seed.org.id, CustomFieldId(tier.id)).await.expect("again"),
        None
    );
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert!(read.get_custom_fields(seed.org.id, &[tier.id]).await.expect("get").is_empty());
    assert_eq!(
        read.custom_field_values(seed.org.id, &[slack.id, zoom.id]).await.expect("values"),
        vec![note_value],
        "other fields' values stay"
    );
    drop(read);
    // The name is free again, and the options went too (re-inserting the same option ids works).
    let again = CustomField { id: new_id(), ..tier.clone() };
    insert_fields(db, &[&again]).await;
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_custom_fields(seed.org.id, &[again.id]).await.expect("get"), vec![again]);
}
