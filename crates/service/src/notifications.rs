//! Notifications: who is told what (written to the outbox inside the transaction of the change
//! that causes it), the people's preferences and the organization's settings, the sweep that
//! sends reminders, digests and due-soon notices, and the `*_for_worker` functions the delivery
//! worker (crate `portcullis-notifications`) drives.
//!
//! E-mail notifications are only written when the server has SMTP configured
//! ([`NotificationConfig::email`]); Slack ones only when the organization set a Slack URL. A
//! notification carries names, the app, the request type and a link to the console: never a
//! token, a secret or a justification.
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use portcullis_domain::notifications::{
    next_retry_at, subject_line, Message, Notification, NotificationCategory, NotificationChannel,
    NotificationPreference, NotificationSettings, NotificationSettingsPatch, NotificationStatus,
    DIGEST_PERIOD, REVIEW_DUE_SOON,
};
use portcullis_domain::webhook::{parse_target_url, validate_target_url};
use portcullis_domain::{
    new_id, AccessReviewId, AuditAction, PageRequest, PermissionLevel, Request, RequestStatus,
    RequestType, Task, TaskKind, TaskStatus, User, WorkApp,
};
use portcullis_store::prelude::*;
use portcullis_store::TaskFilter;
use uuid::Uuid;

use crate::{ActorKind, Change, Ctx, Service, ServiceError};

/// How this server sends notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationConfig {
    /// The console's address, for links (`--public-url`), without a trailing slash.
    pub public_url: String,
    /// Is SMTP configured? Without it, e-mail notifications are not written at all.
    pub email: bool,
}

impl Default for NotificationConfig {
    fn default() -> Self {
        Self { public_url: "http://localhost:8080".into(), email: false }
    }
}

/// A leased notification and, for Slack, where to post it.
#[derive(Debug, Clone)]
pub struct NotificationJob {
    pub notification: Notification,
    /// The organization's Slack incoming-webhook URL (Slack notifications only).
    pub slack_url: Option<String>,
}

/// The organization's notification settings as shown (the Slack URL never is).
#[derive(Debug, Clone)]
pub struct NotificationSettingsView {
    pub settings: NotificationSettings,
    pub slack_webhook_configured: bool,
}

/// One person's choice for one category and channel, with the organization's overrides.
#[derive(Debug, Clone, Copy)]
pub struct PreferenceView {
    pub category: NotificationCategory,
    pub channel: NotificationChannel,
    /// The person's choice (default on).
    pub enabled: bool,
    /// The organization makes this category mandatory.
    pub mandatory: bool,
    /// What is actually delivered, after the organization's switches.
    pub effective: bool,
}

/// Something to tell one person.
pub(crate) struct Notice {
    pub user_id: Uuid,
    pub category: NotificationCategory,
    pub message: Message,
}

/// Most due items one sweep step handles per organization.
const SWEEP_BATCH: u32 = 500;

fn request_type_words(t: RequestType) -> &'static str {
    match t {
        RequestType::GrantAccess => "Access",
        RequestType::RemoveAccess => "Removal of access",
        RequestType::ChangePermissionLevel => "Change of permission level",
        RequestType::AddNewManagedWorkApp => "New managed app",
        RequestType::ArchiveWorkApp => "Archiving",
    }
}

impl Service {
    /// The same service with other notification settings (public URL, e-mail on or off).
    pub fn with_notification_config(mut self, config: NotificationConfig) -> Self {
        self.notifications = std::sync::Arc::new(config);
        self
    }

    pub fn notification_config(&self) -> &NotificationConfig {
        &self.notifications
    }

    fn link(&self, path: &str) -> String {
        format!("{}{path}", self.notifications.public_url.trim_end_matches('/'))
    }

