//! Policies, their versions and assignments; the group lookups policies need.

use async_trait::async_trait;
use portcullis_domain::{Page, PageRequest, Policy, PolicyStep, RequestType};
use portcullis_domain::{PermissionLevelId, PolicyId, WorkAppId};
use uuid::Uuid;

use crate::decode::{get_id, get_ts, id, stored_name, ts};
use crate::session::{Session, Writable};
use crate::sql::{query, query_scalar, Db, Row};
use crate::StoreError;

fn steps_json(steps: &[PolicyStep]) -> Result<String, StoreError> {
    serde_json::to_string(steps).map_err(|e| StoreError::Corrupt(format!("steps: {e}")))
}

const COLUMNS: &str = "p.id, p.org_id, p.name, p.request_type, p.current_version, p.is_system,
                       p.is_default, p.created_at, p.updated_at, v.steps_json";
const FROM: &str =
    "FROM policies p JOIN policy_versions v ON v.policy_id = p.id AND v.version = p.current_version";

async fn insert_version(db: &mut Db, policy: &Policy) -> Result<(), StoreError> {
    query(
        "INSERT INTO policy_versions (policy_id, version, steps_json, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id(policy.id))
    .bind(policy.version)
    .bind(steps_json(&policy.steps)?)
    .bind(ts(policy.updated_at))
    .execute(db)
    .await?;
    Ok(())
}

/// Reading policies.
#[async_trait]
pub trait PolicyReads: Send {
    async fn get_policy(
        &mut self,
        org_id: Uuid,
        policy_id: Uuid,
    ) -> Result<Option<Policy>, StoreError>;
    /// The steps of one version of a policy.
    async fn get_policy_steps(
        &mut self,
        org_id: Uuid,
        policy_id: Uuid,
        version: i32,
    ) -> Result<Option<Vec<PolicyStep>>, StoreError>;
    async fn list_policies(
        &mut self,
        org_id: Uuid,
        request_type: Option<RequestType>,
        page: PageRequest,
    ) -> Result<Page<Policy>, StoreError>;
    /// Has any request followed this version?
    async fn policy_version_in_use(
        &mut self,
        org_id: Uuid,
        policy_id: Uuid,
        version: i32,
    ) -> Result<bool, StoreError>;
    async fn default_policy(
        &mut self,
        org_id: Uuid,
        request_type: RequestType,
    ) -> Result<Option<Policy>, StoreError>;
    /// The policies assigned to (the level, the app) for a request type.
    async fn assigned_policies(
        &mut self,
        org_id: Uuid,
        app_id: WorkAppId,
        level_id: Option<PermissionLevelId>,
        request_type: RequestType,
    ) -> Result<(Option<Uuid>, Option<Uuid>), StoreError>;
}

#[async_trait]
impl<S: Session + ?Sized> PolicyReads for S {
    async fn get_policy(
        &mut self,
        org_id: Uuid,
        policy_id: Uuid,
    ) -> Result<Option<Policy>, StoreError> {
        let db = self.db();
        query(format!("SELECT {COLUMNS} {FROM} WHERE p.org_id = $1 AND p.id = $2"))
            .bind(id(org_id))
            .bind(id(policy_id))
            .fetch_optional(db)
            .await?
            .as_ref()
            .map(decode_policy)
            .transpose()
    }

    async fn get_policy_steps(
        &mut self,
        org_id: Uuid,
        policy_id: Uuid,
        version: i32,
    ) -> Result<Option<Vec<PolicyStep>>, StoreError> {
        let db = self.db();
        let text: Option<String> = query_scalar(
            "SELECT v.steps_json FROM policy_versions v JOIN policies p ON p.id = v.policy_id
             WHERE p.org_id = $1 AND v.policy_id = $2 AND v.version = $3",
        )
        .bind(id(org_id))
        .bind(id(policy_id))
        .bind(version)
        .fetch_optional(db)
        .await?;
        text.as_deref().map(parse_steps).transpose()
    }

    async fn list_policies(
        &mut self,
        org_id: Uuid,
        request_type: Option<RequestType>,
        page: PageRequest,
    ) -> Result<Page<Policy>, StoreError> {
        let db = self.db();
        let rows = query(format!(
            "SELECT {COLUMNS} {FROM}
             WHERE p.org_id = $1 AND ($2 IS NULL OR p.request_type = $2) AND p.id > $3
             ORDER BY p.id LIMIT $4"
        ))
        .bind(id(org_id))
        .bind(request_type.map(RequestType::name))
        .bind(page.after.map(id).unwrap_or_default())
        .bind(i64::from(page.limit) + 1)
        .fetch_all(db)
        .await?;
        let policies = rows.iter().map(decode_policy).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(policies, page.limit, |p| p.id))
    }

    async fn policy_version_in_use(
        &mut self,
        org_id: Uuid,
        policy_id: Uuid,
        version: i32,
    ) -> Result<bool, StoreError> {
        let db = self.db();
        Ok(query_scalar(
            "SELECT EXISTS (SELECT 1 FROM requests WHERE org_id = $1 AND policy_id = $2 AND policy_version = $3)",
        )
        .bind(id(org_id))
        .bind(id(policy_id))
        .bind(version)
        .fetch_one(db)
        .await?)
    }

    async fn default_policy(
        &mut self,
        org_id: Uuid,
        request_type: RequestType,
    ) -> Result<Option<Policy>, StoreError> {
        let db = self.db();
        query(format!(
            "SELECT {COLUMNS} {FROM} WHERE p.org_id = $1 AND p.request_type = $2 AND p.is_default"
        ))
        .bind(id(org_id))
        .bind(request_type.name())
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(decode_policy)
        .transpose()
    }

    async fn assigned_policies(
        &mut self,
        org_id: Uuid,
        app_id: WorkAppId,
        level_id: Option<PermissionLevelId>,
        request_type: RequestType,
    ) -> Result<(Option<Uuid>, Option<Uuid>), StoreError> {
        let db = self.db();
        let level: Option<String> = match level_id {
            Some(level_id) => {
                query_scalar(
                    "SELECT policy_id FROM permission_level_policies
                     WHERE org_id = $1 AND permission_level_id = $2 AND request_type = $3",
                )
                .bind(id(org_id))
                .bind(level_id)
                .bind(request_type.name())
                .fetch_optional(&mut *db)
                .await?
            }
            None => None,
        };
        let app: Option<String> = query_scalar(
            "SELECT policy_id FROM work_app_policies WHERE org_id = $1 AND work_app_id = $2 AND request_type = $3",
        )
        .bind(id(org_id))
        .bind(app_id)
        .bind(request_type.name())
        .fetch_optional(db)
        .await?;
        let parse = |s: Option<String>| {
            s.map(|s| {
                Uuid::parse_str(&s).map_err(|e| StoreError::Corrupt(format!("policy_id: {e}")))
            })
            .transpose()
        };
        Ok((parse(level)?, parse(app)?))
    }
}

