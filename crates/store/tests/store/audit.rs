//! The audit log: `AuditReads`, `AuditWrites`.
use portcullis_domain::{new_id, ActorRef, AuditEvent, PageRequest};
use portcullis_store::AuditFilter;
use uuid::Uuid;

use crate::common::*;

on_every_backend!(audit_events_round_trip_and_filter, many_audit_events_are_appended_in_one_call);

fn audit(
    org_id: Uuid,
    secs: i64,
    actor: ActorRef,
    action: &str,
    target_id: Option<Uuid>,
) -> AuditEvent {
    AuditEvent {
        id: new_id(),
        org_id,
        occurred_at: at(secs),
        actor,
        action: action.into(),
        target_type: action.split('.').next().unwrap_or_default().into(),
        target_id,
        before: None,
        after: None,
        request_id: None,
        on_behalf_of: None,
        source: None,
    }
}

async fn insert_all(db: &TestDb, events: &[&AuditEvent]) {
    let mut tx = db.store.write().await.expect("write");
    for e in events {
        tx.insert_audit_event(e).await.expect("insert");
    }
    tx.commit().await.expect("commit");
}

async fn list(db: &TestDb, org: Uuid, filter: AuditFilter) -> Vec<AuditEvent> {
    let mut read = db.store.read().await.expect("read");
    let page = read.list_audit_events(org, &filter, PageRequest::first()).await.expect("list");
    assert_eq!(page.next_after, None);
    page.items
}