    /// [`request_words`], reading the app, level and target user of the request.
    async fn load_request_words(
        &self,
        tx: &mut dyn WriteTx,
        request: &Request,
    ) -> Result<String, ServiceError> {
        let org_id = request.org_id;
        let app = tx.get_work_app(org_id, request.work_app_id).await?;
        let level = match request.permission_level_id {
            Some(id) => tx.get_permission_level(org_id, id).await?,
            None => None,
        };
        let target = match request.target_user_id {
            Some(id) => tx.get_user(org_id, id).await?,
            None => None,
        };
        Ok(request_words(request, app.as_ref(), level.as_ref(), target.as_ref()))
    }

    /// Is any channel on for the organization (e-mail on this server, or its Slack URL)? Checked
    /// first, so that a server without channels does no work for notifications.
    pub(crate) async fn has_channel(
        &self,
        tx: &mut dyn WriteTx,
        org_id: Uuid,
    ) -> Result<bool, ServiceError> {
        Ok(self.notifications.email
            || tx
                .notification_settings(org_id)
                .await?
                .is_some_and(|s| s.slack_webhook_ciphertext.is_some()))
    }

    /// Tells the assignees of a task that just opened (approval or action task).
    pub(crate) async fn notify_task_opened(
        &self,
        tx: &mut dyn WriteTx,
        request: &Request,
        task: &Task,
    ) -> Result<(), ServiceError> {
        if task.status != TaskStatus::Open
            || task.assignee_ids.is_empty()
            || !self.has_channel(tx, request.org_id).await?
        {
            return Ok(());
        }
        let words = self.load_request_words(tx, request).await?;
        let notices = self.task_opened_notices(&words, task);
        self.notify(tx, request.org_id, notices).await
    }

    /// Tells the requester that their request was decided or carried out.
    pub(crate) async fn notify_request_status(
        &self,
        tx: &mut dyn WriteTx,
        request: &Request,
    ) -> Result<(), ServiceError> {
        // Whether anyone is told does not depend on the words: only then are they read.
        if self.request_status_notice("", request).is_none()
            || !self.has_channel(tx, request.org_id).await?
        {
            return Ok(());
        }
        let words = self.load_request_words(tx, request).await?;
        let notices = self.request_status_notice(&words, request).into_iter().collect();
        self.notify(tx, request.org_id, notices).await
    }

    /// What the assignees of a task that just opened are told (nothing for a task that waits
    /// for nobody: carried out already, or without assignees).
    pub(crate) fn task_opened_notices(&self, words: &str, task: &Task) -> Vec<Notice> {
        if task.status != TaskStatus::Open {
            return Vec::new();
        }
        let (category, subject, line) = match task.kind {
            TaskKind::Review => (
                NotificationCategory::TaskAssigned,
                format!("Approval needed: {words}"),
                format!("{words} waits for your approval."),
            ),
            TaskKind::Action => (
                NotificationCategory::ActionTaskWaiting,
                format!("Action needed: {words}"),
                format!("{words} is approved; it waits for you to carry it out in the app."),
            ),
        };
        let message = Message {
            subject,
            lines: vec![line],
            link: self.link(&format!("/inbox#task-{}", task.id)),
            link_label: "Open the task".into(),
        };
        task.assignee_ids
            .iter()
            .map(|id| Notice { user_id: *id, category, message: message.clone() })
            .collect()
    }

    /// What the requester (else the target user) is told of their request reaching its status:
    /// approved, declined or carried out; `None` for any other status.
    pub(crate) fn request_status_notice(&self, words: &str, request: &Request) -> Option<Notice> {
        let requester = request.created_by_user_id.or(request.target_user_id)?;
        let (category, outcome) = match request.status {
            RequestStatus::Approved => (NotificationCategory::RequestDecided, "was approved"),
            RequestStatus::Declined => (NotificationCategory::RequestDecided, "was declined"),
            RequestStatus::Completed => (NotificationCategory::RequestCompleted, "is done"),
            _ => return None,
        };
        let message = Message {
            subject: format!("Your request {outcome}: {words}"),
            lines: vec![format!("Your request — {words} — {outcome}.")],
            link: self.link("/my-requests"),
            link_label: "See your requests".into(),
        };
        Some(Notice { user_id: requester, category, message })
    }

