//! Access reviews: `AccessReviewReads`, `AccessReviewWrites` (and the bulk access writes closing
//! uses: `delete_accesses`, `set_access_levels`).
use std::collections::HashMap;

use portcullis_domain::access_reviews::{CarriedOut, CheckedDecision, ItemSubject};
use portcullis_domain::workapp::GrantEntry;
use portcullis_domain::{
    new_id, AccessReview, AccessReviewId, AccessReviewStatus, AccessReviewType, AccessSource,
    Assignment, ItemOutcome, OrgRole, PageRequest, ProvisioningMode, RequestType, ReviewDecision,
    UndecidedItems, User, UserId, WorkApp, WorkAppId, WorkAppStatus,
};
use portcullis_store::{AccessReviewFilter, DecisionFilter, ReviewItemFilter};
use uuid::Uuid;

use crate::common::*;

on_every_backend!(
    campaigns_round_trip_with_unique_names_per_organization,
    campaigns_list_by_shown_status_and_reviewer,
    the_snapshot_takes_the_live_accesses_of_the_named_apps_or_of_every_managed_app,
    reviewers_are_written_in_bulk_and_filter_items_progress_and_reminders,
    decisions_replace_earlier_ones_until_the_campaign_closes,
    closing_reads_what_to_act_on_and_records_outcomes,
    due_campaigns_of_every_organization_are_found_once,
    accesses_are_removed_and_moved_to_other_levels_in_bulk,
    a_reviewers_undecided_items_are_found_and_reassigned,
);

fn review(org_id: Uuid, name: &str, apps: &[Uuid], creator: Uuid) -> AccessReview {
    AccessReview {
        id: new_id(),
        org_id,
        name: name.into(),
        description: Some("Quarterly, for SOC 2".into()),
        review_type: AccessReviewType::WorkAppOwner,
        due_date: at(1_000),
        work_app_ids: apps.to_vec(),
        created_by_user_id: creator,
        status: AccessReviewStatus::Open,
        undecided_items: UndecidedItems::Keep,
        close_at_due_date: false,
        created_at: at(10),
        updated_at: at_ms(10_001),
        closed_at: None,
        closed_by_user_id: None,
        overdue_notified_at: None,
    }
}

async fn insert_review(db: &TestDb, r: &AccessReview) {
    let mut tx = db.store.write().await.expect("write");
    tx.insert_access_review(r).await.expect("insert review");
    tx.commit().await.expect("commit");
}

async fn grant(db: &TestDb, org_id: Uuid, entries: &[GrantEntry]) {
    let mut tx = db.store.write().await.expect("write");
    tx.upsert_accesses(org_id, entries, AccessSource::Direct, at(5)).await.expect("grant");
    tx.commit().await.expect("commit");
}

fn entry(app: &WorkApp, user: &User, level: Option<Uuid>) -> GrantEntry {
    GrantEntry {
        work_app_id: app.id,
        user_id: user.id,
        permission_level_id: level,
        expires_at: None,
    }
}

/// Snapshots and commits; returns the number of items.
async fn snapshot(db: &TestDb, r: &AccessReview) -> u64 {
    let mut tx = db.store.write().await.expect("write");
    let n = tx.snapshot_review_items(r, at(20)).await.expect("snapshot");
    tx.commit().await.expect("commit");
    n
}

async fn items(db: &TestDb, r: &AccessReview, filter: ReviewItemFilter) -> Vec<(Uuid, Uuid, Uuid)> {
    let mut read = db.store.read().await.expect("read");
    let page = read
        .list_review_items(r.org_id, AccessReviewId(r.id), filter, PageRequest::first())
        .await
        .expect("items");
    page.items.iter().map(|d| (d.item.id, d.item.work_app_id, d.item.user_id)).collect()
}

async fn campaigns_round_trip_with_unique_names_per_organization(db: &TestDb) {
    let seed = seed(db).await;
    let app = work_app(seed.org.id, "Slack");
    insert_apps(db, &[&app]).await;
    let q1 = review(seed.org.id, "Q1 review", &[app.id], seed.admin.id);
    insert_review(db, &q1).await;
    let mut read = db.store.read().await.expect("read");
    let found = read.get_access_review(seed.org.id, AccessReviewId(q1.id)).await.expect("get");
    assert_eq!(found.as_ref(), Some(&q1));
    let elsewhere = read.get_access_review(seed.other_org.id, AccessReviewId(q1.id)).await;
    assert_eq!(elsewhere.expect("get"), None, "another organization's campaign is not found");
    drop(read);

    // Names are unique per organization, case-insensitively; another organization may reuse one.
    let mut tx = db.store.write().await.expect("write");
    assert_conflict(
        tx.insert_access_review(&review(seed.org.id, " q1 REVIEW", &[], seed.admin.id)).await,
    );
    drop(tx);
    insert_review(db, &review(seed.other_org.id, "Q1 review", &[], seed.stranger.id)).await;

    let closed = AccessReview {
        name: "Q1 review (closed)".into(),
        description: None,
        status: AccessReviewStatus::Closed,
        undecided_items: UndecidedItems::Revoke,
        close_at_due_date: true,
        due_date: at(2_000),
        updated_at: at(30),
        closed_at: Some(at(30)),
        closed_by_user_id: Some(seed.owner.id),
        overdue_notified_at: Some(at(29)),
        ..q1.clone()
    };
    let mut tx = db.store.write().await.expect("write");
    tx.update_access_review(&closed).await.expect("update");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    let found = read.get_access_review(seed.org.id, AccessReviewId(q1.id)).await.expect("get");
    assert_eq!(found, Some(closed));
    drop(read);

    let other = review(seed.org.id, "Other", &[], seed.admin.id);
    insert_review(db, &other).await;
    let mut tx = db.store.write().await.expect("write");
    let renamed = AccessReview { name: "Q1 REVIEW (Closed)".into(), ..other };
    assert_conflict(tx.update_access_review(&renamed).await);
}

