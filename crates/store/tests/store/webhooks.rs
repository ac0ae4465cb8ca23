//! Webhook subscriptions, the outbox, deliveries and signing keys: `WebhookReads`,
//! `WebhookWrites`.
use portcullis_domain::webhook::{batch_body, LeaseLimits, MAX_BATCH_BYTES};
use portcullis_domain::{
    new_id, Delivery, DeliveryAttempt, DeliveryStatus, PageRequest, WebhookEvent,
    WebhookSubscription,
};
use portcullis_domain::{DeliveryId, SubscriptionId};
use portcullis_store::{DeliveryJob, StoreError};
use uuid::Uuid;

use crate::common::*;

on_every_backend!(
    subscriptions_round_trip_health_and_delete,
    dispatch_fans_events_out_to_matching_enabled_subscriptions,
    deliveries_lease_once_record_attempts_and_retry,
    signing_keys_first_writer_wins,
    concurrent_workers_take_disjoint_work,
    leases_are_shared_fairly_within_the_caps,
    the_circuit_breaker_counts_failures_and_pauses,
    plain_target_urls_are_sealed_once,
    dispatch_cuts_a_subscriptions_events_into_ordered_batches,
);

/// Caps high enough not to matter: the tests of leasing as such.
fn up_to(total: u32) -> LeaseLimits {
    LeaseLimits { total, per_subscription: 1_000, per_organization: 1_000, probe_after_failures: 5 }
}

async fn subscriptions_round_trip_health_and_delete(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let s1 = subscription(org, &["access.granted", "request.created"], at_ms(1_234));
    let s2 = WebhookSubscription {
        enabled: false,
        failing_since: Some(at_ms(2_345)),
        description: String::new(),
        secret_ciphertext: vec![],
        target_url: "https://u:***@hooks.example/in".into(),
        target_url_ciphertext: Some(vec![7, 0, 255]),
        consecutive_failures: 6,
        paused_until: Some(at_ms(4_567)),
        ..subscription(org, &["test"], at(2))
    };
    let theirs = subscription(seed.other_org.id, &["access.removed"], at(3));
    let mut tx = db.store.write().await.expect("write");
    for s in [&s1, &s2, &theirs] {
        tx.insert_subscription(s).await.expect("insert");
    }
    tx.commit().await.expect("commit");

    let mut read = db.store.read().await.expect("read");
    for s in [&s1, &s2] {
        assert_eq!(read.get_subscription(org, s.id).await.expect("get").as_ref(), Some(s));
    }
    assert_eq!(read.get_subscription(org, theirs.id).await.expect("get"), None);
    assert_eq!(
        read.get_subscription(seed.other_org.id, theirs.id).await.expect("get"),
        Some(theirs.clone())
    );
    let mut mine = vec![s1.clone(), s2.clone()];
    mine.sort_by_key(|s| s.id);
    assert_eq!(read.list_subscriptions(org).await.expect("list"), mine);
    assert_eq!(
        read.list_subscriptions(seed.other_org.id).await.expect("list"),
        vec![theirs.clone()]
    );
    drop(read);

    // Health: disabled with a failure time, then healthy again.
    let mut tx = db.store.write().await.expect("write");
    tx.set_subscription_health(s1.id, false, Some(at_ms(3_456))).await.expect("health");
    tx.set_subscription_health(s2.id, true, None).await.expect("health");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(
        read.get_subscription(org, s1.id).await.expect("get"),
        Some(WebhookSubscription {
            enabled: false,
            failing_since: Some(at_ms(3_456)),
            ..s1.clone()
        })
    );
    assert_eq!(
        read.get_subscription(org, s2.id).await.expect("get"),
        Some(WebhookSubscription { enabled: true, failing_since: None, ..s2.clone() })
    );
    drop(read);

    // Soft delete: gone from reads; only once; only in its organization.
    let mut tx = db.store.write().await.expect("write");
    assert!(!tx.delete_subscription(seed.other_org.id, s1.id, at(9)).await.expect("scoped"));
    assert!(tx.delete_subscription(org, s1.id, at(9)).await.expect("delete"));
    assert!(!tx.delete_subscription(org, s1.id, at(10)).await.expect("again"));
    assert!(!tx.delete_subscription(org, new_id(), at(10)).await.expect("unknown"));
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_subscription(org, s1.id).await.expect("get"), None);
    assert_eq!(
        read.list_subscriptions(org).await.expect("list"),
        vec![WebhookSubscription { enabled: true, failing_since: None, ..s2 }]
    );
    assert_eq!(
        read.get_subscription(seed.other_org.id, theirs.id).await.expect("get"),
        Some(theirs)
    );
}

