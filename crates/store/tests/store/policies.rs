//! Policies, versions and assignments: `PolicyReads`, `PolicyWrites`.
use portcullis_domain::{new_id, Approver, PageRequest, Policy, PolicyStep, RequestType};
use portcullis_domain::{PermissionLevelId, PolicyId, WorkAppId};

use crate::common::*;

on_every_backend!(
    policies_round_trip_and_version,
    one_default_policy_per_request_type,
    policies_page_by_request_type,
    policy_assignments_to_apps_and_levels,
);

async fn policies_round_trip_and_version(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let approvers = group(org, "Approvers");
    // Every kind of step, with and without ids.
    let custom = Policy {
        name: "Security review".into(),
        steps: vec![
            PolicyStep { approver: Approver::User, user_id: Some(seed.admin.id), group_id: None },
            PolicyStep {
                approver: Approver::GroupMembers,
                user_id: None,
                group_id: Some(approvers.id),
            },
            PolicyStep { approver: Approver::Administrators, user_id: None, group_id: None },
        ],
        is_system: false,
        ..policy(org, RequestType::ChangePermissionLevel, false)
    };
    let empty = Policy { steps: vec![], ..policy(org, RequestType::ArchiveWorkApp, false) };
    let default = policy(org, RequestType::GrantAccess, true);
    let mut tx = db.store.write().await.expect("write");
    tx.insert_group(&approvers).await.expect("group");
    for p in [&custom, &empty, &default] {
        tx.insert_policy(p).await.expect("insert");
    }
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    for p in [&custom, &empty, &default] {
        assert_eq!(read.get_policy(org, p.id).await.expect("get").as_ref(), Some(p));
        assert_eq!(
            read.get_policy_steps(org, p.id, 1).await.expect("steps"),
            Some(p.steps.clone())
        );
    }
    assert_eq!(read.get_policy(seed.other_org.id, custom.id).await.expect("get"), None);
    assert_eq!(read.get_policy(org, new_id()).await.expect("get"), None);
    assert_eq!(read.get_policy_steps(seed.other_org.id, custom.id, 1).await.expect("steps"), None);
    assert_eq!(read.get_policy_steps(org, custom.id, 2).await.expect("steps"), None);
    drop(read);

    // Rewriting the current version in place (nobody follows it yet).
    let rewritten = Policy {
        name: "Security review v1b".into(),
        steps: vec![PolicyStep { approver: Approver::AppOwner, user_id: None, group_id: None }],
        updated_at: at_ms(70_000),
        ..custom.clone()
    };
    let mut tx = db.store.write().await.expect("write");
    tx.update_policy(&rewritten, false).await.expect("update in place");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_policy(org, custom.id).await.expect("get"), Some(rewritten.clone()));
    assert_eq!(
        read.get_policy_steps(org, custom.id, 1).await.expect("steps"),
        Some(rewritten.steps.clone())
    );
    assert!(!read.policy_version_in_use(org, custom.id, 1).await.expect("in use"));
    drop(read);

    // A request follows version 1: the next edit makes version 2 and keeps version 1's steps.
    let app = work_app(org, "Vault");
    insert_apps(db, &[&app]).await;
    let req = request(&rewritten, app.id, Some(seed.alice.id));
    let mut tx = db.store.write().await.expect("write");
    tx.insert_request(&req).await.expect("request");
    tx.commit().await.expect("commit");
    let v2 = Policy {
        name: "Security review v2".into(),
        steps: vec![
            PolicyStep { approver: Approver::Manager, user_id: None, group_id: None },
            PolicyStep { approver: Approver::User, user_id: Some(seed.owner.id), group_id: None },
        ],
        version: 2,
        updated_at: at_ms(80_000),
        ..rewritten.clone()
    };
    let mut read = db.store.read().await.expect("read");
    assert!(read.policy_version_in_use(org, custom.id, 1).await.expect("in use"));
    assert!(!read.policy_version_in_use(org, custom.id, 2).await.expect("in use"));
    assert!(!read.policy_version_in_use(seed.other_org.id, custom.id, 1).await.expect("scoped"));
    drop(read);
    let mut tx = db.store.write().await.expect("write");
    tx.update_policy(&v2, true).await.expect("new version");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_policy(org, custom.id).await.expect("get"), Some(v2.clone()));
    assert_eq!(read.get_policy_steps(org, custom.id, 1).await.expect("v1"), Some(rewritten.steps));
    assert_eq!(read.get_policy_steps(org, custom.id, 2).await.expect("v2"), Some(v2.steps));
}