async fn campaigns_list_by_shown_status_and_reviewer(db: &TestDb) {
    let seed = seed(db).await;
    let app = work_app(seed.org.id, "Slack");
    insert_apps(db, &[&app]).await;
    grant(db, seed.org.id, &[entry(&app, &seed.alice, None)]).await;
    let open = review(seed.org.id, "Open", &[app.id], seed.admin.id);
    let overdue =
        AccessReview { due_date: at(50), ..review(seed.org.id, "Overdue", &[], seed.admin.id) };
    let closed = AccessReview {
        status: AccessReviewStatus::Closed,
        ..review(seed.org.id, "Closed", &[], seed.admin.id)
    };
    let cancelled = AccessReview {
        status: AccessReviewStatus::Cancelled,
        ..review(seed.org.id, "Cancelled", &[], seed.admin.id)
    };
    for r in [&open, &overdue, &closed, &cancelled] {
        insert_review(db, r).await;
    }
    insert_review(db, &review(seed.other_org.id, "Theirs", &[], seed.stranger.id)).await;
    snapshot(db, &open).await;
    let item = items(db, &open, ReviewItemFilter::default()).await[0].0;
    let mut tx = db.store.write().await.expect("write");
    let assignment = Assignment { assignees: vec![seed.bob.id], unassigned_reason: None };
    tx.assign_review_items(seed.org.id, AccessReviewId(open.id), &[(item, assignment)])
        .await
        .expect("assign");
    tx.commit().await.expect("commit");

    let list = |status: Option<AccessReviewStatus>, reviewer: Option<Uuid>| async move {
        let mut read = db.store.read().await.expect("read");
        let filter = AccessReviewFilter { status, reviewer_id: reviewer, now: at(100) };
        let page = read
            .list_access_reviews(seed.org.id, filter, PageRequest::first())
            .await
            .expect("list");
        page.items.into_iter().map(|r| r.name).collect::<Vec<_>>()
    };
    assert_eq!(list(None, None).await, ["Open", "Overdue", "Closed", "Cancelled"]);
    assert_eq!(list(Some(AccessReviewStatus::Open), None).await, ["Open"]);
    assert_eq!(list(Some(AccessReviewStatus::Overdue), None).await, ["Overdue"]);
    assert_eq!(list(Some(AccessReviewStatus::Closed), None).await, ["Closed"]);
    assert_eq!(list(Some(AccessReviewStatus::Cancelled), None).await, ["Cancelled"]);
    assert_eq!(list(None, Some(seed.bob.id)).await, ["Open"], "campaigns bob reviews in");
    assert!(list(None, Some(seed.alice.id)).await.is_empty());

    let mut read = db.store.read().await.expect("read");
    let filter = AccessReviewFilter { status: None, reviewer_id: None, now: at(100) };
    let first = read
        .list_access_reviews(seed.org.id, filter, PageRequest { after: None, limit: 3 })
        .await
        .expect("page");
    assert_eq!(first.items.len(), 3);
    let rest = read
        .list_access_reviews(seed.org.id, filter, PageRequest { after: first.next_after, limit: 3 })
        .await
        .expect("page");
    assert_eq!(rest.items.iter().map(|r| r.id).collect::<Vec<_>>(), [cancelled.id]);
    assert_eq!(rest.next_after, None);
}