/// The deliveries of a subscription, with their attempts (all pages).
async fn deliveries_of(db: &TestDb, org: Uuid, sub: Uuid) -> Vec<(Delivery, Vec<DeliveryAttempt>)> {
    let mut read = db.store.read().await.expect("read");
    let page = read.list_deliveries(org, sub, PageRequest::first()).await.expect("deliveries");
    assert_eq!(page.next_after, None);
    page.items
}

async fn dispatch_fans_events_out_to_matching_enabled_subscriptions(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let matching = subscription(org, &["access.granted", "request.created"], at(0));
    let other_type = subscription(org, &["request.created"], at(0));
    let disabled =
        WebhookSubscription { enabled: false, ..subscription(org, &["access.granted"], at(0)) };
    let deleted = subscription(org, &["access.granted"], at(0));
    // Created after the first events occurred: it does not receive them.
    let late = subscription(org, &["access.granted", "request.created"], at(55));
    let theirs = subscription(seed.other_org.id, &["access.granted"], at(0));
    let mut tx = db.store.write().await.expect("write");
    for s in [&matching, &other_type, &disabled, &deleted, &late, &theirs] {
        tx.insert_subscription(s).await.expect("subscription");
    }
    tx.delete_subscription(org, deleted.id, at(1)).await.expect("delete");
    tx.commit().await.expect("commit");

    let granted = event(org, "access.granted", at(50));
    let created = event(org, "request.created", at(60));
    let their_granted = event(seed.other_org.id, "access.granted", at(52));
    let unwatched = event(org, "group.member_added", at(70));
    // Already dispatched (the caller makes its own deliveries): never fanned out.
    let test_event = event(org, "access.granted", at(40));
    let mut tx = db.store.write().await.expect("write");
    tx.insert_webhook_event(&granted, false).await.expect("event");
    tx.insert_webhook_event(&test_event, true).await.expect("event");
    tx.insert_webhook_events(&[created.clone(), their_granted.clone(), unwatched.clone()])
        .await
        .expect("events");
    tx.insert_webhook_events(&[]).await.expect("no events");
    tx.commit().await.expect("commit");

    let now = at(200);
    let mut tx = db.store.write().await.expect("write");
    // Oldest first, at most `limit` events per call; every event is dispatched exactly once.
    assert_eq!(tx.dispatch_events(now, 2).await.expect("dispatch"), 2);
    assert_eq!(tx.dispatch_events(now, 10).await.expect("dispatch"), 2);
    assert_eq!(tx.dispatch_events(now, 10).await.expect("dispatch"), 0);
    tx.commit().await.expect("commit");

    let pending = |d: &Delivery, e: &WebhookEvent, sub: &WebhookSubscription| Delivery {
        id: d.id,
        org_id: e.org_id,
        subscription_id: sub.id,
        event_id: e.id,
        event_type: e.event_type.clone(),
        event_ids: vec![e.id],
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: Some(now),
        last_status_code: None,
        last_error: None,
        created_at: now,
        delivered_at: None,
    };
    let check = |got: Vec<(Delivery, Vec<DeliveryAttempt>)>,
                 sub: &WebhookSubscription,
                 events: &[&WebhookEvent]| {
        let mut got: Vec<Delivery> = got
            .into_iter()
            .map(|(d, attempts)| {
                assert!(attempts.is_empty());
                d
            })
            .collect();
        got.sort_by_key(|d| d.event_id);
        let mut events = events.to_vec();
        events.sort_by_key(|e| e.id);
        assert_eq!(got.len(), events.len(), "deliveries of {}", sub.target_url);
        for (d, e) in got.iter().zip(events) {
            assert_eq!(*d, pending(d, e, sub));
        }
    };
    check(deliveries_of(db, org, matching.id).await, &matching, &[&granted, &created]);
    check(deliveries_of(db, org, other_type.id).await, &other_type, &[&created]);
    check(deliveries_of(db, org, disabled.id).await, &disabled, &[]);
    check(deliveries_of(db, org, deleted.id).await, &deleted, &[]);
    check(deliveries_of(db, org, late.id).await, &late, &[&created]);
    check(deliveries_of(db, seed.other_org.id, theirs.id).await, &theirs, &[&their_granted]);
    // Tenant scoping of the listing.
    assert!(deliveries_of(db, seed.other_org.id, matching.id).await.is_empty());

    // The fanned-out deliveries are what the worker leases, with their events.
    // At most `limit` at a time, each once, and one per subscription: `matching`'s second
    // (made by the second call) waits until its first is done.
    let mut tx = db.store.write().await.expect("write");
    let mut jobs = tx.lease_deliveries(now, at(230), up_to(2)).await.expect("lease");
    assert_eq!(jobs.len(), 2);
    jobs.extend(tx.lease_deliveries(now, at(230), up_to(100)).await.expect("lease"));
    assert!(tx.lease_deliveries(now, at(230), up_to(100)).await.expect("lease").is_empty());
    tx.commit().await.expect("commit");
    assert_eq!(jobs.len(), 4);
    assert_eq!(leased_ids(&jobs).windows(2).filter(|w| w[0] == w[1]).count(), 0);
    let firsts = jobs.iter().find(|j| j.delivery.subscription_id == matching.id).expect("one");
    assert_eq!(firsts.events, vec![granted.clone()], "the older delivery goes first");
    for job in &jobs {
        let e = [&granted, &created, &their_granted]
            .into_iter()
            .find(|e| e.id == job.delivery.event_id)
            .expect("a dispatched event");
        assert_eq!(job.events, vec![e.clone()]);
        assert_eq!(job.delivery.event_ids, vec![e.id]);
    }
}

