//! The console's searches (`search_users`, `search_groups`, `search_work_apps`), a user's tokens
//! (`list_user_tokens`) and the first-run check (`any_organization`).
use portcullis_domain::{new_id, OrgRole, PageRequest, UserId, UserToken};

use crate::common::*;

on_every_backend!(
    first_run_sees_whether_any_organization_exists,
    users_are_searched_by_name_or_email_in_pages,
    groups_and_apps_are_searched_by_name_with_wildcards_taken_literally,
    a_users_tokens_are_listed_oldest_first,
);

async fn first_run_sees_whether_any_organization_exists(db: &TestDb) {
    let mut read = db.store.read().await.expect("read");
    assert!(!read.any_organization().await.expect("none yet"));
    drop(read);
    seed(db).await;
    let mut read = db.store.read().await.expect("read");
    assert!(read.any_organization().await.expect("one now"));
}

async fn users_are_searched_by_name_or_email_in_pages(db: &TestDb) {
    let seed = seed(db).await;
    let many: Vec<_> = (0..7)
        .map(|i| {
            user(&seed.org, &format!("Zed {i}"), &format!("zed{i}@acme.example"), OrgRole::User)
        })
        .collect();
    insert_users(db, &many.iter().collect::<Vec<_>>()).await;
    let mut read = db.store.read().await.expect("read");
    let org = seed.org.id;
    // By first and last name together, case-insensitively.
    let found = read.search_users(org, "ALICE test", PageRequest::first()).await.expect("search");
    assert_eq!(found.items.iter().map(|u| u.id).collect::<Vec<_>>(), vec![seed.alice.id]);
    // By e-mail.
    let found = read.search_users(org, "bob@", PageRequest::first()).await.expect("search");
    assert_eq!(found.items.iter().map(|u| u.id).collect::<Vec<_>>(), vec![seed.bob.id]);
    // Never another organization's users; the empty text matches everyone.
    let found = read.search_users(org, "stranger", PageRequest::first()).await.expect("search");
    assert!(found.items.is_empty());
    let all = read.search_users(org, "", PageRequest::first()).await.expect("search");
    assert_eq!(all.items.len(), 4 + 7);
    // Pages of 3 walk every match once, in id order.
    let mut seen = Vec::new();
    let mut page = PageRequest { after: None, limit: 3 };
    loop {
        let next = read.search_users(org, "zed", page).await.expect("page");
        assert!(next.items.len() <= 3);
        seen.extend(next.items.iter().map(|u| u.id));
        match next.next_after {
            Some(after) => page = PageRequest { after: Some(after), limit: 3 },
            None => break,
        }
    }
    assert_eq!(seen, sorted(many.iter().map(|u| u.id).collect()));
}

async fn groups_and_apps_are_searched_by_name_with_wildcards_taken_literally(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let groups = [group(org, "Sales EMEA"), group(org, "Sales_US"), group(org, "Engineering")];
    let apps = [work_app(org, "Figma 100%"), work_app(org, "Figma"), work_app(org, "Slack")];
    let mut tx = db.store.write().await.expect("write");
    for g in &groups {
        tx.insert_group(g).await.expect("group");
    }
    tx.insert_group(&group(seed.other_org.id, "Sales abroad")).await.expect("other group");
    tx.commit().await.expect("commit");
    insert_apps(db, &apps.iter().collect::<Vec<_>>()).await;
    let mut read = db.store.read().await.expect("read");
    let names = |items: Vec<String>| {
        let mut items = items;
        items.sort();
        items
    };
    let found = read.search_groups(org, "sales", PageRequest::first()).await.expect("groups");
    assert_eq!(
        names(found.items.into_iter().map(|g| g.name).collect()),
        vec!["Sales EMEA", "Sales_US"]
    );
    // `_` is a letter here, not "any character".
    let found = read.search_groups(org, "s_u", PageRequest::first()).await.expect("groups");
    assert_eq!(found.items.into_iter().map(|g| g.name).collect::<Vec<_>>(), vec!["Sales_US"]);
    let found = read.search_work_apps(org, "figma", PageRequest::first()).await.expect("apps");
    assert_eq!(
        names(found.items.into_iter().map(|a| a.name).collect()),
        vec!["Figma", "Figma 100%"]
    );
    let found = read.search_work_apps(org, "0%", PageRequest::first()).await.expect("apps");
    assert_eq!(found.items.into_iter().map(|a| a.name).collect::<Vec<_>>(), vec!["Figma 100%"]);
    let page =
        read.search_work_apps(org, "", PageRequest { after: None, limit: 2 }).await.expect("apps");
    assert_eq!(page.items.len(), 2);
    assert!(page.next_after.is_some());
}

async fn a_users_tokens_are_listed_oldest_first(db: &TestDb) {
    let seed = seed(db).await;
    let token = |user: &portcullis_domain::User, name: &str| UserToken {
        id: new_id(),
        org_id: user.org_id,
        user_id: user.id,
        name: name.into(),
        secret_hash: format!("{:064x}", new_id().as_u128()),
        created_at: at_ms(11_011),
        expires_at: None,
        revoked_at: None,
    };
    let first = token(&seed.alice, "laptop");
    let second = UserToken { revoked_at: Some(at_ms(12_012)), ..token(&seed.alice, "old") };
    let bobs = token(&seed.bob, "bob's");
    let mut tx = db.store.write().await.expect("write");
    for t in [&first, &second, &bobs] {
        tx.insert_user_token(t).await.expect("insert");
    }
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    let listed = read.list_user_tokens(seed.org.id, UserId(seed.alice.id)).await.expect("list");
    assert_eq!(listed, vec![first, second]);
    let none = read.list_user_tokens(seed.other_org.id, UserId(seed.alice.id)).await.expect("list");
    assert!(none.is_empty());
}
