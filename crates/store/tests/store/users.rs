//! Organizations and users: `UserReads`, `UserWrites`.
use chrono::{Duration, SubsecRound};
use portcullis_domain::{
    new_id, GroupLeaveAction, LeaverAccessAction, OrgRole, OrganizationSettings, PageRequest,
    UserStatus,
};

use crate::common::*;

on_every_backend!(
    organizations_round_trip_and_update,
    organization_settings_default_then_saved_per_organization,
    users_round_trip_every_field,
    user_emails_are_unique_per_organization_case_insensitively,
    users_are_scoped_to_their_organization,
    users_page_by_id,
    manager_chain_follows_managers_and_stops,
    role_counts_and_admins,
);

async fn organization_settings_default_then_saved_per_organization(db: &TestDb) {
    let seed = seed(db).await;
    let (org, other) = (seed.org.id, seed.other_org.id);
    let strict = OrganizationSettings::default();
    // Every setting away from its default, so that each column is written and read back.
    let relaxed = OrganizationSettings {
        allow_same_approver_for_multiple_steps: true,
        no_touch_onboarding: true,
        joiner_window_hours: 720,
        group_leave_action: GroupLeaveAction::Keep,
        leaver_access_action: LeaverAccessAction::RevokeAtOnce,
    };
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_organization_settings(org).await.expect("get"), strict);
    drop(read);
    let mut tx = db.store.write().await.expect("write");
    tx.save_organization_settings(org, &relaxed, at(1)).await.expect("insert");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_organization_settings(org).await.expect("get"), relaxed);
    assert_eq!(read.get_organization_settings(other).await.expect("get"), strict);
    drop(read);
    // Saving again updates the one row.
    let mut tx = db.store.write().await.expect("write");
    tx.save_organization_settings(org, &strict, at(2)).await.expect("update");
    tx.save_organization_settings(other, &relaxed, at(2)).await.expect("insert other");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_organization_settings(org).await.expect("get"), strict);
    assert_eq!(read.get_organization_settings(other).await.expect("get"), relaxed);
}

async fn organizations_round_trip_and_update(db: &TestDb) {
    let org = organization("Acme");
    let mut tx = db.store.write().await.expect("write");
    tx.insert_organization(&org).await.expect("insert");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_organization(org.id).await.expect("get"), Some(org.clone()));
    assert_eq!(read.get_organization(new_id()).await.expect("get"), None);
    drop(read);

    let mut renamed = org.clone();
    renamed.name = "Acme Corporation".into();
    renamed.address1 = Some("1 Main Street".into());
    renamed.address2 = Some("Floor 2".into());
    renamed.city = Some("Lisbon".into());
    renamed.zipcode = Some("1000-001".into());
    renamed.phone = Some("+351 21 000 0000".into());
    renamed.state = Some("Lisboa".into());
    renamed.country = Some("PT".into());
    renamed.website = Some("https://acme.example".into());
    renamed.repos_disabled = true;
    renamed.is_business = true;
    renamed.mfa_enforced = true;
    renamed.deleted_at = Some(at_ms(99_000));
    renamed.updated_at = at_ms(99_999);
    // Every profile field changes; created_at is kept even if the caller changes it.
    let mut sent = renamed.clone();
    sent.created_at = at(-50);
    let mut tx = db.store.write().await.expect("write");
    tx.update_organization(&sent).await.expect("update");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_organization(org.id).await.expect("get"), Some(renamed));
}

