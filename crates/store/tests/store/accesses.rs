//! Accesses: `AccessReads`, `AccessWrites`.
use portcullis_domain::{UserId, WorkAppId};
use std::collections::{HashMap, HashSet};

use portcullis_domain::workapp::{AppFacts, GrantEntry, UserAccess};
use portcullis_domain::{
    new_id, Access, AccessDetail, AccessSource, OrgRole, PageRequest, User, WorkApp, WorkAppStatus,
};

use crate::common::*;

on_every_backend!(
    upsert_creates_updates_and_returns_previous,
    regrant_after_expiry_restarts_granted_at,
    delete_access_returns_what_it_removed,
    expired_accesses_are_swept_in_batches,
    live_access_listings_filter_by_now,
    list_accesses_pages_with_users_and_levels,
    grant_facts_reports_what_exists_in_the_organization,
);

/// Not reachable through the service (a bulk grant collapses repeated pairs first), but the
/// store's contract says a later row for the same pair wins: both backends must agree.
#[tokio::test]
async fn upsert_with_a_repeated_pair_behaves_the_same_on_every_backend() {
    let mut outcomes = Vec::new();
    for db in backends().await {
        let seed = seed(&db).await;
        let app = work_app(seed.org.id, "Dup");
        insert_apps(&db, &[&app]).await;
        let rows = [
            entry(&app, &seed.alice, None, Some(at(100))),
            entry(&app, &seed.alice, None, Some(at(200))),
        ];
        let mut tx = db.store.write().await.expect("write");
        let outcome =
            match tx.upsert_accesses(seed.org.id, &rows, AccessSource::Direct, at(1)).await {
                Ok(_) => format!(
                    "ok, expires {:?}",
                    tx.get_access(seed.org.id, WorkAppId(app.id), UserId(seed.alice.id))
                        .await
                        .expect("get")
                        .and_then(|a| a.expires_at)
                ),
                Err(e) => format!("error: {e}"),
            };
        drop(tx);
        outcomes.push(format!("{}: {outcome}", db.backend()));
        db.finish().await;
    }
    let distinct: HashSet<&str> =
        outcomes.iter().map(|o| o.split_once(": ").map_or("", |(_, r)| r)).collect();
    assert_eq!(distinct.len(), 1, "backends disagree:\n{}", outcomes.join("\n"));
}

fn entry(
    app: &WorkApp,
    user: &User,
    level: Option<uuid::Uuid>,
    expires: Option<chrono::DateTime<chrono::Utc>>,
) -> GrantEntry {
    GrantEntry {
        work_app_id: app.id,
        user_id: user.id,
        permission_level_id: level,
        expires_at: expires,
    }
}

fn access(
    org_id: uuid::Uuid,
    e: &GrantEntry,
    source: AccessSource,
    granted: chrono::DateTime<chrono::Utc>,
    updated: chrono::DateTime<chrono::Utc>,
) -> Access {
    Access {
        org_id,
        user_id: e.user_id,
        work_app_id: e.work_app_id,
        permission_level_id: e.permission_level_id,
        source,
        granted_at: granted,
        updated_at: updated,
        expires_at: e.expires_at,
    }
}

