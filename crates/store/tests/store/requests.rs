//! Requests and approval tasks: `RequestReads`, `RequestWrites`.
use portcullis_domain::{
    new_id, Assignment, PageRequest, Request, RequestStatus, RequestType, Task, TaskKind,
    TaskStatus,
};
use portcullis_domain::{TaskId, UserId};
use portcullis_store::{RequestFilter, TaskFilter};

use crate::common::*;

on_every_backend!(
    requests_round_trip_and_update,
    one_open_request_per_app_and_user,
    requests_filter_and_page,
    tasks_round_trip_with_ordered_assignees,
    an_open_task_is_reassigned_and_loses_its_unassigned_reason,
    a_task_is_decided_exactly_once,
    tasks_filter_and_page,
    concurrent_writers_decide_a_task_and_open_a_request_once,
    a_users_open_requests_and_tasks_are_found_and_cancelled_or_reassigned_as_a_set,
    requests_and_tasks_are_inserted_as_a_set,
);

async fn requests_round_trip_and_update(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let app = work_app(org, "Okta");
    insert_apps(db, &[&app]).await;
    let lvl = level(&app, "Admin", false, true);
    let g = group(org, "Ops");
    let p = policy(org, RequestType::GrantAccess, true);
    // Every optional field set…
    let full = Request {
        permission_level_id: Some(lvl.id),
        created_by_user_id: Some(seed.admin.id),
        justification: "Needed for the audit — ünïcödé".into(),
        expires_at: Some(at_ms(999_999)),
        source_group_id: Some(g.id),
        ..request(&p, app.id, Some(seed.alice.id))
    };
    // …and none (an app-level request).
    let bare = Request {
        request_type: RequestType::ArchiveWorkApp,
        created_by_user_id: None,
        justification: String::new(),
        step_count: 0,
        ..request(&p, app.id, None)
    };
    let mut tx = db.store.write().await.expect("write");
    tx.insert_permission_level(&lvl).await.expect("level");
    tx.insert_group(&g).await.expect("group");
    tx.insert_policy(&p).await.expect("policy");
    tx.insert_request(&full).await.expect("insert");
    tx.insert_request(&bare).await.expect("insert");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_request(org, full.id).await.expect("get"), Some(full.clone()));
    assert_eq!(read.get_request(org, bare.id).await.expect("get"), Some(bare.clone()));
    assert_eq!(read.get_request(seed.other_org.id, full.id).await.expect("get"), None);
    assert_eq!(read.get_request(org, new_id()).await.expect("get"), None);
    drop(read);

    // update_request saves status, cancelled_by and updated_at only.
    let cancelled = Request {
        status: RequestStatus::Cancelled,
        cancelled_by_user_id: Some(seed.owner.id),
        updated_at: at_ms(123_321),
        ..full.clone()
    };
    let mut tx = db.store.write().await.expect("write");
    tx.update_request(&Request {
        justification: "changed".into(),
        step_count: 9,
        ..cancelled.clone()
    })
    .await
    .expect("update");
    // Another organization's id changes nothing.
    tx.update_request(&Request {
        org_id: seed.other_org.id,
        status: RequestStatus::Failed,
        ..bare.clone()
    })
    .await
    .expect("no-op");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_request(org, full.id).await.expect("get"), Some(cancelled));
    assert_eq!(read.get_request(org, bare.id).await.expect("get"), Some(bare));
}