fn delivery(sub: &WebhookSubscription, e: &WebhookEvent, next: Option<i64>) -> Delivery {
    Delivery {
        id: new_id(),
        org_id: sub.org_id,
        subscription_id: sub.id,
        event_id: e.id,
        event_type: e.event_type.clone(),
        event_ids: vec![e.id],
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: next.map(at),
        last_status_code: None,
        last_error: None,
        created_at: at_ms(9_009),
        delivered_at: None,
    }
}

fn leased_ids(jobs: &[DeliveryJob]) -> Vec<Uuid> {
    sorted(jobs.iter().map(|j| j.delivery.id).collect())
}

async fn lease(
    db: &TestDb,
    now: i64,
    until: i64,
    limit: u32,
) -> Result<Vec<DeliveryJob>, StoreError> {
    let mut tx = db.store.write().await?;
    let jobs = tx.lease_deliveries(at(now), at(until), up_to(limit)).await?;
    tx.commit().await?;
    Ok(jobs)
}

async fn finish(db: &TestDb, attempt: &DeliveryAttempt, status: DeliveryStatus, next: Option<i64>) {
    let mut tx = db.store.write().await.expect("write");
    tx.finish_attempt(attempt, status, next.map(at)).await.expect("finish");
    tx.commit().await.expect("commit");
}

