//! Workspaces and their members.

use async_trait::async_trait;
use portcullis_domain::{UserId, WorkspaceId};
use portcullis_domain::{Workspace, WorkspaceMember, WorkspaceRole};
use uuid::Uuid;

use crate::decode::{get_id, get_opt_ts, get_ts, id, opt_ts, stored_name, ts};
use crate::session::{Session, Writable};
use crate::sql::{query, query_scalar, Row};
use crate::StoreError;

const COLUMNS: &str =
    "w.id, w.org_id, w.name, w.created_by_user_id, w.created_at, w.updated_at, w.deleted_at";

/// Reading workspaces.
#[async_trait]
pub trait WorkspaceReads: Send {
    /// A live (not deleted) workspace.
    async fn get_workspace(
        &mut self,
        org_id: Uuid,
        workspace_id: Uuid,
    ) -> Result<Option<Workspace>, StoreError>;
    /// Live workspaces; only those `member_id` belongs to, if given.
    async fn list_workspaces(
        &mut self,
        org_id: Uuid,
        member_id: Option<Uuid>,
    ) -> Result<Vec<Workspace>, StoreError>;
    async fn get_workspace_member(
        &mut self,
        org_id: Uuid,
        workspace_id: WorkspaceId,
        user_id: UserId,
    ) -> Result<Option<WorkspaceMember>, StoreError>;
    async fn list_workspace_members(
        &mut self,
        org_id: Uuid,
        workspace_id: Uuid,
    ) -> Result<Vec<WorkspaceMember>, StoreError>;
    async fn count_workspace_admins(
        &mut self,
        org_id: Uuid,
        workspace_id: Uuid,
    ) -> Result<i64, StoreError>;
}

#[async_trait]
impl<S: Session + ?Sized> WorkspaceReads for S {
    async fn get_workspace(
        &mut self,
        org_id: Uuid,
        workspace_id: Uuid,
    ) -> Result<Option<Workspace>, StoreError> {
        let db = self.db();
        query(format!(
            "SELECT {COLUMNS} FROM workspaces w WHERE w.org_id = $1 AND w.id = $2 AND w.deleted_at IS NULL"
        ))
        .bind(id(org_id))
        .bind(id(workspace_id))
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(decode_workspace)
        .transpose()
    }

    async fn list_workspaces(
        &mut self,
        org_id: Uuid,
        member_id: Option<Uuid>,
    ) -> Result<Vec<Workspace>, StoreError> {
        let db = self.db();
        query(format!(
            "SELECT {COLUMNS} FROM workspaces w
             WHERE w.org_id = $1 AND w.deleted_at IS NULL
               AND ($2 IS NULL OR EXISTS (SELECT 1 FROM workspace_members m WHERE m.workspace_id = w.id AND m.user_id = $2))
             ORDER BY w.id"
        ))
        .bind(id(org_id))
        .bind(member_id.map(id))
        .fetch_all(db)
        .await?
        .iter()
        .map(decode_workspace)
        .collect()
    }

    async fn get_workspace_member(
        &mut self,
        org_id: Uuid,
        workspace_id: WorkspaceId,
        user_id: UserId,
    ) -> Result<Option<WorkspaceMember>, StoreError> {
        let db = self.db();
        query(
            "SELECT workspace_id, user_id, role, added_at, updated_at FROM workspace_members
             WHERE org_id = $1 AND workspace_id = $2 AND user_id = $3",
        )
        .bind(id(org_id))
        .bind(workspace_id)
        .bind(user_id)
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(decode_workspace_member)
        .transpose()
    }

    async fn list_workspace_members(
        &mut self,
        org_id: Uuid,
        workspace_id: Uuid,
    ) -> Result<Vec<WorkspaceMember>, StoreError> {
        let db = self.db();
        query(
            "SELECT workspace_id, user_id, role, added_at, updated_at FROM workspace_members
             WHERE org_id = $1 AND workspace_id = $2 ORDER BY added_at, user_id",
        )
        .bind(id(org_id))
        .bind(id(workspace_id))
        .fetch_all(db)
        .await?
        .iter()
        .map(decode_workspace_member)
        .collect()
    }

    async fn count_workspace_admins(
        &mut self,
        org_id: Uuid,
        workspace_id: Uuid,
    ) -> Result<i64, StoreError> {
        let db = self.db();
        Ok(query_scalar(
            "SELECT COUNT(*) FROM workspace_members WHERE org_id = $1 AND workspace_id = $2 AND role = 'ADMIN'",
        )
        .bind(id(org_id))
        .bind(id(workspace_id))
        .fetch_one(db)
        .await?)
    }
}

/// Changing workspaces.
#[async_trait]
pub trait WorkspaceWrites: Send {
    async fn insert_workspace(&mut self, w: &Workspace) -> Result<(), StoreError>;
    /// Saves name, updated_at and deleted_at (soft delete).
    async fn update_workspace(&mut self, w: &Workspace) -> Result<(), StoreError>;
    /// Adds the member, or updates the role of an existing one.
    async fn upsert_workspace_member(
        &mut self,
        org_id: Uuid,
        m: &WorkspaceMember,
    ) -> Result<(), StoreError>;
    async fn delete_workspace_member(
        &mut self,
        org_id: Uuid,
        workspace_id: WorkspaceId,
        user_id: UserId,
    ) -> Result<bool, StoreError>;
}

#[async_trait]
impl<S: Writable + ?Sized> WorkspaceWrites for S {
    async fn insert_workspace(&mut self, w: &Workspace) -> Result<(), StoreError> {
        let db = self.db();
        query(
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
        .execute(db)
        .await?;
        Ok(())
    }

    async fn update_workspace(&mut self, w: &Workspace) -> Result<(), StoreError> {
        let db = self.db();
        query("UPDATE workspaces SET name = $1, updated_at = $2, deleted_at = $3 WHERE org_id = $4 AND id = $5")
            .bind(&w.name)
            .bind(ts(w.updated_at))
            .bind(opt_ts(w.deleted_at))
            .bind(id(w.org_id))
            .bind(id(w.id))
            .execute(db)
            .await?;
        Ok(())
    }

    async fn upsert_workspace_member(
        &mut self,
        org_id: Uuid,
        m: &WorkspaceMember,
    ) -> Result<(), StoreError> {
        let db = self.db();
        query(
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
        .execute(db)
        .await?;
        Ok(())
    }

    async fn delete_workspace_member(
        &mut self,
        org_id: Uuid,
        workspace_id: WorkspaceId,
        user_id: UserId,
    ) -> Result<bool, StoreError> {
        let db = self.db();
        let done = query(
            "DELETE FROM workspace_members WHERE org_id = $1 AND workspace_id = $2 AND user_id = $3",
        )
        .bind(id(org_id))
        .bind(workspace_id)
        .bind(user_id)
        .execute(db)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

pub(crate) fn decode_workspace(row: &Row) -> Result<Workspace, StoreError> {
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

pub(crate) fn decode_workspace_member(row: &Row) -> Result<WorkspaceMember, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(WorkspaceMember {
        workspace_id: get_id(row, "workspace_id")?,
        user_id: get_id(row, "user_id")?,
        role: stored_name::<WorkspaceRole>("role", &role)?,
        added_at: get_ts(row, "added_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}
