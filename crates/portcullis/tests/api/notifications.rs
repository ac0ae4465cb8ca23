//! Notifications: e-mail through a real SMTP server (aiosmtpd, from `tests/support/tools.rs`),
//! Slack through a real local HTTP receiver; who gets what, preferences and the organization's
//! overrides, retries, reminders and digests driven by the manual clock, and the errors of the
//! endpoints.
use portcullis_notifications::{SmtpConfig, Worker, WorkerConfig};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{assert_problem, send, Org, Receiver, TestServer};
use crate::tools::{free_port, Tool};

const SETTINGS: &str = "/api/v1/NotificationSettings";

fn prefs_path(user: &str) -> String {
    format!("/api/v1/users/{user}/NotificationPreferences")
}

/// A notification worker sending mail to the SMTP server on `port`.
fn mailer(srv: &TestServer, port: u16) -> Worker {
    let smtp = SmtpConfig {
        url: format!("smtp://127.0.0.1:{port}"),
        from: "Portcullis <portcullis@test.example>".into(),
    };
    Worker::new(srv.service.clone(), WorkerConfig { smtp: Some(smtp), ..WorkerConfig::default() })
        .expect("worker")
}

/// One captured mail: its headers and its decoded parts (content type, text).
struct Mail {
    raw: String,
    parts: Vec<(String, String)>,
}

impl Mail {
    fn parse(raw: &str) -> Self {
        let raw = raw.replace("\r\n", "\n");
        let boundary = raw
            .split("boundary=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("not multipart: {raw}"))
            .to_string();
        let parts = raw
            .split(&format!("--{boundary}"))
            .skip(1)
            .filter(|p| !p.starts_with("--"))
            .map(|part| {
                let (head, body) =
                    part.trim_start_matches('\n').split_once("\n\n").unwrap_or(("", ""));
                let kind = header_in(head, "content-type").unwrap_or_default();
                let text = match header_in(head, "content-transfer-encoding").as_deref() {
                    Some("quoted-printable") => quoted_printable(body),
                    Some("base64") => {
                        use base64::Engine;
                        let compact: String = body.split_whitespace().collect();
                        String::from_utf8(
                            base64::engine::general_purpose::STANDARD
                                .decode(compact)
                                .expect("base64"),
                        )
                        .expect("utf-8")
                    }
                    _ => body.to_string(),
                };
                (kind, text)
            })
            .collect();
        Self { raw, parts }
    }

    fn header(&self, name: &str) -> String {
        let head = self.raw.split("\n\n").next().unwrap_or_default();
        header_in(head, name).unwrap_or_default()
    }

    fn part(&self, kind: &str) -> &str {
        self.parts
            .iter()
            .find(|(k, _)| k.starts_with(kind))
            .map(|(_, t)| t.as_str())
            .unwrap_or_else(|| panic!("no {kind} part in {}", self.raw))
    }
}

fn header_in(head: &str, name: &str) -> Option<String> {
    let mut lines = head.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some((key, value)) = line.split_once(':') {
            if key.eq_ignore_ascii_case(name) {
                let mut value = value.trim().to_string();
                while lines.peek().is_some_and(|l| l.starts_with([' ', '\t'])) {
                    value.push(' ');
                    value.push_str(lines.next().unwrap_or_default().trim());
                }
                return Some(value);
            }
        }
    }
    None
}

fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("utf-8")
}

/// The mails captured for `to`.
fn mails_to(smtp: &Tool, to: &str) -> Vec<Mail> {
    smtp.mails().iter().map(|m| Mail::parse(m)).filter(|m| m.header("to").contains(to)).collect()
}

fn email_of(org: &Org, name: &str) -> String {
    format!("{}@{}.example", name.to_lowercase(), org.id)
}