async fn the_snapshot_takes_the_live_accesses_of_the_named_apps_or_of_every_managed_app(
    db: &TestDb,
) {
    let seed = seed(db).await;
    let slack = work_app(seed.org.id, "Slack");
    let github = work_app(seed.org.id, "GitHub");
    let legacy = WorkApp { status: WorkAppStatus::Unmanaged, ..work_app(seed.org.id, "Legacy") };
    let theirs = work_app(seed.other_org.id, "Theirs");
    insert_apps(db, &[&slack, &github, &legacy, &theirs]).await;
    let admin_level = level(&slack, "Admin", false, true);
    let mut tx = db.store.write().await.expect("write");
    tx.insert_permission_level(&admin_level).await.expect("level");
    tx.commit().await.expect("commit");
    grant(
        db,
        seed.org.id,
        &[
            entry(&slack, &seed.alice, Some(admin_level.id)),
            entry(&slack, &seed.bob, Some(admin_level.id)),
            entry(&github, &seed.alice, None),
            GrantEntry { expires_at: Some(at(15)), ..entry(&github, &seed.bob, None) },
            entry(&legacy, &seed.bob, None),
        ],
    )
    .await;
    grant(db, seed.other_org.id, &[entry(&theirs, &seed.stranger, None)]).await;

    let named = review(seed.org.id, "Slack only", &[slack.id, legacy.id], seed.admin.id);
    insert_review(db, &named).await;
    assert_eq!(snapshot(db, &named).await, 3, "Slack's two accesses and Legacy's, named");
    let every = review(seed.org.id, "Every managed app", &[], seed.admin.id);
    insert_review(db, &every).await;
    // Every Managed app: not Legacy (Unmanaged), not bob's GitHub access (expired at 15, the
    // snapshot is taken at 20), never another organization's.
    assert_eq!(snapshot(db, &every).await, 3);

    let listed = items(db, &every, ReviewItemFilter::default()).await;
    let mut expected =
        vec![(slack.id, seed.alice.id), (slack.id, seed.bob.id), (github.id, seed.alice.id)];
    expected.sort();
    assert_eq!(listed.iter().map(|(_, a, u)| (*a, *u)).collect::<Vec<_>>(), expected);
    // Item ids carry the campaign id's first 80 bits and number the items in (app, user) order.
    let prefix = &every.id.to_string()[..24];
    for (n, (item, ..)) in listed.iter().enumerate() {
        assert_eq!(item.to_string(), format!("{prefix}{:012}", n + 1));
    }

    let mut read = db.store.read().await.expect("read");
    let page = read
        .list_review_items(
            seed.org.id,
            AccessReviewId(named.id),
            ReviewItemFilter { user_id: Some(seed.alice.id), ..ReviewItemFilter::default() },
            PageRequest::first(),
        )
        .await
        .expect("items");
    let [alice] = &page.items[..] else { panic!("one item: {:?}", page.items) };
    assert_eq!(alice.user.name, "Alice Tester");
    assert_eq!(alice.user.email, "alice@acme.example");
    assert_eq!(alice.app_name, "Slack");
    assert_eq!(alice.level_name.as_deref(), Some("Admin"));
    assert_eq!(alice.item.permission_level_id, Some(admin_level.id));
    assert_eq!(alice.item.source, AccessSource::Direct);
    assert_eq!(alice.item.granted_at, at(5));
    assert_eq!((alice.item.decision, alice.item.outcome), (None, None));
    let elsewhere = read
        .list_review_items(
            seed.other_org.id,
            AccessReviewId(named.id),
            ReviewItemFilter::default(),
            PageRequest::first(),
        )
        .await
        .expect("items");
    assert!(elsewhere.items.is_empty(), "items are scoped to their organization");
}