    /// Tells every reviewer with undecided items of a campaign (started, or due soon).
    pub(crate) async fn notify_reviewers(
        &self,
        tx: &mut dyn WriteTx,
        org_id: Uuid,
        review_id: Uuid,
        category: NotificationCategory,
    ) -> Result<(), ServiceError> {
        let Some(review) = tx.get_access_review(org_id, AccessReviewId(review_id)).await? else {
            return Ok(());
        };
        let due = review.due_date.format("%Y-%m-%d %H:%M UTC");
        let pending = tx.pending_reviewers(org_id, AccessReviewId(review_id)).await?;
        let notices = pending
            .into_iter()
            .map(|(user_id, n)| {
                let (subject, line) = match category {
                    NotificationCategory::ReviewDueSoon => (
                        format!("Access review due soon: {}", review.name),
                        format!(
                            "The access review {} is due {due}; you still have {n} item(s) to decide.",
                            review.name
                        ),
                    ),
                    _ => (
                        format!("Access review started: {}", review.name),
                        format!(
                            "The access review {} started: you have {n} item(s) to review by {due}.",
                            review.name
                        ),
                    ),
                };
                Notice {
                    user_id,
                    category,
                    message: Message {
                        subject,
                        lines: vec![line],
                        link: self.link("/reviews"),
                        link_label: "Review the accesses".into(),
                    },
                }
            })
            .collect();
        self.notify(tx, org_id, notices).await
    }

    /// Writes the notifications each person gets, on each channel the server, the organization
    /// and the person allow, into the outbox (inside the caller's transaction).
    pub(crate) async fn notify(
        &self,
        tx: &mut dyn WriteTx,
        org_id: Uuid,
        notices: Vec<Notice>,
    ) -> Result<(), ServiceError> {
        if notices.is_empty() {
            return Ok(());
        }
        let settings = tx
            .notification_settings(org_id)
            .await?
            .unwrap_or_else(|| NotificationSettings::defaults(org_id));
        let mut channels = Vec::new();
        if self.notifications.email {
            channels.push(NotificationChannel::Email);
        }
        if settings.slack_webhook_ciphertext.is_some() {
            channels.push(NotificationChannel::Slack);
        }
        if channels.is_empty() {
            return Ok(());
        }
        let mut ids: Vec<Uuid> = notices.iter().map(|n| n.user_id).collect();
        ids.sort();
        ids.dedup();
        let users: HashMap<Uuid, User> = tx
            .get_users(org_id, &ids)
            .await?
            .into_iter()
            .filter(|u| u.is_active())
            .map(|u| (u.id, u))
            .collect();
        let choices: HashMap<(Uuid, NotificationCategory, NotificationChannel), bool> = tx
            .notification_preferences(org_id, &ids)
            .await?
            .into_iter()
            .map(|(user, p)| ((user, p.category, p.channel), p.enabled))
            .collect();
        let now = self.clock.now();
        let mut rows = Vec::new();
        for notice in notices {
            let Some(user) = users.get(&notice.user_id) else { continue };
            let name = user.full_name();
            for channel in &channels {
                let choice = choices.get(&(user.id, notice.category, *channel)).copied();
                if !settings.delivers(notice.category, *channel, choice) {
                    continue;
                }
                let (recipient, body_text, body_html) = match channel {
                    NotificationChannel::Email => {
                        (user.email.clone(), notice.message.text(&name), notice.message.html(&name))
                    }
                    NotificationChannel::Slack => {
                        (name.clone(), notice.message.slack(&name), String::new())
                    }
                };
                rows.push(Notification {
                    id: new_id(),
                    org_id,
                    user_id: user.id,
                    recipient,
                    category: notice.category,
                    channel: *channel,
                    subject: subject_line(&notice.message.subject),
                    body_text,
                    body_html,
                    link: notice.message.link.clone(),
                    status: NotificationStatus::Pending,
                    attempts: 0,
                    next_attempt_at: Some(now),
                    lease_until: None,
                    last_error: None,
                    created_at: now,
                    sent_at: None,
                });
            }
        }
        tx.insert_notifications(&rows).await?;
        Ok(())
    }

