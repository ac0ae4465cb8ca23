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
        AccessReviewCreated = 20 => "access_review.created",
        AccessReviewItemDecided = 21 => "access_review.item_decided",
        AccessReviewClosed = 22 => "access_review.closed",
        AccessReviewOverdue = 23 => "access_review.overdue",
        UserOffboarded = 24 => "user.offboarded",
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

/// A valid target URL parsed as the HTTP client parses it (WHATWG URL rules), with the host
/// that the egress policy judges.
pub fn parse_target_url(url: &str) -> Result<(url::Url, crate::egress::TargetHost), DomainError> {
    let invalid = || DomainError::invalid("targetUrl must be an absolute URL with a host");
    let parsed = url::Url::parse(url).map_err(|_| invalid())?;
    let host = crate::egress::TargetHost::of(&parsed).ok_or_else(invalid)?;
    Ok((parsed, host))
}

/// What replaces a credential in a shown URL.
pub const MASK: &str = "***";

/// A target URL as it is shown (API answers, the console, audit snapshots) when it carries
/// credentials: the userinfo's password (or, without a password, the user name) and the values
/// of secret-looking query parameters are replaced by `***`; scheme, host, port and path stay
/// visible. `None` when there is nothing to hide; the URL is then stored and shown as given.
pub fn masked_target_url(url: &str) -> Option<String> {
    let mut parsed = url::Url::parse(url).ok()?;
    let mut masked = false;
    if parsed.password().is_some() {
        masked = parsed.set_password(Some(MASK)).is_ok();
    } else if !parsed.username().is_empty() {
        masked = parsed.set_username(MASK).is_ok();
    }
    if let Some(query) = parsed.query() {
        let mut hidden = false;
        let parts: Vec<String> = query
            .split('&')
            .map(|part| match part.split_once('=') {
                Some((name, value)) if !value.is_empty() && secret_looking(name) => {
                    hidden = true;
                    format!("{name}={MASK}")
                }
                _ => part.to_string(),
            })
            .collect();
        if hidden {
            parsed.set_query(Some(&parts.join("&")));
            masked = true;
        }
    }
    masked.then(|| parsed.to_string())
}

/// Does a query parameter of this name carry a secret (`token`, `api_key`, `sig`, …)?
fn secret_looking(name: &str) -> bool {
    const CONTAINED: &[&str] = &[
        "token",
        "secret",
        "passw",
        "pwd",
        "auth",
        "credential",
        "signature",
        "session",
        "apikey",
        "api_key",
        "api-key",
        "jwt",
        "bearer",
        "private",
    ];
    const WHOLE: &[&str] = &["pass", "sig", "code", "hmac"];
    let name: String = url::form_urlencoded::parse(format!("{name}=").as_bytes())
        .next()
        .map(|(n, _)| n.to_ascii_lowercase())
        .unwrap_or_default();
    CONTAINED.iter().any(|c| name.contains(c))
        || WHOLE.contains(&name.as_str())
        || name.ends_with("key")
}

/// The per-subscription circuit breaker: after `threshold` consecutive failed attempts the
/// subscription's deliveries pause (none is leased, none holds a slot), for `base_pause`, doubling
/// with each further failure up to `max_pause`. After a pause a single delivery probes the
/// receiver; a success closes the circuit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitBreaker {
    pub threshold: u32,
    pub base_pause: Duration,
    pub max_pause: Duration,
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        Self { threshold: 5, base_pause: Duration::seconds(30), max_pause: Duration::minutes(15) }
    }
}