async fn one_open_request_per_app_and_user(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let app = work_app(org, "Okta");
    let app2 = work_app(org, "Box");
    insert_apps(db, &[&app, &app2]).await;
    let p = policy(org, RequestType::GrantAccess, true);
    let first = request(&p, app.id, Some(seed.alice.id));
    let mut tx = db.store.write().await.expect("write");
    tx.insert_policy(&p).await.expect("policy");
    tx.insert_request(&first).await.expect("insert");
    // Other user, other app: fine.
    tx.insert_request(&request(&p, app.id, Some(seed.bob.id))).await.expect("other user");
    tx.insert_request(&request(&p, app2.id, Some(seed.alice.id))).await.expect("other app");
    // One app-level request (no target user) may be open too.
    let app_level =
        Request { request_type: RequestType::ArchiveWorkApp, ..request(&p, app.id, None) };
    tx.insert_request(&app_level).await.expect("app level");
    tx.commit().await.expect("commit");

    // A second open one (Pending or Approved) for the same app and user: a conflict.
    for status in [RequestStatus::Pending, RequestStatus::Approved] {
        let mut tx = db.store.write().await.expect("write");
        assert_conflict(
            tx.insert_request(&Request { status, ..request(&p, app.id, Some(seed.alice.id)) })
                .await,
        );
    }
    let mut tx = db.store.write().await.expect("write");
    assert_conflict(
        tx.insert_request(&Request {
            request_type: RequestType::ArchiveWorkApp,
            ..request(&p, app.id, None)
        })
        .await,
    );
    drop(tx);
    // A closed one alongside is fine…
    let mut tx = db.store.write().await.expect("write");
    let declined =
        Request { status: RequestStatus::Declined, ..request(&p, app.id, Some(seed.alice.id)) };
    tx.insert_request(&declined).await.expect("closed request");
    // …and once the first closes, a new open one is accepted.
    tx.update_request(&Request {
        status: RequestStatus::Completed,
        updated_at: at(9),
        ..first.clone()
    })
    .await
    .expect("close");
    let second = request(&p, app.id, Some(seed.alice.id));
    tx.insert_request(&second).await.expect("new open request");
    tx.commit().await.expect("commit");
    // Reopening the closed one would make two open: a conflict.
    let mut tx = db.store.write().await.expect("write");
    assert_conflict(
        tx.update_request(&Request { status: RequestStatus::Approved, ..declined }).await,
    );
}

async fn requests_filter_and_page(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let a1 = work_app(org, "A1");
    let a2 = work_app(org, "A2");
    insert_apps(db, &[&a1, &a2]).await;
    let p = policy(org, RequestType::GrantAccess, true);
    let theirs_p = policy(seed.other_org.id, RequestType::GrantAccess, true);
    let theirs_app = work_app(seed.other_org.id, "T");
    insert_apps(db, &[&theirs_app]).await;
    let done = |r: Request| Request { status: RequestStatus::Completed, ..r };
    // Later updates, and a removal among the grants.
    let touched = |r: Request, ms| Request { updated_at: at_ms(ms), ..r };
    let removal = |r: Request| Request { request_type: RequestType::RemoveAccess, ..r };
    let rs = [
        request(&p, a1.id, Some(seed.alice.id)),
        done(touched(request(&p, a1.id, Some(seed.alice.id)), 9_000)),
        removal(request(&p, a1.id, Some(seed.bob.id))),
        done(touched(request(&p, a2.id, Some(seed.bob.id)), 8_000)),
        touched(request(&p, a2.id, Some(seed.alice.id)), 8_001),
    ];
    let theirs = request(&theirs_p, theirs_app.id, Some(seed.stranger.id));
    let mut tx = db.store.write().await.expect("write");
    tx.insert_policy(&p).await.expect("policy");
    tx.insert_policy(&theirs_p).await.expect("policy");
    for r in rs.iter().chain([&theirs]) {
        tx.insert_request(r).await.expect("request");
    }
    tx.commit().await.expect("commit");
    let pick = |f: &dyn Fn(&Request) -> bool| {
        let mut v: Vec<Request> = rs.iter().filter(|r| f(r)).cloned().collect();
        v.sort_by_key(|r| r.id);
        v
    };
    let all = pick(&|_| true);

    let mut read = db.store.read().await.expect("read");
    let list = |f: RequestFilter, after, limit| (f, PageRequest { after, limit });
    let cases = [
        (RequestFilter::default(), all.clone()),
        (
            RequestFilter { status: Some(RequestStatus::Pending), ..Default::default() },
            pick(&|r| r.status == RequestStatus::Pending),
        ),
        (
            RequestFilter { status: Some(RequestStatus::Completed), ..Default::default() },
            pick(&|r| r.status == RequestStatus::Completed),
        ),
        (RequestFilter { status: Some(RequestStatus::Failed), ..Default::default() }, vec![]),
        (
            RequestFilter { target_user_id: Some(seed.alice.id), ..Default::default() },
            pick(&|r| r.target_user_id == Some(seed.alice.id)),
        ),
        (
            RequestFilter { work_app_id: Some(a2.id), ..Default::default() },
            pick(&|r| r.work_app_id == a2.id),
        ),
        (
            RequestFilter { request_type: Some(RequestType::RemoveAccess), ..Default::default() },
            pick(&|r| r.request_type == RequestType::RemoveAccess),
        ),
        (
            RequestFilter { request_type: Some(RequestType::ArchiveWorkApp), ..Default::default() },
            vec![],
        ),
        (
            // Strictly after: the request updated at exactly 8 000 ms is not included.
            RequestFilter { updated_after: Some(at_ms(8_000)), ..Default::default() },
            pick(&|r| r.updated_at > at_ms(8_000)),
        ),
        (RequestFilter { updated_after: Some(at_ms(9_000)), ..Default::default() }, vec![]),
        (
            RequestFilter {
                status: Some(RequestStatus::Pending),
                target_user_id: Some(seed.alice.id),
                work_app_id: Some(a1.id),
                request_type: Some(RequestType::GrantAccess),
                updated_after: Some(at_ms(6_006)),
            },
            pick(&|r| {
                r.status == RequestStatus::Pending
                    && r.target_user_id == Some(seed.alice.id)
                    && r.work_app_id == a1.id
                    && r.request_type == RequestType::GrantAccess
            }),
        ),
    ];
    for (filter, expected) in cases {
        let (f, page) = list(filter, None, 100);
        let got = read.list_requests(org, f, page).await.expect("list");
        assert_eq!((got.items, got.next_after), (expected, None), "{filter:?}");
    }
    // Paging through everything, two at a time.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = read
            .list_requests(org, RequestFilter::default(), PageRequest { after, limit: 2 })
            .await
            .expect("list");
        assert_eq!(page.next_after.is_some(), seen.len() + page.items.len() < all.len());
        seen.extend(page.items);
        after = page.next_after;
        if after.is_none() {
            break;
        }
    }
    assert_eq!(seen, all);
    // Newest first, cut at the limit; `open_only` keeps Pending and Approved.
    let newest_first = |mut v: Vec<Request>| {
        v.reverse();
        v
    };
    let recent =
        read.recent_requests(org, RequestFilter::default(), false, 3).await.expect("recent");
    assert_eq!(recent, newest_first(all.clone()).into_iter().take(3).collect::<Vec<_>>());
    let open = read.recent_requests(org, RequestFilter::default(), true, 100).await.expect("open");
    let expected = pick(&|r| matches!(r.status, RequestStatus::Pending | RequestStatus::Approved));
    assert!(!expected.is_empty() && expected.len() < all.len());
    assert_eq!(open, newest_first(expected));
    let alice = RequestFilter { target_user_id: Some(seed.alice.id), ..Default::default() };
    let recent = read.recent_requests(org, alice, false, 100).await.expect("recent");
    assert_eq!(recent, newest_first(pick(&|r| r.target_user_id == Some(seed.alice.id))));
    let theirs_only =
        read.recent_requests(seed.other_org.id, RequestFilter::default(), false, 100).await;
    assert_eq!(theirs_only.expect("recent").len(), 1);
    let page = read
        .list_requests(seed.other_org.id, RequestFilter::default(), PageRequest::first())
        .await
        .expect("list");
    assert_eq!(page.items, vec![theirs]);
}

