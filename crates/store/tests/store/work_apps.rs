//! Work apps, owners and permission levels: `WorkAppReads`, `WorkAppWrites`.
use portcullis_domain::{new_id, PageRequest, ProvisioningMode, WorkApp, WorkAppStatus};

use crate::common::*;

on_every_backend!(
    work_apps_round_trip_with_ordered_owners,
    work_app_names_are_unique_per_organization,
    work_apps_page_and_are_scoped,
    permission_levels_round_trip_page_and_conflict,
);

async fn work_apps_round_trip_with_ordered_owners(db: &TestDb) {
    let seed = seed(db).await;
    // Owners in an order that is neither id order nor insertion order of the users.
    let mut owners = vec![seed.owner.id, seed.admin.id, seed.alice.id, seed.bob.id];
    owners.sort();
    owners.reverse();
    owners.swap(0, 2);
    let slack = WorkApp {
        owner_ids: owners.clone(),
        status: WorkAppStatus::Unmanaged,
        provisioning_mode: ProvisioningMode::Automatic,
        ..work_app(seed.org.id, "Slack")
    };
    let bare = WorkApp {
        description: String::new(),
        category: String::new(),
        url: String::new(),
        image_url: String::new(),
        tag_line: String::new(),
        ..work_app(seed.org.id, "Bare")
    };
    insert_apps(db, &[&slack, &bare]).await;

    let mut read = db.store.read().await.expect("read");
    let got = read.get_work_app(seed.org.id, slack.id).await.expect("get").expect("slack");
    assert_eq!(got.owner_ids, owners, "owners keep their order");
    assert_eq!(got, slack);
    assert_eq!(read.get_work_app(seed.org.id, bare.id).await.expect("get"), Some(bare.clone()));
    assert_eq!(read.get_work_app(seed.org.id, new_id()).await.expect("get"), None);
    drop(read);

    // update_work_app saves every field but created_at, and replaces the owners (order too).
    let changed = WorkApp {
        name: "Slack Enterprise".into(),
        description: "new description".into(),
        status: WorkAppStatus::Archived,
        provisioning_mode: ProvisioningMode::Manual,
        category: "Messaging".into(),
        url: "https://slack.example/enterprise".into(),
        image_url: "https://img.example/s2.png".into(),
        tag_line: "Talk more".into(),
        owner_ids: vec![seed.bob.id, seed.owner.id],
        updated_at: at_ms(50_050),
        ..slack.clone()
    };
    let mut tx = db.store.write().await.expect("write");
    tx.update_work_app(&WorkApp { created_at: at(-1), ..changed.clone() }).await.expect("update");
    // The bare app gains owners, then loses them all.
    tx.update_work_app(&WorkApp { owner_ids: vec![seed.alice.id], ..bare.clone() })
        .await
        .expect("update");
    assert_eq!(
        tx.get_work_app(seed.org.id, bare.id).await.expect("get").expect("bare").owner_ids,
        vec![seed.alice.id]
    );
    tx.update_work_app(&bare).await.expect("update");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_work_app(seed.org.id, slack.id).await.expect("get"), Some(changed));
    assert_eq!(read.get_work_app(seed.org.id, bare.id).await.expect("get"), Some(bare));
}

async fn work_app_names_are_unique_per_organization(db: &TestDb) {
    let seed = seed(db).await;
    let slack = work_app(seed.org.id, "Slack");
    let zoom = work_app(seed.org.id, "Zoom");
    insert_apps(db, &[&slack, &zoom]).await;
    // Same name up to case and surrounding spaces: a conflict, and nothing is left behind.
    let twin = WorkApp { owner_ids: vec![seed.alice.id], ..work_app(seed.org.id, "  sLACK ") };
    let mut tx = db.store.write().await.expect("write");
    assert_conflict(tx.insert_work_app(&twin).await);
    drop(tx);
    let mut tx = db.store.write().await.expect("write");
    assert_conflict(tx.update_work_app(&WorkApp { name: "ZOOM".into(), ..slack.clone() }).await);
    drop(tx);
    // Another organization may use the name.
    let theirs = work_app(seed.other_org.id, "Slack");
    insert_apps(db, &[&theirs]).await;
    // Renaming to its own name in another case is not a conflict.
    let mut tx = db.store.write().await.expect("write");
    let renamed = WorkApp { name: "SLACK".into(), ..slack.clone() };
    tx.update_work_app(&renamed).await.expect("same app, other case");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_work_app(seed.org.id, twin.id).await.expect("get"), None);
    assert_eq!(read.get_work_app(seed.org.id, slack.id).await.expect("get"), Some(renamed));
    assert_eq!(read.get_work_app(seed.other_org.id, theirs.id).await.expect("get"), Some(theirs));
}

