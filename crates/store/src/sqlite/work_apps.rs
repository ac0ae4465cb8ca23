use std::collections::HashMap;

use portcullis_domain::{Page, PageRequest, PermissionLevel, WorkApp};
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::codec::{get_id, id, id_array, ts};
pub(super) use crate::decode::permission_level as level_from_row;
use crate::decode::work_app as from_row;
use crate::StoreError;

const COLUMNS: &str = "id, org_id, name, description, status_id, provisioning_mode, category, url,
                       image_url, tag_line, created_at, updated_at";

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Fills `owner_ids` of the apps with one query.
async fn attach_owners(
    conn: &mut SqliteConnection,
    apps: &mut [WorkApp],
) -> Result<(), StoreError> {
    if apps.is_empty() {
        return Ok(());
    }
    let rows = sqlx::query(
        "SELECT work_app_id, user_id FROM work_app_owners
         WHERE work_app_id IN (SELECT value FROM json_each(?)) ORDER BY position",
    )
    .bind(id_array(apps.iter().map(|a| a.id)))
    .fetch_all(conn)
    .await?;
    let mut owners: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for row in &rows {
        owners.entry(get_id(row, "work_app_id")?).or_default().push(get_id(row, "user_id")?);
    }
    for app in apps {
        app.owner_ids = owners.remove(&app.id).unwrap_or_default();
    }
    Ok(())
}

async fn replace_owners(conn: &mut SqliteConnection, app: &WorkApp) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM work_app_owners WHERE work_app_id = ?")
        .bind(id(app.id))
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO work_app_owners (work_app_id, user_id, org_id, position)
         SELECT ?, value, ?, key FROM json_each(?)",
    )
    .bind(id(app.id))
    .bind(id(app.org_id))
    .bind(id_array(app.owner_ids.iter().copied()))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert(conn: &mut SqliteConnection, app: &WorkApp) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO work_apps (id, org_id, name, name_key, description, status_id, provisioning_mode,
                                category, url, image_url, tag_line, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id(app.id))
    .bind(id(app.org_id))
    .bind(&app.name)
    .bind(name_key(&app.name))
    .bind(&app.description)
    .bind(app.status.id())
    .bind(app.provisioning_mode.name())
    .bind(&app.category)
    .bind(&app.url)
    .bind(&app.image_url)
    .bind(&app.tag_line)
    .bind(ts(app.created_at))
    .bind(ts(app.updated_at))
    .execute(&mut *conn)
    .await?;
    replace_owners(conn, app).await
}

pub async fn update(conn: &mut SqliteConnection, app: &WorkApp) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE work_apps SET name = ?, name_key = ?, description = ?, status_id = ?,
                provisioning_mode = ?, category = ?, url = ?, image_url = ?, tag_line = ?, updated_at = ?
         WHERE org_id = ? AND id = ?",
    )
    .bind(&app.name)
    .bind(name_key(&app.name))
    .bind(&app.description)
    .bind(app.status.id())
    .bind(app.provisioning_mode.name())
    .bind(&app.category)
    .bind(&app.url)
    .bind(&app.image_url)
    .bind(&app.tag_line)
    .bind(ts(app.updated_at))
    .bind(id(app.org_id))
    .bind(id(app.id))
    .execute(&mut *conn)
    .await?;
    replace_owners(conn, app).await
}

pub async fn get(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    app_id: Uuid,
) -> Result<Option<WorkApp>, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM work_apps WHERE org_id = ? AND id = ?"))
        .bind(id(org_id))
        .bind(id(app_id))
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut apps = [from_row(&row)?];
    attach_owners(conn, &mut apps).await?;
    let [app] = apps;
    Ok(Some(app))
}

pub async fn list(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    page: PageRequest,
) -> Result<Page<WorkApp>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM work_apps WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?"
    ))
    .bind(id(org_id))
    .bind(page.after.map(id).unwrap_or_default())
    .bind(i64::from(page.limit) + 1)
    .fetch_all(&mut *conn)
    .await?;
    let apps = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    let mut page = Page::from_overfetch(apps, page.limit, |a| a.id);
    attach_owners(conn, &mut page.items).await?;
    Ok(page)
}

const LEVEL_COLUMNS: &str =
    "id, org_id, work_app_id, name, description, is_default, is_privileged, created_at";

pub async fn insert_level(
    conn: &mut SqliteConnection,
    level: &PermissionLevel,
) -> Result<(), StoreError> {
    if level.is_default {
        // At most one default level per app: the new one takes over.
        sqlx::query("UPDATE permission_levels SET is_default = 0 WHERE work_app_id = ?")
            .bind(id(level.work_app_id))
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query(
        "INSERT INTO permission_levels (id, org_id, work_app_id, name, name_key, description,
                                        is_default, is_privileged, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id(level.id))
    .bind(id(level.org_id))
    .bind(id(level.work_app_id))
    .bind(&level.name)
    .bind(name_key(&level.name))
    .bind(&level.description)
    .bind(level.is_default)
    .bind(level.is_privileged)
    .bind(ts(level.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_level(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    level_id: Uuid,
) -> Result<Option<PermissionLevel>, StoreError> {
    sqlx::query(&format!(
        "SELECT {LEVEL_COLUMNS} FROM permission_levels WHERE org_id = ? AND id = ?"
    ))
    .bind(id(org_id))
    .bind(id(level_id))
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(level_from_row)
    .transpose()
}

pub async fn list_levels(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    app_id: Uuid,
    page: PageRequest,
) -> Result<Page<PermissionLevel>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {LEVEL_COLUMNS} FROM permission_levels
         WHERE org_id = ? AND work_app_id = ? AND id > ? ORDER BY id LIMIT ?"
    ))
    .bind(id(org_id))
    .bind(id(app_id))
    .bind(page.after.map(id).unwrap_or_default())
    .bind(i64::from(page.limit) + 1)
    .fetch_all(conn)
    .await?;
    let levels = rows.iter().map(level_from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(levels, page.limit, |l| l.id))
}