async fn upsert_creates_updates_and_returns_previous(db: &TestDb) {
    let seed = seed(db).await;
    let github = work_app(seed.org.id, "GitHub");
    let slack = work_app(seed.org.id, "Slack");
    insert_apps(db, &[&github, &slack]).await;
    let read_l = level(&github, "Read", true, false);
    let admin_l = level(&github, "Admin", false, true);
    let mut tx = db.store.write().await.expect("write");
    tx.insert_permission_level(&read_l).await.expect("level");
    tx.insert_permission_level(&admin_l).await.expect("level");
    tx.commit().await.expect("commit");

    let org = seed.org.id;
    let first = vec![
        entry(&github, &seed.alice, Some(read_l.id), None),
        entry(&github, &seed.bob, Some(admin_l.id), Some(at_ms(900_900))),
        entry(&slack, &seed.alice, None, None),
    ];
    let mut tx = db.store.write().await.expect("write");
    let previous = tx
        .upsert_accesses(org, &first, AccessSource::Direct, at_ms(100_100))
        .await
        .expect("upsert");
    assert!(previous.is_empty(), "nothing existed before");
    assert!(tx
        .upsert_accesses(org, &[], AccessSource::Direct, at(1))
        .await
        .expect("empty")
        .is_empty());
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    for e in &first {
        assert_eq!(
            read.get_access(org, WorkAppId(e.work_app_id), UserId(e.user_id)).await.expect("get"),
            Some(access(org, e, AccessSource::Direct, at_ms(100_100), at_ms(100_100)))
        );
    }
    assert_eq!(
        read.get_access(org, WorkAppId(slack.id), UserId(seed.bob.id)).await.expect("get"),
        None
    );
    assert_eq!(
        read.get_access(seed.other_org.id, WorkAppId(github.id), UserId(seed.alice.id))
            .await
            .expect("get"),
        None
    );
    drop(read);

    // Second round: two existing (changed level / expiry / source), one new.
    let second = vec![
        entry(&github, &seed.alice, Some(admin_l.id), Some(at_ms(800_800))),
        entry(&github, &seed.bob, Some(read_l.id), None),
        entry(&slack, &seed.bob, None, None),
    ];
    let mut tx = db.store.write().await.expect("write");
    let mut previous = tx
        .upsert_accesses(org, &second, AccessSource::Group, at_ms(200_200))
        .await
        .expect("upsert");
    previous.sort_by_key(|a| (a.work_app_id, a.user_id));
    let mut expected_previous = vec![
        access(org, &first[0], AccessSource::Direct, at_ms(100_100), at_ms(100_100)),
        access(org, &first[1], AccessSource::Direct, at_ms(100_100), at_ms(100_100)),
    ];
    expected_previous.sort_by_key(|a| (a.work_app_id, a.user_id));
    assert_eq!(previous, expected_previous, "the accesses as they were, only those that existed");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    // Live accesses keep their granted_at; everything else is the new row's.
    assert_eq!(
        read.get_access(org, WorkAppId(github.id), UserId(seed.alice.id)).await.expect("get"),
        Some(access(org, &second[0], AccessSource::Group, at_ms(100_100), at_ms(200_200)))
    );
    assert_eq!(
        read.get_access(org, WorkAppId(github.id), UserId(seed.bob.id)).await.expect("get"),
        Some(access(org, &second[1], AccessSource::Group, at_ms(100_100), at_ms(200_200)))
    );
    assert_eq!(
        read.get_access(org, WorkAppId(slack.id), UserId(seed.bob.id)).await.expect("get"),
        Some(access(org, &second[2], AccessSource::Group, at_ms(200_200), at_ms(200_200)))
    );
    // Untouched.
    assert_eq!(
        read.get_access(org, WorkAppId(slack.id), UserId(seed.alice.id)).await.expect("get"),
        Some(access(org, &first[2], AccessSource::Direct, at_ms(100_100), at_ms(100_100)))
    );
    drop(read);

    // Many rows in one call (the statement is set-based), source Request.
    let many: Vec<User> = (0..60)
        .map(|i| user(&seed.org, &format!("U{i}"), &format!("u{i}@acme.example"), OrgRole::User))
        .collect();
    insert_users(db, &many.iter().collect::<Vec<_>>()).await;
    let rows: Vec<GrantEntry> = many.iter().map(|u| entry(&slack, u, None, None)).collect();
    let mut tx = db.store.write().await.expect("write");
    let previous =
        tx.upsert_accesses(org, &rows, AccessSource::Request, at(300)).await.expect("upsert");
    assert!(previous.is_empty());
    let previous =
        tx.upsert_accesses(org, &rows, AccessSource::Request, at(301)).await.expect("upsert");
    assert_eq!(previous.len(), 60);
    assert!(previous.iter().all(|a| a.source == AccessSource::Request && a.updated_at == at(300)));
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    let counts = read.count_live_accesses(org, &[slack.id, github.id], at(0)).await.expect("count");
    assert_eq!(counts, HashMap::from([(slack.id, 62), (github.id, 2)]));
}

