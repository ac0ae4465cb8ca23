//! User groups: `GroupReads`, `GroupWrites`.
use portcullis_domain::GroupId;
use std::collections::HashMap;

use portcullis_domain::workapp::GrantEntry;
use portcullis_domain::{
    new_id, AccessSource, DefaultWorkApp, OrgRole, PageRequest, RequestStatus, RequestType,
    UserStatus, UsersGroup,
};
use portcullis_store::AppGroups;

use crate::common::*;

on_every_backend!(
    groups_round_trip_update_and_conflict,
    groups_page_and_are_scoped,
    members_add_list_and_remove,
    delete_group_cascades_and_detaches_requests,
    default_and_hidden_apps,
    covered_pairs_are_live_accesses_and_open_requests,
    leaving_a_group_removes_its_defaults_unless_another_group_or_a_request_covers_them,
);

async fn groups_round_trip_update_and_conflict(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let eng = group(org, "Engineering");
    let ops = UsersGroup { description: String::new(), ..group(org, "Ops") };
    let mut tx = db.store.write().await.expect("write");
    tx.insert_group(&eng).await.expect("insert");
    tx.insert_group(&ops).await.expect("insert");
    tx.commit().await.expect("commit");
    // The name is unique per organization, up to case and spaces.
    let mut tx = db.store.write().await.expect("write");
    assert_conflict(tx.insert_group(&group(org, " ENGINEERING ")).await);
    drop(tx);
    let mut tx = db.store.write().await.expect("write");
    assert_conflict(tx.update_group(&UsersGroup { name: "ops".into(), ..eng.clone() }).await);
    drop(tx);
    let theirs = group(seed.other_org.id, "Engineering");
    let mut tx = db.store.write().await.expect("write");
    tx.insert_group(&theirs).await.expect("another org may use the name");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_group(org, eng.id).await.expect("get"), Some(eng.clone()));
    assert_eq!(read.get_group(org, ops.id).await.expect("get"), Some(ops.clone()));
    assert_eq!(read.get_group(org, theirs.id).await.expect("get"), None);
    assert_eq!(
        read.get_group(seed.other_org.id, theirs.id).await.expect("get"),
        Some(theirs.clone())
    );
    assert!(read.group_exists(org, eng.id).await.expect("exists"));
    assert!(!read.group_exists(org, theirs.id).await.expect("exists"));
    assert!(!read.group_exists(org, new_id()).await.expect("exists"));
    drop(read);

    // update_group saves name, description and updated_at only.
    let changed = UsersGroup {
        name: "Platform Engineering".into(),
        description: "Builds the platform".into(),
        updated_at: at_ms(88_888),
        ..eng.clone()
    };
    let mut tx = db.store.write().await.expect("write");
    tx.update_group(&UsersGroup { created_at: at(-5), member_count: 99, ..changed.clone() })
        .await
        .expect("update");
    // Updating with another organization's id changes nothing.
    tx.update_group(&UsersGroup {
        org_id: seed.other_org.id,
        name: "Hijacked".into(),
        ..ops.clone()
    })
    .await
    .expect("no-op");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_group(org, eng.id).await.expect("get"), Some(changed));
    assert_eq!(read.get_group(org, ops.id).await.expect("get"), Some(ops));
}

async fn groups_page_and_are_scoped(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let mut groups: Vec<UsersGroup> = (0..5).map(|i| group(org, &format!("G{i}"))).collect();
    let theirs = group(seed.other_org.id, "Theirs");
    let mut tx = db.store.write().await.expect("write");
    for g in groups.iter().chain([&theirs]) {
        tx.insert_group(g).await.expect("insert");
    }
    // Member counts are filled on reads.
    tx.insert_group_members(org, GroupId(groups[3].id), &[seed.alice.id, seed.bob.id], at(1))
        .await
        .expect("members");
    tx.commit().await.expect("commit");
    groups[3].member_count = 2;
    groups.sort_by_key(|g| g.id);

    let mut read = db.store.read().await.expect("read");
    let p1 = read.list_groups(org, PageRequest { after: None, limit: 3 }).await.expect("page");
    assert_eq!((p1.items, p1.next_after), (groups[..3].to_vec(), Some(groups[2].id)));
    let p2 = read
        .list_groups(org, PageRequest { after: Some(groups[2].id), limit: 3 })
        .await
        .expect("page");
    assert_eq!((p2.items, p2.next_after), (groups[3..].to_vec(), None));
    let all = read.list_groups(org, PageRequest::first()).await.expect("page");
    assert_eq!(all.items, groups);
    let page = read.list_groups(seed.other_org.id, PageRequest::first()).await.expect("page");
    assert_eq!(page.items, vec![theirs]);
}