async fn deliveries_lease_once_record_attempts_and_retry(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let sub = WebhookSubscription {
        failing_since: Some(at_ms(5_005)),
        ..subscription(org, &["test"], at(0))
    };
    let off = WebhookSubscription { enabled: false, ..subscription(org, &["test"], at(0)) };
    let e1 = event(org, "test", at(10));
    let e2 = event(org, "test", at(20));
    let d1 = delivery(&sub, &e1, Some(100));
    let d2 = delivery(&sub, &e2, Some(300));
    let d_off = delivery(&off, &e1, Some(100));
    let d_failed = Delivery {
        status: DeliveryStatus::Failed,
        next_attempt_at: None,
        ..delivery(&sub, &e2, None)
    };
    let mut tx = db.store.write().await.expect("write");
    tx.insert_subscription(&sub).await.expect("sub");
    tx.insert_subscription(&off).await.expect("sub");
    tx.insert_webhook_event(&e1, true).await.expect("event");
    tx.insert_webhook_event(&e2, true).await.expect("event");
    for d in [&d1, &d2, &d_off, &d_failed] {
        tx.insert_delivery(d).await.expect("delivery");
    }
    tx.commit().await.expect("commit");
    let mut all = [d1.clone(), d2.clone(), d_failed.clone()];
    all.sort_by_key(|d| d.id);
    assert_eq!(
        deliveries_of(db, org, sub.id).await,
        all.iter().map(|d| (d.clone(), vec![])).collect::<Vec<_>>(),
        "inserted deliveries round-trip"
    );

    // Before anything is due: nothing.
    assert!(lease(db, 99, 130, 10).await.expect("lease").is_empty());
    // d1 is due; d2 is not yet, d_off's subscription is disabled, d_failed is not pending.
    let jobs = lease(db, 150, 210, 10).await.expect("lease");
    assert_eq!(leased_ids(&jobs), vec![d1.id]);
    let job = &jobs[0];
    assert_eq!(job.delivery, d1);
    assert_eq!(job.events, vec![e1.clone()]);
    assert_eq!(job.target_url, sub.target_url);
    assert_eq!(job.target_url_ciphertext, None);
    assert_eq!(job.secret_ciphertext, sub.secret_ciphertext);
    assert_eq!(job.subscription_failing_since, Some(at_ms(5_005)));
    // Leased until 210 s: nobody else gets it before then…
    assert!(lease(db, 160, 190, 10).await.expect("lease").is_empty());
    assert!(lease(db, 209, 240, 10).await.expect("lease").is_empty());
    // …and once the lease runs out (a worker died), it is leased again.
    let jobs = lease(db, 210, 240, 10).await.expect("lease");
    assert_eq!(leased_ids(&jobs), vec![d1.id]);

    // A failed attempt with a retry: the lease is released, the delivery waits for its time.
    let a1 = DeliveryAttempt {
        delivery_id: d1.id,
        attempt: 1,
        attempted_at: at_ms(211_111),
        status_code: Some(500),
        error: Some("HTTP 500".into()),
        duration_ms: 1_234,
    };
    finish(db, &a1, DeliveryStatus::Pending, Some(400)).await;
    assert!(lease(db, 299, 330, 10).await.expect("lease").is_empty());

    // d2 is due at 300 but d1, older, is still pending: d2 waits (events stay in order).
    assert!(lease(db, 300, 330, 10).await.expect("lease").is_empty());

    let jobs = lease(db, 1_000, 1_030, 10).await.expect("lease");
    assert_eq!(leased_ids(&jobs), vec![d1.id]);
    let a2 = DeliveryAttempt {
        delivery_id: d1.id,
        attempt: 2,
        attempted_at: at_ms(1_000_500),
        status_code: None,
        error: Some("timeout".into()),
        duration_ms: 30_000,
    };
    finish(db, &a2, DeliveryStatus::Failed, None).await;
    // d1 given up: d2 goes next.
    let jobs = lease(db, 1_000, 1_030, 10).await.expect("lease");
    assert_eq!(leased_ids(&jobs), vec![d2.id]);
    let b1 = DeliveryAttempt {
        delivery_id: d2.id,
        attempt: 1,
        attempted_at: at_ms(1_000_300),
        status_code: Some(204),
        error: None,
        duration_ms: 7,
    };
    finish(db, &b1, DeliveryStatus::Delivered, None).await;
    assert!(
        lease(db, 5_000, 5_030, 10).await.expect("lease").is_empty(),
        "given up, delivered, disabled"
    );

    // Re-enabling the subscription makes its due delivery leasable.
    let mut tx = db.store.write().await.expect("write");
    tx.set_subscription_health(off.id, true, None).await.expect("health");
    tx.commit().await.expect("commit");
    assert_eq!(leased_ids(&lease(db, 5_000, 5_030, 10).await.expect("lease")), vec![d_off.id]);
    let c1 = DeliveryAttempt {
        delivery_id: d_off.id,
        attempt: 1,
        attempted_at: at(5_001),
        status_code: Some(200),
        error: None,
        duration_ms: 0,
    };
    finish(db, &c1, DeliveryStatus::Delivered, None).await;

    // The listing: each delivery's state and its attempts in order.
    let d1_now = Delivery {
        status: DeliveryStatus::Failed,
        attempts: 2,
        next_attempt_at: None,
        last_status_code: None,
        last_error: Some("timeout".into()),
        delivered_at: None,
        ..d1.clone()
    };
    let d2_now = Delivery {
        status: DeliveryStatus::Delivered,
        attempts: 1,
        next_attempt_at: None,
        last_status_code: Some(204),
        last_error: None,
        delivered_at: Some(at_ms(1_000_300)),
        ..d2.clone()
    };
    let mut expected = vec![
        (d1_now.clone(), vec![a1.clone(), a2.clone()]),
        (d2_now, vec![b1]),
        (d_failed.clone(), vec![]),
    ];
    expected.sort_by_key(|(d, _)| d.id);
    assert_eq!(deliveries_of(db, org, sub.id).await, expected);
    let mut read = db.store.read().await.expect("read");
    let p1 = read
        .list_deliveries(org, sub.id, PageRequest { after: None, limit: 2 })
        .await
        .expect("page");
    assert_eq!((p1.items, p1.next_after), (expected[..2].to_vec(), Some(expected[1].0.id)));
    let p2 = read
        .list_deliveries(org, sub.id, PageRequest { after: Some(expected[1].0.id), limit: 2 })
        .await
        .expect("page");
    assert_eq!((p2.items, p2.next_after), (expected[2..].to_vec(), None));
    assert!(read
        .list_deliveries(seed.other_org.id, sub.id, PageRequest::first())
        .await
        .expect("scoped")
        .items
        .is_empty());
    drop(read);

    // Retry: back to Pending, due now; only through its own organization and subscription.
    let mut tx = db.store.write().await.expect("write");
    assert!(!tx
        .retry_delivery(seed.other_org.id, SubscriptionId(sub.id), DeliveryId(d1.id), at(6_000))
        .await
        .expect("scoped"));
    assert!(!tx
        .retry_delivery(org, SubscriptionId(off.id), DeliveryId(d1.id), at(6_000))
        .await
        .expect("other subscription"));
    assert!(!tx
        .retry_delivery(org, SubscriptionId(sub.id), DeliveryId(new_id()), at(6_000))
        .await
        .expect("unknown"));
    assert!(tx
        .retry_delivery(org, SubscriptionId(sub.id), DeliveryId(d1.id), at_ms(6_000_600))
        .await
        .expect("retry"));
    tx.commit().await.expect("commit");
    let jobs = lease(db, 6_001, 6_031, 10).await.expect("lease");
    assert_eq!(leased_ids(&jobs), vec![d1.id]);
    assert_eq!(
        jobs[0].delivery,
        Delivery {
            status: DeliveryStatus::Pending,
            next_attempt_at: Some(at_ms(6_000_600)),
            ..d1_now
        }
    );
    // A retry also clears a running lease.
    let mut tx = db.store.write().await.expect("write");
    assert!(tx
        .retry_delivery(org, SubscriptionId(sub.id), DeliveryId(d1.id), at(6_002))
        .await
        .expect("retry"));
    tx.commit().await.expect("commit");
    assert_eq!(leased_ids(&lease(db, 6_002, 6_032, 10).await.expect("lease")), vec![d1.id]);
}

