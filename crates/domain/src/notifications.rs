//! Notifications: who is told what, on which channel, and the mail and Slack text.
//!
//! A notification is written to the outbox (`notifications` table) in the transaction of the
//! change that causes it, already rendered; the delivery worker (crate `portcullis-notifications`)
//! sends it by e-mail or to the organization's Slack incoming webhook. Nothing secret is ever in
//! one: names, the app, the request type and a link to the console.
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::DomainError;

crate::wire_enum! {
    /// What a notification is about (`category`).
    pub enum NotificationCategory: "notification category", exact {
        /// An approval task opened for the recipient.
        TaskAssigned = 1 => "TaskAssigned",
        /// The recipient's request was approved or declined.
        RequestDecided = 2 => "RequestDecided",
        /// The recipient's request was carried out.
        RequestCompleted = 3 => "RequestCompleted",
        /// An access review the recipient reviews in started.
        ReviewStarted = 4 => "ReviewStarted",
        /// An access review with the recipient's undecided items is due within a day.
        ReviewDueSoon = 5 => "ReviewDueSoon",
        /// A Manual app's action task waits for the recipient (an owner) to carry it out.
        ActionTaskWaiting = 6 => "ActionTaskWaiting",
        /// A task assigned to the recipient has been open longer than `taskReminderHours`.
        TaskReminder = 7 => "TaskReminder",
        /// Once a day: every open task of the recipient.
        Digest = 8 => "Digest",
    }
}

crate::wire_enum! {
    /// How a notification travels (`channel`).
    pub enum NotificationChannel: "notification channel", exact {
        Email = 1 => "Email",
        Slack = 2 => "Slack",
    }
}

crate::wire_enum! {
    /// Where a notification is in its delivery.
    pub enum NotificationStatus: "notification status", exact {
        Pending = 1 => "Pending",
        Sent = 2 => "Sent",
        Failed = 3 => "Failed",
    }
}

/// The default of `taskReminderHours`.
pub const DEFAULT_TASK_REMINDER_HOURS: i64 = 24;
/// The allowed range of `taskReminderHours`.
pub const TASK_REMINDER_HOURS: std::ops::RangeInclusive<i64> = 1..=720;
/// How long before an access review's due date its reviewers are told.
pub const REVIEW_DUE_SOON: Duration = Duration::hours(24);
/// At most one digest per person in this time.
pub const DIGEST_PERIOD: Duration = Duration::hours(24);
/// Delays between attempts after the first; then the notification is given up (`Failed`).
pub const NOTIFICATION_RETRY_SCHEDULE: [Duration; 5] = [
    Duration::minutes(1),
    Duration::minutes(5),
    Duration::minutes(30),
    Duration::hours(2),
    Duration::hours(6),
];

/// When to try again after `attempts` failed attempts, or `None` when the schedule is used up.
pub fn next_retry_at(
    attempts: i32,
    at: DateTime<Utc>,
    schedule: &[Duration],
) -> Option<DateTime<Utc>> {
    let index = usize::try_from(attempts.max(1) - 1).ok()?;
    schedule.get(index).map(|d| at + *d)
}

/// One row of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: Uuid,
    pub org_id: Uuid,
    /// The person it is for.
    pub user_id: Uuid,
    /// Their e-mail address (for `Email`), or their name (for `Slack`, which posts to the
    /// organization's channel).
    pub recipient: String,
    pub category: NotificationCategory,
    pub channel: NotificationChannel,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub link: String,
    pub status: NotificationStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The organization's notification settings (`/api/v1/NotificationSettings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationSettings {
    pub org_id: Uuid,
    /// The Slack incoming-webhook URL, encrypted with the server's master key; never shown.
    pub slack_webhook_ciphertext: Option<Vec<u8>>,
    /// Remind assignees of tasks open longer than this (hours, 1..=720).
    pub task_reminder_hours: i64,
    /// Send each person with open tasks one digest a day.
    pub digest_enabled: bool,
    /// Categories nobody receives.
    pub disabled_categories: Vec<NotificationCategory>,
    /// Channels nobody receives anything on.
    pub disabled_channels: Vec<NotificationChannel>,
    /// Categories people cannot turn off (on every channel that is on for the organization).
    pub mandatory_categories: Vec<NotificationCategory>,
}