/// A policy, an app and a pending request, committed.
async fn request_fixture(db: &TestDb, seed: &Seed) -> Request {
    let app = work_app(seed.org.id, &format!("App {}", new_id().simple()));
    insert_apps(db, &[&app]).await;
    let p = policy(seed.org.id, RequestType::GrantAccess, false);
    let r = request(&p, app.id, Some(seed.alice.id));
    let mut tx = db.store.write().await.expect("write");
    tx.insert_policy(&p).await.expect("policy");
    tx.insert_request(&r).await.expect("request");
    tx.commit().await.expect("commit");
    r
}

async fn tasks_round_trip_with_ordered_assignees(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let r = request_fixture(db, &seed).await;
    // Assignees in an order that is not id order.
    let mut assignees = vec![seed.owner.id, seed.admin.id, seed.bob.id];
    assignees.sort();
    assignees.reverse();
    assignees.swap(0, 1);
    let review1 = task(&r, 1, assignees.clone());
    let review0 = task(&r, 0, vec![seed.bob.id]);
    let action = Task {
        kind: TaskKind::Action,
        status: TaskStatus::Completed,
        decided_by_user_id: Some(seed.owner.id),
        decided_at: Some(at_ms(8_888)),
        comment: Some("done — ✓".into()),
        ..task(&r, 2, vec![])
    };
    let mut tx = db.store.write().await.expect("write");
    for t in [&review1, &action, &review0] {
        tx.insert_task(t).await.expect("insert");
    }
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    let got = read.get_task(org, review1.id).await.expect("get").expect("task");
    assert_eq!(got.assignee_ids, assignees, "assignees keep their order");
    assert_eq!(got, review1);
    assert_eq!(read.get_task(org, action.id).await.expect("get"), Some(action.clone()));
    assert_eq!(read.get_task(org, review0.id).await.expect("get"), Some(review0.clone()));
    assert_eq!(read.get_task(seed.other_org.id, review1.id).await.expect("get"), None);
    assert_eq!(read.get_task(org, new_id()).await.expect("get"), None);
    // The request's tasks by step.
    assert_eq!(read.request_tasks(org, r.id).await.expect("tasks"), vec![review0, review1, action]);
    assert!(read.request_tasks(seed.other_org.id, r.id).await.expect("tasks").is_empty());
    assert!(read.request_tasks(org, new_id()).await.expect("tasks").is_empty());
}