async fn signing_keys_first_writer_wins(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let private: Vec<u8> = (0..=255u8).collect();
    let pem = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n";
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_signing_key(org).await.expect("get"), None);
    drop(read);
    let mut tx = db.store.write().await.expect("write");
    tx.insert_signing_key(org, &private, pem, at(1)).await.expect("insert");
    // A second process generating at the same time: the first key stays.
    tx.insert_signing_key(org, &[9, 9, 9], "other", at(2)).await.expect("insert again");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(read.get_signing_key(org).await.expect("get"), Some((private, pem.to_string())));
    assert_eq!(read.get_signing_key(seed.other_org.id).await.expect("get"), None);
}

/// Two workers (two write transactions at once) dispatch and lease disjoint sets: on
/// PostgreSQL the second skips the rows the first has locked instead of waiting for it.
async fn concurrent_workers_take_disjoint_work(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let sub = subscription(org, &["access.granted"], at(0));
    let events: Vec<WebhookEvent> = (1..=5).map(|i| event(org, "access.granted", at(i))).collect();
    let mut tx = db.store.write().await.expect("write");
    tx.insert_subscription(&sub).await.expect("sub");
    tx.insert_webhook_events(&events).await.expect("events");
    tx.commit().await.expect("commit");

    let now = at(100);
    let mut a = db.store.write().await.expect("write");
    assert_eq!(a.dispatch_events(now, 2).await.expect("dispatch"), 2);
    let second_worker = || async move {
        let mut b = db.store.write().await.expect("write");
        let n = b.dispatch_events(now, 100).await.expect("dispatch");
        b.commit().await.expect("commit");
        n
    };
    let n = if db.is_postgres() {
        // Runs to the end while `a` is still open.
        let n = bounded("second dispatcher", second_worker()).await;
        a.commit().await.expect("commit");
        n
    } else {
        a.commit().await.expect("commit");
        second_worker().await
    };
    assert_eq!(n, 3, "the second worker took the events the first had not");
    // One POST per dispatch of this subscription's events, each event in one of them.
    let deliveries = deliveries_of(db, org, sub.id).await;
    let mut event_ids: Vec<Uuid> =
        deliveries.iter().flat_map(|(d, _)| d.event_ids.iter().copied()).collect();
    event_ids.sort();
    assert_eq!(deliveries.len(), 2);
    assert_eq!(event_ids, sorted(events.iter().map(|e| e.id).collect()), "each event once");
    let first_batch = deliveries
        .iter()
        .find(|(d, _)| d.event_ids == [events[0].id, events[1].id])
        .expect("the first worker's batch, in order")
        .0
        .id;

    // Leasing locks the subscriptions it leases from: a second worker leases from the others
    // meanwhile, and from this one once the first has committed. (`other` has a delivery due
    // only by the time the second worker leases.)
    let other = subscription(org, &["test"], at(0));
    let e = event(org, "test", at(1));
    let d_other = delivery(&other, &e, Some(150));
    let mut tx = db.store.write().await.expect("write");
    tx.insert_subscription(&other).await.expect("sub");
    tx.insert_webhook_event(&e, true).await.expect("event");
    tx.insert_delivery(&d_other).await.expect("delivery");
    tx.commit().await.expect("commit");
    let limits = LeaseLimits { per_subscription: 4, ..up_to(2) };
    let mut a = db.store.write().await.expect("write");
    let first = a.lease_deliveries(now, at(1_000), limits).await.expect("lease");
    // One POST of the subscription at a time: the oldest.
    assert_eq!(leased_ids(&first), vec![first_batch]);
    let second_worker = || async move {
        let mut b = db.store.write().await.expect("write");
        let jobs = b.lease_deliveries(at(200), at(1_000), up_to(100)).await.expect("lease");
        b.commit().await.expect("commit");
        jobs
    };
    let second = if db.is_postgres() {
        let during = bounded("second leaser", second_worker()).await;
        assert_eq!(leased_ids(&during), vec![d_other.id], "only the unlocked subscription");
        a.commit().await.expect("commit");
        let mut after = bounded("second leaser", second_worker()).await;
        after.extend(during);
        after
    } else {
        a.commit().await.expect("commit");
        second_worker().await
    };
    // The subscription's second POST waits while its first is in flight.
    assert_eq!(leased_ids(&second), vec![d_other.id]);
}