async fn reviewers_are_written_in_bulk_and_filter_items_progress_and_reminders(db: &TestDb) {
    let seed = seed(db).await;
    let mut slack = work_app(seed.org.id, "Slack");
    slack.owner_ids = vec![seed.bob.id, seed.owner.id];
    let github = work_app(seed.org.id, "GitHub");
    insert_apps(db, &[&slack, &github]).await;
    let carol = User {
        manager_id: Some(seed.bob.id),
        ..user(&seed.org, "Carol", "carol@acme.example", OrgRole::User)
    };
    let dave = User {
        manager_id: Some(seed.alice.id),
        ..user(&seed.org, "Dave", "dave@acme.example", OrgRole::User)
    };
    insert_users(db, &[&carol, &dave]).await;
    // Alice is deactivated: an owner or a manager who is not active does not count.
    let mut tx = db.store.write().await.expect("write");
    tx.update_user(&User { deleted_at: Some(at(3)), ..seed.alice.clone() }).await.expect("alice");
    tx.commit().await.expect("commit");
    grant(
        db,
        seed.org.id,
        &[entry(&slack, &carol, None), entry(&slack, &dave, None), entry(&github, &carol, None)],
    )
    .await;
    let r = review(seed.org.id, "Q2", &[], seed.admin.id);
    insert_review(db, &r).await;
    snapshot(db, &r).await;
    let rid = AccessReviewId(r.id);

    let mut read = db.store.read().await.expect("read");
    let mut subjects = read.review_item_subjects(seed.org.id, rid).await.expect("subjects");
    subjects.sort_by_key(|s| (s.work_app_id, s.user_id));
    let subject = |app: &WorkApp, user: &User| {
        *subjects.iter().find(|s| s.work_app_id == app.id && s.user_id == user.id).expect("subject")
    };
    let carol_slack: ItemSubject = subject(&slack, &carol);
    assert_eq!(carol_slack.manager, Some((seed.bob.id, true)));
    assert_eq!(subject(&slack, &dave).manager, Some((seed.alice.id, false)), "alice is not active");
    let owners = read.review_app_owners(seed.org.id, rid).await.expect("owners");
    assert_eq!(owners, HashMap::from([(slack.id, vec![seed.bob.id, seed.owner.id])]));
    drop(read);

    let dave_slack = subject(&slack, &dave).item_id;
    let carol_github = subject(&github, &carol).item_id;
    let assignments = vec![
        (
            carol_slack.item_id,
            Assignment { assignees: vec![seed.owner.id, seed.bob.id], unassigned_reason: None },
        ),
        (dave_slack, Assignment { assignees: vec![seed.bob.id], unassigned_reason: None }),
        (
            carol_github,
            Assignment {
                assignees: vec![],
                unassigned_reason: Some("No eligible reviewer".into()),
            },
        ),
    ];
    let mut tx = db.store.write().await.expect("write");
    tx.assign_review_items(seed.org.id, rid, &assignments).await.expect("assign");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    let got = read
        .get_review_items(seed.org.id, rid, &[carol_slack.item_id, carol_github, new_id()])
        .await
        .expect("items");
    assert_eq!(got.len(), 2, "unknown ids are not found");
    let by_id = |id: Uuid| got.iter().find(|i| i.id == id).expect("item");
    assert_eq!(by_id(carol_slack.item_id).reviewer_ids, [seed.owner.id, seed.bob.id], "in order");
    assert_eq!(by_id(carol_github).reviewer_ids, Vec::<Uuid>::new());
    assert_eq!(by_id(carol_github).unassigned_reason.as_deref(), Some("No eligible reviewer"));
    assert!(read
        .get_review_items(seed.other_org.id, rid, &[carol_github])
        .await
        .expect("items")
        .is_empty());
    let page = read
        .list_review_items(seed.org.id, rid, ReviewItemFilter::default(), PageRequest::first())
        .await
        .expect("page");
    let listed = page.items.iter().find(|d| d.item.id == carol_slack.item_id).expect("listed");
    assert_eq!(
        listed.reviewers.iter().map(|p| (p.id, p.email.as_str())).collect::<Vec<_>>(),
        [(seed.owner.id, "owner@acme.example"), (seed.bob.id, "bob@acme.example")]
    );
    assert_eq!(listed.item.reviewer_ids, [seed.owner.id, seed.bob.id]);
    drop(read);

    let filter =
        |reviewer: Option<&User>, app: Option<&WorkApp>, decision: Option<DecisionFilter>| {
            ReviewItemFilter {
                reviewer_id: reviewer.map(|u| u.id),
                work_app_id: app.map(|a| a.id),
                decision,
                user_id: None,
                item_id: None,
            }
        };
    let ids = |found: Vec<(Uuid, Uuid, Uuid)>| {
        let mut ids: Vec<Uuid> = found.into_iter().map(|(id, ..)| id).collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(items(db, &r, filter(Some(&seed.bob), None, None)).await),
        sorted(vec![carol_slack.item_id, dave_slack])
    );
    assert_eq!(
        ids(items(db, &r, filter(Some(&seed.owner), None, None)).await),
        [carol_slack.item_id]
    );
    assert_eq!(ids(items(db, &r, filter(None, Some(&github), None)).await), [carol_github]);
    let one = ReviewItemFilter { item_id: Some(dave_slack), ..ReviewItemFilter::default() };
    assert_eq!(ids(items(db, &r, one).await), [dave_slack]);

    let mut tx = db.store.write().await.expect("write");
    let decided = tx
        .decide_review_items(
            seed.org.id,
            rid,
            &[CheckedDecision {
                item_id: dave_slack,
                decision: ReviewDecision::Revoke,
                permission_level_id: None,
                comment: Some("left the team".into()),
            }],
            Some(UserId(seed.bob.id)),
            at(40),
        )
        .await
        .expect("decide");
    assert_eq!(decided, 1);
    tx.commit().await.expect("commit");
    let undecided = Some(DecisionFilter::Undecided);
    assert_eq!(
        ids(items(db, &r, filter(Some(&seed.bob), None, undecided)).await),
        [carol_slack.item_id]
    );
    let revoked = Some(DecisionFilter::Is(ReviewDecision::Revoke));
    assert_eq!(ids(items(db, &r, filter(None, None, revoked)).await), [dave_slack]);
    let decided = Some(DecisionFilter::Decided);
    assert_eq!(ids(items(db, &r, filter(Some(&seed.bob), None, decided)).await), [dave_slack]);
    let kept = Some(DecisionFilter::Is(ReviewDecision::Keep));
    assert!(items(db, &r, filter(None, None, kept)).await.is_empty());

    let mut read = db.store.read().await.expect("read");
    let progress =
        read.access_review_progress(seed.org.id, &[r.id, new_id()], None).await.expect("progress");
    let all = &progress[&r.id];
    assert_eq!(
        (all.items, all.decided, all.revoke, all.keep, all.change_level, all.unassigned),
        (3, 1, 1, 0, 0, 1)
    );
    assert_eq!(all.undecided(), 2);
    let bobs = read
        .access_review_progress(seed.org.id, &[r.id], Some(UserId(seed.bob.id)))
        .await
        .expect("progress");
    assert_eq!((bobs[&r.id].items, bobs[&r.id].decided), (2, 1));
    let pending = read.pending_reviewers(seed.org.id, rid).await.expect("pending");
    assert_eq!(pending, sorted_pairs(vec![(seed.bob.id, 1), (seed.owner.id, 1)]));
}

fn sorted_pairs(mut pairs: Vec<(Uuid, i64)>) -> Vec<(Uuid, i64)> {
    pairs.sort();
    pairs
}