async fn an_open_task_is_reassigned_and_loses_its_unassigned_reason(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let r = request_fixture(db, &seed).await;
    let unassigned = Task {
        unassigned_reason: Some("No eligible approver: — ünïcödé".into()),
        ..task(&r, 0, vec![])
    };
    let decided = Task { status: TaskStatus::Approved, ..task(&r, 1, vec![seed.bob.id]) };
    let mut tx = db.store.write().await.expect("write");
    tx.insert_task(&unassigned).await.expect("insert");
    tx.insert_task(&decided).await.expect("insert");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_task(org, unassigned.id).await.expect("get"), Some(unassigned.clone()));
    drop(read);

    let mut tx = db.store.write().await.expect("write");
    let (id, other) = (TaskId(unassigned.id), seed.other_org.id);
    let new = vec![seed.owner.id, seed.admin.id];
    // Another organization cannot reassign it; a decided task cannot be reassigned.
    assert!(!tx.reassign_task(other, id, &[seed.stranger.id], at(50)).await.expect("scoped"));
    assert!(!tx.reassign_task(org, TaskId(decided.id), &new, at(50)).await.expect("decided"));
    assert!(!tx.reassign_task(org, TaskId(new_id()), &new, at(50)).await.expect("unknown"));
    assert!(tx.reassign_task(org, id, &new, at_ms(50_005)).await.expect("reassign"));
    // Again, in another order: the assignees are replaced, not added to.
    let again = vec![seed.admin.id, seed.bob.id, seed.owner.id];
    assert!(tx.reassign_task(org, id, &again, at_ms(60_006)).await.expect("reassign again"));
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    let expected = Task {
        assignee_ids: again.clone(),
        unassigned_reason: None,
        updated_at: at_ms(60_006),
        ..unassigned
    };
    assert_eq!(read.get_task(org, id.0).await.expect("get"), Some(expected));
    assert_eq!(read.get_task(org, decided.id).await.expect("get"), Some(decided));
    let filter = TaskFilter { assignee_user_id: Some(seed.bob.id), ..TaskFilter::default() };
    let listed = read.list_tasks(org, filter, PageRequest::first()).await.expect("list");
    assert_eq!(listed.items.len(), 2, "the new assignee finds the task");
}