/// How many of the jobs belong to each subscription, in the order given.
fn per_subscription(jobs: &[DeliveryJob], subs: &[&WebhookSubscription]) -> Vec<usize> {
    subs.iter()
        .map(|s| jobs.iter().filter(|j| j.delivery.subscription_id == s.id).count())
        .collect()
}

async fn leases_are_shared_fairly_within_the_caps(db: &TestDb) {
    let seed = seed(db).await;
    let (a, b) = (seed.org.id, seed.other_org.id);
    let [a1, a2, a3] = [0, 1, 2].map(|_| subscription(a, &["test"], at(0)));
    let b1 = subscription(b, &["test"], at(0));
    let mut tx = db.store.write().await.expect("write");
    for sub in [&a1, &a2, &a3, &b1] {
        tx.insert_subscription(sub).await.expect("sub");
        for i in 0..5 {
            let e = event(sub.org_id, "test", at(i));
            tx.insert_webhook_event(&e, true).await.expect("event");
            tx.insert_delivery(&delivery(sub, &e, Some(10 + i))).await.expect("delivery");
        }
    }
    tx.commit().await.expect("commit");
    let caps = LeaseLimits {
        total: 20,
        per_subscription: 2,
        per_organization: 3,
        probe_after_failures: 5,
    };
    let lease_with = |now: i64, until: i64, limits: LeaseLimits| async move {
        let mut tx = db.store.write().await.expect("write");
        let jobs = tx.lease_deliveries(at(now), at(until), limits).await.expect("lease");
        tx.commit().await.expect("commit");
        jobs
    };
    let all = [&a1, &a2, &a3, &b1];

    // Organization A's three subscriptions share its cap of 3; B's one has one POST in flight
    // at most, whatever the per-subscription cap says.
    let jobs = lease_with(100, 200, caps).await;
    assert_eq!(per_subscription(&jobs, &all), vec![1, 1, 1, 1]);
    // The oldest delivery first.
    let b_jobs: Vec<i64> = jobs
        .iter()
        .filter(|j| j.delivery.subscription_id == b1.id)
        .map(|j| (j.delivery.next_attempt_at.unwrap() - at(0)).num_seconds())
        .collect();
    assert_eq!(sorted_i64(b_jobs), vec![10]);
    // What is leased counts: every cap is full until something finishes.
    assert!(lease_with(150, 200, caps).await.is_empty());
    let done = jobs.iter().find(|j| j.delivery.subscription_id == b1.id).expect("a b1 job");
    let attempt = DeliveryAttempt {
        delivery_id: done.delivery.id,
        attempt: 1,
        attempted_at: at(160),
        status_code: Some(200),
        error: None,
        duration_ms: 3,
    };
    finish(db, &attempt, DeliveryStatus::Delivered, None).await;
    assert_eq!(per_subscription(&lease_with(160, 200, caps).await, &all), vec![0, 0, 0, 1]);

    // Once the leases have run out: a paused subscription is skipped, a failing one gets a
    // single probe, the others one each.
    let mut tx = db.store.write().await.expect("write");
    tx.pause_subscription(a1.id, Some(at(400))).await.expect("pause");
    assert_eq!(tx.count_subscription_failures(a2.id, false, 5).await.expect("count"), 5);
    tx.commit().await.expect("commit");
    assert_eq!(per_subscription(&lease_with(250, 300, caps).await, &all), vec![0, 1, 1, 1]);
    // A short lease: the organizations take turns.
    let jobs = lease_with(500, 600, LeaseLimits { total: 3, ..caps }).await;
    let by_org = |org| jobs.iter().filter(|j| j.delivery.org_id == org).count();
    assert_eq!(jobs.len(), 3);
    assert!((1..=2).contains(&by_org(a)) && (1..=2).contains(&by_org(b)), "{jobs:?}");
}

fn sorted_i64(mut v: Vec<i64>) -> Vec<i64> {
    v.sort_unstable();
    v
}