async fn decisions_replace_earlier_ones_until_the_campaign_closes(db: &TestDb) {
    let seed = seed(db).await;
    let slack = work_app(seed.org.id, "Slack");
    insert_apps(db, &[&slack]).await;
    let (reader, admin) =
        (level(&slack, "Reader", true, false), level(&slack, "Admin", false, true));
    let mut tx = db.store.write().await.expect("write");
    tx.insert_permission_level(&reader).await.expect("level");
    tx.insert_permission_level(&admin).await.expect("level");
    tx.commit().await.expect("commit");
    grant(
        db,
        seed.org.id,
        &[entry(&slack, &seed.alice, Some(admin.id)), entry(&slack, &seed.bob, Some(reader.id))],
    )
    .await;
    let r = review(seed.org.id, "Q3", &[slack.id], seed.admin.id);
    insert_review(db, &r).await;
    snapshot(db, &r).await;
    let rid = AccessReviewId(r.id);
    let listed = items(db, &r, ReviewItemFilter::default()).await;
    let alice = listed.iter().find(|(_, _, u)| *u == seed.alice.id).expect("alice").0;
    let bob = listed.iter().find(|(_, _, u)| *u == seed.bob.id).expect("bob").0;
    let decide = |item, decision, level: Option<Uuid>, comment: Option<&str>| CheckedDecision {
        item_id: item,
        decision,
        permission_level_id: level,
        comment: comment.map(str::to_string),
    };
    let mut tx = db.store.write().await.expect("write");
    let n = tx
        .decide_review_items(
            seed.org.id,
            rid,
            &[
                decide(
                    alice,
                    ReviewDecision::ChangeLevel,
                    Some(reader.id),
                    Some("least privilege"),
                ),
                decide(bob, ReviewDecision::Keep, None, None),
            ],
            None,
            at(40),
        )
        .await
        .expect("decide");
    assert_eq!(n, 2);
    // A later decision replaces the earlier one, with its decider and time.
    let n = tx
        .decide_review_items(
            seed.org.id,
            rid,
            &[decide(bob, ReviewDecision::Revoke, None, Some("Zoë \"quoted\" ☃"))],
            Some(UserId(seed.owner.id)),
            at(41),
        )
        .await
        .expect("decide again");
    assert_eq!(n, 1);
    // Another organization's id or an unknown item changes nothing.
    let n = tx
        .decide_review_items(
            seed.other_org.id,
            rid,
            &[decide(bob, ReviewDecision::Keep, None, None)],
            None,
            at(42),
        )
        .await
        .expect("decide elsewhere");
    assert_eq!(n, 0);
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    let got = read.get_review_items(seed.org.id, rid, &[alice, bob]).await.expect("items");
    let by_id = |id: Uuid| got.iter().find(|i| i.id == id).expect("item").clone();
    let a = by_id(alice);
    assert_eq!(
        (a.decision, a.decision_level_id, a.comment.as_deref(), a.decided_by_user_id, a.decided_at),
        (
            Some(ReviewDecision::ChangeLevel),
            Some(reader.id),
            Some("least privilege"),
            None,
            Some(at(40))
        )
    );
    let b = by_id(bob);
    assert_eq!(
        (b.decision, b.decision_level_id, b.comment.as_deref(), b.decided_by_user_id, b.decided_at),
        (
            Some(ReviewDecision::Revoke),
            None,
            Some("Zoë \"quoted\" ☃"),
            Some(seed.owner.id),
            Some(at(41))
        )
    );
    let page = read
        .list_review_items(
            seed.org.id,
            rid,
            ReviewItemFilter { user_id: Some(seed.alice.id), ..ReviewItemFilter::default() },
            PageRequest::first(),
        )
        .await
        .expect("items");
    assert_eq!(page.items[0].decision_level_name.as_deref(), Some("Reader"));
    drop(read);

    // Closed: decisions no longer land.
    let mut tx = db.store.write().await.expect("write");
    let closed = AccessReview { status: AccessReviewStatus::Closed, closed_at: Some(at(50)), ..r };
    tx.update_access_review(&closed).await.expect("close");
    let n = tx
        .decide_review_items(
            seed.org.id,
            rid,
            &[decide(alice, ReviewDecision::Keep, None, None)],
            None,
            at(51),
        )
        .await
        .expect("decide after close");
    assert_eq!(n, 0);
    assert_eq!(tx.decide_review_items(seed.org.id, rid, &[], None, at(51)).await.expect("none"), 0);
}

