//! User groups: membership and default/hidden work apps.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use portcullis_domain::{DefaultWorkApp, Page, PageRequest, User, UsersGroup};
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

use super::codec::{get_id, get_opt_id, id, id_array, opt_id, ts};
use super::users;
use crate::decode::users_group as from_row;
use crate::{AppGroups, StoreError};

const COLUMNS: &str = "g.id, g.org_id, g.name, g.description, g.created_at, g.updated_at,
    (SELECT COUNT(*) FROM users_group_members m WHERE m.group_id = g.id) AS member_count";

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

pub async fn insert(conn: &mut SqliteConnection, g: &UsersGroup) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users_groups (id, org_id, name, name_key, description, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id(g.id))
    .bind(id(g.org_id))
    .bind(&g.name)
    .bind(name_key(&g.name))
    .bind(&g.description)
    .bind(ts(g.created_at))
    .bind(ts(g.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update(conn: &mut SqliteConnection, g: &UsersGroup) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE users_groups SET name = ?, name_key = ?, description = ?, updated_at = ?
         WHERE org_id = ? AND id = ?",
    )
    .bind(&g.name)
    .bind(name_key(&g.name))
    .bind(&g.description)
    .bind(ts(g.updated_at))
    .bind(id(g.org_id))
    .bind(id(g.id))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    group_id: Uuid,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM users_groups WHERE org_id = ? AND id = ?")
        .bind(id(org_id))
        .bind(id(group_id))
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn get(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    group_id: Uuid,
) -> Result<Option<UsersGroup>, StoreError> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM users_groups g WHERE g.org_id = ? AND g.id = ?"))
        .bind(id(org_id))
        .bind(id(group_id))
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
) -> Result<Page<UsersGroup>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM users_groups g WHERE g.org_id = ? AND g.id > ? ORDER BY g.id LIMIT ?"
    ))
    .bind(id(org_id))
    .bind(page.after.map(id).unwrap_or_default())
    .bind(i64::from(page.limit) + 1)
    .fetch_all(conn)
    .await?;
    let groups = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(groups, page.limit, |g| g.id))
}

pub async fn list_members(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    group_id: Uuid,
    page: PageRequest,
) -> Result<Page<User>, StoreError> {
    let columns = users::COLUMNS
        .split(", ")
        .map(|c| format!("u.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sqlx::query(&format!(
        "SELECT {columns} FROM users_group_members m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = ? AND m.group_id = ? AND m.user_id > ? ORDER BY m.user_id LIMIT ?"
    ))
    .bind(id(org_id))
    .bind(id(group_id))
    .bind(page.after.map(id).unwrap_or_default())
    .bind(i64::from(page.limit) + 1)
    .fetch_all(conn)
    .await?;
    let members = rows.iter().map(users::from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(members, page.limit, |u| u.id))
}

pub async fn existing_members(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    group_id: Uuid,
    user_ids: &[Uuid],
) -> Result<Vec<Uuid>, StoreError> {
    sqlx::query(
        "SELECT user_id FROM users_group_members
         WHERE org_id = ? AND group_id = ? AND user_id IN (SELECT value FROM json_each(?))",
    )
    .bind(id(org_id))
    .bind(id(group_id))
    .bind(id_array(user_ids.iter().copied()))
    .fetch_all(conn)
    .await?
    .iter()
    .map(|row| get_id(row, "user_id"))
    .collect()
}

