//! Policies, their versions and assignments; the group lookups policies need.
use portcullis_domain::{OrgRole, Page, PageRequest, Policy, PolicyStep, RequestType, UserStatus};
use sqlx::PgConnection;
use uuid::Uuid;

use super::codec::{get_id, id, ts};
use crate::decode::parse_steps;
use crate::decode::policy as from_row;
use crate::StoreError;

fn steps_json(steps: &[PolicyStep]) -> Result<String, StoreError> {
    serde_json::to_string(steps).map_err(|e| StoreError::Corrupt(format!("steps: {e}")))
}

const COLUMNS: &str = "p.id, p.org_id, p.name, p.request_type, p.current_version, p.is_system,
                       p.is_default, p.created_at, p.updated_at, v.steps_json";
const FROM: &str =
    "FROM policies p JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.current_version";

pub async fn insert(conn: &mut PgConnection, policy: &Policy) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO policies (id, org_id, name, request_type, current_version, is_system,
                               is_default, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id(policy.id))
    .bind(id(policy.org_id))
    .bind(&policy.name)
    .bind(policy.request_type.name())
    .bind(policy.version)
    .bind(policy.is_system)
    .bind(policy.is_default)
    .bind(ts(policy.created_at))
    .bind(ts(policy.updated_at))
    .execute(&mut *conn)
    .await?;
    insert_version(conn, policy).await
}

async fn insert_version(conn: &mut PgConnection, policy: &Policy) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO policy_versions (policy_id, version, steps_json, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id(policy.id))
    .bind(policy.version)
    .bind(steps_json(&policy.steps)?)
    .bind(ts(policy.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update(
    conn: &mut PgConnection,
    policy: &Policy,
    new_version: bool,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE policies SET name = $1, current_version = $2, updated_at = $3 WHERE org_id = $4 AND id = $5")
        .bind(&policy.name)
        .bind(policy.version)
        .bind(ts(policy.updated_at))
        .bind(id(policy.org_id))
        .bind(id(policy.id))
        .execute(&mut *conn)
        .await?;
    if new_version {
        insert_version(conn, policy).await
    } else {
        sqlx::query(
            "UPDATE policy_versions SET steps_json = $1 WHERE policy_id = $2 AND version = $3",
        )
        .bind(steps_json(&policy.steps)?)
        .bind(id(policy.id))
        .bind(policy.version)
        .execute(conn)
        .await?;
        Ok(())
    }
}

pub async fn get(
    conn: &mut PgConnection,
    org_id: Uuid,
    policy_id: Uuid,
) -> Result<Option<Policy>, StoreError> {
    sqlx::query(&format!("SELECT {COLUMNS} {FROM} WHERE p.org_id = $1 AND p.id = $2"))
        .bind(id(org_id))
        .bind(id(policy_id))
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn get_steps(
    conn: &mut PgConnection,
    org_id: Uuid,
    policy_id: Uuid,
    version: i32,
) -> Result<Option<Vec<PolicyStep>>, StoreError> {
    let text: Option<String> = sqlx::query_scalar(
        "SELECT v.steps_json FROM policy_versions v JOIN policies p ON p.id = v.policy_id
         WHERE p.org_id = $1 AND v.policy_id = $2 AND v.version = $3",
    )
    .bind(id(org_id))
    .bind(id(policy_id))
    .bind(version)
    .fetch_optional(conn)
    .await?;
    text.as_deref().map(parse_steps).transpose()
}

pub async fn list(
    conn: &mut PgConnection,
    org_id: Uuid,
    request_type: Option<RequestType>,
    page: PageRequest,
) -> Result<Page<Policy>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} {FROM}
         WHERE p.org_id = $1 AND ($2 IS NULL OR p.request_type = $2) AND p.id > $3
         ORDER BY p.id LIMIT $4"
    ))
    .bind(id(org_id))
    .bind(request_type.map(RequestType::name))
    .bind(page.after.map(id).unwrap_or_default())
    .bind(i64::from(page.limit) + 1)
    .fetch_all(conn)
    .await?;
    let policies = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(policies, page.limit, |p| p.id))
}

