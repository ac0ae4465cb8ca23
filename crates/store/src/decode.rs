//! Decoding rows into domain values, once for both backends.
//!
//! Both backends store the same shapes (ids and timestamps as text, enums as names), so a row
//! decodes the same way whichever database produced it.
use chrono::{DateTime, SecondsFormat, Utc};
use portcullis_domain::{
    Access, AccessLevel, AccessSource, ActorRef, ApiCredential, AuditEvent, Delivery,
    DeliveryAttempt, DeliveryStatus, Organization, PermissionLevel, Policy, PolicyStep,
    ProvisioningMode, Request, RequestStatus, RequestType, Task, TaskKind, TaskStatus, User,
    UserToken, UsersGroup, WebhookSubscription, WorkApp, Workspace, WorkspaceMember, WorkspaceRole,
};
use uuid::Uuid;

use portcullis_domain::wire::WireEnum;

use crate::sql::Row;
use crate::StoreError;

/// A wire enum stored by name.
pub fn stored_name<T: WireEnum>(col: &str, text: &str) -> Result<T, StoreError> {
    T::from_name(text).ok_or_else(|| StoreError::Corrupt(format!("{col}: {} {text}", T::WHAT)))
}

/// A wire enum stored by numeric id.
pub fn stored_id<T: WireEnum>(col: &str, id: i32) -> Result<T, StoreError> {
    T::from_id(id).ok_or_else(|| StoreError::Corrupt(format!("{col}: {} {id}", T::WHAT)))
}

/// RFC 3339 UTC with milliseconds: fixed width, so text order is time order.
pub fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn opt_ts(at: Option<DateTime<Utc>>) -> Option<String> {
    at.map(ts)
}

pub fn id(id: Uuid) -> String {
    id.hyphenated().to_string()
}

pub fn opt_id(id: Option<Uuid>) -> Option<String> {
    id.map(self::id)
}

/// `[["id", 0], ["id", 1], …]`: an ordered list of ids for a set-based insert that keeps the order.
pub fn positioned_ids(ids: &[Uuid]) -> String {
    let rows: Vec<(String, usize)> = ids.iter().enumerate().map(|(i, u)| (id(*u), i)).collect();
    serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into())
}

/// A JSON array of ids, bound as one parameter and expanded by the database (`json_each`,
/// `jsonb_array_elements_text`): set-based lookups of any size in one statement.
pub fn id_array(ids: impl IntoIterator<Item = Uuid>) -> String {
    let ids: Vec<String> = ids.into_iter().map(id).collect();
    serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into())
}

pub fn get_id(row: &Row, col: &str) -> Result<Uuid, StoreError> {
    let text: String = row.try_get(col)?;
    Uuid::parse_str(&text).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub fn get_opt_id(row: &Row, col: &str) -> Result<Option<Uuid>, StoreError> {
    let text: Option<String> = row.try_get(col)?;
    text.map(|t| Uuid::parse_str(&t).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))))
        .transpose()
}

pub fn get_ts(row: &Row, col: &str) -> Result<DateTime<Utc>, StoreError> {
    let text: String = row.try_get(col)?;
    parse_text_ts(col, &text)
}

pub fn get_opt_ts(row: &Row, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    let text: Option<String> = row.try_get(col)?;
    text.map(|t| parse_text_ts(col, &t)).transpose()
}

/// Parses a stored timestamp (fast path for our own format).
pub fn parse_text_ts(col: &str, text: &str) -> Result<DateTime<Utc>, StoreError> {
    if let Some(at) = parse_own_format(text) {
        return Ok(at);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

/// Fast path for the one format we write (`YYYY-MM-DDTHH:MM:SS.mmmZ`): reads are dominated by
/// timestamp decoding, and the general RFC 3339 parser is several times slower.
fn parse_own_format(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    if b.len() != 24
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range]
            .iter()
            .try_fold(0u32, |acc, d| d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0')))
    };
    let date = chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let time = chrono::NaiveTime::from_hms_milli_opt(
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
        num(20..23)?,
    )?;
    Some(DateTime::from_naive_utc_and_offset(date.and_time(time), Utc))
}

pub fn parse_steps(text: &str) -> Result<Vec<PolicyStep>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("steps_json: {e}")))
}

pub fn parse_request_type(text: &str) -> Result<RequestType, StoreError> {
    stored_name::<RequestType>("request_type", text)
}