async fn a_task_is_decided_exactly_once(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let r = request_fixture(db, &seed).await;
    let t0_task = task(&r, 0, vec![seed.owner.id]);
    let t1_task = task(&r, 1, vec![seed.owner.id]);
    let t2_task = task(&r, 2, vec![seed.owner.id]);
    let decided =
        Task { status: TaskStatus::Declined, decided_at: Some(at(1)), ..task(&r, 3, vec![]) };
    let mut tx = db.store.write().await.expect("write");
    for t in [&t0_task, &t1_task, &t2_task, &decided] {
        tx.insert_task(t).await.expect("insert");
    }
    tx.commit().await.expect("commit");

    let mut tx = db.store.write().await.expect("write");
    // Another organization cannot decide it.
    assert!(!tx
        .decide_task(
            seed.other_org.id,
            TaskId(t0_task.id),
            TaskStatus::Approved,
            Some(UserId(seed.stranger.id)),
            None,
            at(2)
        )
        .await
        .expect("decide"));
    assert!(tx
        .decide_task(
            org,
            TaskId(t0_task.id),
            TaskStatus::Approved,
            Some(UserId(seed.owner.id)),
            Some("fine by me"),
            at_ms(20_002)
        )
        .await
        .expect("decide"));
    // The second decision loses, whatever it says.
    assert!(!tx
        .decide_task(
            org,
            TaskId(t0_task.id),
            TaskStatus::Declined,
            Some(UserId(seed.admin.id)),
            Some("no"),
            at(30)
        )
        .await
        .expect("decide again"));
    assert!(!tx
        .decide_task(org, TaskId(new_id()), TaskStatus::Approved, None, None, at(30))
        .await
        .expect("none"));
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    assert_eq!(
        read.get_task(org, t0_task.id).await.expect("get"),
        Some(Task {
            status: TaskStatus::Approved,
            decided_by_user_id: Some(seed.owner.id),
            decided_at: Some(at_ms(20_002)),
            comment: Some("fine by me".into()),
            updated_at: at_ms(20_002),
            ..t0_task.clone()
        })
    );
    drop(read);

    // cancel_open_tasks: only the Open ones, counted.
    let mut tx = db.store.write().await.expect("write");
    assert_eq!(tx.cancel_open_tasks(seed.other_org.id, r.id, at(40)).await.expect("scoped"), 0);
    assert_eq!(tx.cancel_open_tasks(org, r.id, at(40)).await.expect("cancel"), 2);
    assert_eq!(tx.cancel_open_tasks(org, r.id, at(41)).await.expect("cancel again"), 0);
    // A cancelled task can no longer be decided (system decision without a user either).
    assert!(!tx
        .decide_task(org, TaskId(t1_task.id), TaskStatus::Approved, None, None, at(42))
        .await
        .expect("decide"));
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    let tasks = read.request_tasks(org, r.id).await.expect("tasks");
    assert_eq!(
        tasks,
        vec![
            Task {
                status: TaskStatus::Approved,
                decided_by_user_id: Some(seed.owner.id),
                decided_at: Some(at_ms(20_002)),
                comment: Some("fine by me".into()),
                updated_at: at_ms(20_002),
                ..t0_task
            },
            Task { status: TaskStatus::Cancelled, updated_at: at(40), ..t1_task },
            Task { status: TaskStatus::Cancelled, updated_at: at(40), ..t2_task },
            decided,
        ]
    );
}

async fn tasks_filter_and_page(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let r1 = request_fixture(db, &seed).await;
    let r2 = request_fixture(db, &seed).await;
    let tasks = vec![
        task(&r1, 0, vec![seed.owner.id, seed.admin.id]),
        Task { status: TaskStatus::Approved, ..task(&r1, 1, vec![seed.admin.id]) },
        task(&r2, 0, vec![seed.bob.id, seed.owner.id]),
        Task { status: TaskStatus::Cancelled, ..task(&r2, 1, vec![seed.owner.id]) },
        task(&r2, 2, vec![]),
    ];
    let mut tx = db.store.write().await.expect("write");
    for t in &tasks {
        tx.insert_task(t).await.expect("insert");
    }
    tx.commit().await.expect("commit");
    let pick = |f: &dyn Fn(&Task) -> bool| {
        let mut v: Vec<Task> = tasks.iter().filter(|t| f(t)).cloned().collect();
        v.sort_by_key(|t| t.id);
        v
    };
    let all = pick(&|_| true);

    let mut read = db.store.read().await.expect("read");
    let cases = [
        (TaskFilter::default(), all.clone()),
        (
            TaskFilter { status: Some(TaskStatus::Open), ..Default::default() },
            pick(&|t| t.status == TaskStatus::Open),
        ),
        (TaskFilter { status: Some(TaskStatus::Completed), ..Default::default() }, vec![]),
        (
            TaskFilter { request_id: Some(r2.id), ..Default::default() },
            pick(&|t| t.request_id == r2.id),
        ),
        (
            TaskFilter { assignee_user_id: Some(seed.owner.id), ..Default::default() },
            pick(&|t| t.assignee_ids.contains(&seed.owner.id)),
        ),
        (
            TaskFilter {
                status: Some(TaskStatus::Open),
                assignee_user_id: Some(seed.owner.id),
                request_id: Some(r2.id),
            },
            pick(&|t| {
                t.status == TaskStatus::Open
                    && t.assignee_ids.contains(&seed.owner.id)
                    && t.request_id == r2.id
            }),
        ),
        (TaskFilter { assignee_user_id: Some(seed.alice.id), ..Default::default() }, vec![]),
    ];
    for (filter, expected) in cases {
        let got = read.list_tasks(org, filter, PageRequest::first()).await.expect("list");
        assert!(!expected.is_empty() || got.items.is_empty());
        assert_eq!((got.items, got.next_after), (expected, None), "{filter:?}");
    }
    // Pages of two, assignees attached on every page.
    let p1 = read
        .list_tasks(org, TaskFilter::default(), PageRequest { after: None, limit: 2 })
        .await
        .expect("page");
    assert_eq!((p1.items, p1.next_after), (all[..2].to_vec(), Some(all[1].id)));
    let p2 = read
        .list_tasks(org, TaskFilter::default(), PageRequest { after: Some(all[1].id), limit: 2 })
        .await
        .expect("page");
    assert_eq!((p2.items, p2.next_after), (all[2..4].to_vec(), Some(all[3].id)));
    let p3 = read
        .list_tasks(org, TaskFilter::default(), PageRequest { after: Some(all[3].id), limit: 2 })
        .await
        .expect("page");
    assert_eq!((p3.items, p3.next_after), (all[4..].to_vec(), None));
    let page = read
        .list_tasks(seed.other_org.id, TaskFilter::default(), PageRequest::first())
        .await
        .expect("scoped");
    assert!(page.items.is_empty());
}