async fn one_default_policy_per_request_type(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let grant = policy(org, RequestType::GrantAccess, true);
    let remove = policy(org, RequestType::RemoveAccess, true);
    let other_grant = policy(org, RequestType::GrantAccess, false);
    let theirs = policy(seed.other_org.id, RequestType::GrantAccess, true);
    let mut tx = db.store.write().await.expect("write");
    for p in [&grant, &remove, &other_grant, &theirs] {
        tx.insert_policy(p).await.expect("insert");
    }
    tx.commit().await.expect("commit");
    let mut tx = db.store.write().await.expect("write");
    assert_conflict(tx.insert_policy(&policy(org, RequestType::GrantAccess, true)).await);
    drop(tx);

    let mut read = db.store.read().await.expect("read");
    assert_eq!(
        read.default_policy(org, RequestType::GrantAccess).await.expect("default"),
        Some(grant)
    );
    assert_eq!(
        read.default_policy(org, RequestType::RemoveAccess).await.expect("default"),
        Some(remove)
    );
    assert_eq!(read.default_policy(org, RequestType::ArchiveWorkApp).await.expect("default"), None);
    assert_eq!(
        read.default_policy(seed.other_org.id, RequestType::GrantAccess).await.expect("default"),
        Some(theirs)
    );
    assert_eq!(
        read.default_policy(new_id(), RequestType::GrantAccess).await.expect("default"),
        None
    );
}

async fn policies_page_by_request_type(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let mut grants: Vec<Policy> =
        (0..3).map(|_| policy(org, RequestType::GrantAccess, false)).collect();
    let mut removes: Vec<Policy> =
        (0..2).map(|_| policy(org, RequestType::RemoveAccess, false)).collect();
    let theirs = policy(seed.other_org.id, RequestType::GrantAccess, false);
    let mut tx = db.store.write().await.expect("write");
    for p in grants.iter().chain(&removes).chain([&theirs]) {
        tx.insert_policy(p).await.expect("insert");
    }
    tx.commit().await.expect("commit");
    grants.sort_by_key(|p| p.id);
    removes.sort_by_key(|p| p.id);
    let mut all: Vec<Policy> = grants.iter().chain(&removes).cloned().collect();
    all.sort_by_key(|p| p.id);

    let mut read = db.store.read().await.expect("read");
    let page = read.list_policies(org, None, PageRequest::first()).await.expect("list");
    assert_eq!((page.items, page.next_after), (all.clone(), None));
    let p1 =
        read.list_policies(org, None, PageRequest { after: None, limit: 3 }).await.expect("list");
    assert_eq!((p1.items, p1.next_after), (all[..3].to_vec(), Some(all[2].id)));
    let p2 = read
        .list_policies(org, None, PageRequest { after: p1.next_after, limit: 3 })
        .await
        .expect("list");
    assert_eq!((p2.items, p2.next_after), (all[3..].to_vec(), None));
    let g1 = read
        .list_policies(org, Some(RequestType::GrantAccess), PageRequest { after: None, limit: 2 })
        .await
        .expect("list");
    assert_eq!((g1.items, g1.next_after), (grants[..2].to_vec(), Some(grants[1].id)));
    let g2 = read
        .list_policies(
            org,
            Some(RequestType::GrantAccess),
            PageRequest { after: g1.next_after, limit: 2 },
        )
        .await
        .expect("list");
    assert_eq!((g2.items, g2.next_after), (grants[2..].to_vec(), None));
    let r = read
        .list_policies(org, Some(RequestType::RemoveAccess), PageRequest::first())
        .await
        .expect("list");
    assert_eq!(r.items, removes);
    let none = read
        .list_policies(org, Some(RequestType::ArchiveWorkApp), PageRequest::first())
        .await
        .expect("list");
    assert!(none.items.is_empty());
    let page =
        read.list_policies(seed.other_org.id, None, PageRequest::first()).await.expect("list");
    assert_eq!(page.items, vec![theirs]);
}