impl CircuitBreaker {
    /// How long to pause after `failures` consecutive failures, or `None` below the threshold.
    pub fn pause_after(&self, failures: u32) -> Option<Duration> {
        let beyond = failures.checked_sub(self.threshold.max(1))?;
        let factor = 1i32.checked_shl(beyond.min(30)).unwrap_or(i32::MAX);
        Some(
            self.base_pause
                .checked_mul(factor)
                .map_or(self.max_pause, |pause| pause.min(self.max_pause)),
        )
    }
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

/// How much one lease of due deliveries may take, and the fairness caps it keeps. The caps count
/// every delivery leased at the time (by any worker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseLimits {
    /// At most this many deliveries in all.
    pub total: u32,
    /// Leased at once per subscription.
    pub per_subscription: u32,
    /// Leased at once per organization.
    pub per_organization: u32,
    /// A subscription with at least this many failed attempts in a row gets one delivery at a
    /// time (the probe of a half-open circuit).
    pub probe_after_failures: u32,
}

/// Shares one lease among the organizations and subscriptions that have due deliveries: the
/// organizations take turns, one delivery per turn, the least busy first; within an
/// organization its subscriptions take turns the same way. Nobody goes beyond its cap, so one
/// organization's backlog (or its slow receivers, which keep their deliveries leased) cannot
/// take the slots another organization needs.
#[derive(Debug, Clone)]
pub struct LeasePlan {
    limits: LeaseLimits,
    busy_org: std::collections::HashMap<Uuid, i64>,
    busy_sub: std::collections::HashMap<Uuid, i64>,
    /// (organization, subscription, failures in a row), in the order given.
    candidates: Vec<(Uuid, Uuid, i32)>,
}

impl LeasePlan {
    pub fn new(limits: LeaseLimits) -> Self {
        Self {
            limits,
            busy_org: Default::default(),
            busy_sub: Default::default(),
            candidates: Vec::new(),
        }
    }

    /// `n` deliveries of this subscription are leased right now.
    pub fn busy(&mut self, org_id: Uuid, sub_id: Uuid, n: i64) {
        *self.busy_org.entry(org_id).or_default() += n;
        *self.busy_sub.entry(sub_id).or_default() += n;
    }

    /// This subscription has due deliveries.
    pub fn candidate(&mut self, org_id: Uuid, sub_id: Uuid, failures_in_a_row: i32) {
        self.candidates.push((org_id, sub_id, failures_in_a_row));
    }

    /// How many deliveries to lease from each subscription: `(subscription, n)`, `n > 0`.
    pub fn allocate(&self) -> Vec<(Uuid, u32)> {
        let limits = self.limits;
        let room = |cap: u32, busy: i64| (i64::from(cap) - busy).max(0);
        let mut orgs: Vec<Turns> = Vec::new();
        for &(org_id, sub_id, failures) in &self.candidates {
            let cap = if u32::try_from(failures).unwrap_or(0) >= limits.probe_after_failures {
                1
            } else {
                limits.per_subscription
            };
            let sub_room = room(cap, self.busy_sub.get(&sub_id).copied().unwrap_or(0));
            if sub_room == 0 {
                continue;
            }
            let index = match orgs.iter().position(|o| o.org_id == org_id) {
                Some(index) => index,
                None => {
                    let busy = self.busy_org.get(&org_id).copied().unwrap_or(0);
                    let room = room(limits.per_organization, busy);
                    orgs.push(Turns { busy, org_id, room, subs: Vec::new(), next: 0 });
                    orgs.len() - 1
                }
            };
            orgs[index].subs.push((sub_room, sub_id));
        }
        // The least busy organization first; within one, the subscription with most room.
        orgs.sort_by_key(|o| (o.busy, o.org_id));
        for org in &mut orgs {
            org.subs.sort_by_key(|&(sub_room, sub_id)| (std::cmp::Reverse(sub_room), sub_id));
        }
        let mut given: Vec<(Uuid, u32)> = Vec::new();
        let mut left = limits.total;
        let mut progress = true;
        while left > 0 && progress {
            progress = false;
            for org in &mut orgs {
                if left == 0 {
                    break;
                }
                if let Some(sub_id) = org.take_turn() {
                    left -= 1;
                    progress = true;
                    match given.iter_mut().find(|(id, _)| *id == sub_id) {
                        Some((_, n)) => *n += 1,
                        None => given.push((sub_id, 1)),
                    }
                }
            }
        }
        given
    }
}