async fn concurrent_writers_decide_a_task_and_open_a_request_once(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let r = request_fixture(db, &seed).await;
    let t = task(&r, 0, vec![seed.owner.id, seed.admin.id]);
    let mut tx = db.store.write().await.expect("write");
    tx.insert_task(&t).await.expect("task");
    tx.commit().await.expect("commit");

    // Two approvers decide at once: the first decision holds, the second reports it lost.
    let mut a = db.store.write().await.expect("write");
    assert!(a
        .decide_task(
            org,
            TaskId(t.id),
            TaskStatus::Approved,
            Some(UserId(seed.owner.id)),
            Some("yes"),
            at(10)
        )
        .await
        .expect("decide"));
    let b = {
        let (store, task_id, admin) = (db.store.clone(), t.id, seed.admin.id);
        tokio::spawn(async move {
            let mut b = store.write().await.expect("write");
            let won = b
                .decide_task(
                    org,
                    TaskId(task_id),
                    TaskStatus::Declined,
                    Some(UserId(admin)),
                    Some("no"),
                    at(11),
                )
                .await
                .expect("decide");
            b.commit().await.expect("commit");
            won
        })
    };
    wait_until_blocked(db, "UPDATE tasks SET status").await;
    a.commit().await.expect("commit");
    assert!(!bounded("second decision", b).await.expect("join"), "the second decision lost");
    let mut read = db.store.read().await.expect("read");
    let decided = read.get_task(org, t.id).await.expect("get").expect("task");
    assert_eq!(
        (decided.status, decided.decided_by_user_id, decided.comment.as_deref()),
        (TaskStatus::Approved, Some(seed.owner.id), Some("yes"))
    );
    drop(read);

    // Two requests for the same app and user at once: the second is a conflict.
    let p = policy(org, RequestType::GrantAccess, false);
    let mut tx = db.store.write().await.expect("write");
    tx.insert_policy(&p).await.expect("policy");
    tx.commit().await.expect("commit");
    let first = request(&p, r.work_app_id, Some(seed.bob.id));
    let second = request(&p, r.work_app_id, Some(seed.bob.id));
    let mut a = db.store.write().await.expect("write");
    a.insert_request(&first).await.expect("first");
    let b = {
        let store = db.store.clone();
        tokio::spawn(async move {
            let mut b = store.write().await.expect("write");
            b.insert_request(&second).await
        })
    };
    wait_until_blocked(db, "INSERT INTO requests").await;
    a.commit().await.expect("commit");
    assert_conflict(bounded("second request", b).await.expect("join"));
    let mut read = db.store.read().await.expect("read");
    let open = read
        .list_requests(
            org,
            RequestFilter { target_user_id: Some(seed.bob.id), ..Default::default() },
            PageRequest::first(),
        )
        .await
        .expect("list");
    assert_eq!(open.items, vec![first]);
}

