//! Directory sync: `ScimReads`, `ScimWrites` — tokens, users and groups as the identity provider
//! sees them, and SCIM filters compiled to SQL.
use portcullis_domain::scim::parse_filter;
use portcullis_domain::{new_id, GroupId, GroupSource, ScimToken};
use portcullis_store::{ScimResource, ScimSqlFilter};

use crate::common::*;

on_every_backend!(
    scim_tokens_are_stored_touched_and_revoked,
    scim_users_keep_the_providers_view_and_filter_in_sql,
    scim_groups_list_with_members_and_filters,
);

fn filter(resource: ScimResource, text: &str) -> ScimSqlFilter {
    let parsed = parse_filter(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    ScimSqlFilter::compile(resource, &parsed).unwrap_or_else(|e| panic!("{text}: {e}"))
}

async fn scim_tokens_are_stored_touched_and_revoked(db: &TestDb) {
    let seed = seed(db).await;
    let token = ScimToken {
        id: new_id(),
        org_id: seed.org.id,
        name: "Okta".into(),
        secret_hash: format!("{:064x}", new_id().as_u128()),
        created_at: at(1),
        last_used_at: None,
        revoked_at: None,
    };
    let mut tx = db.store.write().await.expect("write");
    tx.insert_scim_token(&token).await.expect("insert");
    tx.touch_scim_token(token.id, at(2)).await.expect("touch");
    tx.commit().await.expect("commit");
    let mut tx = db.store.read().await.expect("read");
    let stored = tx.get_scim_token(token.id).await.expect("get").expect("found");
    assert_eq!(stored, ScimToken { last_used_at: Some(at(2)), ..token.clone() });
    assert_eq!(tx.list_scim_tokens(seed.org.id).await.expect("list"), vec![stored.clone()]);
    assert!(tx.list_scim_tokens(seed.other_org.id).await.expect("list").is_empty());
    drop(tx);

    let mut tx = db.store.write().await.expect("write");
    assert!(
        !tx.revoke_scim_token(seed.other_org.id, token.id, at(3)).await.expect("revoke"),
        "another organization cannot revoke it"
    );
    assert!(tx.revoke_scim_token(seed.org.id, token.id, at(3)).await.expect("revoke"));
    assert!(!tx.revoke_scim_token(seed.org.id, token.id, at(4)).await.expect("again"));
    tx.commit().await.expect("commit");
    let mut tx = db.store.read().await.expect("read");
    let revoked = tx.get_scim_token(token.id).await.expect("get").expect("found");
    assert_eq!(revoked.revoked_at, Some(at(3)));
}

async fn scim_users_keep_the_providers_view_and_filter_in_sql(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let mut tx = db.store.write().await.expect("write");
    tx.set_scim_user(
        org,
        seed.alice.id,
        Some("00ualice"),
        Some("Alice.Principal"),
        Some("{\"title\":\"x\"}"),
    )
    .await
    .expect("alice");
    tx.commit().await.expect("commit");

    let mut tx = db.store.read().await.expect("read");
    let alice = tx.get_scim_user(org, seed.alice.id).await.expect("get").expect("found");
    assert_eq!(alice.user, seed.alice);
    assert_eq!(alice.external_id.as_deref(), Some("00ualice"));
    assert_eq!(alice.user_name.as_deref(), Some("Alice.Principal"));
    assert_eq!(alice.attributes.as_deref(), Some("{\"title\":\"x\"}"));
    assert!(tx.get_scim_user(seed.other_org.id, seed.alice.id).await.expect("get").is_none());
    let bob = tx.get_scim_user(org, seed.bob.id).await.expect("get").expect("bob");
    assert_eq!((bob.external_id, bob.user_name, bob.attributes), (None, None, None));
    assert_eq!(
        tx.user_id_by_external_id(org, "00ualice").await.expect("by external id"),
        Some(seed.alice.id)
    );
    assert_eq!(
        tx.user_id_by_external_id(seed.other_org.id, "00ualice").await.expect("other"),
        None
    );

    let all = tx.list_scim_users(org, None, 0, 100).await.expect("all");
    assert_eq!(all.total, 4, "owner, admin, alice and bob");
    let ids: Vec<_> = all.resources.iter().map(|u| u.user.id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "oldest first (ids are time-ordered)");
    let page = tx.list_scim_users(org, None, 1, 2).await.expect("page");
    assert_eq!((page.total, page.resources.len()), (4, 2));
    assert_eq!(page.resources[0].user.id, ids[1]);
    let counted = tx.list_scim_users(org, None, 0, 0).await.expect("count only");
    assert_eq!((counted.total, counted.resources.len()), (4, 0));

    // userName is the provider's where it set one (case-insensitive), else the e-mail.
    let cases = [
        ("userName eq \"alice.principal\"", vec![seed.alice.id]),
        (&*format!("userName eq \"{}\"", seed.bob.email.to_uppercase()), vec![seed.bob.id]),
        ("externalId eq \"00ualice\"", vec![seed.alice.id]),
        ("externalId eq \"00UALICE\"", vec![]),
        ("externalId pr", vec![seed.alice.id]),
        (&*format!("emails[value eq \"{}\"]", seed.alice.email), vec![seed.alice.id]),
        ("userName sw \"alice\" or userName eq \"nobody\"", vec![seed.alice.id]),
        ("userName co \"%\"", vec![]),
        ("active eq false", vec![]),
        (&*format!("id eq \"{}\" and not (externalId pr)", seed.bob.id), vec![seed.bob.id]),
    ];
    for (text, expected) in cases {
        let compiled = filter(ScimResource::User, text);
        let found = tx.list_scim_users(org, Some(&compiled), 0, 100).await.expect(text);
        let found: Vec<_> = found.resources.iter().map(|u| u.user.id).collect();
        assert_eq!(found, expected, "{text}");
    }
    let other = filter(ScimResource::User, "externalId eq \"00ualice\"");
    assert_eq!(
        tx.list_scim_users(seed.other_org.id, Some(&other), 0, 100).await.expect("other").total,
        0
    );
    let unsupported = parse_filter("title eq \"x\"").expect("parses");
    assert!(ScimSqlFilter::compile(ScimResource::User, &unsupported).is_err());
    drop(tx);

    // A user the provider deleted is hidden from SCIM, and found again to be revived.
    let mut tx = db.store.write().await.expect("write");
    tx.set_scim_removed(org, seed.alice.id, Some(at(9))).await.expect("remove");
    tx.commit().await.expect("commit");
    let mut tx = db.store.read().await.expect("read");
    assert!(tx.get_scim_user(org, seed.alice.id).await.expect("get").is_none());
    assert_eq!(tx.list_scim_users(org, None, 0, 100).await.expect("all").total, 3);
    assert_eq!(tx.user_id_by_external_id(org, "00ualice").await.expect("hidden"), None);
    let removed =
        tx.removed_scim_user(org, "ALICE.principal", "nobody@x.example").await.expect("by name");
    assert_eq!(removed.map(|u| u.user.id), Some(seed.alice.id));
    let removed = tx.removed_scim_user(org, "someone", &seed.alice.email).await.expect("by e-mail");
    assert_eq!(removed.map(|u| u.user.id), Some(seed.alice.id));
    assert!(tx.removed_scim_user(org, "bob", &seed.bob.email).await.expect("bob").is_none());
    drop(tx);
    let mut tx = db.store.write().await.expect("write");
    tx.set_scim_removed(org, seed.alice.id, None).await.expect("revive");
    // Two users cannot share a userName in one organization.
    let taken = tx.set_scim_user(org, seed.bob.id, None, Some("alice.PRINCIPAL"), None).await;
    assert_conflict(taken);
}

async fn scim_groups_list_with_members_and_filters(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let (eng, ops) = (group(org, "Engineering"), group(org, "Ops"));
    let mut tx = db.store.write().await.expect("write");
    tx.insert_group(&eng).await.expect("eng");
    tx.insert_group(&ops).await.expect("ops");
    tx.insert_group_members(org, GroupId(eng.id), &[seed.bob.id], at(1)).await.expect("bob");
    tx.insert_group_members(org, GroupId(eng.id), &[seed.alice.id], at(2)).await.expect("alice");
    tx.set_scim_group(org, eng.id, Some("g-eng"), GroupSource::Scim).await.expect("scim");
    tx.commit().await.expect("commit");

    let mut tx = db.store.read().await.expect("read");
    let got = tx.get_scim_group(org, eng.id, true).await.expect("get").expect("found");
    assert_eq!(got.source, GroupSource::Scim);
    assert_eq!(got.external_id.as_deref(), Some("g-eng"));
    assert_eq!(got.member_ids, vec![seed.bob.id, seed.alice.id], "in the order they joined");
    assert_eq!(got.group.member_count, 2);
    let lean = tx.get_scim_group(org, eng.id, false).await.expect("get").expect("found");
    assert!(lean.member_ids.is_empty(), "members are read only when asked for");
    assert!(tx.get_scim_group(seed.other_org.id, eng.id, true).await.expect("get").is_none());
    let plain = tx.get_scim_group(org, ops.id, true).await.expect("get").expect("ops");
    assert_eq!((plain.source, plain.external_id), (GroupSource::Portcullis, None));

    let all = tx.list_scim_groups(org, None, 0, 10, true).await.expect("all");
    assert_eq!(all.total, 2);
    assert_eq!(all.resources.iter().map(|g| g.member_ids.len()).sum::<usize>(), 2);
    let cases = [
        ("displayName eq \"engineering\"", vec![eng.id]),
        ("externalId eq \"g-eng\"", vec![eng.id]),
        (&*format!("members[value eq \"{}\"]", seed.alice.id), vec![eng.id]),
        (&*format!("members.value ne \"{}\"", seed.alice.id), vec![ops.id]),
        ("displayName sw \"o\"", vec![ops.id]),
    ];
    for (text, expected) in cases {
        let compiled = filter(ScimResource::Group, text);
        let found = tx.list_scim_groups(org, Some(&compiled), 0, 10, false).await.expect(text);
        assert_eq!(
            found.resources.iter().map(|g| g.group.id).collect::<Vec<_>>(),
            expected,
            "{text}"
        );
    }
}