async fn users_round_trip_every_field(db: &TestDb) {
    let seed = seed(db).await;
    // Every optional field set, every enum away from its first value.
    let mut carol =
        user(&seed.org, "Carol Ünïcödé ☃", "Carol.Mixed@Acme.Example", OrgRole::Billing);
    carol.set_status(UserStatus::Invited, carol.updated_at);
    carol.manager_id = Some(seed.alice.id);
    carol.last_login = Some(at_ms(123_456));
    carol.created_at = at_ms(-1);
    carol.updated_at = at_ms(7);
    let mut dave = user(&seed.org, "Dave", "dave@acme.example", OrgRole::Workspaces);
    dave.set_status(UserStatus::Deactivated, dave.updated_at);
    insert_users(db, &[&carol, &dave]).await;

    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_user(seed.org.id, carol.id).await.expect("get"), Some(carol.clone()));
    assert_eq!(read.get_user(seed.org.id, dave.id).await.expect("get"), Some(dave.clone()));
    // The seeded users, with no optional field set, round-trip too.
    assert_eq!(
        read.get_user(seed.org.id, seed.alice.id).await.expect("get"),
        Some(seed.alice.clone())
    );
    assert_eq!(read.get_user(seed.org.id, new_id()).await.expect("get"), None);
    // By ids: none, one (looked up by equality), several (by array), in id order, unknown ids
    // and other organizations' users left out.
    assert_eq!(read.get_users(seed.org.id, &[]).await.expect("none"), vec![]);
    assert_eq!(read.get_users(seed.org.id, &[dave.id]).await.expect("one"), vec![dave.clone()]);
    assert_eq!(read.get_users(seed.other_org.id, &[dave.id]).await.expect("other org"), vec![]);
    let mut both = vec![carol.clone(), dave.clone()];
    both.sort_by_key(|u| u.id);
    let asked = [dave.id, new_id(), carol.id];
    assert_eq!(read.get_users(seed.org.id, &asked).await.expect("several"), both);
    drop(read);

    // update_user saves name, e-mail, role, status, manager and updated_at; it keeps
    // last_login and created_at.
    let mut changed = carol.clone();
    changed.first_name = "Carol".into();
    changed.last_name = "B.".into();
    changed.email = "carol.b@acme.example".into();
    changed.role = OrgRole::Administrator;
    changed.set_status(UserStatus::Active, changed.updated_at);
    changed.manager_id = None;
    changed.updated_at = at_ms(500_001);
    let mut sent = changed.clone();
    sent.last_login = None;
    sent.created_at = at(9_999);
    let mut tx = db.store.write().await.expect("write");
    tx.update_user(&sent).await.expect("update");
    // set_last_login keeps milliseconds and drops anything finer.
    let login = at_ms(777_777) + Duration::microseconds(999);
    tx.set_last_login(seed.org.id, dave.id, login).await.expect("last login");
    // Another organization's id changes nothing.
    tx.set_last_login(seed.other_org.id, carol.id, at(1)).await.expect("no-op");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_user(seed.org.id, carol.id).await.expect("get"), Some(changed));
    let dave_now = read.get_user(seed.org.id, dave.id).await.expect("get").expect("dave");
    assert_eq!(dave_now.last_login, Some(login.trunc_subsecs(3)));
    assert_eq!(dave_now.last_login, Some(at_ms(777_777)));
    assert_eq!(dave_now, dave.clone().tap(|d| d.last_login = Some(at_ms(777_777))));
}

/// `Clone`, edit, return: keeps expected values readable.
trait Tap: Sized {
    fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }
}
impl<T> Tap for T {}