/// One organization in a [`LeasePlan`]: what it holds, its room, its subscriptions' rooms and
/// whose turn is next.
#[derive(Debug)]
struct Turns {
    busy: i64,
    org_id: Uuid,
    room: i64,
    subs: Vec<(i64, Uuid)>,
    next: usize,
}

impl Turns {
    /// One delivery for the next subscription (in turn) that still has room, if the
    /// organization has room.
    fn take_turn(&mut self) -> Option<Uuid> {
        if self.room == 0 {
            return None;
        }
        let n = self.subs.len();
        let slot = (0..n).map(|k| (self.next + k) % n).find(|&i| self.subs[i].0 > 0)?;
        self.subs[slot].0 -= 1;
        self.room -= 1;
        self.next = slot + 1;
        Some(self.subs[slot].1)
    }
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
    /// When `target_url` is the masked form of a URL with credentials: the real URL, encrypted
    /// at rest (deliveries use it; nothing shows it).
    pub target_url_ciphertext: Option<Vec<u8>>,
    /// Failed attempts in a row (0 after a success): the circuit breaker's count.
    pub consecutive_failures: i32,
    /// While the circuit is open: no delivery of the subscription is leased before this time.
    pub paused_until: Option<DateTime<Utc>>,
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

/// One POST to one subscription, carrying one or more events (a batch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: Uuid,
    pub org_id: Uuid,
    pub subscription_id: Uuid,
    /// The first event's id and type (a delivery of one event is described by them alone).
    pub event_id: Uuid,
    pub event_type: String,
    /// Every event the POST carries, in the order of the body (the first is `event_id`).
    pub event_ids: Vec<Uuid>,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// Most events one POST carries.
pub const MAX_BATCH_EVENTS: usize = 100;

/// Most bytes of body one POST carries; a single event larger than this still goes, alone.
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

/// One event as it appears in a request body: `{id, eventType, occurredAt, data}`, serialized.
/// Built from the stored event alone, so a retry's body is byte for byte the first one's.
pub fn event_json(event: &WebhookEvent) -> String {
    let data: serde_json::Value = serde_json::from_str(&event.data).unwrap_or_default();
    serde_json::json!({
        "id": event.id,
        "eventType": event.event_type,
        "occurredAt": event.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string()
}

/// The request body of a POST: the JSON array of its events, in order.
pub fn batch_body(events: &[WebhookEvent]) -> Vec<u8> {
    let mut body = Vec::with_capacity(2 + events.len() * 256);
    body.push(b'[');
    for (i, event) in events.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(event_json(event).as_bytes());
    }
    body.push(b']');
    body
}

/// Splits a subscription's events, in order, into POSTs: given each event's serialized size
/// ([`event_json`]), the number of events in each consecutive batch. A batch takes events while
/// it holds fewer than `max_events` and its body (`[`, the events separated by `,`, `]`) stays
/// within `max_bytes`; an event too large for any batch goes alone. Order is kept: batch k
/// holds events strictly before those of batch k + 1.
pub fn split_batches(sizes: &[usize], max_events: usize, max_bytes: usize) -> Vec<usize> {
    let mut batches = Vec::new();
    let (mut count, mut bytes) = (0usize, 0usize);
    for &size in sizes {
        // The body with this event added: brackets, or one more comma.
        let grown = if count == 0 { 2 + size } else { bytes + 1 + size };
        if count > 0 && (count >= max_events || grown > max_bytes) {
            batches.push(count);
            count = 1;
            bytes = 2 + size;
        } else {
            count += 1;
            bytes = grown;
        }
    }
    if count > 0 {
        batches.push(count);
    }
    batches
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
    fn batches_stop_at_the_event_cap_and_the_byte_cap() {
        assert_eq!(split_batches(&[], 100, 1000), Vec::<usize>::new());
        assert_eq!(split_batches(&[10; 250], 100, usize::MAX), vec![100, 100, 50]);
        // [a,b] = 2 + 10 + 1 + 10 = 23 bytes fits in 23, a third event does not.
        assert_eq!(split_batches(&[10, 10, 10], 100, 23), vec![2, 1]);
        assert_eq!(split_batches(&[10, 10, 10], 100, 22), vec![1, 1, 1]);
        // An event larger than the cap goes alone, and does not hold up its neighbours.
        assert_eq!(split_batches(&[5, 5000, 5, 5], 100, 100), vec![1, 1, 2]);
    }

    proptest::proptest! {
        #[test]
        fn batches_keep_every_event_once_in_order_within_the_caps(
            sizes in proptest::collection::vec(1usize..400, 0..500),
            max_events in 1usize..120,
            max_bytes in 1usize..3000,
        ) {
            let batches = split_batches(&sizes, max_events, max_bytes);
            proptest::prop_assert_eq!(batches.iter().sum::<usize>(), sizes.len());
            let mut start = 0;
            for &n in &batches {
                let part = &sizes[start..start + n];
                let body = 2 + part.iter().sum::<usize>() + n - 1;
                proptest::prop_assert!(n >= 1 && n <= max_events);
                proptest::prop_assert!(n == 1 || body <= max_bytes, "{body} > {max_bytes}");
                // Greedy: the next event would not have fitted.
                if let Some(&next) = sizes.get(start + n) {
                    proptest::prop_assert!(n == max_events || body + 1 + next > max_bytes);
                }
                start += n;
            }
        }
    }

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
    fn credentials_in_target_urls_are_masked_keeping_the_host() {
        for (url, shown) in [
            ("https://user:pass@hooks.example.com/in", "https://user:***@hooks.example.com/in"),
            (
                "https://user:p%40ss@hooks.example.com:8443/",
                "https://user:***@hooks.example.com:8443/",
            ),
            ("https://tok3n@hooks.example.com/x", "https://***@hooks.example.com/x"),
            ("https://:pw@hooks.example.com/", "https://:***@hooks.example.com/"),
            (
                "https://h.example/in?token=abc&x=1&api_key=k&sig=s",
                "https://h.example/in?token=***&x=1&api_key=***&sig=***",
            ),
            ("https://h.example/in?Access%5FToken=abc", "https://h.example/in?Access%5FToken=***"),
            ("https://h.example/?X-Api-Key=abc&page=2", "https://h.example/?X-Api-Key=***&page=2"),
            (
                "https://h.example/?code=1&client_secret=2",
                "https://h.example/?code=***&client_secret=***",
            ),
            ("https://u:p@h.example/?password=x", "https://u:***@h.example/?password=***"),
        ] {
            assert_eq!(masked_target_url(url).as_deref(), Some(shown), "{url}");
            assert!(!masked_target_url(url).unwrap().contains("abc"));
        }
        for plain in [
            "https://hooks.example.com/in",
            "https://h.example/in?page=2&sort=name",
            "https://h.example/in?token=",
            "https://h.example/in?token",
        ] {
            assert_eq!(masked_target_url(plain), None, "{plain}");
        }
    }

    #[test]
    fn the_circuit_opens_at_the_threshold_and_backs_off_exponentially_to_a_cap() {
        let c = CircuitBreaker::default();
        assert_eq!(c.pause_after(0), None);
        assert_eq!(c.pause_after(4), None);
        assert_eq!(c.pause_after(5), Some(Duration::seconds(30)));
        assert_eq!(c.pause_after(6), Some(Duration::seconds(60)));
        assert_eq!(c.pause_after(7), Some(Duration::seconds(120)));
        assert_eq!(c.pause_after(10), Some(Duration::minutes(15)));
        assert_eq!(c.pause_after(u32::MAX), Some(Duration::minutes(15)));
    }

    fn ids(n: usize) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = (0..n).map(|_| crate::new_id()).collect();
        ids.sort();
        ids
    }

    const LIMITS: LeaseLimits = LeaseLimits {
        total: 10,
        per_subscription: 4,
        per_organization: 6,
        probe_after_failures: 5,
    };

    fn total(given: &[(Uuid, u32)], subs: &[Uuid]) -> u32 {
        given.iter().filter(|(id, _)| subs.contains(id)).map(|(_, n)| n).sum()
    }

    #[test]
    fn a_lease_is_shared_by_turns_within_every_cap() {
        let (flood, calm) = (crate::new_id(), crate::new_id());
        let flood_subs = ids(50);
        let calm_sub = crate::new_id();
        let mut plan = LeasePlan::new(LIMITS);
        for sub in &flood_subs {
            plan.candidate(flood, *sub, 0);
        }
        plan.candidate(calm, calm_sub, 0);
        let given = plan.allocate();
        // Both organizations get turns: the calm one up to its subscription's cap, the flood up
        // to its organization's cap, spread over its subscriptions one at a time.
        assert_eq!(total(&given, &[calm_sub]), 4);
        assert_eq!(total(&given, &flood_subs), 6);
        assert!(given.iter().all(|(_, n)| *n <= 4));
        assert!(given.iter().filter(|(id, _)| flood_subs.contains(id)).all(|(_, n)| *n == 1));
    }

    #[test]
    fn what_is_already_leased_counts_against_the_caps() {
        let (flood, calm) = (crate::new_id(), crate::new_id());
        let flood_subs = ids(3);
        let calm_sub = crate::new_id();
        let mut plan = LeasePlan::new(LIMITS);
        // The flooding organization already holds its six (three receivers hanging).
        for sub in &flood_subs {
            plan.busy(flood, *sub, 2);
            plan.candidate(flood, *sub, 0);
        }
        plan.busy(calm, calm_sub, 3);
        plan.candidate(calm, calm_sub, 0);
        assert_eq!(plan.allocate(), vec![(calm_sub, 1)]);
        // The least busy organization takes the first turn when the lease is short.
        let other = crate::new_id();
        let mut plan = LeasePlan::new(LeaseLimits { total: 1, ..LIMITS });
        plan.busy(flood, flood_subs[0], 1);
        plan.candidate(flood, flood_subs[0], 0);
        plan.candidate(other, calm_sub, 0);
        assert_eq!(plan.allocate(), vec![(calm_sub, 1)]);
    }

    #[test]
    fn a_failing_subscription_gets_one_probe_at_a_time() {
        let org = crate::new_id();
        let [failing, healthy] = ids(2)[..] else { unreachable!() };
        let mut plan = LeasePlan::new(LIMITS);
        plan.candidate(org, failing, 5);
        plan.candidate(org, healthy, 4);
        let given = plan.allocate();
        assert_eq!(total(&given, &[failing]), 1);
        assert_eq!(total(&given, &[healthy]), 4);
        let mut plan = LeasePlan::new(LIMITS);
        plan.busy(org, failing, 1);
        plan.candidate(org, failing, 9);
        assert_eq!(plan.allocate(), vec![]);
    }

    #[test]
    fn the_total_is_never_exceeded_and_nothing_is_given_twice() {
        let orgs = ids(7);
        let mut plan = LeasePlan::new(LeaseLimits { total: 25, ..LIMITS });
        let mut subs = Vec::new();
        for org in &orgs {
            for sub in ids(3) {
                plan.candidate(*org, sub, 0);
                subs.push(sub);
            }
        }
        let given = plan.allocate();
        assert_eq!(total(&given, &subs), 25);
        let mut seen: Vec<Uuid> = given.iter().map(|(id, _)| *id).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), given.len());
        // 25 turns over 7 organizations: each gets 3 or 4.
        for org_subs in subs.chunks(3) {
            assert!((3..=4).contains(&total(&given, org_subs)), "{given:?}");
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