pub async fn insert_members(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    group_id: Uuid,
    user_ids: &[Uuid],
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users_group_members (group_id, user_id, org_id, added_at)
         SELECT ?, value, ?, ? FROM json_each(?) WHERE true
         ON CONFLICT (group_id, user_id) DO NOTHING",
    )
    .bind(id(group_id))
    .bind(id(org_id))
    .bind(ts(at))
    .bind(id_array(user_ids.iter().copied()))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_member(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    group_id: Uuid,
    user_id: Uuid,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "DELETE FROM users_group_members WHERE org_id = ? AND group_id = ? AND user_id = ?",
    )
    .bind(id(org_id))
    .bind(id(group_id))
    .bind(id(user_id))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn set_default_apps(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    group_id: Uuid,
    apps: &[DefaultWorkApp],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM group_default_work_apps WHERE org_id = ? AND group_id = ?")
        .bind(id(org_id))
        .bind(id(group_id))
        .execute(&mut *conn)
        .await?;
    for app in apps {
        sqlx::query(
            "INSERT INTO group_default_work_apps (group_id, work_app_id, permission_level_id, org_id)
             VALUES (?, ?, ?, ?)",
        )
        .bind(id(group_id))
        .bind(id(app.work_app_id))
        .bind(opt_id(app.permission_level_id))
        .bind(id(org_id))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn default_apps(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    group_id: Uuid,
) -> Result<Vec<DefaultWorkApp>, StoreError> {
    sqlx::query(
        "SELECT work_app_id, permission_level_id FROM group_default_work_apps
         WHERE org_id = ? AND group_id = ? ORDER BY work_app_id",
    )
    .bind(id(org_id))
    .bind(id(group_id))
    .fetch_all(conn)
    .await?
    .iter()
    .map(|row| {
        Ok(DefaultWorkApp {
            work_app_id: get_id(row, "work_app_id")?,
            permission_level_id: get_opt_id(row, "permission_level_id")?,
        })
    })
    .collect()
}

pub async fn set_hidden_apps(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    group_id: Uuid,
    app_ids: &[Uuid],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM group_hidden_work_apps WHERE org_id = ? AND group_id = ?")
        .bind(id(org_id))
        .bind(id(group_id))
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO group_hidden_work_apps (group_id, work_app_id, org_id)
         SELECT DISTINCT ?, value, ? FROM json_each(?)",
    )
    .bind(id(group_id))
    .bind(id(org_id))
    .bind(id_array(app_ids.iter().copied()))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn hidden_apps(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    group_id: Uuid,
) -> Result<Vec<Uuid>, StoreError> {
    sqlx::query("SELECT work_app_id FROM group_hidden_work_apps WHERE org_id = ? AND group_id = ? ORDER BY work_app_id")
        .bind(id(org_id))
        .bind(id(group_id))
        .fetch_all(conn)
        .await?
        .iter()
        .map(|row| get_id(row, "work_app_id"))
        .collect()
}

pub async fn groups_of_apps(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    app_ids: &[Uuid],
) -> Result<HashMap<Uuid, AppGroups>, StoreError> {
    let rows = sqlx::query(
        "SELECT work_app_id, group_id, 'default' AS kind FROM group_default_work_apps
           WHERE org_id = ?1 AND work_app_id IN (SELECT value FROM json_each(?2))
         UNION ALL
         SELECT work_app_id, group_id, 'hidden' AS kind FROM group_hidden_work_apps
           WHERE org_id = ?1 AND work_app_id IN (SELECT value FROM json_each(?2))
         ORDER BY group_id",
    )
    .bind(id(org_id))
    .bind(id_array(app_ids.iter().copied()))
    .fetch_all(conn)
    .await?;
    let mut out: HashMap<Uuid, AppGroups> = HashMap::new();
    for row in &rows {
        let entry = out.entry(get_id(row, "work_app_id")?).or_default();
        let group = get_id(row, "group_id")?;
        let kind: String = row.try_get("kind")?;
        if kind == "default" {
            entry.default_for.push(group);
        } else {
            entry.hidden_from.push(group);
        }
    }
    Ok(out)
}

pub async fn covered_pairs(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    user_ids: &[Uuid],
    app_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
    let rows = sqlx::query(
        "SELECT user_id, work_app_id FROM accesses
           WHERE org_id = ?1 AND user_id IN (SELECT value FROM json_each(?2))
             AND work_app_id IN (SELECT value FROM json_each(?3))
             AND (expires_at IS NULL OR expires_at > ?4)
         UNION
         SELECT target_user_id, work_app_id FROM requests
           WHERE org_id = ?1 AND target_user_id IN (SELECT value FROM json_each(?2))
             AND work_app_id IN (SELECT value FROM json_each(?3))
             AND status IN ('Pending', 'Approved')",
    )
    .bind(id(org_id))
    .bind(id_array(user_ids.iter().copied()))
    .bind(id_array(app_ids.iter().copied()))
    .bind(ts(now))
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| Ok((get_id(row, "user_id")?, get_id(row, "work_app_id")?))).collect()
}

pub async fn hidden_for_user(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    user_id: Uuid,
) -> Result<Vec<Uuid>, StoreError> {
    sqlx::query(
        "SELECT DISTINCT h.work_app_id FROM group_hidden_work_apps h
         JOIN users_group_members m ON m.group_id = h.group_id
         WHERE h.org_id = ? AND m.user_id = ?",
    )
    .bind(id(org_id))
    .bind(id(user_id))
    .fetch_all(conn)
    .await?
    .iter()
    .map(|row| get_id(row, "work_app_id"))
    .collect()
}