async fn regrant_after_expiry_restarts_granted_at(db: &TestDb) {
    let seed = seed(db).await;
    let app = work_app(seed.org.id, "Zoom");
    insert_apps(db, &[&app]).await;
    let org = seed.org.id;
    let mut tx = db.store.write().await.expect("write");
    let e = entry(&app, &seed.alice, None, Some(at(100)));
    tx.upsert_accesses(org, &[e], AccessSource::Direct, at(10)).await.expect("grant");
    // Re-granted exactly when it expires: it had lapsed, so granted_at starts again.
    let again = entry(&app, &seed.alice, None, None);
    let previous =
        tx.upsert_accesses(org, &[again], AccessSource::Request, at(100)).await.expect("regrant");
    assert_eq!(previous, vec![access(org, &e, AccessSource::Direct, at(10), at(10))]);
    assert_eq!(
        tx.get_access(org, WorkAppId(app.id), UserId(seed.alice.id)).await.expect("get"),
        Some(access(org, &again, AccessSource::Request, at(100), at(100)))
    );
    // A live access (expiry after now) keeps granted_at.
    let e2 = entry(&app, &seed.bob, None, Some(at(100)));
    tx.upsert_accesses(org, &[e2], AccessSource::Direct, at(10)).await.expect("grant");
    let again2 = entry(&app, &seed.bob, None, Some(at(500)));
    tx.upsert_accesses(org, &[again2], AccessSource::Direct, at_ms(99_999)).await.expect("extend");
    assert_eq!(
        tx.get_access(org, WorkAppId(app.id), UserId(seed.bob.id)).await.expect("get"),
        Some(access(org, &again2, AccessSource::Direct, at(10), at_ms(99_999)))
    );
    tx.commit().await.expect("commit");
}

async fn delete_access_returns_what_it_removed(db: &TestDb) {
    let seed = seed(db).await;
    let app = work_app(seed.org.id, "Jira");
    insert_apps(db, &[&app]).await;
    let org = seed.org.id;
    let e = entry(&app, &seed.alice, None, Some(at_ms(444_444)));
    let mut tx = db.store.write().await.expect("write");
    tx.upsert_accesses(org, &[e], AccessSource::Group, at(1)).await.expect("grant");
    tx.commit().await.expect("commit");

    let mut tx = db.store.write().await.expect("write");
    // Another organization's id removes nothing.
    assert_eq!(
        tx.delete_access(seed.other_org.id, WorkAppId(app.id), UserId(seed.alice.id))
            .await
            .expect("delete"),
        None
    );
    assert_eq!(
        tx.delete_access(org, WorkAppId(app.id), UserId(seed.alice.id)).await.expect("delete"),
        Some(access(org, &e, AccessSource::Group, at(1), at(1)))
    );
    assert_eq!(
        tx.delete_access(org, WorkAppId(app.id), UserId(seed.alice.id)).await.expect("delete"),
        None
    );
    assert_eq!(
        tx.delete_access(org, WorkAppId(app.id), UserId(seed.bob.id)).await.expect("delete"),
        None
    );
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(
        read.get_access(org, WorkAppId(app.id), UserId(seed.alice.id)).await.expect("get"),
        None
    );
}