async fn members_add_list_and_remove(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let g = group(org, "Everyone");
    let mut inactive = user(&seed.org, "Ina", "ina@acme.example", OrgRole::User);
    inactive.set_status(UserStatus::Deactivated, inactive.updated_at);
    insert_users(db, &[&inactive]).await;
    let mut tx = db.store.write().await.expect("write");
    tx.insert_group(&g).await.expect("insert");
    // Added in three batches at three times; re-adding is a no-op that keeps the first time.
    tx.insert_group_members(org, GroupId(g.id), &[seed.bob.id, inactive.id], at(30))
        .await
        .expect("add");
    tx.insert_group_members(org, GroupId(g.id), &[seed.alice.id], at(10)).await.expect("add");
    tx.insert_group_members(
        org,
        GroupId(g.id),
        &[seed.owner.id, seed.alice.id, seed.bob.id],
        at(20),
    )
    .await
    .expect("add");
    tx.insert_group_members(org, GroupId(g.id), &[], at(40)).await.expect("add nobody");
    // A repeated id in one call is added once.
    tx.insert_group_members(org, GroupId(g.id), &[seed.admin.id, seed.admin.id], at(50))
        .await
        .expect("add twice");
    assert_eq!(
        tx.delete_group_members(org, GroupId(g.id), &[seed.admin.id]).await.expect("remove"),
        vec![seed.admin.id]
    );
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_group(org, g.id).await.expect("get").expect("group").member_count, 4);
    // Active members only, by time added (then id): alice (10), owner (20), bob (30).
    assert_eq!(
        read.group_member_ids(org, g.id).await.expect("ids"),
        vec![seed.alice.id, seed.owner.id, seed.bob.id]
    );
    assert!(read.group_member_ids(seed.other_org.id, g.id).await.expect("ids").is_empty());
    // The member listing has everyone, by id, in pages.
    let mut members = [seed.alice.clone(), seed.owner.clone(), seed.bob.clone(), inactive.clone()];
    members.sort_by_key(|u| u.id);
    let p1 = read
        .list_group_members(org, g.id, PageRequest { after: None, limit: 3 })
        .await
        .expect("page");
    assert_eq!((p1.items, p1.next_after), (members[..3].to_vec(), Some(members[2].id)));
    let p2 = read
        .list_group_members(org, g.id, PageRequest { after: Some(members[2].id), limit: 3 })
        .await
        .expect("page");
    assert_eq!((p2.items, p2.next_after), (members[3..].to_vec(), None));
    let page =
        read.list_group_members(seed.other_org.id, g.id, PageRequest::first()).await.expect("page");
    assert!(page.items.is_empty());
    // existing_members: which of the given ids are members.
    let mut existing = read
        .existing_members(
            org,
            GroupId(g.id),
            &[seed.admin.id, seed.alice.id, new_id(), inactive.id, seed.stranger.id],
        )
        .await
        .expect("existing");
    existing.sort();
    assert_eq!(existing, sorted(vec![seed.alice.id, inactive.id]));
    assert!(read.existing_members(org, GroupId(g.id), &[]).await.expect("existing").is_empty());
    assert!(read
        .existing_members(seed.other_org.id, GroupId(g.id), &[seed.alice.id])
        .await
        .expect("scoped")
        .is_empty());
    drop(read);

    let mut tx = db.store.write().await.expect("write");
    assert!(tx
        .delete_group_members(seed.other_org.id, GroupId(g.id), &[seed.alice.id])
        .await
        .expect("scoped")
        .is_empty());
    assert!(tx.delete_group_members(org, GroupId(g.id), &[]).await.expect("nobody").is_empty());
    // Several at once: only the members among them are removed (and returned).
    let mut removed = tx
        .delete_group_members(org, GroupId(g.id), &[seed.alice.id, seed.admin.id, inactive.id])
        .await
        .expect("remove");
    removed.sort();
    assert_eq!(removed, sorted(vec![seed.alice.id, inactive.id]));
    assert!(tx
        .delete_group_members(org, GroupId(g.id), &[seed.alice.id])
        .await
        .expect("again")
        .is_empty());
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(
        read.group_member_ids(org, g.id).await.expect("ids"),
        vec![seed.owner.id, seed.bob.id]
    );
    assert_eq!(read.get_group(org, g.id).await.expect("get").expect("group").member_count, 2);
}