async fn closing_reads_what_to_act_on_and_records_outcomes(db: &TestDb) {
    let seed = seed(db).await;
    let manual = work_app(seed.org.id, "Manual");
    let automatic =
        WorkApp { provisioning_mode: ProvisioningMode::Automatic, ..work_app(seed.org.id, "Auto") };
    insert_apps(db, &[&manual, &automatic]).await;
    let (reader, admin) =
        (level(&automatic, "Reader", true, false), level(&automatic, "Admin", false, true));
    let mut tx = db.store.write().await.expect("write");
    tx.insert_permission_level(&reader).await.expect("level");
    tx.insert_permission_level(&admin).await.expect("level");
    tx.commit().await.expect("commit");
    let carol = user(&seed.org, "Carol", "carol@acme.example", OrgRole::User);
    insert_users(db, &[&carol]).await;
    grant(
        db,
        seed.org.id,
        &[
            entry(&manual, &seed.alice, None),
            entry(&manual, &seed.bob, None),
            entry(&manual, &carol, None),
            entry(&automatic, &seed.alice, Some(admin.id)),
            entry(&automatic, &seed.bob, Some(admin.id)),
        ],
    )
    .await;
    let r = review(seed.org.id, "Q4", &[], seed.admin.id);
    insert_review(db, &r).await;
    snapshot(db, &r).await;
    let rid = AccessReviewId(r.id);
    let listed = items(db, &r, ReviewItemFilter::default()).await;
    let item = |app: &WorkApp, user: &User| {
        listed.iter().find(|(_, a, u)| *a == app.id && *u == user.id).expect("item").0
    };
    let decide = |item, decision, level| CheckedDecision {
        item_id: item,
        decision,
        permission_level_id: level,
        comment: None,
    };
    let mut tx = db.store.write().await.expect("write");
    tx.decide_review_items(
        seed.org.id,
        rid,
        &[
            decide(item(&manual, &seed.alice), ReviewDecision::Revoke, None),
            decide(item(&manual, &seed.bob), ReviewDecision::Keep, None),
            decide(item(&automatic, &seed.alice), ReviewDecision::ChangeLevel, Some(reader.id)),
            decide(item(&automatic, &seed.bob), ReviewDecision::Revoke, None),
        ],
        None,
        at(40),
    )
    .await
    .expect("decide");
    // Since the snapshot: bob's Automatic access went, and alice has an open request on Manual.
    tx.delete_access(seed.org.id, WorkAppId(automatic.id), UserId(seed.bob.id))
        .await
        .expect("remove");
    let p = policy(seed.org.id, RequestType::RemoveAccess, true);
    tx.insert_policy(&p).await.expect("policy");
    let open = request(&p, manual.id, Some(seed.alice.id));
    tx.insert_request(&open).await.expect("request");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    let acting =
        read.review_close_items(seed.org.id, rid, false, at(60)).await.expect("close items");
    assert_eq!(acting.len(), 3, "Keep and undecided items are not read: {acting:?}");
    let of = |id: Uuid| *acting.iter().find(|c| c.item_id == id).expect("close item");
    let a = of(item(&manual, &seed.alice));
    assert_eq!(a.decision, Some(ReviewDecision::Revoke));
    assert_eq!(a.facts.mode, ProvisioningMode::Manual);
    assert_eq!(a.facts.live_level, Some(None));
    assert_eq!(a.facts.open_request, Some(open.id));
    let c = of(item(&automatic, &seed.alice));
    assert_eq!(
        (c.decision, c.decision_level_id),
        (Some(ReviewDecision::ChangeLevel), Some(reader.id))
    );
    assert_eq!(c.facts.mode, ProvisioningMode::Automatic);
    assert_eq!(c.facts.live_level, Some(Some(admin.id)));
    assert_eq!(c.facts.open_request, None);
    assert_eq!(of(item(&automatic, &seed.bob)).facts.live_level, None, "the access went");
    // With undecided items revoked, carol's undecided access is read too.
    let with_undecided =
        read.review_close_items(seed.org.id, rid, true, at(60)).await.expect("close items");
    assert_eq!(with_undecided.len(), 4);
    let carol_item = with_undecided.iter().find(|c| c.user_id == carol.id).expect("carol");
    assert_eq!((carol_item.decision, carol_item.work_app_id), (None, manual.id));
    drop(read);

    let mut tx = db.store.write().await.expect("write");
    tx.record_review_outcomes(
        seed.org.id,
        rid,
        &[
            CarriedOut {
                item_id: item(&manual, &seed.alice),
                outcome: ItemOutcome::Skipped,
                note: Some(format!("request {} was already open", open.id)),
                request_id: None,
            },
            CarriedOut {
                item_id: item(&automatic, &seed.alice),
                outcome: ItemOutcome::LevelChanged,
                note: None,
                request_id: None,
            },
            CarriedOut {
                item_id: item(&automatic, &seed.bob),
                outcome: ItemOutcome::RemovalRequested,
                note: None,
                request_id: Some(open.id),
            },
        ],
        at(61),
    )
    .await
    .expect("outcomes");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    let got = read
        .get_review_items(seed.org.id, rid, &listed.iter().map(|(id, ..)| *id).collect::<Vec<_>>())
        .await
        .expect("items");
    for i in &got {
        assert_eq!(i.carried_out_at, Some(at(61)), "{i:?}");
    }
    let outcome_of = |id: Uuid| {
        let i = got.iter().find(|i| i.id == id).expect("item");
        (i.outcome, i.outcome_request_id)
    };
    assert_eq!(outcome_of(item(&manual, &seed.bob)), (Some(ItemOutcome::Kept), None));
    assert_eq!(outcome_of(item(&manual, &carol)), (Some(ItemOutcome::Kept), None));
    assert_eq!(
        outcome_of(item(&automatic, &seed.bob)),
        (Some(ItemOutcome::RemovalRequested), Some(open.id))
    );
    let skipped = got.iter().find(|i| i.id == item(&manual, &seed.alice)).expect("item");
    assert!(skipped.outcome_note.as_deref().is_some_and(|n| n.contains(&open.id.to_string())));
    let progress = read.access_review_progress(seed.org.id, &[r.id], None).await.expect("progress");
    let outcomes: Vec<(ItemOutcome, i64)> =
        progress[&r.id].outcomes.iter().map(|(o, n)| (*o, *n)).collect();
    assert_eq!(
        outcomes,
        [
            (ItemOutcome::Kept, 2),
            (ItemOutcome::LevelChanged, 1),
            (ItemOutcome::RemovalRequested, 1),
            (ItemOutcome::Skipped, 1)
        ]
    );
}

