//! Notifications: `NotificationReads`, `NotificationWrites`.
use portcullis_domain::notifications::{
    Notification, NotificationCategory, NotificationChannel, NotificationPreference,
    NotificationSettings, NotificationStatus,
};
use portcullis_domain::{
    new_id, AccessReview, AccessReviewStatus, AccessReviewType, RequestType, UndecidedItems,
};
use uuid::Uuid;

use crate::common::*;

on_every_backend!(
    the_outbox_round_trips_and_leases_each_due_row_to_one_worker,
    settings_and_preferences_round_trip_per_organization,
    reminders_digests_and_due_soon_reviews_are_found_once_per_period,
);

fn notification(org_id: Uuid, user_id: Uuid, created: i64) -> Notification {
    Notification {
        id: new_id(),
        org_id,
        user_id,
        recipient: "alice@acme.example".into(),
        category: NotificationCategory::TaskAssigned,
        channel: NotificationChannel::Email,
        subject: "Approve Figma — Editor for Bob".into(),
        body_text: "Hello Alice — ✓".into(),
        body_html: "<p>Hello Alice</p>".into(),
        link: "https://portcullis.example/inbox#task-1".into(),
        status: NotificationStatus::Pending,
        attempts: 0,
        next_attempt_at: Some(at(created)),
        lease_until: None,
        last_error: None,
        created_at: at(created),
        sent_at: None,
    }
}

async fn the_outbox_round_trips_and_leases_each_due_row_to_one_worker(db: &TestDb) {
    let seed = seed(db).await;
    let (org, other) = (seed.org.id, seed.other_org.id);
    let a = notification(org, seed.alice.id, 1);
    let b =
        Notification { channel: NotificationChannel::Slack, ..notification(org, seed.bob.id, 2) };
    let later = notification(org, seed.alice.id, 100);
    let theirs = notification(other, seed.stranger.id, 3);
    let mut tx = db.store.write().await.expect("write");
    tx.insert_notifications(&[a.clone(), b.clone(), later.clone(), theirs.clone()])
        .await
        .expect("insert");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    let all = read.list_notifications(org, None, 10).await.expect("list");
    assert_eq!(all.len(), 3);
    assert!(all.contains(&a) && all.contains(&b) && all.contains(&later));
    assert_eq!(
        read.list_notifications(org, Some(seed.bob.id), 10).await.expect("list"),
        vec![b.clone()]
    );
    assert_eq!(read.list_notifications(other, None, 10).await.expect("list"), vec![theirs.clone()]);
    assert_eq!(read.list_notifications(org, None, 1).await.expect("list").len(), 1);
    drop(read);

    // Due at t=10: a, b and theirs (every organization), at most 2 per lease.
    let mut tx = db.store.write().await.expect("write");
    let first = tx.lease_notifications(at(10), at(70), 2).await.expect("lease");
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|n| n.lease_until == Some(at(70))));
    let second = tx.lease_notifications(at(10), at(70), 10).await.expect("lease");
    assert_eq!(second.len(), 1, "held rows are not leased again");
    assert!(tx.lease_notifications(at(10), at(70), 10).await.expect("lease").is_empty());
    tx.commit().await.expect("commit");
    // An expired lease makes the row due again (a worker died after leasing it).
    let mut tx = db.store.write().await.expect("write");
    assert_eq!(tx.lease_notifications(at(71), at(131), 10).await.expect("lease").len(), 3);
    // Recording: one sent, one failed for good, one retried later.
    let mut sent = first[0].clone();
    sent.status = NotificationStatus::Sent;
    sent.attempts = 1;
    sent.sent_at = Some(at(72));
    sent.lease_until = None;
    sent.next_attempt_at = None;
    let mut retry = first[1].clone();
    retry.attempts = 1;
    retry.last_error = Some("SMTP 451".into());
    retry.next_attempt_at = Some(at(200));
    retry.lease_until = None;
    tx.update_notification(&sent).await.expect("update");
    tx.update_notification(&retry).await.expect("update");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    let stored = read.list_notifications(sent.org_id, None, 10).await.expect("list");
    assert!(stored.contains(&sent), "{stored:?}");
    let stored = read.list_notifications(retry.org_id, None, 10).await.expect("list");
    assert!(stored.contains(&retry), "{stored:?}");
    drop(read);
    let mut tx = db.store.write().await.expect("write");
    let due: Vec<Uuid> = tx
        .lease_notifications(at(300), at(360), 10)
        .await
        .expect("lease")
        .iter()
        .map(|n| n.id)
        .collect();
    assert!(due.contains(&retry.id) && due.contains(&later.id) && !due.contains(&sent.id));
}