async fn delete_group_cascades_and_detaches_requests(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let g = group(org, "Doomed");
    let keep = group(org, "Kept");
    let app = work_app(org, "Slack");
    insert_apps(db, &[&app]).await;
    let p = policy(org, RequestType::GrantAccess, true);
    let mut req = request(&p, app.id, Some(seed.alice.id));
    req.source_group_id = Some(g.id);
    let mut tx = db.store.write().await.expect("write");
    tx.insert_group(&g).await.expect("insert");
    tx.insert_group(&keep).await.expect("insert");
    tx.insert_group_members(org, GroupId(g.id), &[seed.alice.id], at(1)).await.expect("members");
    tx.insert_group_members(org, GroupId(keep.id), &[seed.alice.id], at(1)).await.expect("members");
    tx.set_group_default_apps(
        org,
        g.id,
        &[DefaultWorkApp { work_app_id: app.id, permission_level_id: None }],
    )
    .await
    .expect("defaults");
    tx.set_group_hidden_apps(org, g.id, &[app.id]).await.expect("hidden");
    tx.insert_policy(&p).await.expect("policy");
    tx.insert_request(&req).await.expect("request");
    tx.commit().await.expect("commit");

    let mut tx = db.store.write().await.expect("write");
    assert!(!tx.delete_group(seed.other_org.id, g.id).await.expect("scoped"));
    assert!(tx.delete_group(org, g.id).await.expect("delete"));
    assert!(!tx.delete_group(org, g.id).await.expect("again"));
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_group(org, g.id).await.expect("get"), None);
    assert!(!read.group_exists(org, g.id).await.expect("exists"));
    assert!(read.group_member_ids(org, g.id).await.expect("ids").is_empty());
    assert!(read.group_default_apps(org, g.id).await.expect("defaults").is_empty());
    assert!(read.group_hidden_apps(org, g.id).await.expect("hidden").is_empty());
    assert!(read.hidden_app_ids_for_user(org, seed.alice.id).await.expect("hidden").is_empty());
    assert!(read.groups_of_apps(org, &[app.id]).await.expect("groups").is_empty());
    // The request it caused stays, without its source group.
    assert_eq!(
        read.get_request(org, req.id).await.expect("get"),
        Some(portcullis_domain::Request { source_group_id: None, ..req })
    );
    // Other groups keep their members.
    assert_eq!(read.group_member_ids(org, keep.id).await.expect("ids"), vec![seed.alice.id]);
}