async fn the_circuit_breaker_counts_failures_and_pauses(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let sub = subscription(org, &["test"], at(0));
    let e = event(org, "test", at(1));
    let d = delivery(&sub, &e, Some(10));
    let mut tx = db.store.write().await.expect("write");
    tx.insert_subscription(&sub).await.expect("sub");
    tx.insert_webhook_event(&e, true).await.expect("event");
    tx.insert_delivery(&d).await.expect("delivery");
    // Failures add up; a success in the round restarts the count from the failures after it.
    assert_eq!(tx.count_subscription_failures(sub.id, false, 2).await.expect("count"), 2);
    assert_eq!(tx.count_subscription_failures(sub.id, false, 1).await.expect("count"), 3);
    assert_eq!(tx.count_subscription_failures(sub.id, true, 1).await.expect("count"), 1);
    assert_eq!(tx.count_subscription_failures(sub.id, true, 0).await.expect("count"), 0);
    assert_eq!(tx.count_subscription_failures(new_id(), false, 1).await.expect("unknown"), 0);
    // Successes only: the count restarts and a pause ends.
    tx.count_subscription_failures(sub.id, false, 6).await.expect("count");
    tx.pause_subscription(sub.id, Some(at(50))).await.expect("pause");
    assert_eq!(tx.count_subscription_failures(sub.id, true, 0).await.expect("count"), 0);
    let mut stored = tx.get_subscription(org, sub.id).await.expect("get").expect("sub");
    assert_eq!((stored.consecutive_failures, stored.paused_until), (0, None));
    assert_eq!(tx.count_subscription_failures(sub.id, true, 0).await.expect("again"), 0);
    assert_eq!(tx.count_subscription_failures(sub.id, false, 7).await.expect("count"), 7);
    tx.pause_subscription(sub.id, Some(at(50))).await.expect("pause");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    stored = read.get_subscription(org, sub.id).await.expect("get").expect("sub");
    assert_eq!((stored.consecutive_failures, stored.paused_until), (7, Some(at(50))));
    drop(read);
    // Paused: its due delivery waits without being leased, and is leased when the pause ends.
    assert!(lease(db, 49, 60, 10).await.expect("lease").is_empty());
    assert_eq!(leased_ids(&lease(db, 50, 60, 10).await.expect("lease")), vec![d.id]);
    let mut tx = db.store.write().await.expect("write");
    tx.pause_subscription(sub.id, Some(at(500))).await.expect("pause");
    tx.pause_subscription(sub.id, None).await.expect("end the pause");
    tx.commit().await.expect("commit");
    assert_eq!(leased_ids(&lease(db, 70, 80, 10).await.expect("lease")), vec![d.id]);
    let mut read = db.store.read().await.expect("read");
    let stored = read.get_subscription(org, sub.id).await.expect("get").expect("sub");
    assert_eq!((stored.consecutive_failures, stored.paused_until), (7, None));
}

async fn plain_target_urls_are_sealed_once(db: &TestDb) {
    let seed = seed(db).await;
    let plain = subscription(seed.org.id, &["test"], at(0));
    let theirs = subscription(seed.other_org.id, &["test"], at(0));
    let sealed = WebhookSubscription {
        target_url: "https://u:***@hooks.example/".into(),
        target_url_ciphertext: Some(vec![1, 2, 3]),
        ..subscription(seed.org.id, &["test"], at(0))
    };
    let deleted = subscription(seed.org.id, &["test"], at(0));
    let mut tx = db.store.write().await.expect("write");
    for s in [&plain, &theirs, &sealed, &deleted] {
        tx.insert_subscription(s).await.expect("sub");
    }
    tx.delete_subscription(seed.org.id, deleted.id, at(1)).await.expect("delete");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    let mut expected =
        vec![(plain.id, plain.target_url.clone()), (theirs.id, theirs.target_url.clone())];
    expected.sort();
    assert_eq!(read.list_plain_target_urls().await.expect("list"), expected);
    drop(read);
    let mut tx = db.store.write().await.expect("write");
    assert!(tx.seal_target_url(plain.id, "https://***@x.example/", &[9, 8]).await.expect("seal"));
    assert!(!tx.seal_target_url(plain.id, "again", &[7]).await.expect("sealed already"));
    assert!(!tx.seal_target_url(sealed.id, "again", &[7]).await.expect("sealed already"));
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    assert_eq!(
        read.list_plain_target_urls().await.expect("list"),
        vec![(theirs.id, theirs.target_url.clone())]
    );
    let stored = read.get_subscription(seed.org.id, plain.id).await.expect("get").expect("sub");
    assert_eq!(
        (stored.target_url.as_str(), stored.target_url_ciphertext),
        ("https://***@x.example/", Some(vec![9, 8]))
    );
}