async fn expired_accesses_are_swept_in_batches(db: &TestDb) {
    let seed = seed(db).await;
    let app = work_app(seed.org.id, "Figma");
    let theirs = work_app(seed.other_org.id, "Figma");
    insert_apps(db, &[&app, &theirs]).await;
    let org = seed.org.id;
    let mut tx = db.store.write().await.expect("write");
    let expiring = [
        entry(&app, &seed.owner, None, Some(at(10))),
        entry(&app, &seed.admin, None, Some(at(20))),
        entry(&app, &seed.alice, None, Some(at(30))),
    ];
    tx.upsert_accesses(org, &expiring, AccessSource::Direct, at(1)).await.expect("grant");
    tx.upsert_accesses(org, &[entry(&app, &seed.bob, None, None)], AccessSource::Direct, at(1))
        .await
        .expect("grant");
    let foreign = entry(&theirs, &seed.stranger, None, Some(at(15)));
    tx.upsert_accesses(seed.other_org.id, &[foreign], AccessSource::Direct, at(1))
        .await
        .expect("grant");
    tx.commit().await.expect("commit");

    let mut tx = db.store.write().await.expect("write");
    // Nothing has expired just before the first expiry.
    assert!(tx.delete_expired_accesses(at_ms(9_999), 100).await.expect("sweep").is_empty());
    // At 20 s: those expiring at or before then, of every organization, at most `limit` at once.
    let mut swept = tx.delete_expired_accesses(at(20), 2).await.expect("sweep");
    assert_eq!(swept.len(), 2);
    swept.extend(tx.delete_expired_accesses(at(20), 2).await.expect("sweep"));
    assert!(tx.delete_expired_accesses(at(20), 2).await.expect("sweep").is_empty());
    swept.sort_by_key(|a| a.expires_at);
    assert_eq!(
        swept,
        vec![
            access(org, &expiring[0], AccessSource::Direct, at(1), at(1)),
            access(seed.other_org.id, &foreign, AccessSource::Direct, at(1), at(1)),
            access(org, &expiring[1], AccessSource::Direct, at(1), at(1)),
        ]
    );
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert!(read
        .get_access(org, WorkAppId(app.id), UserId(seed.alice.id))
        .await
        .expect("get")
        .is_some());
    assert!(read
        .get_access(org, WorkAppId(app.id), UserId(seed.bob.id))
        .await
        .expect("get")
        .is_some());
    assert!(read
        .get_access(org, WorkAppId(app.id), UserId(seed.owner.id))
        .await
        .expect("get")
        .is_none());
    assert!(read
        .get_access(seed.other_org.id, WorkAppId(theirs.id), UserId(seed.stranger.id))
        .await
        .expect("get")
        .is_none());
}

