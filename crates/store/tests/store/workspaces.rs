//! Workspaces and their members: `WorkspaceReads`, `WorkspaceWrites`.
use portcullis_domain::{new_id, Workspace, WorkspaceMember, WorkspaceRole};
use portcullis_domain::{UserId, WorkspaceId};

use crate::common::*;

on_every_backend!(
    workspaces_round_trip_soft_delete_and_scope,
    workspace_members_upsert_list_and_remove
);

fn workspace(org_id: uuid::Uuid, name: &str, creator: uuid::Uuid) -> Workspace {
    Workspace {
        id: new_id(),
        org_id,
        name: name.into(),
        created_by_user_id: creator,
        created_at: at_ms(40_040),
        updated_at: at_ms(40_041),
        deleted_at: None,
    }
}

fn member(w: &Workspace, user_id: uuid::Uuid, role: WorkspaceRole, added: i64) -> WorkspaceMember {
    WorkspaceMember {
        workspace_id: w.id,
        user_id,
        role,
        added_at: at(added),
        updated_at: at(added),
    }
}

async fn workspaces_round_trip_soft_delete_and_scope(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let w1 = workspace(org, "Marketing", seed.owner.id);
    let w2 = workspace(org, "Sales", seed.alice.id);
    let w3 = workspace(org, "Legal", seed.bob.id);
    let theirs = workspace(seed.other_org.id, "Theirs", seed.stranger.id);
    let mut tx = db.store.write().await.expect("write");
    for w in [&w1, &w2, &w3, &theirs] {
        tx.insert_workspace(w).await.expect("insert");
    }
    tx.upsert_workspace_member(org, &member(&w2, seed.alice.id, WorkspaceRole::Admin, 1))
        .await
        .expect("member");
    tx.upsert_workspace_member(org, &member(&w3, seed.alice.id, WorkspaceRole::Read, 1))
        .await
        .expect("member");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    for w in [&w1, &w2, &w3] {
        assert_eq!(read.get_workspace(org, w.id).await.expect("get").as_ref(), Some(w));
    }
    assert_eq!(read.get_workspace(org, theirs.id).await.expect("get"), None);
    assert_eq!(
        read.get_workspace(seed.other_org.id, theirs.id).await.expect("get"),
        Some(theirs.clone())
    );
    let mut all = vec![w1.clone(), w2.clone(), w3.clone()];
    all.sort_by_key(|w| w.id);
    assert_eq!(read.list_workspaces(org, None).await.expect("list"), all);
    let mut alices = vec![w2.clone(), w3.clone()];
    alices.sort_by_key(|w| w.id);
    assert_eq!(read.list_workspaces(org, Some(seed.alice.id)).await.expect("list"), alices);
    assert!(read.list_workspaces(org, Some(seed.bob.id)).await.expect("list").is_empty());
    assert_eq!(
        read.list_workspaces(seed.other_org.id, None).await.expect("list"),
        vec![theirs.clone()]
    );
    drop(read);

    // update_workspace saves name, updated_at and deleted_at (the soft delete).
    let renamed = Workspace { name: "Growth".into(), updated_at: at_ms(41_041), ..w1.clone() };
    let deleted = Workspace { updated_at: at(42), deleted_at: Some(at_ms(42_042)), ..w3.clone() };
    let mut tx = db.store.write().await.expect("write");
    tx.update_workspace(&Workspace {
        created_by_user_id: seed.bob.id,
        created_at: at(0),
        ..renamed.clone()
    })
    .await
    .expect("update");
    tx.update_workspace(&deleted).await.expect("soft delete");
    // Another organization's id changes nothing.
    tx.update_workspace(&Workspace {
        org_id: seed.other_org.id,
        deleted_at: Some(at(1)),
        ..w2.clone()
    })
    .await
    .expect("no-op");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_workspace(org, w1.id).await.expect("get"), Some(renamed.clone()));
    assert_eq!(read.get_workspace(org, w2.id).await.expect("get"), Some(w2.clone()));
    assert_eq!(
        read.get_workspace(org, w3.id).await.expect("get"),
        None,
        "deleted workspaces are gone"
    );
    let mut live = vec![renamed, w2.clone()];
    live.sort_by_key(|w| w.id);
    assert_eq!(read.list_workspaces(org, None).await.expect("list"), live);
    assert_eq!(read.list_workspaces(org, Some(seed.alice.id)).await.expect("list"), vec![w2]);
}