async fn audit_events_round_trip_and_filter(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let cred = new_id();
    let alice = seed.alice.id;
    let owner = seed.owner.id;
    let created = AuditEvent {
        after: Some(r#"{"email":"alice@acme.example"}"#.into()),
        request_id: Some("req-0001".into()),
        // A credential acting for a named user keeps both.
        on_behalf_of: Some(owner),
        occurred_at: at_ms(10_010),
        ..audit(org, 10, ActorRef::Credential(cred), "user.created", Some(alice))
    };
    let updated = AuditEvent {
        // A call from an AI assistant keeps the channel and the client beside the actor.
        source: Some(portcullis_domain::CallSource::mcp("Claude")),
        before: Some(r#"{"name":"Alice"}"#.into()),
        after: Some(r#"{"name":"Alice B."}"#.into()),
        ..audit(org, 20, ActorRef::User(owner), "user.updated", Some(alice))
    };
    let swept = audit(org, 30, ActorRef::System, "access.expired", None);
    let grouped = audit(org, 40, ActorRef::User(owner), "usergroup.created", Some(new_id()));
    let theirs =
        audit(seed.other_org.id, 10, ActorRef::User(seed.stranger.id), "user.created", Some(alice));
    insert_all(db, &[&created, &updated, &swept, &grouped, &theirs]).await;

    let by_id = |events: &[&AuditEvent]| {
        let mut v: Vec<AuditEvent> = events.iter().map(|e| (*e).clone()).collect();
        v.sort_by_key(|e| e.id);
        v
    };
    let all = by_id(&[&created, &updated, &swept, &grouped]);
    // Every field round-trips, each actor kind included.
    assert_eq!(list(db, org, AuditFilter::default()).await, all);
    assert_eq!(list(db, seed.other_org.id, AuditFilter::default()).await, vec![theirs.clone()]);
    assert!(list(db, new_id(), AuditFilter::default()).await.is_empty());

    let f = AuditFilter::default;
    let cases: Vec<(AuditFilter, Vec<AuditEvent>)> = vec![
        (AuditFilter { actor_id: Some(owner), ..f() }, by_id(&[&updated, &grouped])),
        (AuditFilter { actor_id: Some(cred), ..f() }, by_id(&[&created])),
        (AuditFilter { actor_id: Some(seed.stranger.id), ..f() }, vec![]),
        (AuditFilter { target_id: Some(alice), ..f() }, by_id(&[&created, &updated])),
        // An exact action, or a prefix of whole dotted segments.
        (AuditFilter { action: Some("user.created".into()), ..f() }, by_id(&[&created])),
        (AuditFilter { action: Some("user".into()), ..f() }, by_id(&[&created, &updated])),
        (AuditFilter { action: Some("usergroup".into()), ..f() }, by_id(&[&grouped])),
        (AuditFilter { action: Some("access".into()), ..f() }, by_id(&[&swept])),
        (AuditFilter { action: Some("use".into()), ..f() }, vec![]),
        (AuditFilter { action: Some("user.created.x".into()), ..f() }, vec![]),
        // Since is inclusive.
        (AuditFilter { since: Some(at(30)), ..f() }, by_id(&[&swept, &grouped])),
        (AuditFilter { since: Some(at_ms(30_001)), ..f() }, by_id(&[&grouped])),
        (AuditFilter { since: Some(at(41)), ..f() }, vec![]),
        // Combined with AND.
        (
            AuditFilter {
                actor_id: Some(owner),
                action: Some("user".into()),
                since: Some(at(0)),
                target_id: Some(alice),
            },
            by_id(&[&updated]),
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(list(db, org, filter.clone()).await, expected, "{filter:?}");
    }

    // Keyset pages.
    let mut read = db.store.read().await.expect("read");
    let p1 = read
        .list_audit_events(org, &f(), PageRequest { after: None, limit: 3 })
        .await
        .expect("page");
    assert_eq!((p1.items, p1.next_after), (all[..3].to_vec(), Some(all[2].id)));
    let p2 = read
        .list_audit_events(org, &f(), PageRequest { after: Some(all[2].id), limit: 3 })
        .await
        .expect("page");
    assert_eq!((p2.items, p2.next_after), (all[3..].to_vec(), None));
    let filtered = AuditFilter { action: Some("user".into()), ..f() };
    let p1 = read
        .list_audit_events(org, &filtered, PageRequest { after: None, limit: 1 })
        .await
        .expect("page");
    let users = by_id(&[&created, &updated]);
    assert_eq!((p1.items, p1.next_after), (users[..1].to_vec(), Some(users[0].id)));
    let p2 = read
        .list_audit_events(org, &filtered, PageRequest { after: p1.next_after, limit: 1 })
        .await
        .expect("page");
    assert_eq!((p2.items, p2.next_after), (users[1..].to_vec(), None));
}

async fn many_audit_events_are_appended_in_one_call(db: &TestDb) {
    let seed = seed(db).await;
    let org = seed.org.id;
    let events: Vec<AuditEvent> = (0..250)
        .map(|n| AuditEvent {
            // Quotes, a backslash, a newline and non-ASCII pass through the JSON array intact.
            before: (n % 2 == 0).then(|| format!(r#"{{"n":{n},"text":"Zoë \"q\" \\ \n ☃"}}"#)),
            after: Some(format!(r#"{{"n":{n}}}"#)),
            request_id: (n % 3 == 0).then(|| format!("req-{n}")),
            on_behalf_of: (n % 5 == 0).then_some(seed.alice.id),
            source: (n % 7 == 0).then(|| portcullis_domain::CallSource::mcp(format!("client {n}"))),
            ..audit(
                org,
                n,
                match n % 3 {
                    0 => ActorRef::System,
                    1 => ActorRef::User(seed.owner.id),
                    _ => ActorRef::Credential(new_id()),
                },
                "access.removed",
                (n % 4 != 0).then(new_id),
            )
        })
        .collect();
    let mut tx = db.store.write().await.expect("write");
    tx.insert_audit_events(&events).await.expect("insert many");
    tx.insert_audit_events(&[]).await.expect("insert none");
    tx.commit().await.expect("commit");
    let mut read = db.store.read().await.expect("read");
    let mut listed = Vec::new();
    let mut after = None;
    loop {
        let page = read
            .list_audit_events(org, &AuditFilter::default(), PageRequest::after(after))
            .await
            .expect("page");
        listed.extend(page.items);
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut expected = events;
    expected.sort_by_key(|e| e.id);
    assert_eq!(listed, expected);
}

/// Runs the audit-filter probe on every backend and reports, per backend, the filters that
/// matched `user.created` although they should not.
async fn probe_action_filters(filters: &[&str]) -> Vec<String> {
    let mut wrong = Vec::new();
    for db in backends().await {
        let seed = seed(&db).await;
        let org = seed.org.id;
        insert_all(&db, &[&audit(org, 1, ActorRef::System, "user.created", None)]).await;
        for f in filters {
            let filter = AuditFilter { action: Some(f.to_string()), ..AuditFilter::default() };
            if !list(&db, org, filter).await.is_empty() {
                wrong.push(format!(
                    "{}: action filter {f:?} matches \"user.created\"",
                    db.backend()
                ));
            }
        }
        db.finish().await;
    }
    wrong
}

/// The prefix form of the action filter compares exactly: no case folding, no wildcards.
#[tokio::test]
async fn audit_action_filter_is_case_sensitive_on_every_backend() {
    let wrong = probe_action_filters(&["USER.CREATED", "USER", "User"]).await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The prefix form of the action filter compares exactly: no case folding, no wildcards.
#[tokio::test]
async fn audit_action_filter_takes_wildcards_literally() {
    let wrong = probe_action_filters(&["%", "u_er", "%.created", "_"]).await;
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
