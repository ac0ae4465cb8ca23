//! Webhook subscriptions, events and deliveries: the rules (event names, URLs, retry schedule).
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::DomainError;

crate::wire_enum! {
    /// Every event type a subscription may ask for. Each but `test` is also an
    /// [`AuditAction`](crate::AuditAction) of the same name: the change's audit row and its
    /// event are written together.
    pub enum EventType: "event type", exact {
        Test = 1 => "test",
        ActionTaskActionable = 2 => "action_task.actionable",
        RequestCreated = 3 => "request.created",
        RequestApproved = 4 => "request.approved",
        RequestDeclined = 5 => "request.declined",
        RequestCompleted = 6 => "request.completed",
        RequestCancelled = 7 => "request.cancelled",
        RequestFailed = 8 => "request.failed",
        TaskCreated = 9 => "task.created",
        AccessGranted = 10 => "access.granted",
        AccessChanged = 11 => "access.changed",
        AccessRemoved = 12 => "access.removed",
        AccessExpired = 13 => "access.expired",
        GroupMemberAdded = 14 => "group.member_added",
        GroupMemberRemoved = 15 => "group.member_removed",
        WorkspaceMemberAdded = 16 => "workspace.member_added",
        WorkspaceMemberRoleChanged = 17 => "workspace.member_role_changed",
        WorkspaceMemberRemoved = 18 => "workspace.member_removed",
        UserInvited = 19 => "user.invited",
    }
}

/// Delay before each retry, after the first immediate attempt (about: 5 s, 5 min, 30 min, 2 h,
/// 5 h, 10 h, 10 h). After the last one the delivery is given up.
pub const DEFAULT_RETRY_SCHEDULE: &[Duration] = &[
    Duration::seconds(5),
    Duration::minutes(5),
    Duration::minutes(30),
    Duration::hours(2),
    Duration::hours(5),
    Duration::hours(10),
    Duration::hours(10),
];

/// A subscription failing for this long is disabled.
pub const DISABLE_AFTER: Duration = Duration::days(5);

/// When to try again after `attempts_made` failed attempts, or `None` to give up.
pub fn next_attempt_at(
    schedule: &[Duration],
    attempts_made: u32,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let index = (attempts_made as usize).checked_sub(1)?;
    schedule.get(index).map(|delay| now + *delay)
}

/// Should a subscription that has failed since `failing_since` be disabled now?
pub fn should_disable(failing_since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    failing_since.is_some_and(|since| now - since >= DISABLE_AFTER)
}

/// Target URLs are absolute http(s) URLs with a host.
pub fn validate_target_url(url: &str) -> Result<String, DomainError> {
    crate::validate::http_url("targetUrl", url)
}

/// Events must be known types; duplicates collapse; at least one.
pub fn validate_events(events: &[String]) -> Result<Vec<String>, DomainError> {
    if events.is_empty() {
        return Err(DomainError::invalid("events must name at least one event type"));
    }
    let mut out: Vec<String> = Vec::new();
    for event in events {
        if EventType::from_name(event).is_none() {
            let known: Vec<&str> = EventType::ALL.iter().map(|t| t.name()).collect();
            return Err(DomainError::invalid(format!(
                "unknown event type '{event}'; known types: {}",
                known.join(", ")
            )));
        }
        if !out.contains(event) {
            out.push(event.clone());
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSubscription {
    pub id: Uuid,
    pub org_id: Uuid,
    pub target_url: String,
    pub events: Vec<String>,
    pub description: String,
    /// The signing secret, encrypted at rest.
    pub secret_ciphertext: Vec<u8>,
    pub enabled: bool,
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// One event in the outbox, written in the transaction of the change it describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    pub id: Uuid,
    pub org_id: Uuid,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    /// JSON object.
    pub data: String,
}

crate::wire_enum! {
    pub enum DeliveryStatus: "delivery status", exact {
        Pending = 1 => "Pending",
        Delivered = 2 => "Delivered",
        Failed = 3 => "Failed",
    }
}

/// One event to one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: Uuid,
    pub org_id: Uuid,
    pub subscription_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// One try of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub delivery_id: Uuid,
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_but_test_is_published_by_the_audit_action_of_its_name() {
        for event in EventType::ALL {
            let action = crate::AuditAction::from_name(event.name());
            assert_eq!(action.is_some(), event != EventType::Test, "{event}");
            assert_eq!(
                action.and_then(|a| a.event_type()),
                (event != EventType::Test).then_some(event)
            );
        }
    }

    #[test]
    fn urls_must_be_http_or_https_with_a_host() {
        assert!(validate_target_url("https://example.com/hook").is_ok());
        assert!(validate_target_url("http://127.0.0.1:9000").is_ok());
        for bad in [
            "ftp://x",
            "file:///etc/passwd",
            "https://",
            "javascript:alert(1)",
            "example.com",
            "http:// x",
        ] {
            assert!(validate_target_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn retry_schedule_follows_the_spec_then_gives_up() {
        let now = Utc::now();
        let s = DEFAULT_RETRY_SCHEDULE;
        assert_eq!(next_attempt_at(s, 1, now), Some(now + Duration::seconds(5)));
        assert_eq!(next_attempt_at(s, 2, now), Some(now + Duration::minutes(5)));
        assert_eq!(next_attempt_at(s, 7, now), Some(now + Duration::hours(10)));
        assert_eq!(next_attempt_at(s, 8, now), None);
        assert_eq!(next_attempt_at(s, 0, now), None);
    }

    #[test]
    fn five_days_of_failure_disable() {
        let now = Utc::now();
        assert!(!should_disable(None, now));
        assert!(!should_disable(Some(now - Duration::days(4)), now));
        assert!(should_disable(Some(now - Duration::days(5)), now));
    }

    #[test]
    fn events_are_validated_and_deduplicated() {
        let e = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(validate_events(&e(&["test", "test"])).unwrap(), e(&["test"]));
        assert!(validate_events(&e(&[])).is_err());
        assert!(validate_events(&e(&["user.exploded"])).is_err());
        assert_eq!(crate::AuditAction::AccessGranted.event_type(), Some(EventType::AccessGranted));
        assert_eq!(crate::AuditAction::UserCreated.event_type(), None);
    }
}
