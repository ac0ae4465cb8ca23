//! Accesses: set-based bulk upsert (JSON arrays expanded with `json_each`), listings, expiry.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use portcullis_domain::workapp::{AppFacts, GrantEntry, GrantFacts};
use portcullis_domain::{
    Access, AccessDetail, AccessSource, OrgRole, Page, PageRequest, User, UserStatus, WorkAppStatus,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::codec::{get_id, get_opt_id, get_opt_ts, get_ts, id, id_array, opt_id, opt_ts, ts};
pub(super) use crate::decode::access as from_row;
use crate::StoreError;

const COLUMNS: &str = "x.work_app_id, x.user_id, x.org_id, x.permission_level_id, x.source,
                       x.granted_at, x.updated_at, x.expires_at";

/// `[[app, user, level|null, expires|null], ...]`
fn rows_json(rows: &[GrantEntry]) -> String {
    let mut out = String::with_capacity(rows.len() * 130 + 2);
    out.push('[');
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let quoted =
            |s: Option<String>| s.map_or_else(|| "null".to_string(), |s| format!("\"{s}\""));
        out.push_str(&format!(
            "[\"{}\",\"{}\",{},{}]",
            id(r.work_app_id),
            id(r.user_id),
            quoted(opt_id(r.permission_level_id)),
            quoted(opt_ts(r.expires_at)),
        ));
    }
    out.push(']');
    out
}

pub async fn grant_facts(
    conn: &mut PgConnection,
    org_id: Uuid,
    entries: &[GrantEntry],
) -> Result<GrantFacts, StoreError> {
    let mut facts = GrantFacts::default();
    let app_ids = id_array(entries.iter().map(|e| e.work_app_id));
    for row in sqlx::query(
        "SELECT a.id, a.status_id,
                EXISTS (SELECT 1 FROM permission_levels l WHERE l.work_app_id = a.id) AS has_levels
         FROM work_apps a
         WHERE a.org_id = $1 AND a.id IN (SELECT value FROM jsonb_array_elements_text($2::jsonb) AS t(value))",
    )
    .bind(id(org_id))
    .bind(app_ids)
    .fetch_all(&mut *conn)
    .await?
    {
        let status: i32 = row.try_get("status_id")?;
        facts.apps.insert(
            get_id(&row, "id")?,
            AppFacts {
                has_levels: row.try_get("has_levels")?,
                archived: status == WorkAppStatus::Archived.id(),
            },
        );
    }
    for row in sqlx::query(
        "SELECT id FROM users WHERE org_id = $1 AND id IN (SELECT value FROM jsonb_array_elements_text($2::jsonb) AS t(value))",
    )
    .bind(id(org_id))
    .bind(id_array(entries.iter().map(|e| e.user_id)))
    .fetch_all(&mut *conn)
    .await?
    {
        facts.users.insert(get_id(&row, "id")?);
    }
    for row in sqlx::query(
        "SELECT id, work_app_id FROM permission_levels
         WHERE org_id = $1 AND id IN (SELECT value FROM jsonb_array_elements_text($2::jsonb) AS t(value))",
    )
    .bind(id(org_id))
    .bind(id_array(entries.iter().filter_map(|e| e.permission_level_id)))
    .fetch_all(conn)
    .await?
    {
        facts.levels.insert(get_id(&row, "id")?, get_id(&row, "work_app_id")?);
    }
    Ok(facts)
}

pub async fn upsert(
    conn: &mut PgConnection,
    org_id: Uuid,
    rows: &[GrantEntry],
    source: AccessSource,
    now: DateTime<Utc>,
) -> Result<Vec<Access>, StoreError> {
    let json = rows_json(rows);
    let previous = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM jsonb_array_elements($1::jsonb) AS j(value)
         JOIN accesses x ON x.work_app_id = (j.value->>0)
                        AND x.user_id = (j.value->>1)
         WHERE x.org_id = $2"
    ))
    .bind(&json)
    .bind(id(org_id))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(from_row)
    .collect::<Result<Vec<_>, _>>()?;
    let now = ts(now);
    // `WHERE true` disambiguates SQLite's INSERT ... SELECT ... ON CONFLICT grammar.
    sqlx::query(
        "INSERT INTO accesses (work_app_id, user_id, org_id, permission_level_id, source,
                               granted_at, updated_at, expires_at)
         SELECT (value->>0), (value->>1), $1,
                (value->>2), $2, $3, $4, (value->>3)
         FROM jsonb_array_elements($5::jsonb) AS t(value) WHERE true
         ON CONFLICT (work_app_id, user_id) DO UPDATE SET
             permission_level_id = excluded.permission_level_id,
             source = excluded.source,
             granted_at = CASE WHEN accesses.expires_at IS NOT NULL
                                    AND accesses.expires_at <= excluded.updated_at
                               THEN excluded.granted_at ELSE accesses.granted_at END,
             updated_at = excluded.updated_at,
             expires_at = excluded.expires_at",
    )
    .bind(id(org_id))
    .bind(source.name())
    .bind(&now)
    .bind(&now)
    .bind(&json)
    .execute(conn)
    .await?;
    Ok(previous)
}

pub async fn count_live(
    conn: &mut PgConnection,
    org_id: Uuid,
    app_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, i64>, StoreError> {
    let rows = sqlx::query(
        "SELECT work_app_id, COUNT(*) AS n FROM accesses
         WHERE org_id = $1 AND work_app_id IN (SELECT value FROM jsonb_array_elements_text($2::jsonb) AS t(value))
           AND (expires_at IS NULL OR expires_at > $3)
         GROUP BY work_app_id",
    )
    .bind(id(org_id))
    .bind(id_array(app_ids.iter().copied()))
    .bind(ts(now))
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok((get_id(row, "work_app_id")?, row.try_get("n")?))).collect()
}