async fn user_emails_are_unique_per_organization_case_insensitively(db: &TestDb) {
    let seed = seed(db).await;
    // Same address, other case and surrounding spaces: taken in the organization.
    let twin = user(&seed.org, "Twin", "  ALICE@acme.EXAMPLE ", OrgRole::User);
    let mut tx = db.store.write().await.expect("write");
    assert_conflict(tx.insert_user(&twin).await);
    drop(tx);
    // The same address in another organization is fine.
    let elsewhere = user(&seed.other_org, "Alice elsewhere", "Alice@Acme.Example", OrgRole::User);
    insert_users(db, &[&elsewhere]).await;
    // Changing one's e-mail to a taken one is a conflict too; to one's own in another case is not.
    let mut tx = db.store.write().await.expect("write");
    let mut bob = seed.bob.clone();
    bob.email = "Alice@acme.example".into();
    assert_conflict(tx.update_user(&bob).await);
    drop(tx);
    let mut tx = db.store.write().await.expect("write");
    let mut alice = seed.alice.clone();
    alice.email = "ALICE@acme.example".into();
    tx.update_user(&alice).await.expect("own address, other case");
    tx.commit().await.expect("commit");

    // find_users_by_email: case-insensitive, across organizations, by id.
    let mut read = db.store.read().await.expect("read");
    let found = read.find_users_by_email(" alice@ACME.example").await.expect("find");
    let mut expected = vec![alice.clone(), elsewhere.clone()];
    expected.sort_by_key(|u| u.id);
    assert_eq!(found, expected);
    assert!(read.find_users_by_email("nobody@acme.example").await.expect("find").is_empty());
}

async fn users_are_scoped_to_their_organization(db: &TestDb) {
    let seed = seed(db).await;
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_user(seed.other_org.id, seed.alice.id).await.expect("get"), None);
    assert_eq!(read.get_user(seed.org.id, seed.stranger.id).await.expect("get"), None);
    // get_users: only the organization's users among the ids, by id; unknown ids ignored.
    let got = read
        .get_users(seed.org.id, &[seed.bob.id, seed.stranger.id, new_id(), seed.alice.id])
        .await
        .expect("get users");
    let mut expected = vec![seed.alice.clone(), seed.bob.clone()];
    expected.sort_by_key(|u| u.id);
    assert_eq!(got, expected);
    assert!(read.get_users(seed.org.id, &[]).await.expect("none").is_empty());
    let page = read.list_users(seed.other_org.id, PageRequest::first()).await.expect("list");
    assert_eq!(page.items, vec![seed.stranger.clone()]);
    assert_eq!(page.next_after, None);
    assert_eq!(read.list_users(new_id(), PageRequest::first()).await.expect("list").items, vec![]);
}

async fn users_page_by_id(db: &TestDb) {
    let seed = seed(db).await;
    let extra: Vec<_> = (0..5)
        .map(|i| {
            user(&seed.org, &format!("User {i}"), &format!("u{i}@acme.example"), OrgRole::User)
        })
        .collect();
    insert_users(db, &extra.iter().collect::<Vec<_>>()).await;
    let mut all = vec![seed.owner, seed.admin, seed.alice, seed.bob];
    all.extend(extra);
    all.sort_by_key(|u| u.id);
    assert_eq!(all.len(), 9);

    let mut read = db.store.read().await.expect("read");
    // Pages of 4: 4 + 4 + 1, each cursor the last id of its page, none after the last page.
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page =
            read.list_users(seed.org.id, PageRequest { after, limit: 4 }).await.expect("page");
        pages += 1;
        assert!(page.items.len() <= 4);
        match page.next_after {
            Some(next) => {
                assert_eq!(page.items.len(), 4);
                assert_eq!(Some(next), page.items.last().map(|u| u.id));
            }
            None => assert!(pages == 3 && page.items.len() == 1),
        }
        seen.extend(page.items);
        after = page.next_after;
        if after.is_none() {
            break;
        }
    }
    assert_eq!(seen, all);
    // Exactly a page's worth left: no cursor (the over-fetch finds nothing more).
    let page = read
        .list_users(seed.org.id, PageRequest { after: Some(all[4].id), limit: 4 })
        .await
        .expect("page");
    assert_eq!(page.items, all[5..].to_vec());
    assert_eq!(page.next_after, None);
    // A cursor past the end.
    let page = read
        .list_users(seed.org.id, PageRequest { after: all.last().map(|u| u.id), limit: 4 })
        .await
        .expect("page");
    assert!(page.items.is_empty() && page.next_after.is_none());
    // The full default page.
    let page = read.list_users(seed.org.id, PageRequest::first()).await.expect("page");
    assert_eq!(page.items, all);
    assert_eq!(page.next_after, None);
}