async fn a_users_open_requests_and_tasks_are_found_and_cancelled_or_reassigned_as_a_set(
    db: &TestDb,
) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let apps: Vec<_> = (0..4).map(|i| work_app(org, &format!("Leaver {i}"))).collect();
    insert_apps(db, &apps.iter().collect::<Vec<_>>()).await;
    let p = policy(org, RequestType::GrantAccess, false);
    // Alice's own request; one Bob made for Alice; one Alice made for Bob; a closed one; and
    // one that has nothing to do with her.
    let mine = request(&p, apps[0].id, Some(seed.alice.id));
    let for_me = Request {
        created_by_user_id: Some(seed.bob.id),
        status: RequestStatus::Approved,
        ..request(&p, apps[1].id, Some(seed.alice.id))
    };
    let by_me = Request {
        created_by_user_id: Some(seed.alice.id),
        ..request(&p, apps[2].id, Some(seed.bob.id))
    };
    let closed = Request {
        status: RequestStatus::Completed,
        ..request(&p, apps[3].id, Some(seed.alice.id))
    };
    let others = request(&p, apps[3].id, Some(seed.bob.id));
    // Tasks: Alice is assigned to a task of Bob's request (with the admin), and to one of her
    // own request's tasks; a decided task of hers does not count.
    let of_bob = task(&others, 0, vec![seed.alice.id, seed.admin.id]);
    let of_mine = task(&mine, 0, vec![seed.owner.id, seed.alice.id]);
    let decided = Task { status: TaskStatus::Approved, ..task(&by_me, 0, vec![seed.alice.id]) };
    let mut tx = db.store.write().await.expect("write");
    tx.insert_policy(&p).await.expect("policy");
    for r in [&mine, &for_me, &by_me, &closed, &others] {
        tx.insert_request(r).await.expect("request");
    }
    for t in [&of_bob, &of_mine, &decided] {
        tx.insert_task(t).await.expect("task");
    }
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    let open = read.open_requests_of_user(org, UserId(seed.alice.id)).await.expect("open");
    let mut ids: Vec<_> = open.iter().map(|r| r.id).collect();
    ids.sort();
    assert_eq!(ids, sorted(vec![mine.id, for_me.id, by_me.id]));
    assert!(read
        .open_requests_of_user(seed.other_org.id, UserId(seed.alice.id))
        .await
        .expect("scoped")
        .is_empty());
    let tasks = read.open_tasks_assigned_to(org, UserId(seed.alice.id), None).await.expect("tasks");
    let mut found: Vec<_> = tasks.iter().map(|t| (t.id, t.assignee_ids.clone())).collect();
    found.sort();
    let mut expected =
        vec![(of_bob.id, of_bob.assignee_ids.clone()), (of_mine.id, of_mine.assignee_ids.clone())];
    expected.sort();
    assert_eq!(found, expected, "open tasks with all their assignees");
    // Only tasks of requests about Bob.
    let about_bob = read
        .open_tasks_assigned_to(org, UserId(seed.alice.id), Some(UserId(seed.bob.id)))
        .await
        .expect("about");
    assert_eq!(about_bob.iter().map(|t| t.id).collect::<Vec<_>>(), vec![of_bob.id]);
    assert!(read
        .open_tasks_assigned_to(seed.other_org.id, UserId(seed.alice.id), None)
        .await
        .expect("scoped")
        .is_empty());
    drop(read);

    let mut tx = db.store.write().await.expect("write");
    // Reassigning: the task of Bob's request to the owner and the bob; Alice's own request's task
    // to nobody, with a reason; a decided task is left alone.
    let assignments = vec![
        (
            of_bob.id,
            Assignment { assignees: vec![seed.owner.id, seed.bob.id], unassigned_reason: None },
        ),
        (of_mine.id, Assignment { assignees: vec![], unassigned_reason: Some("nobody".into()) }),
        (decided.id, Assignment { assignees: vec![seed.owner.id], unassigned_reason: None }),
    ];
    tx.set_task_assignments(org, &assignments, at(70)).await.expect("assign");
    tx.set_task_assignments(org, &[], at(70)).await.expect("nothing");
    // Cancelling: a closed request and another organization's call change nothing.
    let ids = [mine.id, for_me.id, by_me.id, closed.id];
    assert_eq!(tx.cancel_requests(seed.other_org.id, &ids, None, at(80)).await.expect("scoped"), 0);
    assert_eq!(
        tx.cancel_requests(org, &ids, Some(UserId(seed.owner.id)), at(80)).await.expect("cancel"),
        3
    );
    assert_eq!(tx.cancel_requests(org, &[], None, at(80)).await.expect("nothing"), 0);
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    let t = read.get_task(org, of_bob.id).await.expect("get").expect("task");
    assert_eq!(
        (t.assignee_ids, t.unassigned_reason, t.status),
        (vec![seed.owner.id, seed.bob.id], None, TaskStatus::Open)
    );
    let t = read.get_task(org, of_mine.id).await.expect("get").expect("task");
    assert_eq!(t.status, TaskStatus::Cancelled, "cancelled with its request");
    assert_eq!((t.assignee_ids, t.unassigned_reason.as_deref()), (vec![], Some("nobody")));
    let t = read.get_task(org, decided.id).await.expect("get").expect("task");
    assert_eq!((t.status, t.assignee_ids), (TaskStatus::Approved, vec![seed.alice.id]));
    for r in [&mine, &for_me, &by_me] {
        let got = read.get_request(org, r.id).await.expect("get").expect("request");
        assert_eq!(
            (got.status, got.cancelled_by_user_id, got.updated_at),
            (RequestStatus::Cancelled, Some(seed.owner.id), at(80))
        );
    }
    let got = read.get_request(org, closed.id).await.expect("get").expect("request");
    assert_eq!(got.status, RequestStatus::Completed);
    assert!(read.open_requests_of_user(org, UserId(seed.alice.id)).await.expect("open").is_empty());
}

