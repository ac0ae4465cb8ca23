//! Workspaces and their members.
use portcullis_domain::{Workspace, WorkspaceMember};
use sqlx::PgConnection;
use uuid::Uuid;

use super::codec::{id, opt_ts, ts};
use crate::decode::workspace as from_row;
use crate::decode::workspace_member as member_from_row;
use crate::StoreError;

const COLUMNS: &str =
    "w.id, w.org_id, w.name, w.created_by_user_id, w.created_at, w.updated_at, w.deleted_at";

pub async fn insert(conn: &mut PgConnection, w: &Workspace) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO workspaces (id, org_id, name, created_by_user_id, created_at, updated_at, deleted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id(w.id))
    .bind(id(w.org_id))
    .bind(&w.name)
    .bind(id(w.created_by_user_id))
    .bind(ts(w.created_at))
    .bind(ts(w.updated_at))
    .bind(opt_ts(w.deleted_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update(conn: &mut PgConnection, w: &Workspace) -> Result<(), StoreError> {
    sqlx::query("UPDATE workspaces SET name = $1, updated_at = $2, deleted_at = $3 WHERE org_id = $4 AND id = $5")
        .bind(&w.name)
        .bind(ts(w.updated_at))
        .bind(opt_ts(w.deleted_at))
        .bind(id(w.org_id))
        .bind(id(w.id))
        .execute(conn)
        .await?;
    Ok(())
}

/// A live (not deleted) workspace of the organization.
pub async fn get(
    conn: &mut PgConnection,
    org_id: Uuid,
    workspace_id: Uuid,
) -> Result<Option<Workspace>, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM workspaces w WHERE w.org_id = $1 AND w.id = $2 AND w.deleted_at IS NULL"
    ))
    .bind(id(org_id))
    .bind(id(workspace_id))
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// Live workspaces of the organization; only those `member_id` belongs to, if given.
pub async fn list(
    conn: &mut PgConnection,
    org_id: Uuid,
    member_id: Option<Uuid>,
) -> Result<Vec<Workspace>, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM workspaces w
         WHERE w.org_id = $1 AND w.deleted_at IS NULL
           AND ($2 IS NULL OR EXISTS (SELECT 1 FROM workspace_members m WHERE m.workspace_id = w.id AND m.user_id = $2))
         ORDER BY w.id"
    ))
    .bind(id(org_id))
    .bind(member_id.map(id))
    .fetch_all(conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

pub async fn get_member(
    conn: &mut PgConnection,
    org_id: Uuid,
    workspace_id: Uuid,
    user_id: Uuid,
) -> Result<Option<WorkspaceMember>, StoreError> {
    sqlx::query(
        "SELECT workspace_id, user_id, role, added_at, updated_at FROM workspace_members
         WHERE org_id = $1 AND workspace_id = $2 AND user_id = $3",
    )
    .bind(id(org_id))
    .bind(id(workspace_id))
    .bind(id(user_id))
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(member_from_row)
    .transpose()
}

pub async fn list_members(
    conn: &mut PgConnection,
    org_id: Uuid,
    workspace_id: Uuid,
) -> Result<Vec<WorkspaceMember>, StoreError> {
    sqlx::query(
        "SELECT workspace_id, user_id, role, added_at, updated_at FROM workspace_members
         WHERE org_id = $1 AND workspace_id = $2 ORDER BY added_at, user_id",
    )
    .bind(id(org_id))
    .bind(id(workspace_id))
    .fetch_all(conn)
    .await?
    .iter()
    .map(member_from_row)
    .collect()
}

pub async fn upsert_member(
    conn: &mut PgConnection,
    org_id: Uuid,
    m: &WorkspaceMember,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO workspace_members (workspace_id, user_id, org_id, role, added_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at",
    )
    .bind(id(m.workspace_id))
    .bind(id(m.user_id))
    .bind(id(org_id))
    .bind(m.role.name())
    .bind(ts(m.added_at))
    .bind(ts(m.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_member(
    conn: &mut PgConnection,
    org_id: Uuid,
    workspace_id: Uuid,
    user_id: Uuid,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "DELETE FROM workspace_members WHERE org_id = $1 AND workspace_id = $2 AND user_id = $3",
    )
    .bind(id(org_id))
    .bind(id(workspace_id))
    .bind(id(user_id))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn count_admins(
    conn: &mut PgConnection,
    org_id: Uuid,
    workspace_id: Uuid,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM workspace_members WHERE org_id = $1 AND workspace_id = $2 AND role = 'ADMIN'",
    )
    .bind(id(org_id))
    .bind(id(workspace_id))
    .fetch_one(conn)
    .await?)
}