impl NotificationSettings {
    /// The settings of an organization that never changed them.
    pub fn defaults(org_id: Uuid) -> Self {
        Self {
            org_id,
            slack_webhook_ciphertext: None,
            task_reminder_hours: DEFAULT_TASK_REMINDER_HOURS,
            digest_enabled: false,
            disabled_categories: Vec::new(),
            disabled_channels: Vec::new(),
            mandatory_categories: Vec::new(),
        }
    }

    /// Does `user` get `category` on `channel`? The organization's switches win; a mandatory
    /// category is always on; otherwise the person's own choice (default on).
    pub fn delivers(
        &self,
        category: NotificationCategory,
        channel: NotificationChannel,
        user_choice: Option<bool>,
    ) -> bool {
        if self.disabled_channels.contains(&channel) || self.disabled_categories.contains(&category)
        {
            return false;
        }
        if category == NotificationCategory::Digest && !self.digest_enabled {
            return false;
        }
        self.mandatory_categories.contains(&category) || user_choice.unwrap_or(true)
    }

    pub fn is_mandatory(&self, category: NotificationCategory) -> bool {
        self.mandatory_categories.contains(&category)
    }
}

/// A change of the organization's notification settings; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct NotificationSettingsPatch {
    /// `Some(None)` removes the Slack URL; `Some(Some(url))` sets it.
    pub slack_webhook_url: Option<Option<String>>,
    pub task_reminder_hours: Option<i64>,
    pub digest_enabled: Option<bool>,
    pub disabled_categories: Option<Vec<NotificationCategory>>,
    pub disabled_channels: Option<Vec<NotificationChannel>>,
    pub mandatory_categories: Option<Vec<NotificationCategory>>,
}

impl NotificationSettingsPatch {
    /// Checks the values (the Slack URL is checked by the caller, against the egress policy).
    pub fn check(&self) -> Result<(), DomainError> {
        if let Some(hours) = self.task_reminder_hours {
            if !TASK_REMINDER_HOURS.contains(&hours) {
                return Err(DomainError::Invalid(format!(
                    "taskReminderHours must be between {} and {}",
                    TASK_REMINDER_HOURS.start(),
                    TASK_REMINDER_HOURS.end()
                )));
            }
        }
        if let (Some(off), Some(mandatory)) =
            (&self.disabled_categories, &self.mandatory_categories)
        {
            if let Some(both) = off.iter().find(|c| mandatory.contains(c)) {
                return Err(DomainError::Invalid(format!(
                    "{both} cannot be both disabled and mandatory"
                )));
            }
        }
        Ok(())
    }

    /// Applies everything but the Slack URL (sealed by the caller).
    pub fn apply(&self, settings: &mut NotificationSettings) -> Result<(), DomainError> {
        self.check()?;
        if let Some(hours) = self.task_reminder_hours {
            settings.task_reminder_hours = hours;
        }
        if let Some(on) = self.digest_enabled {
            settings.digest_enabled = on;
        }
        if let Some(v) = &self.disabled_categories {
            settings.disabled_categories = dedup(v);
        }
        if let Some(v) = &self.disabled_channels {
            settings.disabled_channels = dedup(v);
        }
        if let Some(v) = &self.mandatory_categories {
            settings.mandatory_categories = dedup(v);
        }
        if let Some(both) =
            settings.disabled_categories.iter().find(|c| settings.mandatory_categories.contains(c))
        {
            return Err(DomainError::Invalid(format!(
                "{both} cannot be both disabled and mandatory"
            )));
        }
        Ok(())
    }
}

fn dedup<T: Ord + Copy>(v: &[T]) -> Vec<T> {
    let mut out = v.to_vec();
    out.sort();
    out.dedup();
    out
}

/// One person's choice for one category on one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationPreference {
    pub category: NotificationCategory,
    pub channel: NotificationChannel,
    pub enabled: bool,
}