/// A group join's grants: many requests (in their final status) and their tasks with ordered
/// assignees, each table in one statement; an open request already there refuses the whole set.
async fn requests_and_tasks_are_inserted_as_a_set(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let app = work_app(org, "Okta");
    let app2 = work_app(org, "Box");
    insert_apps(db, &[&app, &app2]).await;
    let lvl = level(&app, "Admin", false, true);
    let g = group(org, "Ops");
    let p = policy(org, RequestType::GrantAccess, true);
    let completed = Request {
        status: RequestStatus::Completed,
        permission_level_id: Some(lvl.id),
        created_by_user_id: Some(seed.admin.id),
        justification: "Member of group Ops — ünïcödé".into(),
        step_count: 0,
        source_group_id: Some(g.id),
        ..request(&p, app.id, Some(seed.alice.id))
    };
    let approved = Request {
        status: RequestStatus::Approved,
        expires_at: Some(at_ms(999_999)),
        ..request(&p, app2.id, Some(seed.bob.id))
    };
    let done = Task {
        kind: TaskKind::Action,
        status: TaskStatus::Completed,
        decided_at: Some(at_ms(8_888)),
        ..task(&completed, 0, vec![])
    };
    let mut assignees = vec![seed.owner.id, seed.admin.id, seed.bob.id];
    assignees.sort();
    assignees.reverse();
    let waiting = Task { kind: TaskKind::Action, ..task(&approved, 0, assignees.clone()) };
    let unassigned = Task {
        unassigned_reason: Some("No eligible approver".into()),
        ..task(&approved, 1, vec![])
    };
    let mut tx = db.store.write().await.expect("write");
    tx.insert_permission_level(&lvl).await.expect("level");
    tx.insert_group(&g).await.expect("group");
    tx.insert_policy(&p).await.expect("policy");
    tx.insert_requests(&[]).await.expect("nothing to insert");
    tx.insert_tasks(&[]).await.expect("nothing to insert");
    tx.insert_requests(&[completed.clone(), approved.clone()]).await.expect("requests");
    tx.insert_tasks(&[done.clone(), waiting.clone(), unassigned.clone()]).await.expect("tasks");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_request(org, completed.id).await.expect("get"), Some(completed.clone()));
    assert_eq!(read.get_request(org, approved.id).await.expect("get"), Some(approved.clone()));
    let got = read.get_task(org, waiting.id).await.expect("get").expect("task");
    assert_eq!(got.assignee_ids, assignees, "assignees keep their order");
    assert_eq!(read.request_tasks(org, completed.id).await.expect("tasks"), vec![done]);
    assert_eq!(
        read.request_tasks(org, approved.id).await.expect("tasks"),
        vec![waiting, unassigned]
    );
    drop(read);

    // One of the set is open where an open request already is: nothing of the set lands.
    let fresh =
        Request { status: RequestStatus::Completed, ..request(&p, app.id, Some(seed.bob.id)) };
    let clash =
        Request { status: RequestStatus::Pending, ..request(&p, app2.id, Some(seed.bob.id)) };
    let mut tx = db.store.write().await.expect("write");
    assert_conflict(tx.insert_requests(&[fresh.clone(), clash]).await);
    drop(tx);
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_request(org, fresh.id).await.expect("get"), None);
}