    /// Background job: tells reviewers of campaigns due within a day (once per campaign),
    /// reminds assignees of tasks open longer than the organization's `taskReminderHours` (once
    /// per period), and sends each person with open tasks a digest (once a day) where the
    /// organization turned digests on. Returns how many notices it wrote.
    pub async fn sweep_notifications(&self) -> Result<usize, ServiceError> {
        let now = self.clock.now();
        let mut done = 0;
        let soon = self
            .store
            .read()
            .await?
            .reviews_due_soon(now, now + REVIEW_DUE_SOON, SWEEP_BATCH)
            .await?;
        for (org_id, review_id) in soon {
            let mut tx = self.write_tx(org_id).await?;
            // Checked again under the organization's lock: another server may have done it.
            let still = tx.reviews_due_soon(now, now + REVIEW_DUE_SOON, SWEEP_BATCH).await?;
            if still.contains(&(org_id, review_id)) {
                self.notify_reviewers(
                    &mut *tx,
                    org_id,
                    review_id,
                    NotificationCategory::ReviewDueSoon,
                )
                .await?;
                tx.set_notification_marks(org_id, &[format!("due_soon:{review_id}")], now).await?;
                done += 1;
            }
            tx.commit().await?;
        }
        let orgs = self.store.read().await?.orgs_with_open_tasks().await?;
        for org_id in orgs {
            done += self.sweep_org_tasks(org_id, now).await?;
        }
        Ok(done)
    }