async fn work_apps_page_and_are_scoped(db: &TestDb) {
    let seed = seed(db).await;
    let mut apps: Vec<WorkApp> = (0..5)
        .map(|i| WorkApp {
            owner_ids: if i % 2 == 0 { vec![seed.bob.id, seed.alice.id] } else { vec![] },
            ..work_app(seed.org.id, &format!("App {i}"))
        })
        .collect();
    let theirs = work_app(seed.other_org.id, "Theirs");
    insert_apps(db, &apps.iter().chain([&theirs]).collect::<Vec<_>>()).await;
    apps.sort_by_key(|a| a.id);

    let mut read = db.store.read().await.expect("read");
    let first = read
        .list_work_apps(seed.org.id, PageRequest { after: None, limit: 2 })
        .await
        .expect("page");
    assert_eq!(first.items, apps[..2].to_vec(), "owners are attached on listings too");
    assert_eq!(first.next_after, Some(apps[1].id));
    let second = read
        .list_work_apps(seed.org.id, PageRequest { after: first.next_after, limit: 2 })
        .await
        .expect("page");
    assert_eq!(second.items, apps[2..4].to_vec());
    assert_eq!(second.next_after, Some(apps[3].id));
    let last = read
        .list_work_apps(seed.org.id, PageRequest { after: second.next_after, limit: 2 })
        .await
        .expect("page");
    assert_eq!(last.items, apps[4..].to_vec());
    assert_eq!(last.next_after, None);
    let all = read.list_work_apps(seed.org.id, PageRequest::first()).await.expect("all");
    assert_eq!((all.items, all.next_after), (apps.clone(), None));
    // Scoping.
    assert_eq!(read.get_work_app(seed.other_org.id, apps[0].id).await.expect("get"), None);
    assert_eq!(read.get_work_app(seed.org.id, theirs.id).await.expect("get"), None);
    let page = read.list_work_apps(seed.other_org.id, PageRequest::first()).await.expect("page");
    assert_eq!(page.items, vec![theirs]);
}

async fn permission_levels_round_trip_page_and_conflict(db: &TestDb) {
    let seed = seed(db).await;
    let app = work_app(seed.org.id, "GitHub");
    let other_app = work_app(seed.org.id, "GitLab");
    insert_apps(db, &[&app, &other_app]).await;
    let read_level = level(&app, "Read", true, false);
    let admin_level = level(&app, "Admin", false, true);
    let write_level = level(&app, "Write", false, false);
    let mut tx = db.store.write().await.expect("write");
    for l in [&read_level, &admin_level, &write_level] {
        tx.insert_permission_level(l).await.expect("insert");
    }
    // The same name on another app is fine; on this app, in any case, a conflict.
    let other_read = level(&other_app, "Read", false, false);
    tx.insert_permission_level(&other_read).await.expect("other app");
    tx.commit().await.expect("commit");
    let mut tx = db.store.write().await.expect("write");
    assert_conflict(tx.insert_permission_level(&level(&app, " rEAD ", false, false)).await);
    drop(tx);

    let mut read = db.store.read().await.expect("read");
    for l in [&read_level, &admin_level, &write_level, &other_read] {
        assert_eq!(
            read.get_permission_level(seed.org.id, l.id).await.expect("get").as_ref(),
            Some(l)
        );
    }
    assert_eq!(
        read.get_permission_level(seed.other_org.id, read_level.id).await.expect("get"),
        None
    );
    assert_eq!(read.get_permission_level(seed.org.id, new_id()).await.expect("get"), None);
    let mut levels = vec![read_level.clone(), admin_level.clone(), write_level.clone()];
    levels.sort_by_key(|l| l.id);
    let page = read
        .list_permission_levels(seed.org.id, app.id, PageRequest { after: None, limit: 2 })
        .await
        .expect("page");
    assert_eq!(page.items, levels[..2].to_vec());
    assert_eq!(page.next_after, Some(levels[1].id));
    let page = read
        .list_permission_levels(
            seed.org.id,
            app.id,
            PageRequest { after: page.next_after, limit: 2 },
        )
        .await
        .expect("page");
    assert_eq!((page.items, page.next_after), (levels[2..].to_vec(), None));
    let page =
        read.list_permission_levels(seed.org.id, app.id, PageRequest::first()).await.expect("page");
    assert_eq!(page.items, levels);
    // Scoped to the app and the organization.
    let page = read
        .list_permission_levels(seed.org.id, other_app.id, PageRequest::first())
        .await
        .expect("page");
    assert_eq!(page.items, vec![other_read]);
    let page = read
        .list_permission_levels(seed.other_org.id, app.id, PageRequest::first())
        .await
        .expect("page");
    assert!(page.items.is_empty());
    drop(read);

    // A new default level takes over: the old default is no longer one.
    let new_default = level(&app, "Maintain", true, true);
    let mut tx = db.store.write().await.expect("write");
    tx.insert_permission_level(&new_default).await.expect("insert");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    let old =
        read.get_permission_level(seed.org.id, read_level.id).await.expect("get").expect("old");
    assert!(!old.is_default);
    assert_eq!(
        read.get_permission_level(seed.org.id, new_default.id).await.expect("get"),
        Some(new_default)
    );
    let defaults: Vec<_> = read
        .list_permission_levels(seed.org.id, app.id, PageRequest::first())
        .await
        .expect("page")
        .items
        .into_iter()
        .filter(|l| l.is_default)
        .collect();
    assert_eq!(defaults.len(), 1);
}