async fn manager_chain_follows_managers_and_stops(db: &TestDb) {
    let seed = seed(db).await;
    // carol → dave → erin → (none); frank ↔ gina (a loop someone made).
    let mut erin = user(&seed.org, "Erin", "erin@acme.example", OrgRole::User);
    let mut dave = user(&seed.org, "Dave", "dave@acme.example", OrgRole::User);
    let mut carol = user(&seed.org, "Carol", "carol@acme.example", OrgRole::User);
    let mut frank = user(&seed.org, "Frank", "frank@acme.example", OrgRole::User);
    let mut gina = user(&seed.org, "Gina", "gina@acme.example", OrgRole::User);
    erin.manager_id = None;
    dave.manager_id = Some(erin.id);
    carol.manager_id = Some(dave.id);
    insert_users(db, &[&erin, &dave, &carol, &frank, &gina]).await;
    frank.manager_id = Some(gina.id);
    gina.manager_id = Some(frank.id);
    let mut tx = db.store.write().await.expect("write");
    tx.update_user(&frank).await.expect("update");
    tx.update_user(&gina).await.expect("update");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    let org = seed.org.id;
    assert_eq!(read.manager_chain(org, carol.id, 10).await.expect("chain"), vec![dave.id, erin.id]);
    assert_eq!(read.manager_chain(org, carol.id, 1).await.expect("chain"), vec![dave.id]);
    assert_eq!(
        read.manager_chain(org, carol.id, 0).await.expect("chain"),
        Vec::<uuid::Uuid>::new()
    );
    assert_eq!(
        read.manager_chain(org, erin.id, 10).await.expect("chain"),
        Vec::<uuid::Uuid>::new()
    );
    // A loop ends when it comes round: the user itself appears once.
    assert_eq!(
        read.manager_chain(org, frank.id, 10).await.expect("chain"),
        vec![gina.id, frank.id]
    );
    // Scoped: another organization's id finds no chain.
    assert_eq!(
        read.manager_chain(seed.other_org.id, carol.id, 10).await.expect("chain"),
        Vec::<uuid::Uuid>::new()
    );
}

async fn role_counts_and_admins(db: &TestDb) {
    let seed = seed(db).await;
    let mut second_owner = user(&seed.org, "Owen", "owen@acme.example", OrgRole::Owner);
    let mut invited_admin = user(&seed.org, "Ivy", "ivy@acme.example", OrgRole::Administrator);
    invited_admin.set_status(UserStatus::Invited, invited_admin.updated_at);
    let mut gone_owner = user(&seed.org, "Gone", "gone@acme.example", OrgRole::Owner);
    gone_owner.set_status(UserStatus::Deactivated, gone_owner.updated_at);
    second_owner.last_login = Some(at(5));
    insert_users(db, &[&second_owner, &invited_admin, &gone_owner]).await;

    let mut read = db.store.read().await.expect("read");
    let org = seed.org.id;
    assert_eq!(read.count_active_with_role(org, OrgRole::Owner).await.expect("count"), 2);
    assert_eq!(read.count_active_with_role(org, OrgRole::Administrator).await.expect("count"), 1);
    assert_eq!(read.count_active_with_role(org, OrgRole::User).await.expect("count"), 2);
    assert_eq!(read.count_active_with_role(org, OrgRole::Billing).await.expect("count"), 0);
    assert_eq!(
        read.count_active_with_role(seed.other_org.id, OrgRole::Owner).await.expect("count"),
        1
    );
    // Active administrators and owners, by id.
    assert_eq!(
        read.active_admin_ids(org).await.expect("admins"),
        sorted(vec![seed.owner.id, seed.admin.id, second_owner.id])
    );
    assert_eq!(
        read.active_admin_ids(seed.other_org.id).await.expect("admins"),
        vec![seed.stranger.id]
    );
    assert!(read.active_admin_ids(new_id()).await.expect("admins").is_empty());
}