async fn default_and_hidden_apps(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let (a1, a2, a3) = (work_app(org, "A1"), work_app(org, "A2"), work_app(org, "A3"));
    insert_apps(db, &[&a1, &a2, &a3]).await;
    let a1_level = level(&a1, "Member", true, false);
    let g1 = group(org, "G1");
    let g2 = group(org, "G2");
    let mut tx = db.store.write().await.expect("write");
    tx.insert_permission_level(&a1_level).await.expect("level");
    tx.insert_group(&g1).await.expect("group");
    tx.insert_group(&g2).await.expect("group");
    tx.insert_group_members(org, GroupId(g1.id), &[seed.alice.id], at(1)).await.expect("members");
    tx.insert_group_members(org, GroupId(g2.id), &[seed.alice.id, seed.bob.id], at(1))
        .await
        .expect("members");
    // A first set, then replaced.
    tx.set_group_default_apps(
        org,
        g1.id,
        &[DefaultWorkApp { work_app_id: a3.id, permission_level_id: None }],
    )
    .await
    .expect("defaults");
    let g1_defaults = vec![
        DefaultWorkApp { work_app_id: a1.id, permission_level_id: Some(a1_level.id) },
        DefaultWorkApp { work_app_id: a2.id, permission_level_id: None },
    ];
    tx.set_group_default_apps(org, g1.id, &g1_defaults).await.expect("defaults");
    tx.set_group_default_apps(
        org,
        g2.id,
        &[DefaultWorkApp { work_app_id: a1.id, permission_level_id: None }],
    )
    .await
    .expect("defaults");
    tx.set_group_hidden_apps(org, g1.id, &[a1.id]).await.expect("hidden");
    // Duplicates collapse; the list replaces the previous one.
    tx.set_group_hidden_apps(org, g1.id, &[a3.id, a2.id, a3.id]).await.expect("hidden");
    tx.set_group_hidden_apps(org, g2.id, &[a2.id]).await.expect("hidden");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    let mut expected_defaults = g1_defaults.clone();
    expected_defaults.sort_by_key(|d| d.work_app_id);
    assert_eq!(read.group_default_apps(org, g1.id).await.expect("defaults"), expected_defaults);
    assert_eq!(
        read.group_hidden_apps(org, g1.id).await.expect("hidden"),
        sorted(vec![a2.id, a3.id])
    );
    assert_eq!(read.group_hidden_apps(org, g2.id).await.expect("hidden"), vec![a2.id]);
    assert!(read.group_default_apps(seed.other_org.id, g1.id).await.expect("scoped").is_empty());
    assert!(read.group_hidden_apps(seed.other_org.id, g1.id).await.expect("scoped").is_empty());
    // Hidden from a user by any of their groups, each app once.
    let mut hidden = read.hidden_app_ids_for_user(org, seed.alice.id).await.expect("hidden");
    hidden.sort();
    assert_eq!(hidden, sorted(vec![a2.id, a3.id]));
    assert_eq!(read.hidden_app_ids_for_user(org, seed.bob.id).await.expect("hidden"), vec![a2.id]);
    assert!(read.hidden_app_ids_for_user(org, seed.owner.id).await.expect("hidden").is_empty());
    assert!(read
        .hidden_app_ids_for_user(seed.other_org.id, seed.alice.id)
        .await
        .expect("scoped")
        .is_empty());
    // For several apps at once: which groups default to them, which hide them (by group id).
    let by_app = read.groups_of_apps(org, &[a1.id, a2.id, a3.id, new_id()]).await.expect("groups");
    assert_eq!(
        by_app,
        HashMap::from([
            (a1.id, AppGroups { default_for: sorted(vec![g1.id, g2.id]), hidden_from: vec![] }),
            (
                a2.id,
                AppGroups { default_for: vec![g1.id], hidden_from: sorted(vec![g1.id, g2.id]) }
            ),
            (a3.id, AppGroups { default_for: vec![], hidden_from: vec![g1.id] }),
        ])
    );
    assert_eq!(
        read.groups_of_apps(org, &[a3.id]).await.expect("groups"),
        HashMap::from([(a3.id, AppGroups { default_for: vec![], hidden_from: vec![g1.id] })])
    );
    assert!(read.groups_of_apps(org, &[]).await.expect("groups").is_empty());
    assert!(read
        .groups_of_apps(seed.other_org.id, &[a1.id, a2.id])
        .await
        .expect("scoped")
        .is_empty());
    drop(read);

    // Empty lists clear.
    let mut tx = db.store.write().await.expect("write");
    tx.set_group_default_apps(org, g1.id, &[]).await.expect("clear");
    tx.set_group_hidden_apps(org, g1.id, &[]).await.expect("clear");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert!(read.group_default_apps(org, g1.id).await.expect("defaults").is_empty());
    assert!(read.group_hidden_apps(org, g1.id).await.expect("hidden").is_empty());
    assert_eq!(
        read.hidden_app_ids_for_user(org, seed.alice.id).await.expect("hidden"),
        vec![a2.id]
    );
}

