use chrono::{DateTime, Utc};
use portcullis_domain::validate::email_key;
use portcullis_domain::{OrgRole, Page, PageRequest, User, UserStatus};
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::codec::{id, id_array, opt_id, opt_ts, ts};
pub(super) use crate::decode::user as from_row;
use crate::StoreError;

pub(super) const COLUMNS: &str =
    "id, org_id, name, email, role_id, status_id, manager_id, last_login, created_at, updated_at";

pub async fn insert(conn: &mut SqliteConnection, user: &User) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users (id, org_id, name, email, email_key, role_id, status_id, manager_id,
                            last_login, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id(user.id))
    .bind(id(user.org_id))
    .bind(&user.name)
    .bind(&user.email)
    .bind(email_key(&user.email))
    .bind(user.role.id())
    .bind(user.status.id())
    .bind(opt_id(user.manager_id))
    .bind(opt_ts(user.last_login))
    .bind(ts(user.created_at))
    .bind(ts(user.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update(conn: &mut SqliteConnection, user: &User) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE users SET name = ?, email = ?, email_key = ?, role_id = ?, status_id = ?,
                          manager_id = ?, updated_at = ?
         WHERE org_id = ? AND id = ?",
    )
    .bind(&user.name)
    .bind(&user.email)
    .bind(email_key(&user.email))
    .bind(user.role.id())
    .bind(user.status.id())
    .bind(opt_id(user.manager_id))
    .bind(ts(user.updated_at))
    .bind(id(user.org_id))
    .bind(id(user.id))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    user_id: Uuid,
) -> Result<Option<User>, StoreError> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE org_id = ? AND id = ?"))
        .bind(id(org_id))
        .bind(id(user_id))
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn list(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    page: PageRequest,
) -> Result<Page<User>, StoreError> {
    // Text comparison of hyphenated lowercase UUIDs is the same order as their byte order.
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM users WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?"
    ))
    .bind(id(org_id))
    .bind(page.after.map(id).unwrap_or_default())
    .bind(i64::from(page.limit) + 1)
    .fetch_all(conn)
    .await?;
    let users = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(users, page.limit, |u| u.id))
}

pub async fn manager_chain(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    user_id: Uuid,
    max: usize,
) -> Result<Vec<Uuid>, StoreError> {
    let mut chain = Vec::new();
    let mut current = user_id;
    while chain.len() < max {
        let manager: Option<Option<String>> =
            sqlx::query_scalar("SELECT manager_id FROM users WHERE org_id = ? AND id = ?")
                .bind(id(org_id))
                .bind(id(current))
                .fetch_optional(&mut *conn)
                .await?;
        let Some(Some(manager)) = manager else { break };
        let manager = Uuid::parse_str(&manager)
            .map_err(|e| StoreError::Corrupt(format!("manager_id: {e}")))?;
        if chain.contains(&manager) {
            break;
        }
        chain.push(manager);
        current = manager;
    }
    Ok(chain)
}

pub async fn count_active_with_role(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    role: OrgRole,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE org_id = ? AND role_id = ? AND status_id = ?",
    )
    .bind(id(org_id))
    .bind(role.id())
    .bind(UserStatus::Active.id())
    .fetch_one(conn)
    .await?)
}

pub async fn set_last_login(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    user_id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET last_login = ? WHERE org_id = ? AND id = ?")
        .bind(ts(at))
        .bind(id(org_id))
        .bind(id(user_id))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn get_many(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<User>, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM users
         WHERE org_id = ? AND id IN (SELECT value FROM json_each(?)) ORDER BY id"
    ))
    .bind(id(org_id))
    .bind(id_array(ids.iter().copied()))
    .fetch_all(conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

pub async fn find_by_email(
    conn: &mut SqliteConnection,
    email: &str,
) -> Result<Vec<User>, StoreError> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE email_key = ? ORDER BY id"))
        .bind(email_key(email))
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}