pub fn access(row: &Row) -> Result<Access, StoreError> {
    let source: String = row.try_get("source")?;
    Ok(Access {
        org_id: get_id(row, "org_id")?,
        user_id: get_id(row, "user_id")?,
        work_app_id: get_id(row, "work_app_id")?,
        permission_level_id: get_opt_id(row, "permission_level_id")?,
        source: stored_name::<AccessSource>("source", &source)?,
        granted_at: get_ts(row, "granted_at")?,
        updated_at: get_ts(row, "updated_at")?,
        expires_at: get_opt_ts(row, "expires_at")?,
    })
}

pub fn api_credential(row: &Row) -> Result<ApiCredential, StoreError> {
    let level: String = row.try_get("access_level")?;
    Ok(ApiCredential {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        name: row.try_get("name")?,
        secret_hash: row.try_get("secret_hash")?,
        access_level: stored_name::<AccessLevel>("access_level", &level)?,
        created_at: get_ts(row, "created_at")?,
        revoked_at: get_opt_ts(row, "revoked_at")?,
    })
}

pub fn user_token(row: &Row) -> Result<UserToken, StoreError> {
    Ok(UserToken {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        user_id: get_id(row, "user_id")?,
        name: row.try_get("name")?,
        secret_hash: row.try_get("secret_hash")?,
        created_at: get_ts(row, "created_at")?,
        expires_at: get_opt_ts(row, "expires_at")?,
        revoked_at: get_opt_ts(row, "revoked_at")?,
    })
}