async fn covered_pairs_are_live_accesses_and_open_requests(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let (a1, a2, a3) = (work_app(org, "A1"), work_app(org, "A2"), work_app(org, "A3"));
    insert_apps(db, &[&a1, &a2, &a3]).await;
    let p = policy(org, RequestType::GrantAccess, true);
    let grant =
        |app: &portcullis_domain::WorkApp, user: &portcullis_domain::User, exp| GrantEntry {
            work_app_id: app.id,
            user_id: user.id,
            permission_level_id: None,
            expires_at: exp,
        };
    let pending = request(&p, a2.id, Some(seed.bob.id));
    let approved = portcullis_domain::Request {
        status: RequestStatus::Approved,
        ..request(&p, a3.id, Some(seed.alice.id))
    };
    let declined = portcullis_domain::Request {
        status: RequestStatus::Declined,
        ..request(&p, a1.id, Some(seed.owner.id))
    };
    let mut tx = db.store.write().await.expect("write");
    tx.upsert_accesses(
        org,
        &[
            grant(&a1, &seed.alice, None),
            grant(&a2, &seed.alice, Some(at(50))),
            grant(&a1, &seed.bob, Some(at(10))),
        ],
        AccessSource::Direct,
        at(1),
    )
    .await
    .expect("grant");
    tx.insert_policy(&p).await.expect("policy");
    for r in [&pending, &approved, &declined] {
        tx.insert_request(r).await.expect("request");
    }
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    let users = [seed.alice.id, seed.bob.id, seed.owner.id];
    let apps = [a1.id, a2.id, a3.id];
    let mut pairs = read.covered_pairs(org, &users, &apps, at(20)).await.expect("pairs");
    pairs.sort();
    let mut expected = vec![
        (seed.alice.id, a1.id), // live access
        (seed.alice.id, a2.id), // live until 50 s
        (seed.alice.id, a3.id), // approved request
        (seed.bob.id, a2.id),   // pending request
    ];
    expected.sort();
    assert_eq!(pairs, expected, "bob's a1 expired at 10 s; owner's request was declined");
    // Later, alice's a2 access has expired too.
    let mut pairs = read.covered_pairs(org, &users, &apps, at(50)).await.expect("pairs");
    pairs.sort();
    expected.retain(|p| *p != (seed.alice.id, a2.id));
    assert_eq!(pairs, expected);
    // Only among the given users and apps.
    assert_eq!(
        read.covered_pairs(org, &[seed.bob.id], &[a2.id, a1.id], at(0)).await.expect("pairs").len(),
        2
    );
    assert!(read
        .covered_pairs(org, &[seed.bob.id], &[a3.id], at(0))
        .await
        .expect("pairs")
        .is_empty());
    assert!(read.covered_pairs(org, &[], &apps, at(0)).await.expect("pairs").is_empty());
    assert!(read
        .covered_pairs(seed.other_org.id, &users, &apps, at(0))
        .await
        .expect("scoped")
        .is_empty());
}

async fn leaving_a_group_removes_its_defaults_unless_another_group_or_a_request_covers_them(
    db: &TestDb,
) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let apps: Vec<_> = ["A1", "A2", "A3", "A4", "A5"].iter().map(|n| work_app(org, n)).collect();
    insert_apps(db, &apps.iter().collect::<Vec<_>>()).await;
    let [a1, a2, a3, a4, a5] = [0, 1, 2, 3, 4].map(|i| apps[i].id);
    let (left, other) = (group(org, "Left"), group(org, "Other"));
    let p = policy(org, RequestType::RemoveAccess, true);
    let default = |id| DefaultWorkApp { work_app_id: id, permission_level_id: None };
    let grant = |app, user: &portcullis_domain::User, exp| GrantEntry {
        work_app_id: app,
        user_id: user.id,
        permission_level_id: None,
        expires_at: exp,
    };
    let mut tx = db.store.write().await.expect("write");
    tx.insert_policy(&p).await.expect("policy");
    tx.insert_group(&left).await.expect("group");
    tx.insert_group(&other).await.expect("group");
    // Alice and Bob have left "Left" already; Alice is still in "Other", which gives a2 too.
    tx.insert_group_members(org, GroupId(other.id), &[seed.alice.id], at(1)).await.expect("in");
    tx.set_group_default_apps(org, left.id, &[default(a1), default(a2), default(a3), default(a4)])
        .await
        .expect("defaults");
    tx.set_group_default_apps(org, other.id, &[default(a2)]).await.expect("defaults");
    tx.upsert_accesses(
        org,
        &[
            grant(a1, &seed.alice, None),
            grant(a2, &seed.alice, None), // another group gives it
            grant(a3, &seed.alice, None), // a removal is already open
            grant(a4, &seed.alice, Some(at(10))), // expired by then
            grant(a5, &seed.alice, None), // not a default app of the group
            grant(a1, &seed.bob, None),
            grant(a1, &seed.owner, None), // not among the users who left
        ],
        AccessSource::Group,
        at(1),
    )
    .await
    .expect("grant");
    let removal = portcullis_domain::Request {
        request_type: RequestType::RemoveAccess,
        ..request(&p, a3, Some(seed.alice.id))
    };
    tx.insert_request(&removal).await.expect("request");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    let users = [seed.alice.id, seed.bob.id];
    let mut found =
        read.group_leave_removals(org, GroupId(left.id), &users, at(20)).await.expect("removals");
    found.sort();
    let mut expected = vec![(seed.alice.id, a1), (seed.bob.id, a1)];
    expected.sort();
    assert_eq!(found, expected);
    assert!(read
        .group_leave_removals(org, GroupId(left.id), &[], at(20))
        .await
        .expect("nobody")
        .is_empty());
    assert!(read
        .group_leave_removals(seed.other_org.id, GroupId(left.id), &users, at(20))
        .await
        .expect("scoped")
        .is_empty());
}