async fn policy_assignments_to_apps_and_levels(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let app = work_app(org, "AWS");
    let other_app = work_app(org, "GCP");
    insert_apps(db, &[&app, &other_app]).await;
    let admin_l = level(&app, "Admin", false, true);
    let read_l = level(&app, "Read", true, false);
    let (p1, p2, p3) = (
        policy(org, RequestType::GrantAccess, false),
        policy(org, RequestType::GrantAccess, false),
        policy(org, RequestType::RemoveAccess, false),
    );
    let mut tx = db.store.write().await.expect("write");
    tx.insert_permission_level(&admin_l).await.expect("level");
    tx.insert_permission_level(&read_l).await.expect("level");
    for p in [&p1, &p2, &p3] {
        tx.insert_policy(p).await.expect("policy");
    }
    tx.set_work_app_policy(org, WorkAppId(app.id), RequestType::GrantAccess, PolicyId(p1.id))
        .await
        .expect("assign");
    // Assigning again replaces.
    tx.set_work_app_policy(org, WorkAppId(app.id), RequestType::GrantAccess, PolicyId(p2.id))
        .await
        .expect("reassign");
    tx.set_work_app_policy(org, WorkAppId(app.id), RequestType::RemoveAccess, PolicyId(p3.id))
        .await
        .expect("assign");
    tx.set_permission_level_policy(
        org,
        PermissionLevelId(admin_l.id),
        RequestType::GrantAccess,
        PolicyId(p2.id),
    )
    .await
    .expect("assign");
    tx.set_permission_level_policy(
        org,
        PermissionLevelId(admin_l.id),
        RequestType::GrantAccess,
        PolicyId(p1.id),
    )
    .await
    .expect("reassign");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    let g = RequestType::GrantAccess;
    assert_eq!(
        read.assigned_policies(org, WorkAppId(app.id), Some(PermissionLevelId(admin_l.id)), g)
            .await
            .expect("a"),
        (Some(p1.id), Some(p2.id))
    );
    assert_eq!(
        read.assigned_policies(org, WorkAppId(app.id), Some(PermissionLevelId(read_l.id)), g)
            .await
            .expect("a"),
        (None, Some(p2.id))
    );
    assert_eq!(
        read.assigned_policies(org, WorkAppId(app.id), None, g).await.expect("a"),
        (None, Some(p2.id))
    );
    assert_eq!(
        read.assigned_policies(
            org,
            WorkAppId(app.id),
            Some(PermissionLevelId(admin_l.id)),
            RequestType::RemoveAccess
        )
        .await
        .expect("a"),
        (None, Some(p3.id))
    );
    assert_eq!(
        read.assigned_policies(org, WorkAppId(app.id), None, RequestType::ChangePermissionLevel)
            .await
            .expect("a"),
        (None, None)
    );
    assert_eq!(
        read.assigned_policies(org, WorkAppId(other_app.id), None, g).await.expect("a"),
        (None, None)
    );
    assert_eq!(
        read.assigned_policies(
            seed.other_org.id,
            WorkAppId(app.id),
            Some(PermissionLevelId(admin_l.id)),
            g
        )
        .await
        .expect("scoped"),
        (None, None)
    );
}
