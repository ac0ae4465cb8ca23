use std::collections::HashMap;

use async_trait::async_trait;
use portcullis_domain::{Page, PageRequest, PermissionLevel, ProvisioningMode, WorkApp};
use uuid::Uuid;

use crate::decode::{self, get_id, get_ts, id, ids_arg, stored_id, stored_name, ts};
use crate::session::{Session, Writable};
use crate::sql::{contains_pattern, query, Db, Row};
use crate::StoreError;

const COLUMNS: &str = "id, org_id, name, description, status_id, provisioning_mode, category, url,
                       image_url, tag_line, created_at, updated_at";

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Fills `owner_ids` of the apps with one query.
async fn attach_owners(db: &mut Db, apps: &mut [WorkApp]) -> Result<(), StoreError> {
    if apps.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = apps.iter().map(|a| a.id).collect();
    let rows = query(format!(
        "SELECT work_app_id, user_id FROM work_app_owners WHERE {} ORDER BY position",
        db.dialect().id_in("work_app_id", "$1", ids.len())
    ))
    .bind(ids_arg(&ids))
    .fetch_all(db)
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

/// Inserts the app, or updates the one with its id (never its organization or creation time),
/// and replaces its owners: one column list and one bind list for both.
async fn save_work_app(db: &mut Db, app: &WorkApp) -> Result<(), StoreError> {
    query(
        "INSERT INTO work_apps (id, org_id, name, name_key, description, status_id, provisioning_mode,
                                category, url, image_url, tag_line, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (id) DO UPDATE SET
             name = excluded.name, name_key = excluded.name_key, description = excluded.description,
             status_id = excluded.status_id, provisioning_mode = excluded.provisioning_mode,
             category = excluded.category, url = excluded.url, image_url = excluded.image_url,
             tag_line = excluded.tag_line, updated_at = excluded.updated_at
         WHERE work_apps.org_id = excluded.org_id",
    )
    .bind(app.id)
    .bind(app.org_id)
    .bind(&app.name)
    .bind(name_key(&app.name))
    .bind(&app.description)
    .bind(app.status.id())
    .bind(app.provisioning_mode.name())
    .bind(&app.category)
    .bind(&app.url)
    .bind(&app.image_url)
    .bind(&app.tag_line)
    .bind(app.created_at)
    .bind(app.updated_at)
    .execute(&mut *db)
    .await?;
    replace_owners(db, app).await
}

async fn replace_owners(db: &mut Db, app: &WorkApp) -> Result<(), StoreError> {
    query("DELETE FROM work_app_owners WHERE work_app_id = $1")
        .bind(id(app.id))
        .execute(&mut *db)
        .await?;
    query(format!(
        "INSERT INTO work_app_owners (work_app_id, user_id, org_id, position)
         SELECT $1, value ->> 0, $2, CAST(value ->> 1 AS INTEGER) FROM {}",
        db.dialect().json_rows("$3")
    ))
    .bind(id(app.id))
    .bind(id(app.org_id))
    .bind(decode::positioned_ids(&app.owner_ids))
    .execute(db)
    .await?;
    Ok(())
}

const LEVEL_COLUMNS: &str =
    "id, org_id, work_app_id, name, description, is_default, is_privileged, created_at";

/// Reading work apps.
#[async_trait]
pub trait WorkAppReads: Send {
    async fn get_work_app(
        &mut self,
        org_id: Uuid,
        app_id: Uuid,
    ) -> Result<Option<WorkApp>, StoreError>;
    async fn list_work_apps(
        &mut self,
        org_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<WorkApp>, StoreError>;
    /// Apps whose name contains `text` (case-insensitive), a page in id order.
    async fn search_work_apps(
        &mut self,
        org_id: Uuid,
        text: &str,
        page: PageRequest,
    ) -> Result<Page<WorkApp>, StoreError>;
    async fn get_permission_level(
        &mut self,
        org_id: Uuid,
        level_id: Uuid,
    ) -> Result<Option<PermissionLevel>, StoreError>;
    async fn list_permission_levels(
        &mut self,
        org_id: Uuid,
        app_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<PermissionLevel>, StoreError>;
}

#[async_trait]
impl<S: Session + ?Sized> WorkAppReads for S {
    async fn get_work_app(
        &mut self,
        org_id: Uuid,
        app_id: Uuid,
    ) -> Result<Option<WorkApp>, StoreError> {
        let db = self.db();
        let row = query(format!("SELECT {COLUMNS} FROM work_apps WHERE org_id = $1 AND id = $2"))
            .bind(id(org_id))
            .bind(id(app_id))
            .fetch_optional(&mut *db)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let mut apps = [decode_work_app(&row)?];
        attach_owners(db, &mut apps).await?;
        let [app] = apps;
        Ok(Some(app))
    }

    async fn list_work_apps(
        &mut self,
        org_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<WorkApp>, StoreError> {
        let db = self.db();
        let rows = query(format!(
            "SELECT {COLUMNS} FROM work_apps WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        ))
        .bind(id(org_id))
        .bind(page.after.map(id).unwrap_or_default())
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&mut *db)
        .await?;
        let apps = rows.iter().map(decode_work_app).collect::<Result<Vec<_>, _>>()?;
        let mut page = Page::from_overfetch(apps, page.limit, |a| a.id);
        attach_owners(db, &mut page.items).await?;
        Ok(page)
    }

    async fn search_work_apps(
        &mut self,
        org_id: Uuid,
        text: &str,
        page: PageRequest,
    ) -> Result<Page<WorkApp>, StoreError> {
        let db = self.db();
        let rows = query(format!(
            "SELECT {COLUMNS} FROM work_apps WHERE org_id = $1 AND id > $2
               AND lower(name) LIKE $4 ESCAPE '\\' ORDER BY id LIMIT $3"
        ))
        .bind(id(org_id))
        .bind(page.after.map(id).unwrap_or_default())
        .bind(i64::from(page.limit) + 1)
        .bind(contains_pattern(text))
        .fetch_all(&mut *db)
        .await?;
        let apps = rows.iter().map(decode_work_app).collect::<Result<Vec<_>, _>>()?;
        let mut page = Page::from_overfetch(apps, page.limit, |a| a.id);
        attach_owners(db, &mut page.items).await?;
        Ok(page)
    }

    async fn get_permission_level(
        &mut self,
        org_id: Uuid,
        level_id: Uuid,
    ) -> Result<Option<PermissionLevel>, StoreError> {
        let db = self.db();
        query(format!(
            "SELECT {LEVEL_COLUMNS} FROM permission_levels WHERE org_id = $1 AND id = $2"
        ))
        .bind(id(org_id))
        .bind(id(level_id))
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(decode_permission_level)
        .transpose()
    }

    async fn list_permission_levels(
        &mut self,
        org_id: Uuid,
        app_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<PermissionLevel>, StoreError> {
        let db = self.db();
        let rows = query(format!(
            "SELECT {LEVEL_COLUMNS} FROM permission_levels
             WHERE org_id = $1 AND work_app_id = $2 AND id > $3 ORDER BY id LIMIT $4"
        ))
        .bind(id(org_id))
        .bind(id(app_id))
        .bind(page.after.map(id).unwrap_or_default())
        .bind(i64::from(page.limit) + 1)
        .fetch_all(db)
        .await?;
        let levels = rows.iter().map(decode_permission_level).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(levels, page.limit, |l| l.id))
    }
}

/// Changing work apps.
#[async_trait]
pub trait WorkAppWrites: Send {
    /// Inserts the app and its owners. [`StoreError::Conflict`] when the name is taken.
    async fn insert_work_app(&mut self, app: &WorkApp) -> Result<(), StoreError>;
    /// Updates the app and replaces its owners. [`StoreError::Conflict`] when the name is taken.
    async fn update_work_app(&mut self, app: &WorkApp) -> Result<(), StoreError>;
    /// [`StoreError::Conflict`] when the app already has a level of that name.
    async fn insert_permission_level(&mut self, level: &PermissionLevel) -> Result<(), StoreError>;
}

#[async_trait]
impl<S: Writable + ?Sized> WorkAppWrites for S {
    async fn insert_work_app(&mut self, app: &WorkApp) -> Result<(), StoreError> {
        save_work_app(self.db(), app).await
    }

    async fn update_work_app(&mut self, app: &WorkApp) -> Result<(), StoreError> {
        save_work_app(self.db(), app).await
    }

    async fn insert_permission_level(&mut self, level: &PermissionLevel) -> Result<(), StoreError> {
        let db = self.db();
        if level.is_default {
            // At most one default level per app: the new one takes over.
            query("UPDATE permission_levels SET is_default = FALSE WHERE work_app_id = $1")
                .bind(id(level.work_app_id))
                .execute(&mut *db)
                .await?;
        }
        query(
            "INSERT INTO permission_levels (id, org_id, work_app_id, name, name_key, description,
                                            is_default, is_privileged, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
        .execute(db)
        .await?;
        Ok(())
    }
}

pub(crate) fn decode_work_app(row: &Row) -> Result<WorkApp, StoreError> {
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

pub(crate) fn decode_permission_level(row: &Row) -> Result<PermissionLevel, StoreError> {
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