pub async fn get(
    conn: &mut PgConnection,
    org_id: Uuid,
    app_id: Uuid,
    user_id: Uuid,
) -> Result<Option<Access>, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM accesses x WHERE x.org_id = $1 AND x.work_app_id = $2 AND x.user_id = $3"
    ))
    .bind(id(org_id))
    .bind(id(app_id))
    .bind(id(user_id))
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

fn user_from_prefixed(row: &PgRow) -> Result<User, StoreError> {
    let role_id: i32 = row.try_get("u_role_id")?;
    let status_id: i32 = row.try_get("u_status_id")?;
    Ok(User {
        id: get_id(row, "u_id")?,
        org_id: get_id(row, "u_org_id")?,
        name: row.try_get("u_name")?,
        email: row.try_get("u_email")?,
        role: OrgRole::from_id(role_id)
            .ok_or_else(|| StoreError::Corrupt(format!("role_id {role_id}")))?,
        status: UserStatus::from_id(status_id)
            .ok_or_else(|| StoreError::Corrupt(format!("status_id {status_id}")))?,
        manager_id: get_opt_id(row, "u_manager_id")?,
        last_login: get_opt_ts(row, "u_last_login")?,
        created_at: get_ts(row, "u_created_at")?,
        updated_at: get_ts(row, "u_updated_at")?,
    })
}

fn level_from_prefixed(
    row: &PgRow,
) -> Result<Option<portcullis_domain::PermissionLevel>, StoreError> {
    let Some(level_id) = get_opt_id(row, "l_id")? else { return Ok(None) };
    Ok(Some(portcullis_domain::PermissionLevel {
        id: level_id,
        org_id: get_id(row, "org_id")?,
        work_app_id: get_id(row, "work_app_id")?,
        name: row.try_get("l_name")?,
        description: row.try_get("l_description")?,
        is_default: row.try_get("l_is_default")?,
        is_privileged: row.try_get("l_is_privileged")?,
        created_at: get_ts(row, "l_created_at")?,
    }))
}

pub async fn list(
    conn: &mut PgConnection,
    org_id: Uuid,
    app_id: Uuid,
    page: PageRequest,
    now: DateTime<Utc>,
) -> Result<Page<AccessDetail>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS},
                u.id AS u_id, u.org_id AS u_org_id, u.name AS u_name, u.email AS u_email,
                u.role_id AS u_role_id, u.status_id AS u_status_id, u.manager_id AS u_manager_id,
                u.last_login AS u_last_login, u.created_at AS u_created_at, u.updated_at AS u_updated_at,
                l.id AS l_id, l.name AS l_name, l.description AS l_description,
                l.is_default AS l_is_default, l.is_privileged AS l_is_privileged,
                l.created_at AS l_created_at
         FROM accesses x
         JOIN users u ON u.id = x.user_id
         LEFT JOIN permission_levels l ON l.id = x.permission_level_id
         WHERE x.org_id = $1 AND x.work_app_id = $2 AND x.user_id > $3
           AND (x.expires_at IS NULL OR x.expires_at > $4)
         ORDER BY x.user_id LIMIT $5"
    ))
    .bind(id(org_id))
    .bind(id(app_id))
    .bind(page.after.map(id).unwrap_or_default())
    .bind(ts(now))
    .bind(i64::from(page.limit) + 1)
    .fetch_all(conn)
    .await?;
    let details = rows
        .iter()
        .map(|row| {
            Ok(AccessDetail {
                access: from_row(row)?,
                user: user_from_prefixed(row)?,
                level: level_from_prefixed(row)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Page::from_overfetch(details, page.limit, |d| d.user.id))
}

pub async fn delete(
    conn: &mut PgConnection,
    org_id: Uuid,
    app_id: Uuid,
    user_id: Uuid,
) -> Result<Option<Access>, StoreError> {
    sqlx::query(
        "DELETE FROM accesses AS x WHERE x.org_id = $1 AND x.work_app_id = $2 AND x.user_id = $3
         RETURNING work_app_id, user_id, org_id, permission_level_id, source, granted_at,
                   updated_at, expires_at",
    )
    .bind(id(org_id))
    .bind(id(app_id))
    .bind(id(user_id))
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

pub async fn delete_expired(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Access>, StoreError> {
    sqlx::query(
        "DELETE FROM accesses
         WHERE (work_app_id, user_id) IN (
             SELECT work_app_id, user_id FROM accesses
             WHERE expires_at IS NOT NULL AND expires_at <= $1 LIMIT $2)
         RETURNING work_app_id, user_id, org_id, permission_level_id, source, granted_at,
                   updated_at, expires_at",
    )
    .bind(ts(now))
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

pub async fn of_user(
    conn: &mut PgConnection,
    org_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<portcullis_domain::workapp::UserAccess>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS}, a.name AS app_name, l.name AS level_name
         FROM accesses x
         JOIN work_apps a ON a.id = x.work_app_id
         LEFT JOIN permission_levels l ON l.id = x.permission_level_id
         WHERE x.org_id = $1 AND x.user_id = $2 AND (x.expires_at IS NULL OR x.expires_at > $3)
         ORDER BY a.name_key"
    ))
    .bind(id(org_id))
    .bind(id(user_id))
    .bind(ts(now))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(portcullis_domain::workapp::UserAccess {
                access: from_row(row)?,
                app_name: row.try_get("app_name")?,
                level_name: row.try_get("level_name")?,
            })
        })
        .collect()
}