async fn settings_and_preferences_round_trip_per_organization(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.notification_settings(org).await.expect("settings"), None);
    drop(read);
    let mut settings = NotificationSettings::defaults(org);
    settings.slack_webhook_ciphertext = Some(vec![0, 1, 2, 255]);
    settings.task_reminder_hours = 48;
    settings.digest_enabled = true;
    settings.disabled_channels = vec![NotificationChannel::Slack];
    settings.disabled_categories = vec![NotificationCategory::Digest];
    settings.mandatory_categories =
        vec![NotificationCategory::TaskAssigned, NotificationCategory::ReviewStarted];
    let mut tx = db.store.write().await.expect("write");
    tx.save_notification_settings(&settings).await.expect("save");
    let off = |category, channel| NotificationPreference { category, channel, enabled: false };
    tx.set_notification_preferences(
        org,
        seed.alice.id,
        &[
            off(NotificationCategory::RequestDecided, NotificationChannel::Email),
            off(NotificationCategory::Digest, NotificationChannel::Slack),
        ],
    )
    .await
    .expect("prefs");
    tx.set_notification_preferences(
        org,
        seed.alice.id,
        &[NotificationPreference {
            enabled: true,
            ..off(NotificationCategory::Digest, NotificationChannel::Slack)
        }],
    )
    .await
    .expect("prefs again");
    tx.set_notification_preferences(
        org,
        seed.bob.id,
        &[off(NotificationCategory::TaskReminder, NotificationChannel::Email)],
    )
    .await
    .expect("prefs");
    tx.commit().await.expect("commit");
    let mut tx = db.store.write().await.expect("write");
    settings.slack_webhook_ciphertext = None;
    settings.task_reminder_hours = 12;
    tx.save_notification_settings(&settings).await.expect("save again");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.notification_settings(org).await.expect("settings"), Some(settings));
    assert_eq!(read.notification_settings(seed.other_org.id).await.expect("settings"), None);
    let alice = read.notification_preferences(org, &[seed.alice.id]).await.expect("prefs");
    assert_eq!(alice.len(), 2);
    assert!(alice.contains(&(
        seed.alice.id,
        off(NotificationCategory::RequestDecided, NotificationChannel::Email)
    )));
    assert!(alice.iter().any(|(_, p)| p.category == NotificationCategory::Digest && p.enabled));
    let both =
        read.notification_preferences(org, &[seed.alice.id, seed.bob.id]).await.expect("prefs");
    assert_eq!(both.len(), 3);
    assert!(read
        .notification_preferences(seed.other_org.id, &[seed.alice.id])
        .await
        .expect("prefs")
        .is_empty());
}

async fn reminders_digests_and_due_soon_reviews_are_found_once_per_period(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let app = work_app(org, "Figma");
    insert_apps(db, &[&app]).await;
    let p = policy(org, RequestType::GrantAccess, false);
    let r = request(&p, app.id, Some(seed.alice.id));
    // Created at t=7.007 s (see `task`).
    let open = task(&r, 0, vec![seed.bob.id, seed.admin.id]);
    let mut tx = db.store.write().await.expect("write");
    tx.insert_policy(&p).await.expect("policy");
    tx.insert_request(&r).await.expect("request");
    tx.insert_task(&open).await.expect("task");
    let review = AccessReview {
        id: new_id(),
        org_id: org,
        name: "Q1".into(),
        description: None,
        review_type: AccessReviewType::WorkAppOwner,
        due_date: at(1_000),
        work_app_ids: vec![app.id],
        created_by_user_id: seed.owner.id,
        status: AccessReviewStatus::Open,
        undecided_items: UndecidedItems::Keep,
        close_at_due_date: false,
        created_at: at(1),
        updated_at: at(1),
        closed_at: None,
        closed_by_user_id: None,
        overdue_notified_at: None,
    };
    tx.insert_access_review(&review).await.expect("review");
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.orgs_with_open_tasks().await.expect("orgs"), vec![org]);
    assert!(read.reminder_due_tasks(org, at(5), 10).await.expect("due").is_empty(), "too young");
    assert_eq!(read.reminder_due_tasks(org, at(100), 10).await.expect("due"), vec![open.id]);
    assert!(read.reminder_due_tasks(seed.other_org.id, at(100), 10).await.expect("due").is_empty());
    assert_eq!(
        sorted(read.digest_due_assignees(org, at(100)).await.expect("digest")),
        sorted(vec![seed.bob.id, seed.admin.id])
    );
    assert!(read.reviews_due_soon(at(10), at(900), 10).await.expect("soon").is_empty(), "not yet");
    assert_eq!(
        read.reviews_due_soon(at(10), at(1_000), 10).await.expect("soon"),
        vec![(org, review.id)]
    );
    assert!(
        read.reviews_due_soon(at(1_000), at(2_000), 10).await.expect("soon").is_empty(),
        "past due"
    );
    drop(read);

    let mut tx = db.store.write().await.expect("write");
    let marks = vec![
        format!("reminder:{}", open.id),
        format!("digest:{}", seed.bob.id),
        format!("due_soon:{}", review.id),
    ];
    tx.set_notification_marks(org, &marks, at(100)).await.expect("marks");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    // Reminded at 100: not again until a whole period later.
    assert!(read.reminder_due_tasks(org, at(99), 10).await.expect("due").is_empty());
    assert_eq!(read.reminder_due_tasks(org, at(100), 10).await.expect("due"), vec![open.id]);
    assert_eq!(read.digest_due_assignees(org, at(99)).await.expect("digest"), vec![seed.admin.id]);
    assert!(read.reviews_due_soon(at(10), at(1_000), 10).await.expect("soon").is_empty());
    drop(read);
    // Marks move forward.
    let mut tx = db.store.write().await.expect("write");
    tx.set_notification_marks(org, &marks[..1], at(500)).await.expect("marks");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert!(read.reminder_due_tasks(org, at(499), 10).await.expect("due").is_empty());
}