async fn workspace_members_upsert_list_and_remove(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let w = workspace(org, "Research", seed.owner.id);
    let other = workspace(org, "Other", seed.owner.id);
    let mut tx = db.store.write().await.expect("write");
    tx.insert_workspace(&w).await.expect("insert");
    tx.insert_workspace(&other).await.expect("insert");
    // Added at 30, 10, 20 s: listed by time added.
    let owner_m = member(&w, seed.owner.id, WorkspaceRole::Admin, 30);
    let alice_m = member(&w, seed.alice.id, WorkspaceRole::Write, 10);
    let bob_m = member(&w, seed.bob.id, WorkspaceRole::Read, 20);
    for m in [&owner_m, &alice_m, &bob_m] {
        tx.upsert_workspace_member(org, m).await.expect("member");
    }
    tx.upsert_workspace_member(org, &member(&other, seed.alice.id, WorkspaceRole::Admin, 1))
        .await
        .expect("member");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    assert_eq!(
        read.get_workspace_member(org, WorkspaceId(w.id), UserId(seed.alice.id))
            .await
            .expect("get"),
        Some(alice_m.clone())
    );
    assert_eq!(
        read.get_workspace_member(org, WorkspaceId(w.id), UserId(seed.admin.id))
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        read.get_workspace_member(seed.other_org.id, WorkspaceId(w.id), UserId(seed.alice.id))
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        read.list_workspace_members(org, w.id).await.expect("list"),
        vec![alice_m.clone(), bob_m.clone(), owner_m.clone()]
    );
    assert!(read.list_workspace_members(seed.other_org.id, w.id).await.expect("list").is_empty());
    assert_eq!(read.count_workspace_admins(org, w.id).await.expect("count"), 1);
    assert_eq!(read.count_workspace_admins(org, other.id).await.expect("count"), 1);
    assert_eq!(read.count_workspace_admins(seed.other_org.id, w.id).await.expect("count"), 0);
    drop(read);

    // Upserting an existing member changes role and updated_at, keeps added_at.
    let promoted =
        WorkspaceMember { role: WorkspaceRole::Admin, updated_at: at_ms(60_606), ..bob_m.clone() };
    let mut tx = db.store.write().await.expect("write");
    tx.upsert_workspace_member(org, &WorkspaceMember { added_at: at(999), ..promoted.clone() })
        .await
        .expect("promote");
    assert_eq!(tx.count_workspace_admins(org, w.id).await.expect("count"), 2);
    assert!(!tx
        .delete_workspace_member(seed.other_org.id, WorkspaceId(w.id), UserId(seed.alice.id))
        .await
        .expect("scoped"));
    assert!(tx
        .delete_workspace_member(org, WorkspaceId(w.id), UserId(seed.alice.id))
        .await
        .expect("remove"));
    assert!(!tx
        .delete_workspace_member(org, WorkspaceId(w.id), UserId(seed.alice.id))
        .await
        .expect("again"));
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    assert_eq!(
        read.get_workspace_member(org, WorkspaceId(w.id), UserId(seed.bob.id)).await.expect("get"),
        Some(promoted.clone())
    );
    assert_eq!(
        read.list_workspace_members(org, w.id).await.expect("list"),
        vec![promoted, owner_m]
    );
    // The member's other workspace is untouched.
    assert!(read
        .get_workspace_member(org, WorkspaceId(other.id), UserId(seed.alice.id))
        .await
        .expect("get")
        .is_some());
}
