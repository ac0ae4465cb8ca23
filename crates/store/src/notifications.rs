//! Notifications: the outbox with leases, preferences, the organization's settings, and the marks
//! that keep reminders, digests and due-soon notices to once per period.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_domain::notifications::{
    Notification, NotificationCategory, NotificationChannel, NotificationPreference,
    NotificationSettings, NotificationStatus,
};
use portcullis_domain::wire::WireEnum;
use uuid::Uuid;

use crate::decode::{get_id, get_opt_ts, get_ts, id, id_array, opt_ts, stored_name, ts};
use crate::session::{Session, Writable};
use crate::sql::{query, query_scalar, Row};
use crate::StoreError;

const COLUMNS: &str = "id, org_id, user_id, recipient, category, channel, subject, body_text,
    body_html, link, status, attempts, next_attempt_at, lease_until, last_error, created_at, sent_at";

/// Reading notifications.
#[async_trait]
pub trait NotificationReads: Send {
    /// The organization's settings; `None` when it never changed them.
    async fn notification_settings(
        &mut self,
        org_id: Uuid,
    ) -> Result<Option<NotificationSettings>, StoreError>;
    /// The stored choices of these people: (user, choice).
    async fn notification_preferences(
        &mut self,
        org_id: Uuid,
        user_ids: &[Uuid],
    ) -> Result<Vec<(Uuid, NotificationPreference)>, StoreError>;
    /// The organization's notifications, oldest first (at most `limit`), optionally of one
    /// person.
    async fn list_notifications(
        &mut self,
        org_id: Uuid,
        user_id: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError>;
    /// Organizations with at least one open task.
    async fn orgs_with_open_tasks(&mut self) -> Result<Vec<Uuid>, StoreError>;
    /// Open tasks created at or before `cutoff` and not reminded of since `cutoff` (mark
    /// `reminder:{taskId}`), oldest first.
    async fn reminder_due_tasks(
        &mut self,
        org_id: Uuid,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError>;
    /// People assigned open tasks whose last digest (mark `digest:{userId}`) is older than
    /// `cutoff`, or who never had one.
    async fn digest_due_assignees(
        &mut self,
        org_id: Uuid,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, StoreError>;
    /// Open access reviews due after `now` and at or before `until` whose reviewers were not
    /// told yet (mark `due_soon:{reviewId}`): (organization, review).
    async fn reviews_due_soon(
        &mut self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError>;
}

#[async_trait]
impl<S: Session + ?Sized> NotificationReads for S {
    async fn notification_settings(
        &mut self,
        org_id: Uuid,
    ) -> Result<Option<NotificationSettings>, StoreError> {
        let db = self.db();
        let row = query(
            "SELECT org_id, slack_webhook_ciphertext, task_reminder_hours, digest_enabled,
                    disabled_categories_json, disabled_channels_json, mandatory_categories_json
             FROM notification_settings WHERE org_id = $1",
        )
        .bind(id(org_id))
        .fetch_optional(db)
        .await?;
        row.as_ref().map(decode_settings).transpose()
    }

    async fn notification_preferences(
        &mut self,
        org_id: Uuid,
        user_ids: &[Uuid],
    ) -> Result<Vec<(Uuid, NotificationPreference)>, StoreError> {
        let db = self.db();
        let ids_2 = db.dialect().in_json_texts("$2");
        query(format!(
            "SELECT user_id, category, channel, enabled FROM notification_preferences
             WHERE org_id = $1 AND user_id IN {ids_2} ORDER BY user_id, category, channel"
        ))
        .bind(id(org_id))
        .bind(id_array(user_ids.iter().copied()))
        .fetch_all(db)
        .await?
        .iter()
        .map(|row| {
            let category: String = row.try_get("category")?;
            let channel: String = row.try_get("channel")?;
            Ok((
                get_id(row, "user_id")?,
                NotificationPreference {
                    category: stored_name("category", &category)?,
                    channel: stored_name("channel", &channel)?,
                    enabled: row.try_get("enabled")?,
                },
            ))
        })
        .collect()
    }

    async fn list_notifications(
        &mut self,
        org_id: Uuid,
        user_id: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let db = self.db();
        query(format!(
            "SELECT {COLUMNS} FROM notifications WHERE org_id = $1 AND ($2 IS NULL OR user_id = $2)
             ORDER BY id LIMIT $3"
        ))
        .bind(id(org_id))
        .bind(user_id)
        .bind(i64::from(limit))
        .fetch_all(db)
        .await?
        .iter()
        .map(decode_notification)
        .collect()
    }

    async fn orgs_with_open_tasks(&mut self) -> Result<Vec<Uuid>, StoreError> {
        let db = self.db();
        query_scalar::<String>(
            "SELECT DISTINCT org_id FROM tasks WHERE status = 'Open' ORDER BY org_id",
        )
        .fetch_all(db)
        .await?
        .iter()
        .map(|text| Uuid::parse_str(text).map_err(|e| StoreError::Corrupt(format!("org_id: {e}"))))
        .collect()
    }

    async fn reminder_due_tasks(
        &mut self,
        org_id: Uuid,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError> {
        let db = self.db();
        query(
            "SELECT t.id FROM tasks t
             LEFT JOIN notification_marks m ON m.org_id = t.org_id AND m.mark = 'reminder:' || t.id
             WHERE t.org_id = $1 AND t.status = 'Open' AND t.created_at <= $2
               AND (m.at IS NULL OR m.at <= $2)
             ORDER BY t.created_at, t.id LIMIT $3",
        )
        .bind(id(org_id))
        .bind(ts(cutoff))
        .bind(i64::from(limit))
        .fetch_all(db)
        .await?
        .iter()
        .map(|row| get_id(row, "id"))
        .collect()
    }

    async fn digest_due_assignees(
        &mut self,
        org_id: Uuid,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, StoreError> {
        let db = self.db();
        query(
            "SELECT DISTINCT a.user_id FROM task_assignees a
             JOIN tasks t ON t.id = a.task_id AND t.status = 'Open'
             LEFT JOIN notification_marks m ON m.org_id = a.org_id AND m.mark = 'digest:' || a.user_id
             WHERE a.org_id = $1 AND (m.at IS NULL OR m.at <= $2)
             ORDER BY a.user_id",
        )
        .bind(id(org_id))
        .bind(ts(cutoff))
        .fetch_all(db)
        .await?
        .iter()
        .map(|row| get_id(row, "user_id"))
        .collect()
    }

    async fn reviews_due_soon(
        &mut self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
        let db = self.db();
        query(
            "SELECT r.org_id, r.id FROM access_reviews r
             LEFT JOIN notification_marks m ON m.org_id = r.org_id AND m.mark = 'due_soon:' || r.id
             WHERE r.status = 'Open' AND r.due_date > $1 AND r.due_date <= $2 AND m.at IS NULL
             ORDER BY r.due_date, r.id LIMIT $3",
        )
        .bind(ts(now))
        .bind(ts(until))
        .bind(i64::from(limit))
        .fetch_all(db)
        .await?
        .iter()
        .map(|row| Ok((get_id(row, "org_id")?, get_id(row, "id")?)))
        .collect()
    }
}

/// Writing notifications.
#[async_trait]
pub trait NotificationWrites: Send {
    /// Adds notifications to the outbox.
    async fn insert_notifications(&mut self, rows: &[Notification]) -> Result<(), StoreError>;
    /// Takes up to `limit` pending notifications due at `now` that nobody holds (rows other
    /// servers hold are skipped), and holds them until `lease_until`.
    async fn lease_notifications(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError>;
    /// Records an attempt: status, attempts, next attempt, last error, sent time; the lease ends.
    async fn update_notification(&mut self, n: &Notification) -> Result<(), StoreError>;
    async fn save_notification_settings(
        &mut self,
        settings: &NotificationSettings,
    ) -> Result<(), StoreError>;
    /// Sets a person's choices (the others stay).
    async fn set_notification_preferences(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        choices: &[NotificationPreference],
    ) -> Result<(), StoreError>;
    /// Records that these marks (`reminder:{taskId}`, `digest:{userId}`, `due_soon:{reviewId}`)
    /// happened at `at`.
    async fn set_notification_marks(
        &mut self,
        org_id: Uuid,
        marks: &[String],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

#[async_trait]
impl<S: Writable + ?Sized> NotificationWrites for S {
    async fn insert_notifications(&mut self, rows: &[Notification]) -> Result<(), StoreError> {
        let db = self.db();
        for n in rows {
            query(format!(
                "INSERT INTO notifications ({COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
            ))
            .bind(id(n.id))
            .bind(id(n.org_id))
            .bind(id(n.user_id))
            .bind(n.recipient.as_str())
            .bind(n.category.name())
            .bind(n.channel.name())
            .bind(n.subject.as_str())
            .bind(n.body_text.as_str())
            .bind(n.body_html.as_str())
            .bind(n.link.as_str())
            .bind(n.status.name())
            .bind(n.attempts)
            .bind(opt_ts(n.next_attempt_at))
            .bind(opt_ts(n.lease_until))
            .bind(&n.last_error)
            .bind(ts(n.created_at))
            .bind(opt_ts(n.sent_at))
            .execute(&mut *db)
            .await?;
        }
        Ok(())
    }

    async fn lease_notifications(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let db = self.db();
        let lock = db.dialect().skip_locked(None);
        let ids_1 = db.dialect().in_json_texts("$1");
        let ids: Vec<String> = query_scalar(format!(
            "SELECT id FROM notifications
             WHERE status = 'Pending' AND next_attempt_at <= $1
               AND (lease_until IS NULL OR lease_until <= $1)
             ORDER BY next_attempt_at, id LIMIT $2 {lock}"
        ))
        .bind(ts(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *db)
        .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids_json =
            serde_json::to_string(&ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        query(format!("UPDATE notifications SET lease_until = $2 WHERE id IN {ids_1}"))
            .bind(ids_json.clone())
            .bind(ts(lease_until))
            .execute(&mut *db)
            .await?;
        query(format!("SELECT {COLUMNS} FROM notifications WHERE id IN {ids_1} ORDER BY id"))
            .bind(ids_json)
            .fetch_all(&mut *db)
            .await?
            .iter()
            .map(decode_notification)
            .collect()
    }

    async fn update_notification(&mut self, n: &Notification) -> Result<(), StoreError> {
        let db = self.db();
        query(
            "UPDATE notifications SET status = $2, attempts = $3, next_attempt_at = $4,
                    lease_until = $5, last_error = $6, sent_at = $7
             WHERE id = $1",
        )
        .bind(id(n.id))
        .bind(n.status.name())
        .bind(n.attempts)
        .bind(opt_ts(n.next_attempt_at))
        .bind(opt_ts(n.lease_until))
        .bind(&n.last_error)
        .bind(opt_ts(n.sent_at))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn save_notification_settings(
        &mut self,
        s: &NotificationSettings,
    ) -> Result<(), StoreError> {
        let db = self.db();
        let hours = i32::try_from(s.task_reminder_hours)
            .map_err(|_| StoreError::Corrupt("task_reminder_hours out of range".into()))?;
        query(
            "INSERT INTO notification_settings (org_id, slack_webhook_ciphertext, task_reminder_hours,
                    digest_enabled, disabled_categories_json, disabled_channels_json, mandatory_categories_json)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (org_id) DO UPDATE SET
                 slack_webhook_ciphertext = excluded.slack_webhook_ciphertext,
                 task_reminder_hours = excluded.task_reminder_hours,
                 digest_enabled = excluded.digest_enabled,
                 disabled_categories_json = excluded.disabled_categories_json,
                 disabled_channels_json = excluded.disabled_channels_json,
                 mandatory_categories_json = excluded.mandatory_categories_json",
        )
        .bind(id(s.org_id))
        .bind(s.slack_webhook_ciphertext.as_deref())
        .bind(hours)
        .bind(s.digest_enabled)
        .bind(names(&s.disabled_categories))
        .bind(names(&s.disabled_channels))
        .bind(names(&s.mandatory_categories))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn set_notification_preferences(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        choices: &[NotificationPreference],
    ) -> Result<(), StoreError> {
        let db = self.db();
        for c in choices {
            query(
                "INSERT INTO notification_preferences (org_id, user_id, category, channel, enabled)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (user_id, category, channel) DO UPDATE SET enabled = excluded.enabled",
            )
            .bind(id(org_id))
            .bind(id(user_id))
            .bind(c.category.name())
            .bind(c.channel.name())
            .bind(c.enabled)
            .execute(&mut *db)
            .await?;
        }
        Ok(())
    }

    async fn set_notification_marks(
        &mut self,
        org_id: Uuid,
        marks: &[String],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let db = self.db();
        for mark in marks {
            query(
                "INSERT INTO notification_marks (org_id, mark, at) VALUES ($1, $2, $3)
                 ON CONFLICT (org_id, mark) DO UPDATE SET at = excluded.at",
            )
            .bind(id(org_id))
            .bind(mark.as_str())
            .bind(ts(at))
            .execute(&mut *db)
            .await?;
        }
        Ok(())
    }
}

/// A JSON array of wire names.
fn names<T: WireEnum>(values: &[T]) -> String {
    let names: Vec<&str> = values.iter().map(|v| v.name()).collect();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
}

fn from_names<T: WireEnum>(col: &str, json: &str) -> Result<Vec<T>, StoreError> {
    let names: Vec<String> =
        serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))?;
    names.iter().map(|n| stored_name(col, n)).collect()
}

fn decode_settings(row: &Row) -> Result<NotificationSettings, StoreError> {
    let hours: i32 = row.try_get("task_reminder_hours")?;
    let off_categories: String = row.try_get("disabled_categories_json")?;
    let off_channels: String = row.try_get("disabled_channels_json")?;
    let mandatory: String = row.try_get("mandatory_categories_json")?;
    Ok(NotificationSettings {
        org_id: get_id(row, "org_id")?,
        slack_webhook_ciphertext: row.try_get("slack_webhook_ciphertext")?,
        task_reminder_hours: i64::from(hours),
        digest_enabled: row.try_get("digest_enabled")?,
        disabled_categories: from_names::<NotificationCategory>(
            "disabled_categories_json",
            &off_categories,
        )?,
        disabled_channels: from_names::<NotificationChannel>(
            "disabled_channels_json",
            &off_channels,
        )?,
        mandatory_categories: from_names::<NotificationCategory>(
            "mandatory_categories_json",
            &mandatory,
        )?,
    })
}

fn decode_notification(row: &Row) -> Result<Notification, StoreError> {
    let category: String = row.try_get("category")?;
    let channel: String = row.try_get("channel")?;
    let status: String = row.try_get("status")?;
    Ok(Notification {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        user_id: get_id(row, "user_id")?,
        recipient: row.try_get("recipient")?,
        category: stored_name("category", &category)?,
        channel: stored_name("channel", &channel)?,
        subject: row.try_get("subject")?,
        body_text: row.try_get("body_text")?,
        body_html: row.try_get("body_html")?,
        link: row.try_get("link")?,
        status: stored_name::<NotificationStatus>("status", &status)?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: get_opt_ts(row, "next_attempt_at")?,
        lease_until: get_opt_ts(row, "lease_until")?,
        last_error: row.try_get("last_error")?,
        created_at: get_ts(row, "created_at")?,
        sent_at: get_opt_ts(row, "sent_at")?,
    })
}
