//! Accesses: set-based bulk upsert (JSON arrays expanded with `json_each`), listings, expiry.
use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_domain::workapp::{AppFacts, GrantEntry, GrantFacts};
use portcullis_domain::{Access, AccessDetail, AccessSource, Page, PageRequest, WorkAppStatus};
use portcullis_domain::{UserId, WorkAppId};
use uuid::Uuid;

use crate::decode::{
    get_id, get_opt_id, get_opt_ts, get_ts, id, id_array, opt_id, opt_ts, stored_name, ts,
};
use crate::session::{Session, Writable};
use crate::sql::{query, Row};
use crate::users::{decode_user_as, UserColumnNames};
use crate::StoreError;

const COLUMNS: &str = "x.work_app_id, x.user_id, x.org_id, x.permission_level_id, x.source,
                       x.granted_at, x.updated_at, x.expires_at";

/// `[[app, user, level|null, expires|null], ...]`
/// The rows as one JSON array, one entry per (app, user): a later row for the same pair wins (one
/// statement may not touch a row twice in PostgreSQL, and SQLite would let the last one win).
fn rows_json(rows: &[GrantEntry]) -> String {
    let mut last: HashMap<(Uuid, Uuid), usize> = HashMap::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        last.insert((r.work_app_id, r.user_id), i);
    }
    let mut out = String::with_capacity(rows.len() * 130 + 2);
    out.push('[');
    let distinct = rows.iter().enumerate().filter(|(i, r)| last[&(r.work_app_id, r.user_id)] == *i);
    for (i, (_, r)) in distinct.enumerate() {
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

/// Reading accesses.
#[async_trait]
pub trait AccessReads: Send {
    /// The user's live accesses with app and level names, by app name.
    async fn accesses_of_user(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<portcullis_domain::workapp::UserAccess>, StoreError>;
    /// Number of live (unexpired) accesses of each of the apps.
    async fn count_live_accesses(
        &mut self,
        org_id: Uuid,
        app_ids: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<HashMap<Uuid, i64>, StoreError>;
    /// Looks up, in a few set-based queries, every app, user and level the entries mention.
    async fn grant_facts(
        &mut self,
        org_id: Uuid,
        entries: &[GrantEntry],
    ) -> Result<GrantFacts, StoreError>;
    async fn get_access(
        &mut self,
        org_id: Uuid,
        app_id: WorkAppId,
        user_id: UserId,
    ) -> Result<Option<Access>, StoreError>;
    /// Live accesses of an app, by user id, with their users and levels.
    async fn list_accesses(
        &mut self,
        org_id: Uuid,
        app_id: Uuid,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<AccessDetail>, StoreError>;
}

#[async_trait]
impl<S: Session + ?Sized> AccessReads for S {
    async fn accesses_of_user(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<portcullis_domain::workapp::UserAccess>, StoreError> {
        let db = self.db();
        let rows = query(format!(
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
        .fetch_all(db)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(portcullis_domain::workapp::UserAccess {
                    access: decode_access(row)?,
                    app_name: row.try_get("app_name")?,
                    level_name: row.try_get("level_name")?,
                })
            })
            .collect()
    }

    async fn count_live_accesses(
        &mut self,
        org_id: Uuid,
        app_ids: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<HashMap<Uuid, i64>, StoreError> {
        let db = self.db();
        let ids_2 = db.dialect().in_json_texts("$2");
        let rows = query(format!(
            "SELECT work_app_id, COUNT(*) AS n FROM accesses
             WHERE org_id = $1 AND work_app_id IN {ids_2}
               AND (expires_at IS NULL OR expires_at > $3)
             GROUP BY work_app_id"
        ))
        .bind(id(org_id))
        .bind(id_array(app_ids.iter().copied()))
        .bind(ts(now))
        .fetch_all(db)
        .await?;
        rows.iter().map(|row| Ok((get_id(row, "work_app_id")?, row.try_get("n")?))).collect()
    }

    async fn grant_facts(
        &mut self,
        org_id: Uuid,
        entries: &[GrantEntry],
    ) -> Result<GrantFacts, StoreError> {
        let db = self.db();
        let ids_2 = db.dialect().in_json_texts("$2");
        let mut facts = GrantFacts::default();
        let app_ids = id_array(entries.iter().map(|e| e.work_app_id));
        for row in query(
            format!("SELECT a.id, a.status_id,
                    EXISTS (SELECT 1 FROM permission_levels l WHERE l.work_app_id = a.id) AS has_levels
             FROM work_apps a
             WHERE a.org_id = $1 AND a.id IN {ids_2}"),
        )
        .bind(id(org_id))
        .bind(app_ids)
        .fetch_all(&mut *db)
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
        for row in query(format!("SELECT id FROM users WHERE org_id = $1 AND id IN {ids_2}"))
            .bind(id(org_id))
            .bind(id_array(entries.iter().map(|e| e.user_id)))
            .fetch_all(&mut *db)
            .await?
        {
            facts.users.insert(get_id(&row, "id")?);
        }
        for row in query(format!(
            "SELECT id, work_app_id FROM permission_levels
             WHERE org_id = $1 AND id IN {ids_2}"
        ))
        .bind(id(org_id))
        .bind(id_array(entries.iter().filter_map(|e| e.permission_level_id)))
        .fetch_all(db)
        .await?
        {
            facts.levels.insert(get_id(&row, "id")?, get_id(&row, "work_app_id")?);
        }
        Ok(facts)
    }

    async fn get_access(
        &mut self,
        org_id: Uuid,
        app_id: WorkAppId,
        user_id: UserId,
    ) -> Result<Option<Access>, StoreError> {
        let db = self.db();
        query(format!(
            "SELECT {COLUMNS} FROM accesses x WHERE x.org_id = $1 AND x.work_app_id = $2 AND x.user_id = $3"
        ))
        .bind(id(org_id))
        .bind(app_id)
        .bind(user_id)
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(decode_access)
        .transpose()
    }

    async fn list_accesses(
        &mut self,
        org_id: Uuid,
        app_id: Uuid,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<AccessDetail>, StoreError> {
        let db = self.db();
        let select =
            "SELECT a.work_app_id, a.user_id, a.permission_level_id, a.source, a.granted_at,
                    a.updated_at, a.expires_at, u.id AS u_id, u.org_id AS u_org_id,
                    u.first_name AS u_first_name,
                    u.last_name AS u_last_name, u.email AS u_email, u.role_id AS u_role_id,
                    u.validated AS u_validated, u.deleted_at AS u_deleted_at,
                    u.manager_id AS u_manager_id, u.last_login AS u_last_login,
                    u.created_at AS u_created_at, u.updated_at AS u_updated_at,
                    l.name AS l_name, l.description AS l_description,
                    l.is_default AS l_is_default, l.is_privileged AS l_is_privileged,
                    l.created_at AS l_created_at
             FROM accesses a
             JOIN users u ON u.id = a.user_id
             LEFT JOIN permission_levels l ON l.id = a.permission_level_id
             WHERE a.org_id = $1 AND a.work_app_id = $2 AND a.user_id > $3
               AND (a.expires_at IS NULL OR a.expires_at > $4)
             ORDER BY a.user_id LIMIT $5";
        let found = query(select)
            .bind(org_id)
            .bind(app_id)
            .bind(page.after.map(id).unwrap_or_default())
            .bind(now)
            .bind(i64::from(page.limit) + 1)
            .fetch_all(db)
            .await?;
        let mut details =
            found.iter().map(|r| decode_page_row(r, org_id)).collect::<Result<Vec<_>, _>>()?;
        details.sort_by_key(|d| d.user.id);
        Ok(Page::from_overfetch(details, page.limit, |d| d.user.id))
    }
}

/// Changing accesses.
#[async_trait]
pub trait AccessWrites: Send {
    /// Creates or updates one access per row, in one statement (for a repeated (app, user) pair
    /// the last row wins); returns the accesses as they were before (only those that existed).
    async fn upsert_accesses(
        &mut self,
        org_id: Uuid,
        rows: &[GrantEntry],
        source: AccessSource,
        now: DateTime<Utc>,
    ) -> Result<Vec<Access>, StoreError>;
    /// Removes an access; returns it, or `None` if there was none.
    async fn delete_access(
        &mut self,
        org_id: Uuid,
        app_id: WorkAppId,
        user_id: UserId,
    ) -> Result<Option<Access>, StoreError>;
    /// Removes the accesses of the given (app, user) pairs in one statement; returns those that
    /// existed.
    async fn delete_accesses(
        &mut self,
        org_id: Uuid,
        pairs: &[(WorkAppId, UserId)],
    ) -> Result<Vec<Access>, StoreError>;
    /// Moves existing accesses to other levels in one statement (`(app, user, level)`); returns
    /// them as they were before (only those that existed). Source and expiry stay.
    async fn set_access_levels(
        &mut self,
        org_id: Uuid,
        rows: &[(WorkAppId, UserId, Option<Uuid>)],
        now: DateTime<Utc>,
    ) -> Result<Vec<Access>, StoreError>;
    /// Removes up to `limit` accesses (of any organization) that expired at or before `now`.
    async fn delete_expired_accesses(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Access>, StoreError>;
}

#[async_trait]
impl<S: Writable + ?Sized> AccessWrites for S {
    async fn upsert_accesses(
        &mut self,
        org_id: Uuid,
        rows: &[GrantEntry],
        source: AccessSource,
        now: DateTime<Utc>,
    ) -> Result<Vec<Access>, StoreError> {
        let db = self.db();
        let rows_1 = db.dialect().json_rows("$1");
        let rows_5 = db.dialect().json_rows("$5");
        let json = rows_json(rows);
        let previous = query(format!(
            "SELECT {COLUMNS} FROM {rows_1} AS j
             JOIN accesses x ON x.work_app_id = (j.value->>0)
                            AND x.user_id = (j.value->>1)
             WHERE x.org_id = $2"
        ))
        .bind(&json)
        .bind(id(org_id))
        .fetch_all(&mut *db)
        .await?
        .iter()
        .map(decode_access)
        .collect::<Result<Vec<_>, _>>()?;
        let now = ts(now);
        // `WHERE true` disambiguates SQLite's INSERT ... SELECT ... ON CONFLICT grammar.
        query(format!(
            "INSERT INTO accesses (work_app_id, user_id, org_id, permission_level_id, source,
                                   granted_at, updated_at, expires_at)
             SELECT (value->>0), (value->>1), $1,
                    (value->>2), $2, $3, $4, (value->>3)
             FROM {rows_5} AS t WHERE true
             ON CONFLICT (work_app_id, user_id) DO UPDATE SET
                 permission_level_id = excluded.permission_level_id,
                 source = excluded.source,
                 granted_at = CASE WHEN accesses.expires_at IS NOT NULL
                                        AND accesses.expires_at <= excluded.updated_at
                                   THEN excluded.granted_at ELSE accesses.granted_at END,
                 updated_at = excluded.updated_at,
                 expires_at = excluded.expires_at"
        ))
        .bind(id(org_id))
        .bind(source.name())
        .bind(&now)
        .bind(&now)
        .bind(&json)
        .execute(db)
        .await?;
        Ok(previous)
    }

    async fn delete_access(
        &mut self,
        org_id: Uuid,
        app_id: WorkAppId,
        user_id: UserId,
    ) -> Result<Option<Access>, StoreError> {
        let db = self.db();
        query(
            "DELETE FROM accesses AS x WHERE x.org_id = $1 AND x.work_app_id = $2 AND x.user_id = $3
             RETURNING work_app_id, user_id, org_id, permission_level_id, source, granted_at,
                       updated_at, expires_at",
        )
        .bind(id(org_id))
        .bind(app_id)
        .bind(user_id)
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(decode_access)
        .transpose()
    }

    async fn delete_accesses(
        &mut self,
        org_id: Uuid,
        pairs: &[(WorkAppId, UserId)],
    ) -> Result<Vec<Access>, StoreError> {
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let db = self.db();
        let rows: Vec<(String, String)> = pairs.iter().map(|(a, u)| (id(a.0), id(u.0))).collect();
        let json = serde_json::to_string(&rows).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        query(format!(
            "DELETE FROM accesses
             WHERE org_id = $1
               AND (work_app_id, user_id) IN (SELECT value ->> 0, value ->> 1 FROM {})
             RETURNING work_app_id, user_id, org_id, permission_level_id, source, granted_at,
                       updated_at, expires_at",
            db.dialect().json_rows("$2")
        ))
        .bind(org_id)
        .bind(json)
        .fetch_all(db)
        .await?
        .iter()
        .map(decode_access)
        .collect()
    }

    async fn set_access_levels(
        &mut self,
        org_id: Uuid,
        rows: &[(WorkAppId, UserId, Option<Uuid>)],
        now: DateTime<Utc>,
    ) -> Result<Vec<Access>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let db = self.db();
        let rows: Vec<(String, String, Option<String>)> =
            rows.iter().map(|(a, u, l)| (id(a.0), id(u.0), opt_id(*l))).collect();
        let json = serde_json::to_string(&rows).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rows_2 = db.dialect().json_rows("$2");
        let previous = query(format!(
            "SELECT {COLUMNS} FROM {rows_2} AS j
             JOIN accesses x ON x.work_app_id = (j.value ->> 0) AND x.user_id = (j.value ->> 1)
             WHERE x.org_id = $1"
        ))
        .bind(org_id)
        .bind(&json)
        .fetch_all(&mut *db)
        .await?
        .iter()
        .map(decode_access)
        .collect::<Result<Vec<_>, _>>()?;
        query(format!(
            "UPDATE accesses SET permission_level_id = j.value ->> 2, updated_at = $3
             FROM {rows_2} AS j
             WHERE accesses.org_id = $1 AND accesses.work_app_id = (j.value ->> 0)
               AND accesses.user_id = (j.value ->> 1)"
        ))
        .bind(org_id)
        .bind(&json)
        .bind(now)
        .execute(db)
        .await?;
        Ok(previous)
    }

    async fn delete_expired_accesses(
        &mut self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Access>, StoreError> {
        let db = self.db();
        query(
            "DELETE FROM accesses
             WHERE (work_app_id, user_id) IN (
                 SELECT work_app_id, user_id FROM accesses
                 WHERE expires_at IS NOT NULL AND expires_at <= $1 LIMIT $2)
             RETURNING work_app_id, user_id, org_id, permission_level_id, source, granted_at,
                       updated_at, expires_at",
        )
        .bind(ts(now))
        .bind(i64::from(limit))
        .fetch_all(db)
        .await?
        .iter()
        .map(decode_access)
        .collect()
    }
}

/// The holder's columns in the page query.
const PAGE_USER: UserColumnNames = UserColumnNames {
    id: "u_id",
    org_id: "u_org_id",
    first_name: "u_first_name",
    last_name: "u_last_name",
    email: "u_email",
    role_id: "u_role_id",
    validated: "u_validated",
    deleted_at: "u_deleted_at",
    manager_id: "u_manager_id",
    last_login: "u_last_login",
    created_at: "u_created_at",
    updated_at: "u_updated_at",
};

/// One access of a page, with its holder and level: a row of the page query.
fn decode_page_row(row: &Row, org_id: Uuid) -> Result<AccessDetail, StoreError> {
    // Columns are read in the order the page query selects them: a lookup by name is then one
    // comparison (100 rows of 24 columns per page).
    let work_app_id = get_id(row, "work_app_id")?;
    let user_id = get_id(row, "user_id")?;
    let level_id = get_opt_id(row, "permission_level_id")?;
    let access = Access {
        org_id,
        user_id,
        work_app_id,
        permission_level_id: level_id,
        source: stored_name("source", row.try_get_str("source")?.unwrap_or_default())?,
        granted_at: get_ts(row, "granted_at")?,
        updated_at: get_ts(row, "updated_at")?,
        expires_at: get_opt_ts(row, "expires_at")?,
    };
    let user = decode_user_as(row, &PAGE_USER)?;
    let level = match (level_id, row.try_get::<Option<String>>("l_name")?) {
        (Some(id), Some(name)) => Some(portcullis_domain::PermissionLevel {
            id,
            org_id,
            work_app_id,
            name,
            description: row.try_get::<Option<String>>("l_description")?.unwrap_or_default(),
            is_default: row.try_get::<Option<bool>>("l_is_default")?.unwrap_or(false),
            is_privileged: row.try_get::<Option<bool>>("l_is_privileged")?.unwrap_or(false),
            created_at: get_ts(row, "l_created_at")?,
        }),
        _ => None,
    };
    Ok(AccessDetail { access, user, level })
}

pub(crate) fn decode_access(row: &Row) -> Result<Access, StoreError> {
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