async fn dispatch_cuts_a_subscriptions_events_into_ordered_batches(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let sub = subscription(org, &["access.granted"], at(0));
    let other = subscription(org, &["access.removed"], at(0));
    // 250 small events, then 5 of about 100 KB (two fit in 256 KiB with some small ones, three
    // do not), then one larger than the cap; `other` gets one of its own in between.
    let mut events: Vec<WebhookEvent> =
        (0..250).map(|i| event(org, "access.granted", at_ms(1_000 + i))).collect();
    let big = |i: i64, kb: usize| WebhookEvent {
        data: format!(r#"{{"blob":"{}"}}"#, "x".repeat(kb * 1000)),
        ..event(org, "access.granted", at_ms(2_000 + i))
    };
    events.extend((0..5).map(|i| big(i, 100)));
    events.push(big(9, 300));
    let theirs = event(org, "access.removed", at_ms(1_100));
    let mut tx = db.store.write().await.expect("write");
    tx.insert_subscription(&sub).await.expect("sub");
    tx.insert_subscription(&other).await.expect("sub");
    // Out of order on purpose: the outbox's order is the events' time.
    let (early, late) = events.split_at(128);
    tx.insert_webhook_events(late).await.expect("events");
    tx.insert_webhook_events(early).await.expect("events");
    tx.insert_webhook_event(&theirs, false).await.expect("event");
    assert_eq!(tx.dispatch_events(at(10), 1_000).await.expect("dispatch"), 257);
    tx.commit().await.expect("commit");

    let mut batches: Vec<Delivery> =
        deliveries_of(db, org, sub.id).await.into_iter().map(|(d, _)| d).collect();
    batches.sort_by_key(|d| d.id);
    let sizes: Vec<usize> = batches.iter().map(|d| d.event_ids.len()).collect();
    // The last 50 small events and two big ones share a POST; the next two big ones, then the
    // fifth (it and the oversized one exceed the cap together), then the oversized one alone.
    assert_eq!(sizes, vec![100, 100, 52, 2, 1, 1]);
    let in_order: Vec<Uuid> = batches.iter().flat_map(|d| d.event_ids.clone()).collect();
    assert_eq!(in_order, events.iter().map(|e| e.id).collect::<Vec<_>>(), "each once, in order");
    for d in &batches {
        assert_eq!((d.event_id, d.event_type.as_str()), (d.event_ids[0], "access.granted"));
    }
    let theirs_now = deliveries_of(db, org, other.id).await;
    assert_eq!(theirs_now.len(), 1);
    assert_eq!(theirs_now[0].0.event_ids, vec![theirs.id]);

    // Leased one at a time per subscription, the oldest first, with its events in order; a
    // batch waiting for its retry holds the later ones back.
    let jobs = lease(db, 10, 40, 100).await.expect("lease");
    let mine: Vec<&DeliveryJob> =
        jobs.iter().filter(|j| j.delivery.subscription_id == sub.id).collect();
    assert_eq!(jobs.len(), 2, "one of each subscription");
    assert_eq!(mine[0].delivery.id, batches[0].id);
    assert_eq!(mine[0].events, events[..100].to_vec());
    let other_job = jobs.iter().find(|j| j.delivery.subscription_id == other.id).expect("other");
    let other_done = DeliveryAttempt {
        delivery_id: other_job.delivery.id,
        attempt: 1,
        attempted_at: at(11),
        status_code: Some(200),
        error: None,
        duration_ms: 1,
    };
    finish(db, &other_done, DeliveryStatus::Delivered, None).await;
    assert!(lease(db, 11, 40, 100).await.expect("lease").is_empty(), "one in flight each");
    let failed = DeliveryAttempt {
        delivery_id: batches[0].id,
        attempt: 1,
        attempted_at: at(12),
        status_code: Some(500),
        error: Some("HTTP 500".into()),
        duration_ms: 5,
    };
    finish(db, &failed, DeliveryStatus::Pending, Some(100)).await;
    assert!(lease(db, 13, 40, 100).await.expect("lease").is_empty(), "the next waits");
    let again = lease(db, 100, 130, 100).await.expect("lease");
    assert_eq!(leased_ids(&again), vec![batches[0].id], "the same batch again");
    assert_eq!(again[0].events, mine[0].events);
    let delivered = DeliveryAttempt {
        attempt: 2,
        attempted_at: at(101),
        status_code: Some(204),
        error: None,
        ..failed.clone()
    };
    finish(db, &delivered, DeliveryStatus::Delivered, None).await;
    let mut seen = events[..100].to_vec();
    for expected in &batches[1..] {
        let jobs = lease(db, 102, 130, 100).await.expect("lease");
        assert_eq!(leased_ids(&jobs), vec![expected.id]);
        let body = batch_body(&jobs[0].events);
        assert!(jobs[0].events.len() == 1 || body.len() <= MAX_BATCH_BYTES, "{}", body.len());
        seen.extend(jobs[0].events.clone());
        let ok = DeliveryAttempt { delivery_id: expected.id, attempt: 1, ..delivered.clone() };
        finish(db, &ok, DeliveryStatus::Delivered, None).await;
    }
    assert_eq!(seen, events);
    assert!(lease(db, 102, 130, 100).await.expect("lease").is_empty());
}