async fn due_campaigns_of_every_organization_are_found_once(db: &TestDb) {
    let seed = seed(db).await;
    let due_here =
        AccessReview { due_date: at(50), ..review(seed.org.id, "Due", &[], seed.admin.id) };
    let due_there = AccessReview {
        due_date: at(60),
        ..review(seed.other_org.id, "Due", &[], seed.stranger.id)
    };
    let notified = AccessReview {
        due_date: at(40),
        overdue_notified_at: Some(at(41)),
        ..review(seed.org.id, "Reminded", &[], seed.admin.id)
    };
    let closes_itself = AccessReview {
        close_at_due_date: true,
        overdue_notified_at: Some(at(41)),
        ..notified.clone()
    };
    let closes_itself = AccessReview { id: new_id(), name: "Closes".into(), ..closes_itself };
    let closed = AccessReview {
        due_date: at(40),
        status: AccessReviewStatus::Closed,
        close_at_due_date: true,
        ..review(seed.org.id, "Closed", &[], seed.admin.id)
    };
    let later = review(seed.org.id, "Later", &[], seed.admin.id);
    for r in [&due_here, &due_there, &notified, &closes_itself, &closed, &later] {
        insert_review(db, r).await;
    }
    let mut read = db.store.read().await.expect("read");
    let due = read.due_access_reviews(at(100), 10).await.expect("due");
    assert_eq!(
        due.iter().map(|r| r.id).collect::<Vec<_>>(),
        [closes_itself.id, due_here.id, due_there.id],
        "by due date; the notified one only when it closes itself"
    );
    assert_eq!(read.due_access_reviews(at(100), 1).await.expect("due").len(), 1);
    assert!(read.due_access_reviews(at(39), 10).await.expect("due").is_empty());
}

async fn accesses_are_removed_and_moved_to_other_levels_in_bulk(db: &TestDb) {
    let seed = seed(db).await;
    let slack = work_app(seed.org.id, "Slack");
    let theirs = work_app(seed.other_org.id, "Theirs");
    insert_apps(db, &[&slack, &theirs]).await;
    let (reader, admin) =
        (level(&slack, "Reader", true, false), level(&slack, "Admin", false, true));
    let mut tx = db.store.write().await.expect("write");
    tx.insert_permission_level(&reader).await.expect("level");
    tx.insert_permission_level(&admin).await.expect("level");
    tx.commit().await.expect("commit");
    grant(
        db,
        seed.org.id,
        &[
            entry(&slack, &seed.alice, Some(admin.id)),
            GrantEntry { expires_at: Some(at(900)), ..entry(&slack, &seed.bob, Some(admin.id)) },
            entry(&slack, &seed.owner, Some(reader.id)),
        ],
    )
    .await;
    grant(db, seed.other_org.id, &[entry(&theirs, &seed.stranger, None)]).await;

    let mut tx = db.store.write().await.expect("write");
    let before = tx
        .set_access_levels(
            seed.org.id,
            &[
                (WorkAppId(slack.id), UserId(seed.alice.id), Some(reader.id)),
                (WorkAppId(slack.id), UserId(seed.bob.id), Some(reader.id)),
                (WorkAppId(slack.id), UserId(seed.admin.id), Some(reader.id)),
            ],
            at(30),
        )
        .await
        .expect("set levels");
    let mut before_levels: Vec<(Uuid, Option<Uuid>)> =
        before.iter().map(|a| (a.user_id, a.permission_level_id)).collect();
    before_levels.sort();
    assert_eq!(
        before_levels,
        sorted_levels(vec![(seed.alice.id, Some(admin.id)), (seed.bob.id, Some(admin.id))]),
        "only accesses that existed, as they were"
    );
    let bob = tx
        .get_access(seed.org.id, WorkAppId(slack.id), UserId(seed.bob.id))
        .await
        .expect("get")
        .expect("bob");
    assert_eq!(
        (bob.permission_level_id, bob.updated_at, bob.expires_at, bob.source, bob.granted_at),
        (Some(reader.id), at(30), Some(at(900)), AccessSource::Direct, at(5)),
        "the level and time change; source, grant time and expiry stay"
    );
    assert!(tx
        .get_access(seed.org.id, WorkAppId(slack.id), UserId(seed.admin.id))
        .await
        .expect("get")
        .is_none());

    let removed = tx
        .delete_accesses(
            seed.org.id,
            &[
                (WorkAppId(slack.id), UserId(seed.alice.id)),
                (WorkAppId(slack.id), UserId(seed.admin.id)),
                (WorkAppId(theirs.id), UserId(seed.stranger.id)),
            ],
        )
        .await
        .expect("delete");
    assert_eq!(removed.iter().map(|a| a.user_id).collect::<Vec<_>>(), [seed.alice.id]);
    assert_eq!(removed[0].permission_level_id, Some(reader.id));
    assert!(tx.delete_accesses(seed.org.id, &[]).await.expect("none").is_empty());
    assert!(tx.set_access_levels(seed.org.id, &[], at(31)).await.expect("none").is_empty());
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    let theirs_left = read
        .get_access(seed.other_org.id, WorkAppId(theirs.id), UserId(seed.stranger.id))
        .await
        .expect("get");
    assert!(theirs_left.is_some(), "another organization's access stays");
    let left: Vec<Uuid> = read
        .list_accesses(seed.org.id, slack.id, PageRequest::first(), at(31))
        .await
        .expect("list")
        .items
        .iter()
        .map(|d| d.user.id)
        .collect();
    assert_eq!(left, sorted(vec![seed.bob.id, seed.owner.id]));
}

fn sorted_levels(mut v: Vec<(Uuid, Option<Uuid>)>) -> Vec<(Uuid, Option<Uuid>)> {
    v.sort();
    v
}