pub async fn version_in_use(
    conn: &mut PgConnection,
    org_id: Uuid,
    policy_id: Uuid,
    version: i32,
) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM requests WHERE org_id = $1 AND policy_id = $2 AND policy_version = $3)",
    )
    .bind(id(org_id))
    .bind(id(policy_id))
    .bind(version)
    .fetch_one(conn)
    .await?)
}

pub async fn default_for(
    conn: &mut PgConnection,
    org_id: Uuid,
    request_type: RequestType,
) -> Result<Option<Policy>, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} {FROM} WHERE p.org_id = $1 AND p.request_type = $2 AND p.is_default"
    ))
    .bind(id(org_id))
    .bind(request_type.name())
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

pub async fn set_app_policy(
    conn: &mut PgConnection,
    org_id: Uuid,
    app_id: Uuid,
    request_type: RequestType,
    policy_id: Uuid,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO work_app_policies (work_app_id, request_type, policy_id, org_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (work_app_id, request_type) DO UPDATE SET policy_id = excluded.policy_id",
    )
    .bind(id(app_id))
    .bind(request_type.name())
    .bind(id(policy_id))
    .bind(id(org_id))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_level_policy(
    conn: &mut PgConnection,
    org_id: Uuid,
    level_id: Uuid,
    request_type: RequestType,
    policy_id: Uuid,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO permission_level_policies (permission_level_id, request_type, policy_id, org_id)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (permission_level_id, request_type) DO UPDATE SET policy_id = excluded.policy_id",
    )
    .bind(id(level_id))
    .bind(request_type.name())
    .bind(id(policy_id))
    .bind(id(org_id))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn assigned(
    conn: &mut PgConnection,
    org_id: Uuid,
    app_id: Uuid,
    level_id: Option<Uuid>,
    request_type: RequestType,
) -> Result<(Option<Uuid>, Option<Uuid>), StoreError> {
    let level: Option<String> = match level_id {
        Some(level_id) => {
            sqlx::query_scalar(
                "SELECT policy_id FROM permission_level_policies
                 WHERE org_id = $1 AND permission_level_id = $2 AND request_type = $3",
            )
            .bind(id(org_id))
            .bind(id(level_id))
            .bind(request_type.name())
            .fetch_optional(&mut *conn)
            .await?
        }
        None => None,
    };
    let app: Option<String> = sqlx::query_scalar(
        "SELECT policy_id FROM work_app_policies WHERE org_id = $1 AND work_app_id = $2 AND request_type = $3",
    )
    .bind(id(org_id))
    .bind(id(app_id))
    .bind(request_type.name())
    .fetch_optional(conn)
    .await?;
    let parse = |s: Option<String>| {
        s.map(|s| Uuid::parse_str(&s).map_err(|e| StoreError::Corrupt(format!("policy_id: {e}"))))
            .transpose()
    };
    Ok((parse(level)?, parse(app)?))
}

pub async fn group_exists(
    conn: &mut PgConnection,
    org_id: Uuid,
    group_id: Uuid,
) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users_groups WHERE org_id = $1 AND id = $2)",
    )
    .bind(id(org_id))
    .bind(id(group_id))
    .fetch_one(conn)
    .await?)
}

/// Members of a group who can act (active accounts), oldest membership first.
pub async fn group_member_ids(
    conn: &mut PgConnection,
    org_id: Uuid,
    group_id: Uuid,
) -> Result<Vec<Uuid>, StoreError> {
    sqlx::query(
        "SELECT m.user_id FROM users_group_members m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 AND m.group_id = $2 AND u.status_id = $3 ORDER BY m.added_at, m.user_id",
    )
    .bind(id(org_id))
    .bind(id(group_id))
    .bind(UserStatus::Active.id())
    .fetch_all(conn)
    .await?
    .iter()
    .map(|row| get_id(row, "user_id"))
    .collect()
}

pub async fn active_admin_ids(
    conn: &mut PgConnection,
    org_id: Uuid,
) -> Result<Vec<Uuid>, StoreError> {
    sqlx::query(
        "SELECT id FROM users WHERE org_id = $1 AND role_id >= $2 AND status_id = $3 ORDER BY id",
    )
    .bind(id(org_id))
    .bind(OrgRole::Administrator.id())
    .bind(UserStatus::Active.id())
    .fetch_all(conn)
    .await?
    .iter()
    .map(|row| get_id(row, "id"))
    .collect()
}