pub fn users_group(row: &Row) -> Result<UsersGroup, StoreError> {
    Ok(UsersGroup {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        member_count: row.try_get("member_count")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

pub fn organization(row: &Row) -> Result<Organization, StoreError> {
    Ok(Organization {
        id: get_id(row, "id")?,
        name: row.try_get("name")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

pub fn policy(row: &Row) -> Result<Policy, StoreError> {
    let request_type: String = row.try_get("request_type")?;
    let steps: String = row.try_get("steps_json")?;
    Ok(Policy {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        name: row.try_get("name")?,
        request_type: parse_request_type(&request_type)?,
        steps: parse_steps(&steps)?,
        version: row.try_get("current_version")?,
        is_system: row.try_get("is_system")?,
        is_default: row.try_get("is_default")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

pub fn request(row: &Row) -> Result<Request, StoreError> {
    let request_type: String = row.try_get("request_type")?;
    let status: String = row.try_get("status")?;
    Ok(Request {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        request_type: parse_request_type(&request_type)?,
        work_app_id: get_id(row, "work_app_id")?,
        target_user_id: get_opt_id(row, "target_user_id")?,
        permission_level_id: get_opt_id(row, "permission_level_id")?,
        created_by_user_id: get_opt_id(row, "created_by_user_id")?,
        justification: row.try_get("justification")?,
        expires_at: get_opt_ts(row, "expires_at")?,
        status: stored_name::<RequestStatus>("request status", &status)?,
        policy_id: get_id(row, "policy_id")?,
        policy_version: row.try_get("policy_version")?,
        step_count: row.try_get("step_count")?,
        cancelled_by_user_id: get_opt_id(row, "cancelled_by_user_id")?,
        source_group_id: get_opt_id(row, "source_group_id")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

pub fn task(row: &Row) -> Result<Task, StoreError> {
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    Ok(Task {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        request_id: get_id(row, "request_id")?,
        kind: stored_name::<TaskKind>("task kind", &kind)?,
        status: stored_name::<TaskStatus>("task status", &status)?,
        step: row.try_get("step")?,
        assignee_ids: Vec::new(),
        decided_by_user_id: get_opt_id(row, "decided_by_user_id")?,
        decided_at: get_opt_ts(row, "decided_at")?,
        comment: row.try_get("comment")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

pub fn user(row: &Row) -> Result<User, StoreError> {
    let role_id: i32 = row.try_get("role_id")?;
    let status_id: i32 = row.try_get("status_id")?;
    Ok(User {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        role: stored_id("role_id", role_id)?,
        status: stored_id("status_id", status_id)?,
        manager_id: get_opt_id(row, "manager_id")?,
        last_login: get_opt_ts(row, "last_login")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

pub fn subscription(row: &Row) -> Result<WebhookSubscription, StoreError> {
    let events: String = row.try_get("events_json")?;
    Ok(WebhookSubscription {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        target_url: row.try_get("target_url")?,
        events: serde_json::from_str(&events)
            .map_err(|e| StoreError::Corrupt(format!("events_json: {e}")))?,
        description: row.try_get("description")?,
        secret_ciphertext: row.try_get("secret_ciphertext")?,
        enabled: row.try_get("enabled")?,
        failing_since: get_opt_ts(row, "failing_since")?,
        created_at: get_ts(row, "created_at")?,
        deleted_at: get_opt_ts(row, "deleted_at")?,
    })
}

pub fn delivery(row: &Row) -> Result<Delivery, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(Delivery {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        subscription_id: get_id(row, "subscription_id")?,
        event_id: get_id(row, "event_id")?,
        event_type: row.try_get("event_type")?,
        status: stored_name::<DeliveryStatus>("status", &status)?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: get_opt_ts(row, "next_attempt_at")?,
        last_status_code: row.try_get("last_status_code")?,
        last_error: row.try_get("last_error")?,
        created_at: get_ts(row, "created_at")?,
        delivered_at: get_opt_ts(row, "delivered_at")?,
    })
}

pub fn attempt(row: &Row) -> Result<DeliveryAttempt, StoreError> {
    Ok(DeliveryAttempt {
        delivery_id: get_id(row, "delivery_id")?,
        attempt: row.try_get("attempt")?,
        attempted_at: get_ts(row, "attempted_at")?,
        status_code: row.try_get("status_code")?,
        error: row.try_get("error")?,
        duration_ms: row.try_get("duration_ms")?,
    })
}

pub fn audit_event(row: &Row) -> Result<AuditEvent, StoreError> {
    let actor_type: String = row.try_get("actor_type")?;
    let actor_id = get_opt_id(row, "actor_id")?;
    let actor = match (actor_type.as_str(), actor_id) {
        ("credential", Some(id)) => ActorRef::Credential(id),
        ("user", Some(id)) => ActorRef::User(id),
        _ => ActorRef::System,
    };
    Ok(AuditEvent {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        occurred_at: get_ts(row, "occurred_at")?,
        actor,
        action: row.try_get("action")?,
        target_type: row.try_get("target_type")?,
        target_id: get_opt_id(row, "target_id")?,
        before: row.try_get("before_json")?,
        after: row.try_get("after_json")?,
        request_id: row.try_get("request_id")?,
    })
}

pub fn work_app(row: &Row) -> Result<WorkApp, StoreError> {
    let status_id: i32 = row.try_get("status_id")?;
    let mode: String = row.try_get("provisioning_mode")?;
    Ok(WorkApp {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        status: stored_id("status_id", status_id)?,
        provisioning_mode: stored_name::<ProvisioningMode>("provisioning_mode", &mode)?,
        category: row.try_get("category")?,
        url: row.try_get("url")?,
        image_url: row.try_get("image_url")?,
        tag_line: row.try_get("tag_line")?,
        owner_ids: Vec::new(),
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

pub fn permission_level(row: &Row) -> Result<PermissionLevel, StoreError> {
    Ok(PermissionLevel {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        work_app_id: get_id(row, "work_app_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        is_default: row.try_get("is_default")?,
        is_privileged: row.try_get("is_privileged")?,
        created_at: get_ts(row, "created_at")?,
    })
}

pub fn workspace(row: &Row) -> Result<Workspace, StoreError> {
    Ok(Workspace {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        name: row.try_get("name")?,
        created_by_user_id: get_id(row, "created_by_user_id")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
        deleted_at: get_opt_ts(row, "deleted_at")?,
    })
}

pub fn workspace_member(row: &Row) -> Result<WorkspaceMember, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(WorkspaceMember {
        workspace_id: get_id(row, "workspace_id")?,
        user_id: get_id(row, "user_id")?,
        role: stored_name::<WorkspaceRole>("role", &role)?,
        added_at: get_ts(row, "added_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_format_round_trips_and_others_fall_back() {
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 3);
        assert_eq!(parse_text_ts("t", &ts(now)).ok(), Some(now));
        assert_eq!(parse_own_format(&ts(now)), Some(now));
        assert!(parse_own_format("2026-11-23T16:38:08Z").is_none());
        assert!(parse_text_ts("t", "2026-11-23T16:38:08+01:00").is_ok());
        assert!(parse_own_format("2026-13-23T16:38:08.597Z").is_none());
    }
}