async fn live_access_listings_filter_by_now(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    // Names whose order differs from id order and from insertion order.
    let zoom = work_app(org, "zoom");
    let asana = work_app(org, "Asana");
    let miro = work_app(org, "Miro");
    let empty = work_app(org, "Nobody uses it");
    insert_apps(db, &[&zoom, &asana, &miro, &empty]).await;
    let asana_admin = level(&asana, "Admin", false, true);
    let mut tx = db.store.write().await.expect("write");
    tx.insert_permission_level(&asana_admin).await.expect("level");
    let rows = [
        entry(&zoom, &seed.alice, None, None),
        entry(&asana, &seed.alice, Some(asana_admin.id), Some(at(100))),
        entry(&miro, &seed.alice, None, Some(at(50))),
        entry(&zoom, &seed.bob, None, Some(at(50))),
    ];
    tx.upsert_accesses(org, &rows, AccessSource::Direct, at(1)).await.expect("grant");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    let view = |e: &GrantEntry, app: &str, level: Option<&str>| UserAccess {
        access: access(org, e, AccessSource::Direct, at(1), at(1)),
        app_name: app.into(),
        level_name: level.map(String::from),
    };
    // By app name (case-insensitively), with the level's name.
    assert_eq!(
        read.accesses_of_user(org, seed.alice.id, at(10)).await.expect("accesses"),
        vec![
            view(&rows[1], "Asana", Some("Admin")),
            view(&rows[2], "Miro", None),
            view(&rows[0], "zoom", None)
        ]
    );
    // An access is live strictly before its expiry.
    assert_eq!(
        read.accesses_of_user(org, seed.alice.id, at(50)).await.expect("accesses"),
        vec![view(&rows[1], "Asana", Some("Admin")), view(&rows[0], "zoom", None)]
    );
    assert_eq!(
        read.accesses_of_user(org, seed.alice.id, at(100)).await.expect("accesses"),
        vec![view(&rows[0], "zoom", None)]
    );
    assert!(read
        .accesses_of_user(seed.other_org.id, seed.alice.id, at(10))
        .await
        .expect("scoped")
        .is_empty());

    // Counts per app; apps with no live access are absent.
    let apps = [zoom.id, asana.id, miro.id, empty.id];
    assert_eq!(
        read.count_live_accesses(org, &apps, at(10)).await.expect("count"),
        HashMap::from([(zoom.id, 2), (asana.id, 1), (miro.id, 1)])
    );
    assert_eq!(
        read.count_live_accesses(org, &apps, at_ms(49_999)).await.expect("count"),
        HashMap::from([(zoom.id, 2), (asana.id, 1), (miro.id, 1)])
    );
    assert_eq!(
        read.count_live_accesses(org, &apps, at(50)).await.expect("count"),
        HashMap::from([(zoom.id, 1), (asana.id, 1)])
    );
    assert_eq!(
        read.count_live_accesses(org, &[miro.id], at(10)).await.expect("count"),
        HashMap::from([(miro.id, 1)])
    );
    assert!(read.count_live_accesses(org, &[], at(10)).await.expect("count").is_empty());
    assert!(read
        .count_live_accesses(seed.other_org.id, &apps, at(10))
        .await
        .expect("count")
        .is_empty());
}

async fn list_accesses_pages_with_users_and_levels(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let app = work_app(org, "Notion");
    insert_apps(db, &[&app]).await;
    let editor = level(&app, "Editor", true, true);
    let viewer = level(&app, "Viewer", false, false);
    // A user with every optional field set.
    let mut carol = user(&seed.org, "Carol", "carol@acme.example", OrgRole::Billing);
    carol.manager_id = Some(seed.alice.id);
    carol.last_login = Some(at_ms(31_337));
    carol.set_status(portcullis_domain::UserStatus::Invited, carol.updated_at);
    let mut tx = db.store.write().await.expect("write");
    tx.insert_user(&carol).await.expect("user");
    tx.insert_permission_level(&editor).await.expect("level");
    tx.insert_permission_level(&viewer).await.expect("level");
    let rows = vec![
        entry(&app, &seed.owner, Some(editor.id), None),
        entry(&app, &seed.admin, Some(viewer.id), Some(at_ms(70_007))),
        entry(&app, &seed.alice, Some(editor.id), Some(at(20))),
        entry(&app, &seed.bob, None, None),
        entry(&app, &carol, Some(viewer.id), None),
    ];
    tx.upsert_accesses(org, &rows, AccessSource::Request, at(1)).await.expect("grant");
    tx.commit().await.expect("commit");

    let users = [&seed.owner, &seed.admin, &seed.alice, &seed.bob, &carol];
    let detail = |i: usize| AccessDetail {
        access: access(org, &rows[i], AccessSource::Request, at(1), at(1)),
        user: users[i].clone(),
        level: rows[i].permission_level_id.map(|l| {
            if l == editor.id {
                editor.clone()
            } else {
                viewer.clone()
            }
        }),
    };
    // At 30 s alice's access has expired.
    let mut live: Vec<AccessDetail> = [0, 1, 3, 4].into_iter().map(detail).collect();
    live.sort_by_key(|d| d.user.id);

    let mut read = db.store.read().await.expect("read");
    let now = at(30);
    let p1 = read
        .list_accesses(org, app.id, PageRequest { after: None, limit: 3 }, now)
        .await
        .expect("page");
    assert_eq!(p1.items, live[..3].to_vec());
    assert_eq!(p1.next_after, Some(live[2].user.id));
    let p2 = read
        .list_accesses(org, app.id, PageRequest { after: p1.next_after, limit: 3 }, now)
        .await
        .expect("page");
    assert_eq!(p2.items, live[3..].to_vec());
    assert_eq!(p2.next_after, None);
    // Exactly `limit` rows left: no cursor.
    let exact = read
        .list_accesses(org, app.id, PageRequest { after: None, limit: 4 }, now)
        .await
        .expect("page");
    assert_eq!((exact.items, exact.next_after), (live.clone(), None));
    // Before alice's expiry she is listed.
    let mut all: Vec<AccessDetail> = (0..5).map(detail).collect();
    all.sort_by_key(|d| d.user.id);
    let page = read.list_accesses(org, app.id, PageRequest::first(), at(10)).await.expect("page");
    assert_eq!(page.items, all);
    // Scoped.
    let page = read
        .list_accesses(seed.other_org.id, app.id, PageRequest::first(), now)
        .await
        .expect("page");
    assert!(page.items.is_empty() && page.next_after.is_none());
    let page = read.list_accesses(org, new_id(), PageRequest::first(), now).await.expect("page");
    assert!(page.items.is_empty());
}

