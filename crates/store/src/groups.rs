//! User groups: membership and default/hidden work apps.
use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_domain::GroupId;
use portcullis_domain::{DefaultWorkApp, Page, PageRequest, User, UserStatus, UsersGroup};
use uuid::Uuid;

use crate::decode::{get_id, get_opt_id, get_ts, id, id_array, opt_id, ts};
use crate::session::{Session, Writable};
use crate::sql::{contains_pattern, query, query_scalar, Row};
use crate::users::USER_COLUMNS;
use crate::{AppGroups, StoreError};

const COLUMNS: &str = "g.id, g.org_id, g.name, g.description, g.created_at, g.updated_at,
    (SELECT COUNT(*) FROM users_group_members m WHERE m.group_id = g.id) AS member_count";

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Reading groups.
#[async_trait]
pub trait GroupReads: Send {
    /// Apps hidden from the user by any of the user's groups.
    async fn hidden_app_ids_for_user(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
    ) -> Result<Vec<Uuid>, StoreError>;
    async fn get_group(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
    ) -> Result<Option<UsersGroup>, StoreError>;
    async fn list_groups(
        &mut self,
        org_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<UsersGroup>, StoreError>;
    /// Groups whose name contains `text` (case-insensitive), a page in id order.
    async fn search_groups(
        &mut self,
        org_id: Uuid,
        text: &str,
        page: PageRequest,
    ) -> Result<Page<UsersGroup>, StoreError>;
    async fn list_group_members(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<User>, StoreError>;
    /// Which of `user_ids` are already members.
    async fn existing_members(
        &mut self,
        org_id: Uuid,
        group_id: GroupId,
        user_ids: &[Uuid],
    ) -> Result<Vec<Uuid>, StoreError>;
    async fn group_default_apps(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
    ) -> Result<Vec<DefaultWorkApp>, StoreError>;
    async fn group_hidden_apps(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
    ) -> Result<Vec<Uuid>, StoreError>;
    /// For each app: the groups it is a default app of, and the groups it is hidden from.
    async fn groups_of_apps(
        &mut self,
        org_id: Uuid,
        app_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, AppGroups>, StoreError>;
    /// (user, app) pairs among those given that hold a live access or have an open request.
    async fn covered_pairs(
        &mut self,
        org_id: Uuid,
        user_ids: &[Uuid],
        app_ids: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError>;
    async fn group_exists(&mut self, org_id: Uuid, group_id: Uuid) -> Result<bool, StoreError>;
    /// What leaving `group_id` takes away from `user_ids` (who have left it already): each
    /// (user, app) for a default app of the group the user holds a live access to at `now`,
    /// unless another group the user belongs to also has the app as a default app, or an open
    /// request for the same user and app exists. In (user, app) order.
    async fn group_leave_removals(
        &mut self,
        org_id: Uuid,
        group_id: GroupId,
        user_ids: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError>;
    async fn group_member_ids(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
    ) -> Result<Vec<Uuid>, StoreError>;
}

#[async_trait]
impl<S: Session + ?Sized> GroupReads for S {
    async fn hidden_app_ids_for_user(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
    ) -> Result<Vec<Uuid>, StoreError> {
        let db = self.db();
        Ok(query_scalar::<Uuid>(
            "SELECT DISTINCT h.work_app_id FROM group_hidden_work_apps h
             JOIN users_group_members m ON m.group_id = h.group_id
             WHERE h.org_id = $1 AND m.user_id = $2",
        )
        .bind(id(org_id))
        .bind(id(user_id))
        .fetch_all(db)
        .await?)
    }

    async fn get_group(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
    ) -> Result<Option<UsersGroup>, StoreError> {
        let db = self.db();
        query(format!("SELECT {COLUMNS} FROM users_groups g WHERE g.org_id = $1 AND g.id = $2"))
            .bind(id(org_id))
            .bind(id(group_id))
            .fetch_optional(db)
            .await?
            .as_ref()
            .map(decode_users_group)
            .transpose()
    }

    async fn list_groups(
        &mut self,
        org_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<UsersGroup>, StoreError> {
        let db = self.db();
        let rows = query(format!(
            "SELECT {COLUMNS} FROM users_groups g WHERE g.org_id = $1 AND g.id > $2 ORDER BY g.id LIMIT $3"
        ))
        .bind(id(org_id))
        .bind(page.after.map(id).unwrap_or_default())
        .bind(i64::from(page.limit) + 1)
        .fetch_all(db)
        .await?;
        let groups = rows.iter().map(decode_users_group).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(groups, page.limit, |g| g.id))
    }

    async fn search_groups(
        &mut self,
        org_id: Uuid,
        text: &str,
        page: PageRequest,
    ) -> Result<Page<UsersGroup>, StoreError> {
        let db = self.db();
        let rows = query(format!(
            "SELECT {COLUMNS} FROM users_groups g WHERE g.org_id = $1 AND g.id > $2
               AND lower(g.name) LIKE $4 ESCAPE '\\' ORDER BY g.id LIMIT $3"
        ))
        .bind(id(org_id))
        .bind(page.after.map(id).unwrap_or_default())
        .bind(i64::from(page.limit) + 1)
        .bind(contains_pattern(text))
        .fetch_all(db)
        .await?;
        let groups = rows.iter().map(decode_users_group).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(groups, page.limit, |g| g.id))
    }

    async fn list_group_members(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<User>, StoreError> {
        let db = self.db();
        let columns = USER_COLUMNS
            .split(", ")
            .map(|c| format!("u.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = query(format!(
            "SELECT {columns} FROM users_group_members m JOIN users u ON u.id = m.user_id
             WHERE m.org_id = $1 AND m.group_id = $2 AND m.user_id > $3 ORDER BY m.user_id LIMIT $4"
        ))
        .bind(id(org_id))
        .bind(id(group_id))
        .bind(page.after.map(id).unwrap_or_default())
        .bind(i64::from(page.limit) + 1)
        .fetch_all(db)
        .await?;
        let members = rows.iter().map(crate::users::decode_user).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(members, page.limit, |u| u.id))
    }

    async fn existing_members(
        &mut self,
        org_id: Uuid,
        group_id: GroupId,
        user_ids: &[Uuid],
    ) -> Result<Vec<Uuid>, StoreError> {
        let db = self.db();
        let ids_3 = db.dialect().in_json_texts("$3");
        Ok(query_scalar::<Uuid>(format!(
            "SELECT user_id FROM users_group_members
             WHERE org_id = $1 AND group_id = $2 AND user_id IN {ids_3}"
        ))
        .bind(id(org_id))
        .bind(group_id)
        .bind(id_array(user_ids.iter().copied()))
        .fetch_all(db)
        .await?)
    }

    async fn group_default_apps(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
    ) -> Result<Vec<DefaultWorkApp>, StoreError> {
        let db = self.db();
        query(
            "SELECT work_app_id, permission_level_id FROM group_default_work_apps
             WHERE org_id = $1 AND group_id = $2 ORDER BY work_app_id",
        )
        .bind(id(org_id))
        .bind(id(group_id))
        .fetch_all(db)
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

    async fn group_hidden_apps(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
    ) -> Result<Vec<Uuid>, StoreError> {
        let db = self.db();
        Ok(query_scalar::<Uuid>("SELECT work_app_id FROM group_hidden_work_apps WHERE org_id = $1 AND group_id = $2 ORDER BY work_app_id")
            .bind(id(org_id))
            .bind(id(group_id))
            .fetch_all(db)
            .await?)
    }

    async fn groups_of_apps(
        &mut self,
        org_id: Uuid,
        app_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, AppGroups>, StoreError> {
        let db = self.db();
        let ids_2 = db.dialect().in_json_texts("$2");
        let rows = query(format!(
            "SELECT work_app_id, group_id, 'default' AS kind FROM group_default_work_apps
               WHERE org_id = $1 AND work_app_id IN {ids_2}
             UNION ALL
             SELECT work_app_id, group_id, 'hidden' AS kind FROM group_hidden_work_apps
               WHERE org_id = $1 AND work_app_id IN {ids_2}
             ORDER BY group_id"
        ))
        .bind(id(org_id))
        .bind(id_array(app_ids.iter().copied()))
        .fetch_all(db)
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

    async fn covered_pairs(
        &mut self,
        org_id: Uuid,
        user_ids: &[Uuid],
        app_ids: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
        let db = self.db();
        let ids_2 = db.dialect().in_json_texts("$2");
        let ids_3 = db.dialect().in_json_texts("$3");
        let rows = query(format!(
            "SELECT user_id, work_app_id FROM accesses
               WHERE org_id = $1 AND user_id IN {ids_2}
                 AND work_app_id IN {ids_3}
                 AND (expires_at IS NULL OR expires_at > $4)
             UNION
             SELECT target_user_id, work_app_id FROM requests
               WHERE org_id = $1 AND target_user_id IN {ids_2}
                 AND work_app_id IN {ids_3}
                 AND status IN ('Pending', 'Approved')"
        ))
        .bind(id(org_id))
        .bind(id_array(user_ids.iter().copied()))
        .bind(id_array(app_ids.iter().copied()))
        .bind(ts(now))
        .fetch_all(db)
        .await?;
        rows.iter().map(|row| Ok((get_id(row, "user_id")?, get_id(row, "work_app_id")?))).collect()
    }

    async fn group_leave_removals(
        &mut self,
        org_id: Uuid,
        group_id: GroupId,
        user_ids: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        let db = self.db();
        let ids_3 = db.dialect().in_json_texts("$3");
        let rows = query(format!(
            "SELECT a.user_id, a.work_app_id FROM accesses a
             JOIN group_default_work_apps d
               ON d.work_app_id = a.work_app_id AND d.group_id = $2 AND d.org_id = $1
             WHERE a.org_id = $1 AND a.user_id IN {ids_3}
               AND (a.expires_at IS NULL OR a.expires_at > $4)
               AND NOT EXISTS (
                   SELECT 1 FROM users_group_members m
                   JOIN group_default_work_apps o
                     ON o.group_id = m.group_id AND o.work_app_id = a.work_app_id
                   WHERE m.org_id = $1 AND m.user_id = a.user_id AND m.group_id <> $2)
               AND NOT EXISTS (
                   SELECT 1 FROM requests r
                   WHERE r.org_id = $1 AND r.work_app_id = a.work_app_id
                     AND r.target_user_id = a.user_id AND r.status IN ('Pending', 'Approved'))
             ORDER BY a.user_id, a.work_app_id"
        ))
        .bind(id(org_id))
        .bind(group_id)
        .bind(id_array(user_ids.iter().copied()))
        .bind(ts(now))
        .fetch_all(db)
        .await?;
        rows.iter().map(|row| Ok((get_id(row, "user_id")?, get_id(row, "work_app_id")?))).collect()
    }

    async fn group_exists(&mut self, org_id: Uuid, group_id: Uuid) -> Result<bool, StoreError> {
        let db = self.db();
        Ok(query_scalar("SELECT EXISTS (SELECT 1 FROM users_groups WHERE org_id = $1 AND id = $2)")
            .bind(id(org_id))
            .bind(id(group_id))
            .fetch_one(db)
            .await?)
    }

    async fn group_member_ids(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
    ) -> Result<Vec<Uuid>, StoreError> {
        let db = self.db();
        Ok(query_scalar::<Uuid>(
            "SELECT m.user_id FROM users_group_members m JOIN users u ON u.id = m.user_id
             WHERE m.org_id = $1 AND m.group_id = $2 AND u.status_id = $3 ORDER BY m.added_at, m.user_id",
        )
        .bind(id(org_id))
        .bind(id(group_id))
        .bind(UserStatus::Active.id())
        .fetch_all(db)
            .await?)
    }
}

/// Changing groups.
#[async_trait]
pub trait GroupWrites: Send {
    /// [`StoreError::Conflict`] when the name is taken.
    async fn insert_group(&mut self, g: &UsersGroup) -> Result<(), StoreError>;
    /// [`StoreError::Conflict`] when the name is taken.
    async fn update_group(&mut self, g: &UsersGroup) -> Result<(), StoreError>;
    /// Deletes the group with its memberships and app lists; false if it did not exist.
    async fn delete_group(&mut self, org_id: Uuid, group_id: Uuid) -> Result<bool, StoreError>;
    async fn insert_group_members(
        &mut self,
        org_id: Uuid,
        group_id: GroupId,
        user_ids: &[Uuid],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Removes the memberships of `user_ids`; returns the users who were members.
    async fn delete_group_members(
        &mut self,
        org_id: Uuid,
        group_id: GroupId,
        user_ids: &[Uuid],
    ) -> Result<Vec<Uuid>, StoreError>;
    async fn set_group_default_apps(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        apps: &[DefaultWorkApp],
    ) -> Result<(), StoreError>;
    async fn set_group_hidden_apps(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        app_ids: &[Uuid],
    ) -> Result<(), StoreError>;
}

#[async_trait]
impl<S: Writable + ?Sized> GroupWrites for S {
    async fn insert_group(&mut self, g: &UsersGroup) -> Result<(), StoreError> {
        let db = self.db();
        query(
            "INSERT INTO users_groups (id, org_id, name, name_key, description, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id(g.id))
        .bind(id(g.org_id))
        .bind(&g.name)
        .bind(name_key(&g.name))
        .bind(&g.description)
        .bind(ts(g.created_at))
        .bind(ts(g.updated_at))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn update_group(&mut self, g: &UsersGroup) -> Result<(), StoreError> {
        let db = self.db();
        query(
            "UPDATE users_groups SET name = $1, name_key = $2, description = $3, updated_at = $4
             WHERE org_id = $5 AND id = $6",
        )
        .bind(&g.name)
        .bind(name_key(&g.name))
        .bind(&g.description)
        .bind(ts(g.updated_at))
        .bind(id(g.org_id))
        .bind(id(g.id))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn delete_group(&mut self, org_id: Uuid, group_id: Uuid) -> Result<bool, StoreError> {
        let db = self.db();
        let done = query("DELETE FROM users_groups WHERE org_id = $1 AND id = $2")
            .bind(id(org_id))
            .bind(id(group_id))
            .execute(db)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_group_members(
        &mut self,
        org_id: Uuid,
        group_id: GroupId,
        user_ids: &[Uuid],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let db = self.db();
        // `WHERE true` lets SQLite parse ON CONFLICT after a SELECT.
        query(format!(
            "INSERT INTO users_group_members (group_id, user_id, org_id, added_at)
             SELECT $1, value, $2, $3 FROM {} WHERE true
             ON CONFLICT (group_id, user_id) DO NOTHING",
            db.dialect().json_texts("$4")
        ))
        .bind(group_id)
        .bind(id(org_id))
        .bind(ts(at))
        .bind(id_array(user_ids.iter().copied()))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn delete_group_members(
        &mut self,
        org_id: Uuid,
        group_id: GroupId,
        user_ids: &[Uuid],
    ) -> Result<Vec<Uuid>, StoreError> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        let db = self.db();
        let ids_3 = db.dialect().in_json_texts("$3");
        Ok(query_scalar::<Uuid>(format!(
            "DELETE FROM users_group_members
             WHERE org_id = $1 AND group_id = $2 AND user_id IN {ids_3}
             RETURNING user_id"
        ))
        .bind(id(org_id))
        .bind(group_id)
        .bind(id_array(user_ids.iter().copied()))
        .fetch_all(db)
        .await?)
    }

    async fn set_group_default_apps(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        apps: &[DefaultWorkApp],
    ) -> Result<(), StoreError> {
        let db = self.db();
        query("DELETE FROM group_default_work_apps WHERE org_id = $1 AND group_id = $2")
            .bind(id(org_id))
            .bind(id(group_id))
            .execute(&mut *db)
            .await?;
        for app in apps {
            query(
                "INSERT INTO group_default_work_apps (group_id, work_app_id, permission_level_id, org_id)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id(group_id))
            .bind(id(app.work_app_id))
            .bind(opt_id(app.permission_level_id))
            .bind(id(org_id))
            .execute(&mut *db)
            .await?;
        }
        Ok(())
    }

    async fn set_group_hidden_apps(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        app_ids: &[Uuid],
    ) -> Result<(), StoreError> {
        let db = self.db();
        query("DELETE FROM group_hidden_work_apps WHERE org_id = $1 AND group_id = $2")
            .bind(id(org_id))
            .bind(id(group_id))
            .execute(&mut *db)
            .await?;
        query(format!(
            "INSERT INTO group_hidden_work_apps (group_id, work_app_id, org_id)
             SELECT DISTINCT $1, value, $2 FROM {}",
            db.dialect().json_texts("$3")
        ))
        .bind(id(group_id))
        .bind(id(org_id))
        .bind(id_array(app_ids.iter().copied()))
        .execute(db)
        .await?;
        Ok(())
    }
}

pub(crate) fn decode_users_group(row: &Row) -> Result<UsersGroup, StoreError> {
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