/// Changing policies.
#[async_trait]
pub trait PolicyWrites: Send {
    /// Inserts the policy and its version row.
    async fn insert_policy(&mut self, policy: &Policy) -> Result<(), StoreError>;
    /// Saves name and steps; `new_version` adds a version row instead of rewriting the current one.
    async fn update_policy(&mut self, policy: &Policy, new_version: bool)
        -> Result<(), StoreError>;
    async fn set_work_app_policy(
        &mut self,
        org_id: Uuid,
        app_id: WorkAppId,
        request_type: RequestType,
        policy_id: PolicyId,
    ) -> Result<(), StoreError>;
    async fn set_permission_level_policy(
        &mut self,
        org_id: Uuid,
        level_id: PermissionLevelId,
        request_type: RequestType,
        policy_id: PolicyId,
    ) -> Result<(), StoreError>;
}

#[async_trait]
impl<S: Writable + ?Sized> PolicyWrites for S {
    async fn insert_policy(&mut self, policy: &Policy) -> Result<(), StoreError> {
        let db = self.db();
        query(
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
        .execute(&mut *db)
        .await?;
        insert_version(db, policy).await
    }

    async fn update_policy(
        &mut self,
        policy: &Policy,
        new_version: bool,
    ) -> Result<(), StoreError> {
        let db = self.db();
        query("UPDATE policies SET name = $1, current_version = $2, updated_at = $3 WHERE org_id = $4 AND id = $5")
            .bind(&policy.name)
            .bind(policy.version)
            .bind(ts(policy.updated_at))
            .bind(id(policy.org_id))
            .bind(id(policy.id))
            .execute(&mut *db)
            .await?;
        if new_version {
            insert_version(db, policy).await
        } else {
            query(
                "UPDATE policy_versions SET steps_json = $1 WHERE policy_id = $2 AND version = $3",
            )
            .bind(steps_json(&policy.steps)?)
            .bind(id(policy.id))
            .bind(policy.version)
            .execute(db)
            .await?;
            Ok(())
        }
    }

    async fn set_work_app_policy(
        &mut self,
        org_id: Uuid,
        app_id: WorkAppId,
        request_type: RequestType,
        policy_id: PolicyId,
    ) -> Result<(), StoreError> {
        let db = self.db();
        query(
            "INSERT INTO work_app_policies (work_app_id, request_type, policy_id, org_id) VALUES ($1, $2, $3, $4)
             ON CONFLICT (work_app_id, request_type) DO UPDATE SET policy_id = excluded.policy_id",
        )
        .bind(app_id)
        .bind(request_type.name())
        .bind(policy_id)
        .bind(id(org_id))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn set_permission_level_policy(
        &mut self,
        org_id: Uuid,
        level_id: PermissionLevelId,
        request_type: RequestType,
        policy_id: PolicyId,
    ) -> Result<(), StoreError> {
        let db = self.db();
        query(
            "INSERT INTO permission_level_policies (permission_level_id, request_type, policy_id, org_id)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (permission_level_id, request_type) DO UPDATE SET policy_id = excluded.policy_id",
        )
        .bind(level_id)
        .bind(request_type.name())
        .bind(policy_id)
        .bind(id(org_id))
        .execute(db)
        .await?;
        Ok(())
    }
}

pub(crate) fn decode_policy(row: &Row) -> Result<Policy, StoreError> {
    let request_type: String = row.try_get("request_type")?;
    let steps: String = row.try_get("steps_json")?;
    Ok(Policy {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        name: row.try_get("name")?,
        request_type: stored_name("request_type", &request_type)?,
        steps: parse_steps(&steps)?,
        version: row.try_get("current_version")?,
        is_system: row.try_get("is_system")?,
        is_default: row.try_get("is_default")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

pub(crate) fn parse_steps(text: &str) -> Result<Vec<PolicyStep>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("steps_json: {e}")))
}