async fn grant_facts_reports_what_exists_in_the_organization(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let leveled = work_app(org, "Leveled");
    let plain = work_app(org, "Plain");
    let archived = WorkApp { status: WorkAppStatus::Archived, ..work_app(org, "Archived") };
    let theirs = work_app(seed.other_org.id, "Theirs");
    insert_apps(db, &[&leveled, &plain, &archived, &theirs]).await;
    let l1 = level(&leveled, "One", false, false);
    let l2 = level(&leveled, "Two", false, false);
    let their_level = level(&theirs, "Theirs", false, false);
    let mut tx = db.store.write().await.expect("write");
    for l in [&l1, &l2, &their_level] {
        tx.insert_permission_level(l).await.expect("level");
    }
    tx.commit().await.expect("commit");

    let ghost = new_id();
    let entries = vec![
        entry(&leveled, &seed.alice, Some(l1.id), None),
        entry(&leveled, &seed.bob, Some(l2.id), None),
        entry(&plain, &seed.alice, None, None),
        entry(&archived, &seed.stranger, Some(their_level.id), None),
        entry(&theirs, &seed.owner, Some(ghost), None),
        GrantEntry {
            work_app_id: ghost,
            user_id: ghost,
            permission_level_id: None,
            expires_at: None,
        },
    ];
    let mut read = db.store.read().await.expect("read");
    let facts = read.grant_facts(org, &entries).await.expect("facts");
    assert_eq!(
        facts.apps,
        HashMap::from([
            (leveled.id, AppFacts { has_levels: true, archived: false }),
            (plain.id, AppFacts { has_levels: false, archived: false }),
            (archived.id, AppFacts { has_levels: false, archived: true }),
        ])
    );
    assert_eq!(facts.users, HashSet::from([seed.alice.id, seed.bob.id, seed.owner.id]));
    assert_eq!(facts.levels, HashMap::from([(l1.id, leveled.id), (l2.id, leveled.id)]));
    let none = read.grant_facts(org, &[]).await.expect("facts");
    assert!(none.apps.is_empty() && none.users.is_empty() && none.levels.is_empty());
    // From the other organization's side.
    let facts = read.grant_facts(seed.other_org.id, &entries).await.expect("facts");
    assert_eq!(
        facts.apps,
        HashMap::from([(theirs.id, AppFacts { has_levels: true, archived: false })])
    );
    assert_eq!(facts.users, HashSet::from([seed.stranger.id]));
    assert_eq!(facts.levels, HashMap::from([(their_level.id, theirs.id)]));
}