async fn request_access(srv: &TestServer, token: &str, app: &str, user: &str) -> Value {
    let (status, created) =
        send(srv.bearer(token, Method::POST, "/api/v1/Requests/GrantAccess").json(
            &json!({ "workAppId": app, "targetUserId": user, "justification": "secret project X" }),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["data"].clone()
}

fn open_task(request: &Value) -> String {
    request["tasks"]
        .as_array()
        .and_then(|tasks| tasks.iter().find(|t| t["status"] == "Open"))
        .and_then(|t| t["id"].as_str())
        .unwrap_or_else(|| panic!("no open task: {request}"))
        .to_string()
}

async fn reload(srv: &TestServer, org: &Org, request: &str) -> Value {
    let (status, body) =
        send(srv.api(org, Method::GET, &format!("/api/v1/Requests/{request}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].clone()
}

async fn approve(srv: &TestServer, token: &str, task: &str) {
    let (status, body) =
        send(srv.bearer(token, Method::POST, &format!("/api/v1/Tasks/{task}/Approve"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn patch_settings(srv: &TestServer, org: &Org, body: Value) -> Value {
    let (status, body) = send(srv.api(org, Method::PATCH, SETTINGS).json(&body)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].clone()
}

/// People: a manager, an app owner, an employee (managed by the manager) with tokens, and a
/// Manual app owned by the owner.
struct People {
    manager: (String, String),
    owner: (String, String),
    user: (String, String),
    app: String,
}

async fn people(srv: &TestServer, org: &Org) -> People {
    let manager = srv.user_with_token(org, "Mona", "User").await;
    let owner = srv.user_with_token(org, "Otto", "User").await;
    let user = srv.user_with_token(org, "Ursula", "User").await;
    let (status, body) = send(
        srv.api(org, Method::PATCH, &format!("/api/v1/users/{}", user.0))
            .json(&json!({ "managerId": manager.0 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (app, _) =
        srv.create_app_with(org, json!({ "name": "Salesforce", "ownerIds": [owner.0] }), &[]).await;
    People { manager, owner, user, app }
}

#[tokio::test]
async fn approver_requester_and_owner_get_multipart_mails_with_links_and_no_secrets() {
    let Some(smtp) = Tool::smtp_server() else { return };
    let srv = TestServer::start_with_mail().await;
    let org = srv.new_org("Acme").await;
    let p = people(&srv, &org).await;
    let worker = mailer(&srv, smtp.port);

    // 1. The request opens a task for the manager: a mail with a link straight to it.
    let r = request_access(&srv, &p.user.1, &p.app, &p.user.0).await;
    let request_id = r["id"].as_str().expect("id").to_string();
    let step1 = open_task(&r);
    assert_eq!(worker.run_until_idle().await.expect("send"), 1);
    let mails = mails_to(&smtp, &email_of(&org, "Mona"));
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(
        mail.header("subject").starts_with("Approval needed: Access to Salesforce for Ursula"),
        "{}",
        mail.raw
    );
    assert!(mail.header("from").contains("portcullis@test.example"));
    assert!(mail.header("content-type").starts_with("multipart/alternative"), "{}", mail.raw);
    let link = format!("{}/inbox#task-{step1}", srv.base);
    assert!(mail.part("text/plain").contains(&link), "{}", mail.raw);
    assert!(mail.part("text/html").contains(&format!("href=\"{link}\"")), "{}", mail.raw);

    // 2. Manager then owner approve: the requester hears it was approved, the owner gets the
    //    Manual app's action task.
    approve(&srv, &p.manager.1, &step1).await;
    let step2 = open_task(&reload(&srv, &org, &request_id).await);
    approve(&srv, &p.owner.1, &step2).await;
    let action = open_task(&reload(&srv, &org, &request_id).await);
    worker.run_until_idle().await.expect("send");
    let to_user = mails_to(&smtp, &email_of(&org, "Ursula"));
    assert_eq!(to_user.len(), 1, "only the decision, not each step");
    assert!(
        to_user[0].header("subject").starts_with("Your request was approved"),
        "{}",
        to_user[0].raw
    );
    assert!(to_user[0].part("text/plain").contains(&format!("{}/my-requests", srv.base)));
    let to_owner = mails_to(&smtp, &email_of(&org, "Otto"));
    assert_eq!(to_owner.len(), 2, "step 2, then the action task");
    let action_mail = to_owner
        .iter()
        .find(|m| m.header("subject").starts_with("Action needed: Access to Salesforce"))
        .expect("the action task mail");
    assert!(action_mail.part("text/plain").contains(&format!("/inbox#task-{action}")));

    // 3. The owner carries it out: the requester hears it is done.
    approve(&srv, &p.owner.1, &action).await;
    worker.run_until_idle().await.expect("send");
    let to_user = mails_to(&smtp, &email_of(&org, "Ursula"));
    assert_eq!(to_user.len(), 2);
    assert!(to_user.iter().any(|m| m.header("subject").starts_with("Your request is done")));

    // Nothing secret in any mail: no token, no API secret, no justification.
    for raw in smtp.mails() {
        for secret in [&p.manager.1, &p.owner.1, &p.user.1, &org.secret, &org.token] {
            assert!(!raw.contains(secret.as_str()), "a secret in {raw}");
        }
        assert!(!raw.contains("secret project X"), "{raw}");
    }
    // Recorded as sent, once each.
    let statuses = srv.db.strings("SELECT status FROM notifications").await.expect("rows");
    assert_eq!(statuses.len(), 5);
    assert!(statuses.iter().all(|s| s == "Sent"), "{statuses:?}");
}

#[tokio::test]
async fn a_failed_smtp_attempt_is_retried_after_the_back_off() {
    let Some(smtp) = Tool::smtp_server() else { return };
    let srv = TestServer::start_with_mail().await;
    let org = srv.new_org("Acme").await;
    let p = people(&srv, &org).await;
    request_access(&srv, &p.user.1, &p.app, &p.user.0).await;
    // Nobody listens on this port: the attempt fails and waits for the back-off.
    let down = mailer(&srv, free_port());
    assert_eq!(down.run_until_idle().await.expect("attempt"), 1);
    let rows = srv.db.strings("SELECT status || ' ' || attempts || ' ' || COALESCE(last_error, '') FROM notifications").await.expect("rows");
    assert_eq!(rows.len(), 1);
    assert!(rows[0].starts_with("Pending 1 SMTP"), "{rows:?}");
    let up = mailer(&srv, smtp.port);
    assert_eq!(up.run_until_idle().await.expect("nothing due"), 0, "not before the back-off");
    srv.clock.advance(chrono::Duration::minutes(1));
    assert_eq!(up.run_until_idle().await.expect("retry"), 1);
    assert_eq!(mails_to(&smtp, &email_of(&org, "Mona")).len(), 1);
    let rows =
        srv.db.strings("SELECT status || ' ' || attempts FROM notifications").await.expect("rows");
    assert_eq!(rows, vec!["Sent 2".to_string()]);
}

#[tokio::test]
async fn slack_gets_the_text_through_the_egress_policy_and_is_retried_after_a_500() {
    // Slack only: the server has no SMTP, so no e-mail notification is written.
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let p = people(&srv, &org).await;
    let slack = Receiver::start().await;
    slack.answers.lock().expect("lock").push_back(500);
    let settings = patch_settings(&srv, &org, json!({ "slackWebhookUrl": slack.url })).await;
    assert_eq!(settings["slackWebhookConfigured"], true);
    let (_, shown) = send(srv.api(&org, Method::GET, SETTINGS)).await;
    assert!(!shown.to_string().contains(&slack.url), "the URL is never shown: {shown}");
    let stored =
        srv.db.strings("SELECT hex(slack_webhook_ciphertext) FROM notification_settings").await;
    if let Ok(stored) = stored {
        assert!(!stored[0].to_lowercase().contains("687474703a2f2f"), "stored encrypted");
    }

    let r = request_access(&srv, &p.user.1, &p.app, &p.user.0).await;
    let task = open_task(&r);
    let worker = Worker::new(srv.service.clone(), WorkerConfig::default()).expect("worker");
    assert_eq!(worker.run_until_idle().await.expect("attempt"), 1);
    srv.clock.advance(chrono::Duration::minutes(1));
    assert_eq!(worker.run_until_idle().await.expect("retry"), 1);
    let got = slack.received.lock().expect("lock").clone();
    assert_eq!(got.iter().map(|r| r.status).collect::<Vec<_>>(), vec![500, 200]);
    let body: Value = serde_json::from_slice(&got[1].body).expect("json");
    let text = body["text"].as_str().expect("text");
    assert!(text.contains("Approval needed: Access to Salesforce for Ursula"), "{text}");
    assert!(text.contains("for Mona"), "{text}");
    assert!(text.contains(&format!("{}/inbox#task-{task}", srv.base)), "{text}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "only text: {body}");
    let channels = srv.db.strings("SELECT channel FROM notifications").await.expect("rows");
    assert_eq!(channels, vec!["Slack".to_string()]);

    // A Slack URL on this machine is refused by the default egress policy.
    let strict =
        TestServer::start_with_webhooks(portcullis_service::WebhookSettings::default()).await;
    let org2 = strict.new_org("Strict").await;
    let (status, body) = send(
        strict.api(&org2, Method::PATCH, SETTINGS).json(&json!({ "slackWebhookUrl": slack.url })),
    )
    .await;
    assert_problem(status, &body, 400, SETTINGS);
    assert!(body["detail"].as_str().unwrap_or_default().contains("slackWebhookUrl"), "{body}");

    // Removing the URL: `""`; audited without the URL.
    let settings = patch_settings(&srv, &org, json!({ "slackWebhookUrl": "" })).await;
    assert_eq!(settings["slackWebhookConfigured"], false);
    let audit = srv
        .db
        .strings(
            "SELECT after_json FROM audit_events WHERE action = 'notification_settings.updated'",
        )
        .await
        .unwrap_or_default();
    for row in &audit {
        assert!(!row.contains(&slack.url), "{row}");
    }
}

#[tokio::test]
async fn preferences_and_the_organizations_overrides_are_honoured() {
    let Some(smtp) = Tool::smtp_server() else { return };
    let srv = TestServer::start_with_mail().await;
    let org = srv.new_org("Acme").await;
    let p = people(&srv, &org).await;
    let worker = mailer(&srv, smtp.port);

    // Mona turns approval mails off with her own token.
    let (status, body) =
        send(srv.bearer(&p.manager.1, Method::PATCH, &prefs_path(&p.manager.0)).json(&json!({
            "preferences": [{ "category": "TaskAssigned", "channel": "Email", "enabled": false }]
        })))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pref = |body: &Value, category: &str, channel: &str| -> Value {
        body["data"]["preferences"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p["category"] == category && p["channel"] == channel))
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(pref(&body, "TaskAssigned", "Email")["enabled"], false);
    assert_eq!(pref(&body, "TaskAssigned", "Email")["effective"], false);
    assert_eq!(body["data"]["preferences"].as_array().map(Vec::len), Some(16));
    let r = request_access(&srv, &p.user.1, &p.app, &p.user.0).await;
    worker.run_until_idle().await.expect("send");
    assert!(mails_to(&smtp, &email_of(&org, "Mona")).is_empty(), "turned off");

    // The organization makes approvals mandatory: she gets them whatever she chose.
    let s = patch_settings(&srv, &org, json!({ "mandatoryCategories": ["TaskAssigned"] })).await;
    assert_eq!(s["mandatoryCategories"], json!(["TaskAssigned"]));
    let (_, body) = send(srv.bearer(&p.manager.1, Method::GET, &prefs_path(&p.manager.0))).await;
    assert_eq!(pref(&body, "TaskAssigned", "Email")["mandatory"], true);
    assert_eq!(pref(&body, "TaskAssigned", "Email")["effective"], true);
    let (status, _) = send(srv.api(
        &org,
        Method::DELETE,
        &format!("/api/v1/Requests/{}", r["id"].as_str().unwrap_or_default()),
    ))
    .await;
    let _ = status;
    // A second request (another user) opens a task for Mona again.
    let bob = srv.user_with_token(&org, "Bob", "User").await;
    send(
        srv.api(&org, Method::PATCH, &format!("/api/v1/users/{}", bob.0))
            .json(&json!({ "managerId": p.manager.0 })),
    )
    .await;
    request_access(&srv, &bob.1, &p.app, &bob.0).await;
    worker.run_until_idle().await.expect("send");
    assert_eq!(mails_to(&smtp, &email_of(&org, "Mona")).len(), 1, "mandatory");

    // The organization turns e-mail off for everyone: nothing is written at all.
    patch_settings(&srv, &org, json!({ "disabledChannels": ["Email"], "mandatoryCategories": [] }))
        .await;
    let before = srv.db.strings("SELECT id FROM notifications").await.expect("rows").len();
    let cara = srv.user_with_token(&org, "Cara", "User").await;
    send(
        srv.api(&org, Method::PATCH, &format!("/api/v1/users/{}", cara.0))
            .json(&json!({ "managerId": p.manager.0 })),
    )
    .await;
    request_access(&srv, &cara.1, &p.app, &cara.0).await;
    assert_eq!(srv.db.strings("SELECT id FROM notifications").await.expect("rows").len(), before);

    // Changes are audited.
    let actions = srv
        .db
        .strings("SELECT action FROM audit_events WHERE action LIKE 'notification%' ORDER BY occurred_at")
        .await
        .expect("audit");
    assert_eq!(
        actions,
        vec![
            "notification_preferences.updated".to_string(),
            "notification_settings.updated".to_string(),
            "notification_settings.updated".to_string(),
        ]
    );
}

#[tokio::test]
async fn reviews_reminders_and_digests_follow_the_clock() {
    let Some(smtp) = Tool::smtp_server() else { return };
    let srv = TestServer::start_with_mail().await;
    let org = srv.new_org("Acme").await;
    let p = people(&srv, &org).await;
    let worker = mailer(&srv, smtp.port);
    let mona = email_of(&org, "Mona");
    let otto = email_of(&org, "Otto");

    // Campaign start: the app owner reviews the accesses.
    let (holder, _) = srv.user_with_token(&org, "Hal", "User").await;
    let (status, body) =
        srv.bulk_grant(&org, json!([{ "workAppId": p.app, "userId": holder }])).await;
    assert!(status.is_success(), "{body}");
    let (status, body) = send(srv.api(&org, Method::POST, "/api/v1/AccessReviews").json(&json!({
        "name": "Q1",
        "accessReviewType": "WorkAppOwner",
        "dueDate": srv.timestamp_in(chrono::Duration::hours(72)),
        "workAppIds": [p.app],
        "createdByUserId": org.owner_id,
    })))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    worker.run_until_idle().await.expect("send");
    let to_otto = mails_to(&smtp, &otto);
    assert_eq!(to_otto.len(), 1);
    assert!(
        to_otto[0].header("subject").starts_with("Access review started: Q1"),
        "{}",
        to_otto[0].raw
    );
    assert!(to_otto[0].part("text/plain").contains("1 item(s) to review"));
    assert!(to_otto[0].part("text/plain").contains(&format!("{}/reviews", srv.base)));

    // A task opens for Mona.
    request_access(&srv, &p.user.1, &p.app, &p.user.0).await;
    worker.run_until_idle().await.expect("send");
    assert_eq!(mails_to(&smtp, &mona).len(), 1);

    // Before 24 h: no reminder, the review is not due soon.
    srv.clock.advance(chrono::Duration::hours(23));
    srv.service.sweep_notifications().await.expect("sweep");
    assert_eq!(worker.run_until_idle().await.expect("send"), 0);
    // At 24 h: a reminder (the organization default), once.
    srv.clock.advance(chrono::Duration::hours(1));
    srv.service.sweep_notifications().await.expect("sweep");
    srv.service.sweep_notifications().await.expect("sweep again");
    worker.run_until_idle().await.expect("send");
    let to_mona = mails_to(&smtp, &mona);
    assert_eq!(to_mona.len(), 2, "one reminder");
    let reminder = to_mona
        .iter()
        .find(|m| m.header("subject").starts_with("Reminder: Access to Salesforce"))
        .expect("a reminder");
    assert!(reminder.part("text/plain").contains("/inbox#task-"));
    assert!(reminder.part("text/plain").contains("waited for you for 24 hours"));
    // 49 h in: the review is due within 24 h: its reviewer is told, once.
    srv.clock.advance(chrono::Duration::hours(25));
    srv.service.sweep_notifications().await.expect("sweep");
    srv.service.sweep_notifications().await.expect("sweep again");
    worker.run_until_idle().await.expect("send");
    let to_otto = mails_to(&smtp, &otto);
    assert_eq!(
        to_otto.len(),
        2,
        "{:?}",
        to_otto.iter().map(|m| m.header("subject")).collect::<Vec<_>>()
    );
    assert!(to_otto.iter().any(|m| m.header("subject").starts_with("Access review due soon: Q1")));
    // And Mona's second reminder (24 h after the first).
    assert_eq!(mails_to(&smtp, &mona).len(), 3);

    // Shorter reminders, and the digest turned on: one mail listing every open task, once a day.
    patch_settings(&srv, &org, json!({ "taskReminderHours": 48, "digestEnabled": true })).await;
    srv.service.sweep_notifications().await.expect("sweep");
    srv.service.sweep_notifications().await.expect("sweep again");
    worker.run_until_idle().await.expect("send");
    let to_mona = mails_to(&smtp, &mona);
    assert_eq!(to_mona.len(), 4, "the digest only");
    let digest = to_mona
        .iter()
        .find(|m| m.header("subject").starts_with("Your open tasks"))
        .expect("a digest");
    assert!(digest.header("subject").starts_with("Your open tasks: 1"), "{}", digest.raw);
    assert!(digest.part("text/plain").contains("Access to Salesforce for Ursula"));
    assert!(digest.part("text/html").contains(&format!("{}/inbox", srv.base)));
    srv.clock.advance(chrono::Duration::hours(23));
    srv.service.sweep_notifications().await.expect("sweep");
    worker.run_until_idle().await.expect("send");
    assert_eq!(mails_to(&smtp, &mona).len(), 4, "not again within a day");
}

#[tokio::test]
async fn notification_endpoints_answer_every_documented_error() {
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let other = srv.new_org("Globex").await;
    let (alice, alice_token) = srv.user_with_token(&org, "Alice", "User").await;
    let (bob, _) = srv.user_with_token(&org, "Bob", "User").await;
    let (admin, admin_token) = srv.user_with_token(&org, "Ada", "Administrator").await;
    let read_only = srv.read_only(&org).await;
    let stranger = other.owner_id.clone();

    // Defaults.
    let (status, body) = send(srv.api(&org, Method::GET, SETTINGS)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"],
        json!({ "slackWebhookConfigured": false, "taskReminderHours": 24, "digestEnabled": false,
                "disabledCategories": [], "disabledChannels": [], "mandatoryCategories": [] })
    );
    // 400: unknown property, unknown category, out-of-range hours, both off and mandatory,
    // not a URL, too many items.
    for bad in [
        json!({ "slackUrl": "https://hooks.example.com/x" }),
        json!({ "disabledCategories": ["Everything"] }),
        json!({ "disabledChannels": ["Pager"] }),
        json!({ "taskReminderHours": 0 }),
        json!({ "taskReminderHours": 721 }),
        json!({ "disabledCategories": ["Digest"], "mandatoryCategories": ["Digest"] }),
        json!({ "slackWebhookUrl": "ftp://hooks.example.com/x" }),
        json!({ "disabledChannels": ["Email", "Slack", "Email"] }),
    ] {
        let (status, body) = send(srv.api(&org, Method::PATCH, SETTINGS).json(&bad)).await;
        assert_problem(status, &body, 400, SETTINGS);
    }
    // 401 without credentials; 403 read-only key and non-administrator.
    let (status, body) = send(srv.client.get(srv.url(SETTINGS))).await;
    assert_problem(status, &body, 401, SETTINGS);
    let (status, body) =
        send(srv.api(&read_only, Method::PATCH, SETTINGS).json(&json!({ "digestEnabled": true })))
            .await;
    assert_problem(status, &body, 403, SETTINGS);
    let (status, body) = send(srv.bearer(&alice_token, Method::GET, SETTINGS)).await;
    assert_problem(status, &body, 403, SETTINGS);
    let (status, body) = send(
        srv.bearer(&admin_token, Method::PATCH, SETTINGS).json(&json!({ "digestEnabled": true })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Preferences.
    let path = prefs_path(&alice);
    let (status, body) = send(srv.bearer(&alice_token, Method::GET, &path)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["data"]["preferences"]
        .as_array()
        .is_some_and(|a| a.iter().all(|p| p["enabled"] == true)));
    for bad in [
        json!({ "preferences": [{ "category": "Nope", "channel": "Email", "enabled": false }] }),
        json!({ "preferences": [{ "category": "Digest", "channel": "Fax", "enabled": false }] }),
        json!({ "preferences": [{ "category": "Digest", "channel": "Email", "enabled": "no" }] }),
        json!({ "preferences": [{ "category": "Digest", "channel": "Email", "enabled": false, "x": 1 }] }),
        json!({ "prefs": [] }),
        json!({ "preferences": vec![json!({ "category": "Digest", "channel": "Email", "enabled": false }); 17] }),
    ] {
        let (status, body) = send(srv.bearer(&alice_token, Method::PATCH, &path).json(&bad)).await;
        assert_problem(status, &body, 400, &path);
    }
    let (status, body) = send(srv.client.get(srv.url(&path))).await;
    assert_problem(status, &body, 401, &path);
    let ok =
        json!({ "preferences": [{ "category": "Digest", "channel": "Email", "enabled": false }] });
    // Another user's preferences: 403 for a user, fine for an administrator or the credential.
    let bob_path = prefs_path(&bob);
    let (status, body) = send(srv.bearer(&alice_token, Method::GET, &bob_path)).await;
    assert_problem(status, &body, 403, &bob_path);
    let (status, body) = send(srv.bearer(&alice_token, Method::PATCH, &bob_path).json(&ok)).await;
    assert_problem(status, &body, 403, &bob_path);
    let (status, body) = send(srv.bearer(&admin_token, Method::PATCH, &bob_path).json(&ok)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(srv.api(&read_only, Method::PATCH, &bob_path).json(&ok)).await;
    assert_problem(status, &body, 403, &bob_path);
    let (status, body) = send(srv.api(&read_only, Method::GET, &bob_path)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Another organization's user, or nobody: 404.
    for missing in [stranger, uuid::Uuid::now_v7().to_string()] {
        let p = prefs_path(&missing);
        let (status, body) = send(srv.api(&org, Method::GET, &p)).await;
        assert_problem(status, &body, 404, &p);
        let (status, body) = send(srv.api(&org, Method::PATCH, &p).json(&ok)).await;
        assert_problem(status, &body, 404, &p);
    }
    let p = prefs_path("not-a-uuid");
    let (status, body) = send(srv.api(&org, Method::GET, &p)).await;
    assert_problem(status, &body, 400, &p);
    let _ = admin;
}

#[tokio::test]
async fn the_console_pages_set_ones_own_preferences_and_the_organizations_overrides() {
    use crate::console::Console;
    let srv = TestServer::start().await;
    let org = srv.new_org("Acme").await;
    let (alice, alice_token) = srv.user_with_token(&org, "Alice", "User").await;
    let console = Console::new(&srv);

    // A person: their own page; every box starts checked; unchecking Digest by e-mail saves.
    let session = console.sign_in(&alice_token).await;
    let page = console.get(&session, "/settings/notifications").send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("name=\"Digest.Email\""), "{html}");
    let csrf = console.csrf(&session).await;
    let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf)];
    for category in [
        "TaskAssigned",
        "RequestDecided",
        "RequestCompleted",
        "ReviewStarted",
        "ReviewDueSoon",
        "ActionTaskWaiting",
        "TaskReminder",
        "Digest",
    ] {
        for channel in ["Email", "Slack"] {
            if (category, channel) != ("Digest", "Email") {
                form.push((format!("{category}.{channel}"), "on".into()));
            }
        }
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved =
        console.post(&session, "/settings/notifications", &form).send().await.expect("post");
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (_, body) = send(srv.api(&org, Method::GET, &prefs_path(&alice))).await;
    let off: Vec<&Value> = body["data"]["preferences"]
        .as_array()
        .map(|a| a.iter().filter(|p| p["enabled"] == false).collect())
        .unwrap_or_default();
    assert_eq!(off.len(), 1, "{body}");
    assert_eq!(
        (off[0]["category"].as_str(), off[0]["channel"].as_str()),
        (Some("Digest"), Some("Email"))
    );
    // Not an administrator: the organization's page is refused.
    let refused = console.get(&session, "/admin/notifications").send().await.expect("page");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // The owner: overrides and the Slack URL (never shown back).
    let owner = console.sign_in(&org.token).await;
    let page = console.get(&owner, "/admin/notifications").send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let csrf = console.csrf(&owner).await;
    let slack = "https://hooks.example.com/services/T000/B000/XXXX";
    let saved = console
        .post(
            &owner,
            "/admin/notifications",
            &[
                ("csrf", csrf.as_str()),
                ("slack_webhook_url", slack),
                ("task_reminder_hours", "12"),
                ("digest_enabled", "on"),
                ("off.Slack", "on"),
                ("mandatory.TaskAssigned", "on"),
            ],
        )
        .send()
        .await
        .expect("post");
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (_, body) = send(srv.api(&org, Method::GET, SETTINGS)).await;
    assert_eq!(
        body["data"],
        json!({ "slackWebhookConfigured": true, "taskReminderHours": 12, "digestEnabled": true,
                "disabledCategories": [], "disabledChannels": ["Slack"], "mandatoryCategories": ["TaskAssigned"] })
    );
    let html = console
        .get(&owner, "/admin/notifications")
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(!html.contains("hooks.example.com"), "the URL is never shown");
    assert!(html.contains("A Slack incoming webhook is set"));
}