async fn a_reviewers_undecided_items_are_found_and_reassigned(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let (slack, zoom) = (work_app(org, "Slack"), work_app(org, "Zoom"));
    insert_apps(db, &[&slack, &zoom]).await;
    grant(
        db,
        org,
        &[
            entry(&slack, &seed.alice, None),
            entry(&zoom, &seed.alice, None),
            entry(&slack, &seed.bob, None),
        ],
    )
    .await;
    let by_manager = AccessReview {
        review_type: AccessReviewType::Manager,
        ..review(org, "Managers", &[slack.id, zoom.id], seed.admin.id)
    };
    let by_owner = review(org, "Owners", &[slack.id], seed.admin.id);
    let closed = AccessReview {
        status: AccessReviewStatus::Closed,
        ..review(org, "Closed", &[slack.id], seed.admin.id)
    };
    // Item ids start with their campaign's first 80 bits: campaigns made within one
    // millisecond get ids that differ there.
    let distinct =
        |r: AccessReview, n: u128| AccessReview { id: Uuid::from_u128(n << 80 | 1), ..r };
    let (by_manager, by_owner, closed) =
        (distinct(by_manager, 1), distinct(by_owner, 2), distinct(closed, 3));
    let mut all = Vec::new();
    for r in [&by_manager, &by_owner, &closed] {
        insert_review(db, r).await;
        snapshot(db, r).await;
        all.extend(items(db, r, ReviewItemFilter::default()).await.into_iter().map(|i| (r.id, i)));
    }
    // The owner reviews every item (with the admin on the manager campaign's); one item of the
    // manager campaign is decided already.
    let mut tx = db.store.write().await.expect("write");
    for r in [&by_manager, &by_owner, &closed] {
        let assignments: Vec<_> = all
            .iter()
            .filter(|(rid, _)| *rid == r.id)
            .map(|(_, (item, _, _))| {
                let mut assignees = vec![seed.owner.id];
                if r.id == by_manager.id {
                    assignees.push(seed.admin.id);
                }
                (*item, Assignment { assignees, unassigned_reason: None })
            })
            .collect();
        tx.assign_review_items(org, AccessReviewId(r.id), &assignments).await.expect("assign");
    }
    let decided = all
        .iter()
        .find(|(rid, (_, app, user))| {
            *rid == by_manager.id && *app == zoom.id && *user == seed.alice.id
        })
        .map(|(_, (item, _, _))| *item)
        .expect("zoom item");
    let decision = CheckedDecision {
        item_id: decided,
        decision: ReviewDecision::Keep,
        permission_level_id: None,
        comment: None,
    };
    tx.decide_review_items(org, AccessReviewId(by_manager.id), &[decision], None, at(30))
        .await
        .expect("decide");
    tx.commit().await.expect("commit");

    let item_of = |rid: Uuid, app: Uuid, user: Uuid| {
        all.iter()
            .find(|(r, (_, a, u))| *r == rid && *a == app && *u == user)
            .map(|(_, (item, _, _))| *item)
            .expect("item")
    };
    let mut read = db.store.read().await.expect("read");
    let owner = UserId(seed.owner.id);
    let found = read.undecided_items_reviewed_by(org, owner, None, None).await.expect("items");
    let mut ids: Vec<Uuid> = found.iter().map(|i| i.id).collect();
    ids.sort();
    let mut expected = vec![
        item_of(by_manager.id, slack.id, seed.alice.id),
        item_of(by_manager.id, slack.id, seed.bob.id),
        item_of(by_owner.id, slack.id, seed.alice.id),
        item_of(by_owner.id, slack.id, seed.bob.id),
    ];
    expected.sort();
    assert_eq!(ids, expected, "undecided items of open campaigns only");
    let first = found.iter().find(|i| i.review_id == by_manager.id).expect("manager item");
    assert_eq!(first.reviewer_ids, vec![seed.owner.id, seed.admin.id]);
    // About Alice, in Manager campaigns.
    let narrow = read
        .undecided_items_reviewed_by(
            org,
            owner,
            Some(UserId(seed.alice.id)),
            Some(AccessReviewType::Manager),
        )
        .await
        .expect("items");
    assert_eq!(
        narrow.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![item_of(by_manager.id, slack.id, seed.alice.id)]
    );
    assert!(read
        .undecided_items_reviewed_by(seed.other_org.id, owner, None, None)
        .await
        .expect("scoped")
        .is_empty());
    drop(read);

    // Reassigning replaces the reviewers (and sets the reason of an item left without any).
    let (moved, emptied) = (
        item_of(by_manager.id, slack.id, seed.alice.id),
        item_of(by_owner.id, slack.id, seed.bob.id),
    );
    let mut tx = db.store.write().await.expect("write");
    tx.reassign_review_items(
        org,
        &[
            (
                moved,
                Assignment { assignees: vec![seed.bob.id, seed.admin.id], unassigned_reason: None },
            ),
            (emptied, Assignment { assignees: vec![], unassigned_reason: Some("nobody".into()) }),
        ],
    )
    .await
    .expect("reassign");
    tx.reassign_review_items(org, &[]).await.expect("nothing");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    let got =
        read.get_review_items(org, AccessReviewId(by_manager.id), &[moved]).await.expect("items");
    assert_eq!(
        (got[0].reviewer_ids.clone(), got[0].unassigned_reason.clone()),
        (vec![seed.bob.id, seed.admin.id], None)
    );
    let got =
        read.get_review_items(org, AccessReviewId(by_owner.id), &[emptied]).await.expect("items");
    assert_eq!(
        (got[0].reviewer_ids.clone(), got[0].unassigned_reason.as_deref()),
        (vec![], Some("nobody"))
    );
    let left = read.undecided_items_reviewed_by(org, owner, None, None).await.expect("items");
    assert_eq!(left.len(), 2, "the owner keeps the other two");
}