    /// Reminders and digests of one organization, in one transaction under its lock.
    async fn sweep_org_tasks(
        &self,
        org_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<usize, ServiceError> {
        let mut tx = self.write_tx(org_id).await?;
        let settings = tx
            .notification_settings(org_id)
            .await?
            .unwrap_or_else(|| NotificationSettings::defaults(org_id));
        let mut done = 0;
        let cutoff = now - Duration::hours(settings.task_reminder_hours);
        let due = tx.reminder_due_tasks(org_id, cutoff, SWEEP_BATCH).await?;
        let mut marks = Vec::with_capacity(due.len());
        let mut notices = Vec::new();
        for task_id in due {
            let Some(task) = tx.get_task(org_id, task_id).await? else { continue };
            let Some(request) = tx.get_request(org_id, task.request_id).await? else { continue };
            let words = self.load_request_words(&mut *tx, &request).await?;
            let hours = (now - task.created_at).num_hours();
            let message = Message {
                subject: format!("Reminder: {words}"),
                lines: vec![format!("{words} has waited for you for {hours} hours.")],
                link: self.link(&format!("/inbox#task-{task_id}")),
                link_label: "Open the task".into(),
            };
            for user_id in &task.assignee_ids {
                notices.push(Notice {
                    user_id: *user_id,
                    category: NotificationCategory::TaskReminder,
                    message: message.clone(),
                });
            }
            marks.push(format!("reminder:{task_id}"));
        }
        done += notices.len();
        self.notify(&mut *tx, org_id, notices).await?;
        tx.set_notification_marks(org_id, &marks, now).await?;

        if settings.digest_enabled {
            let people = tx.digest_due_assignees(org_id, now - DIGEST_PERIOD).await?;
            let mut notices = Vec::new();
            let mut marks = Vec::new();
            for user_id in people {
                let filter = TaskFilter {
                    status: Some(TaskStatus::Open),
                    assignee_user_id: Some(user_id),
                    request_id: None,
                };
                let tasks = tx.list_tasks(org_id, filter, PageRequest::first()).await?.items;
                let mut lines = vec![format!("You have {} open task(s):", tasks.len())];
                for task in &tasks {
                    if let Some(request) = tx.get_request(org_id, task.request_id).await? {
                        let words = self.load_request_words(&mut *tx, &request).await?;
                        let since = task.created_at.format("%Y-%m-%d");
                        lines.push(format!("• {words} (since {since})"));
                    }
                }
                notices.push(Notice {
                    user_id,
                    category: NotificationCategory::Digest,
                    message: Message {
                        subject: format!("Your open tasks: {}", tasks.len()),
                        lines,
                        link: self.link("/inbox"),
                        link_label: "Open your inbox".into(),
                    },
                });
                marks.push(format!("digest:{user_id}"));
            }
            done += notices.len();
            self.notify(&mut *tx, org_id, notices).await?;
            tx.set_notification_marks(org_id, &marks, now).await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// The organization's notification settings: credentials and administrators/owners.
    pub async fn notification_settings(
        &self,
        ctx: &Ctx,
    ) -> Result<NotificationSettingsView, ServiceError> {
        ctx.actor.require_validated()?;
        if let ActorKind::User { role, .. } = ctx.actor.kind {
            if !role.is_org_admin() {
                return Err(ServiceError::Forbidden(
                    "Only organization administrators and owners may read the notification settings"
                        .into(),
                ));
            }
        }
        let mut tx = self.store.read().await?;
        let settings = tx
            .notification_settings(ctx.org_id())
            .await?
            .unwrap_or_else(|| NotificationSettings::defaults(ctx.org_id()));
        Ok(view(settings))
    }

    /// Changes the organization's notification settings (a read-write credential or an
    /// administrator/owner); audited as `notification_settings.updated` (the Slack URL only as
    /// `slackWebhookConfigured`).
    pub async fn update_notification_settings(
        &self,
        ctx: &Ctx,
        patch: NotificationSettingsPatch,
    ) -> Result<NotificationSettingsView, ServiceError> {
        ctx.actor.require_org_admin()?;
        patch.check()?;
        let sealed = match &patch.slack_webhook_url {
            Some(Some(url)) => Some(Some(self.seal_slack_url(url)?)),
            Some(None) => Some(None),
            None => None,
        };
        let org_id = ctx.org_id();
        let mut tx = self.write_tx(org_id).await?;
        let before = tx
            .notification_settings(org_id)
            .await?
            .unwrap_or_else(|| NotificationSettings::defaults(org_id));
        let mut after = before.clone();
        patch.apply(&mut after)?;
        if let Some(sealed) = sealed {
            after.slack_webhook_ciphertext = sealed;
        }
        if after != before {
            tx.save_notification_settings(&after).await?;
            let change =
                Change::new(AuditAction::NotificationSettingsUpdated, "organization", org_id)
                    .before(settings_snapshot(&before))
                    .after(settings_snapshot(&after));
            self.audit(&mut *tx, ctx, change).await?;
            tx.commit().await?;
        }
        Ok(view(after))
    }

    /// A Slack incoming-webhook URL, checked as webhook targets are, sealed.
    fn seal_slack_url(&self, url: &str) -> Result<Vec<u8>, ServiceError> {
        let invalid = |e: portcullis_domain::DomainError| {
            ServiceError::Invalid(e.to_string().replace("targetUrl", "slackWebhookUrl"))
        };
        let url = validate_target_url(url).map_err(invalid)?;
        let (_, host) = parse_target_url(&url).map_err(invalid)?;
        self.webhooks.egress.check_target(&host).map_err(|blocked| {
            ServiceError::Invalid(format!(
                "slackWebhookUrl {blocked}: notifications are posted to public internet addresses \
                 only (the server's operator can allow networks with --webhook-allow-network)"
            ))
        })?;
        self.secrets.seal(url.as_bytes())
    }

    /// May the caller read or change this person's preferences? The person themself, an
    /// administrator/owner, or a credential (read-write to change); 404 for a user of another
    /// organization.
    async fn preferences_subject(
        &self,
        ctx: &Ctx,
        user_id: Uuid,
        write: bool,
    ) -> Result<(), ServiceError> {
        ctx.actor.require_validated()?;
        if write {
            ctx.actor.require_write()?;
        }
        if let ActorKind::User { id, role, .. } = ctx.actor.kind {
            if id != user_id && !role.is_org_admin() {
                return Err(ServiceError::Forbidden(
                    "Only the user themself or an administrator may see or change their \
                     notification preferences"
                        .into(),
                ));
            }
        }
        let mut tx = self.store.read().await?;
        tx.get_user(ctx.org_id(), user_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("user", user_id))?;
        Ok(())
    }

    /// Every category on every channel for one person: their choice and what is delivered.
    pub async fn notification_preferences(
        &self,
        ctx: &Ctx,
        user_id: Uuid,
    ) -> Result<Vec<PreferenceView>, ServiceError> {
        self.preferences_subject(ctx, user_id, false).await?;
        let mut tx = self.store.read().await?;
        self.preference_views(&mut *tx, ctx.org_id(), user_id).await
    }

    async fn preference_views(
        &self,
        tx: &mut dyn ReadTx,
        org_id: Uuid,
        user_id: Uuid,
    ) -> Result<Vec<PreferenceView>, ServiceError> {
        let settings = tx
            .notification_settings(org_id)
            .await?
            .unwrap_or_else(|| NotificationSettings::defaults(org_id));
        let stored: HashMap<(NotificationCategory, NotificationChannel), bool> = tx
            .notification_preferences(org_id, &[user_id])
            .await?
            .into_iter()
            .map(|(_, p)| ((p.category, p.channel), p.enabled))
            .collect();
        let mut out = Vec::new();
        for category in NotificationCategory::ALL {
            for channel in NotificationChannel::ALL {
                let choice = stored.get(&(category, channel)).copied();
                out.push(PreferenceView {
                    category,
                    channel,
                    enabled: choice.unwrap_or(true),
                    mandatory: settings.is_mandatory(category),
                    effective: settings.delivers(category, channel, choice),
                });
            }
        }
        Ok(out)
    }

    /// Sets some of a person's choices; audited as `notification_preferences.updated`.
    pub async fn update_notification_preferences(
        &self,
        ctx: &Ctx,
        user_id: Uuid,
        choices: &[NotificationPreference],
    ) -> Result<Vec<PreferenceView>, ServiceError> {
        self.preferences_subject(ctx, user_id, true).await?;
        let org_id = ctx.org_id();
        let mut tx = self.write_tx(org_id).await?;
        let before = self.preference_views(&mut *tx, org_id, user_id).await?;
        tx.set_notification_preferences(org_id, user_id, choices).await?;
        let after = self.preference_views(&mut *tx, org_id, user_id).await?;
        let changed: Vec<serde_json::Value> = before
            .iter()
            .zip(&after)
            .filter(|(b, a)| b.enabled != a.enabled)
            .map(|(_, a)| {
                serde_json::json!({
                    "category": a.category.name(), "channel": a.channel.name(), "enabled": a.enabled
                })
            })
            .collect();
        if !changed.is_empty() {
            let change = Change::new(AuditAction::NotificationPreferencesUpdated, "user", user_id)
                .after(serde_json::json!({ "changed": changed }));
            self.audit(&mut *tx, ctx, change).await?;
            tx.commit().await?;
        }
        Ok(after)
    }

    /// Leases due notifications for the delivery worker, with the Slack URL of each Slack one.
    pub async fn lease_notifications_for_worker(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<NotificationJob>, ServiceError> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let leased = tx.lease_notifications(now, now + lease, limit).await?;
        let mut urls: HashMap<Uuid, Option<String>> = HashMap::new();
        let mut jobs = Vec::with_capacity(leased.len());
        for notification in leased {
            let slack_url = if notification.channel == NotificationChannel::Slack {
                let org_id = notification.org_id;
                let url = match urls.get(&org_id) {
                    Some(known) => known.clone(),
                    None => {
                        let sealed = tx
                            .notification_settings(org_id)
                            .await?
                            .and_then(|s| s.slack_webhook_ciphertext);
                        let url = match sealed {
                            Some(sealed) => Some(
                                String::from_utf8_lossy(&self.secrets.open(&sealed)?).into_owned(),
                            ),
                            None => None,
                        };
                        urls.insert(org_id, url.clone());
                        url
                    }
                };
                url
            } else {
                None
            };
            jobs.push(NotificationJob { notification, slack_url });
        }
        tx.commit().await?;
        Ok(jobs)
    }

    /// Records what sending leased notifications did: sent, or failed (`Err(why)`) and retried
    /// after the schedule's next delay, or given up (`Failed`) once it is used up.
    pub async fn record_notifications_for_worker(
        &self,
        outcomes: &[(Notification, Result<(), String>)],
        schedule: &[Duration],
    ) -> Result<(), ServiceError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        for (n, outcome) in outcomes {
            let mut n = n.clone();
            n.attempts += 1;
            n.lease_until = None;
            match outcome {
                Ok(()) => {
                    n.status = NotificationStatus::Sent;
                    n.sent_at = Some(now);
                    n.next_attempt_at = None;
                    n.last_error = None;
                }
                Err(why) => {
                    n.last_error = Some(why.chars().take(500).collect());
                    n.next_attempt_at = next_retry_at(n.attempts, now, schedule);
                    if n.next_attempt_at.is_none() {
                        n.status = NotificationStatus::Failed;
                    }
                }
            }
            tx.update_notification(&n).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The organization's notifications, oldest first (administrators and credentials; used
    /// by the console and tests to see what was sent).
    pub async fn list_notifications(
        &self,
        ctx: &Ctx,
        user_id: Option<Uuid>,
    ) -> Result<Vec<Notification>, ServiceError> {
        ctx.actor.require_validated()?;
        if let ActorKind::User { role, .. } = ctx.actor.kind {
            if !role.is_org_admin() {
                return Err(ServiceError::Forbidden("administrators only".into()));
            }
        }
        let mut tx = self.store.read().await?;
        Ok(tx.list_notifications(ctx.org_id(), user_id, 1000).await?)
    }
}

fn view(settings: NotificationSettings) -> NotificationSettingsView {
    let slack_webhook_configured = settings.slack_webhook_ciphertext.is_some();
    NotificationSettingsView { settings, slack_webhook_configured }
}

fn settings_snapshot(s: &NotificationSettings) -> serde_json::Value {
    let names = |v: &[NotificationCategory]| v.iter().map(|c| c.name()).collect::<Vec<_>>();
    serde_json::json!({
        "slackWebhookConfigured": s.slack_webhook_ciphertext.is_some(),
        "taskReminderHours": s.task_reminder_hours,
        "digestEnabled": s.digest_enabled,
        "disabledCategories": names(&s.disabled_categories),
        "disabledChannels": s.disabled_channels.iter().map(|c| c.name()).collect::<Vec<_>>(),
        "mandatoryCategories": names(&s.mandatory_categories),
    })
}

/// "Access to Figma (Editor) for Bob Example": what a request is about, in words.
pub(crate) fn request_words(
    request: &Request,
    app: Option<&WorkApp>,
    level: Option<&PermissionLevel>,
    target: Option<&User>,
) -> String {
    let mut words = format!(
        "{} to {}",
        request_type_words(request.request_type),
        app.map_or("an app", |a| a.name.as_str())
    );
    if let Some(level) = level {
        words.push_str(&format!(" ({})", level.name));
    }
    if let Some(target) = target {
        words.push_str(&format!(" for {}", target.full_name()));
    }
    words
}