/// What a notification says, before it is rendered for a channel.
#[derive(Debug, Clone)]
pub struct Message {
    pub subject: String,
    /// Paragraphs of plain text.
    pub lines: Vec<String>,
    /// Where to act (absolute URL into the console).
    pub link: String,
    /// The words of the link ("Open the task").
    pub link_label: String,
}

impl Message {
    /// The plain-text body: greeting, paragraphs, the link.
    pub fn text(&self, name: &str) -> String {
        let mut out = format!("Hello {name},\n\n");
        for line in &self.lines {
            out.push_str(line);
            out.push_str("\n\n");
        }
        out.push_str(&format!("{}: {}\n\n-- \nPortcullis\n", self.link_label, self.link));
        out
    }

    /// The HTML body: the same, escaped.
    pub fn html(&self, name: &str) -> String {
        let mut out = format!(
            "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><p>Hello {},</p>",
            escape_html(name)
        );
        for line in &self.lines {
            out.push_str(&format!("<p>{}</p>", escape_html(line)));
        }
        out.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p><p style=\"color:#666\">Portcullis</p></body></html>",
            escape_html(&self.link),
            escape_html(&self.link_label)
        ));
        out
    }

    /// The Slack text (`mrkdwn`): for whom, the subject, the paragraphs, the link.
    pub fn slack(&self, name: &str) -> String {
        let mut out = format!("*{}* — for {}\n", escape_slack(&self.subject), escape_slack(name));
        for line in &self.lines {
            out.push_str(&escape_slack(line));
            out.push('\n');
        }
        out.push_str(&format!("<{}|{}>", self.link, escape_slack(&self.link_label)));
        out
    }
}

/// `&`, `<`, `>`, `"` and `'` as entities.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Slack's three control characters as entities (so a name cannot make a link or a mention).
pub fn escape_slack(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A subject line: one line, at most 200 characters.
pub fn subject_line(text: &str) -> String {
    let one: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    one.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organization_switches_win_and_mandatory_categories_cannot_be_turned_off() {
        let mut s = NotificationSettings::defaults(Uuid::nil());
        let (task, email, slack) = (
            NotificationCategory::TaskAssigned,
            NotificationChannel::Email,
            NotificationChannel::Slack,
        );
        assert!(s.delivers(task, email, None));
        assert!(!s.delivers(task, email, Some(false)));
        s.mandatory_categories = vec![task];
        assert!(s.delivers(task, email, Some(false)));
        s.disabled_channels = vec![slack];
        assert!(!s.delivers(task, slack, Some(true)));
        assert!(!s.delivers(NotificationCategory::Digest, email, Some(true)));
        s.digest_enabled = true;
        assert!(s.delivers(NotificationCategory::Digest, email, None));
    }

    #[test]
    fn a_patch_refuses_out_of_range_hours_and_a_category_both_off_and_mandatory() {
        let mut s = NotificationSettings::defaults(Uuid::nil());
        let bad = NotificationSettingsPatch { task_reminder_hours: Some(0), ..Default::default() };
        assert!(bad.apply(&mut s).is_err());
        let both = NotificationSettingsPatch {
            disabled_categories: Some(vec![NotificationCategory::Digest]),
            mandatory_categories: Some(vec![NotificationCategory::Digest]),
            ..Default::default()
        };
        assert!(both.apply(&mut s).is_err());
    }

    #[test]
    fn bodies_escape_what_people_typed() {
        let m = Message {
            subject: "Approve <b>".into(),
            lines: vec!["App <script>".into()],
            link: "https://x.example/inbox#task-1".into(),
            link_label: "Open".into(),
        };
        assert!(m.html("A&B").contains("A&amp;B"));
        assert!(m.html("x").contains("App &lt;script&gt;"));
        assert!(m.text("x").contains("Open: https://x.example/inbox#task-1"));
        assert!(m.slack("<!channel>").contains("&lt;!channel&gt;"));
    }

    #[test]
    fn retries_follow_the_schedule_then_stop() {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        let s = NOTIFICATION_RETRY_SCHEDULE;
        assert_eq!(next_retry_at(1, t, &s), Some(t + Duration::minutes(1)));
        assert_eq!(next_retry_at(5, t, &s), Some(t + Duration::hours(6)));
        assert_eq!(next_retry_at(6, t, &s), None);
    }
}
