//! Directory sync over SCIM 2.0: the identity provider's tokens, and its users and groups.
//!
//! The provider's resource is kept beside our columns (see the 0014 migration): what it wrote
//! reads back as written, while the attributes we map (userName, names, e-mail, active,
//! externalId, manager, group name and members) always show our current values. Every write is
//! one transaction and goes through the same user and group logic as our own API, so joiner,
//! mover and leaver rules apply.
use chrono::Duration;
use portcullis_domain::directory::{directory_group, directory_user, ENTERPRISE_USER};
use portcullis_domain::scim::{apply_patch, Filter, PatchOperation, ScimError, ScimType};
use portcullis_domain::{new_id, validate, AuditAction, OrgRole, UserStatus};
use portcullis_domain::{GroupSource, ScimGroup, ScimToken, ScimUser, UsersGroup};
use portcullis_store::prelude::*;
use portcullis_store::{ScimPage, ScimResource, ScimSqlFilter};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::groups::GroupPatch;
use crate::secrets::{hash_secret, new_scim_token, parse_scim_token, verify_secret};
use crate::users::{NewUser, UserPatch};
use crate::{Actor, ActorKind, Change, Ctx, Service, ServiceError};

/// `last_used_at` is refreshed at most this often, so authentication stays a read.
const LAST_USED_GRANULARITY: Duration = Duration::minutes(5);
/// Most resources one list page returns (RFC 7644 lets the server cap `count`).
pub const MAX_PAGE: i64 = 1000;

/// A SCIM token just created: the only time its value is available.
#[derive(Debug, Clone)]
pub struct IssuedScimToken {
    pub token: ScimToken,
    pub value: String,
}

fn invalid_token() -> ServiceError {
    ServiceError::Unauthenticated("Invalid or revoked SCIM token".into())
}

fn scim(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> ServiceError {
    ServiceError::Scim(ScimError { status, scim_type, detail: detail.into() })
}

fn invalid_value(err: impl std::fmt::Display) -> ServiceError {
    scim(400, Some(ScimType::InvalidValue), err.to_string())
}

/// Only the identity provider, with the organization's SCIM token, writes through SCIM.
fn require_scim(ctx: &Ctx) -> Result<(), ServiceError> {
    if ctx.actor.is_scim() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("Only the organization's SCIM token may do this".into()))
    }
}

fn user_not_found(id: &str) -> ServiceError {
    scim(404, None, format!("User {id} not found"))
}

fn group_not_found(id: &str) -> ServiceError {
    scim(404, None, format!("Group {id} not found"))
}

fn stored_doc(attributes: Option<&str>) -> Map<String, Value> {
    attributes
        .and_then(|a| serde_json::from_str::<Value>(a).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

/// The user as a SCIM resource body (without `id`, `schemas` and `meta`): what the provider
/// wrote, with the attributes we map refreshed from our columns. A user the provider never
/// wrote shows their userName, names, e-mail and status.
pub fn user_document(su: &ScimUser) -> Map<String, Value> {
    let user = &su.user;
    let Some(attributes) = su.attributes.as_deref() else {
        let mut doc = Map::new();
        doc.insert("userName".into(), json!(su.user_name.as_deref().unwrap_or(&user.email)));
        let mut name = json!({ "givenName": user.first_name });
        if !user.last_name.is_empty() {
            name["familyName"] = json!(user.last_name);
        }
        doc.insert("name".into(), name);
        doc.insert("emails".into(), json!([{ "value": user.email, "primary": true }]));
        doc.insert("active".into(), json!(user.deleted_at.is_none()));
        if let Some(external_id) = &su.external_id {
            doc.insert("externalId".into(), json!(external_id));
        }
        if let Some(manager) = user.manager_id {
            doc.insert(ENTERPRISE_USER.into(), json!({ "manager": { "value": manager } }));
        }
        return doc;
    };
    let mut doc = stored_doc(Some(attributes));
    doc.insert("userName".into(), json!(su.user_name.as_deref().unwrap_or(&user.email)));
    if let Some(name) = doc.get_mut("name").and_then(Value::as_object_mut) {
        if name.contains_key("givenName") {
            name.insert("givenName".into(), json!(user.first_name));
        }
        if name.contains_key("familyName") {
            if user.last_name.is_empty() {
                name.remove("familyName");
            } else {
                name.insert("familyName".into(), json!(user.last_name));
            }
        }
    }
    if doc.contains_key("active") {
        doc.insert("active".into(), json!(user.deleted_at.is_none()));
    }
    match &su.external_id {
        Some(external_id) => doc.insert("externalId".into(), json!(external_id)),
        None => doc.remove("externalId"),
    };
    if let Some(manager) = user.manager_id {
        let ext = doc.entry(ENTERPRISE_USER).or_insert_with(|| json!({}));
        if let Some(ext) = ext.as_object_mut() {
            match ext.get_mut("manager").and_then(Value::as_object_mut) {
                Some(m) => {
                    m.insert("value".into(), json!(manager));
                }
                None => {
                    ext.insert("manager".into(), json!({ "value": manager }));
                }
            }
        }
    }
    doc
}

/// The group as a SCIM resource body: its name, externalId and members (`value` and `type`; the
/// API adds each member's `$ref`).
pub fn group_document(sg: &ScimGroup) -> Map<String, Value> {
    let mut doc = Map::new();
    doc.insert("displayName".into(), json!(sg.group.name));
    if let Some(external_id) = &sg.external_id {
        doc.insert("externalId".into(), json!(external_id));
    }
    if !sg.member_ids.is_empty() {
        let members: Vec<Value> =
            sg.member_ids.iter().map(|id| json!({ "value": id, "type": "User" })).collect();
        doc.insert("members".into(), Value::Array(members));
    }
    doc
}

fn compile(
    resource: ScimResource,
    filter: Option<&Filter>,
) -> Result<Option<ScimSqlFilter>, ServiceError> {
    filter
        .map(|f| ScimSqlFilter::compile(resource, f))
        .transpose()
        .map_err(|m| scim(400, Some(ScimType::InvalidFilter), m))
}

/// RFC 7644 §3.4.2.4: `startIndex` is 1-based (values below 1 mean 1); `count` is capped and
/// negative values mean 0.
fn window(start_index: Option<i64>, count: Option<i64>) -> (i64, i64) {
    let offset = start_index.unwrap_or(1).max(1) - 1;
    let limit = count.unwrap_or(100).clamp(0, MAX_PAGE);
    (offset, limit)
}

impl Service {
    // ---- tokens -------------------------------------------------------------------------

    /// Creates the organization's SCIM token (administrators and read-write credentials).
    pub async fn create_scim_token(
        &self,
        ctx: &Ctx,
        name: &str,
    ) -> Result<IssuedScimToken, ServiceError> {
        ctx.actor.require_org_admin()?;
        let name = validate::name("name", name)?;
        let id = new_id();
        let (value, secret) = new_scim_token(id);
        let token = ScimToken {
            id,
            org_id: ctx.org_id(),
            name,
            secret_hash: hash_secret(&secret),
            created_at: self.clock.now(),
            last_used_at: None,
            revoked_at: None,
        };
        let mut tx = self.write_tx(ctx.org_id()).await?;
        tx.insert_scim_token(&token).await?;
        let change = Change::new(AuditAction::ScimTokenCreated, "scim_token", token.id)
            .after(json!({ "name": token.name }));
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(IssuedScimToken { token, value })
    }

    /// `portcullis scim-token create`: a SCIM token for an organization, by the server itself.
    pub async fn issue_scim_token_for_org(
        &self,
        org_id: Uuid,
        name: &str,
    ) -> Result<IssuedScimToken, ServiceError> {
        let ctx = Ctx::new(Actor { org_id, kind: ActorKind::System }, None);
        self.get_organization(&ctx, org_id).await?;
        self.create_scim_token(&ctx, name).await
    }

    pub async fn list_scim_tokens(&self, ctx: &Ctx) -> Result<Vec<ScimToken>, ServiceError> {
        ctx.actor.require_validated()?;
        if let ActorKind::User { role, .. } = ctx.actor.kind {
            if !role.is_org_admin() {
                return Err(ServiceError::Forbidden(
                    "Only organization administrators and owners may do this".into(),
                ));
            }
        }
        let mut tx = self.store.read().await?;
        Ok(tx.list_scim_tokens(ctx.org_id()).await?)
    }

    /// Revokes a SCIM token: the provider's next call is refused.
    pub async fn revoke_scim_token(&self, ctx: &Ctx, token_id: Uuid) -> Result<(), ServiceError> {
        ctx.actor.require_org_admin()?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let token = tx
            .get_scim_token(token_id)
            .await?
            .filter(|t| t.org_id == ctx.org_id())
            .ok_or_else(|| ServiceError::not_found("SCIM token", token_id))?;
        if !tx.revoke_scim_token(ctx.org_id(), token_id, self.clock.now()).await? {
            return Err(ServiceError::Conflict(format!(
                "SCIM token {token_id} is already revoked"
            )));
        }
        let change = Change::new(AuditAction::ScimTokenRevoked, "scim_token", token_id)
            .before(json!({ "name": token.name }));
        self.audit(&mut *tx, ctx, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks a SCIM bearer token.
    pub async fn authenticate_scim(&self, token: &str) -> Result<Actor, ServiceError> {
        let (id, secret) = parse_scim_token(token).ok_or_else(invalid_token)?;
        let token = {
            let mut tx = self.store.read().await?;
            tx.get_scim_token(id).await?.ok_or_else(invalid_token)?
        };
        if token.revoked_at.is_some() || !verify_secret(secret, &token.secret_hash) {
            return Err(invalid_token());
        }
        let now = self.clock.now();
        if token.last_used_at.is_none_or(|at| now - at > LAST_USED_GRANULARITY) {
            let mut tx = self.write_tx(token.org_id).await?;
            tx.touch_scim_token(token.id, now).await?;
            tx.commit().await?;
        }
        Ok(Actor { org_id: token.org_id, kind: ActorKind::Scim { token_id: token.id } })
    }

    // ---- users --------------------------------------------------------------------------

    pub async fn scim_user(&self, ctx: &Ctx, user_id: &str) -> Result<ScimUser, ServiceError> {
        require_scim(ctx)?;
        let id = Uuid::try_parse(user_id).map_err(|_| user_not_found(user_id))?;
        let mut tx = self.store.read().await?;
        tx.get_scim_user(ctx.org_id(), id).await?.ok_or_else(|| user_not_found(user_id))
    }

    pub async fn scim_users(
        &self,
        ctx: &Ctx,
        filter: Option<&Filter>,
        start_index: Option<i64>,
        count: Option<i64>,
    ) -> Result<ScimPage<ScimUser>, ServiceError> {
        require_scim(ctx)?;
        let filter = compile(ScimResource::User, filter)?;
        let (offset, limit) = window(start_index, count);
        let mut tx = self.store.read().await?;
        Ok(tx.list_scim_users(ctx.org_id(), filter.as_ref(), offset, limit).await?)
    }

    /// `POST /Users`: a new user (invited until they sign in), or — when the provider deleted
    /// this person before — the same record revived.
    pub async fn scim_create_user(
        &self,
        ctx: &Ctx,
        doc: Map<String, Value>,
    ) -> Result<ScimUser, ServiceError> {
        require_scim(ctx)?;
        let fields = directory_user(&doc).map_err(invalid_value)?;
        let org_id = ctx.org_id();
        let mut tx = self.write_tx(org_id).await?;
        let id = match tx.removed_scim_user(org_id, &fields.user_name, &fields.email).await? {
            Some(removed) => {
                tx.set_scim_removed(org_id, removed.user.id, None).await?;
                self.write_user(&mut *tx, ctx, &removed, doc, true).await?;
                removed.user.id
            }
            None => {
                let manager_id = match &fields.manager {
                    Some(value) => self.resolve_manager(&mut *tx, ctx, value, None).await?,
                    None => None,
                };
                let new = NewUser {
                    first_name: fields.first_name.clone(),
                    last_name: fields.last_name.clone(),
                    email: fields.email.clone(),
                    manager_id,
                    role: Some(OrgRole::User),
                    status: if fields.active == Some(false) {
                        UserStatus::Deactivated
                    } else {
                        UserStatus::Invited
                    },
                };
                let user = self
                    .insert_user_in(&mut *tx, ctx, new, OrgRole::User)
                    .await
                    .map_err(uniqueness)?;
                let attributes = Value::Object(doc).to_string();
                tx.set_scim_user(
                    org_id,
                    user.id,
                    fields.external_id.as_deref(),
                    Some(&fields.user_name),
                    Some(&attributes),
                )
                .await
                .map_err(user_name_taken)?;
                user.id
            }
        };
        let created =
            tx.get_scim_user(org_id, id).await?.ok_or_else(|| user_not_found(&id.to_string()))?;
        tx.commit().await?;
        Ok(created)
    }

    /// `PUT /Users/{id}`: the provider's whole view of the user.
    pub async fn scim_replace_user(
        &self,
        ctx: &Ctx,
        user_id: &str,
        doc: Map<String, Value>,
    ) -> Result<ScimUser, ServiceError> {
        self.change_scim_user(ctx, user_id, |_| Ok(doc)).await
    }

    /// `PATCH /Users/{id}`: RFC 7644 operations on the current resource, all or nothing.
    pub async fn scim_patch_user(
        &self,
        ctx: &Ctx,
        user_id: &str,
        ops: &[PatchOperation],
    ) -> Result<ScimUser, ServiceError> {
        self.change_scim_user(ctx, user_id, |current| {
            let mut doc = user_document(current);
            apply_patch(&mut doc, ops, &portcullis_domain::scim::USER)
                .map_err(ServiceError::Scim)?;
            Ok(doc)
        })
        .await
    }

    /// Reads the user, makes the provider's new view of them from the current one, writes it:
    /// one transaction.
    async fn change_scim_user(
        &self,
        ctx: &Ctx,
        user_id: &str,
        new_doc: impl FnOnce(&ScimUser) -> Result<Map<String, Value>, ServiceError>,
    ) -> Result<ScimUser, ServiceError> {
        require_scim(ctx)?;
        let id = Uuid::try_parse(user_id).map_err(|_| user_not_found(user_id))?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let existing =
            tx.get_scim_user(ctx.org_id(), id).await?.ok_or_else(|| user_not_found(user_id))?;
        let doc = new_doc(&existing)?;
        self.write_user(&mut *tx, ctx, &existing, doc, false).await?;
        let user =
            tx.get_scim_user(ctx.org_id(), id).await?.ok_or_else(|| user_not_found(user_id))?;
        tx.commit().await?;
        Ok(user)
    }

    /// `DELETE /Users/{id}`: the user leaves (deactivated, with everything a leaver goes
    /// through) and is gone from SCIM; their record and history stay.
    pub async fn scim_delete_user(&self, ctx: &Ctx, user_id: &str) -> Result<(), ServiceError> {
        require_scim(ctx)?;
        let id = Uuid::try_parse(user_id).map_err(|_| user_not_found(user_id))?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let existing =
            tx.get_scim_user(ctx.org_id(), id).await?.ok_or_else(|| user_not_found(user_id))?;
        if existing.user.deleted_at.is_none() {
            let patch = UserPatch { status: Some(UserStatus::Deactivated), ..UserPatch::default() };
            self.change_user_in(&mut *tx, ctx, id, patch, AuditAction::UserDeleted).await?;
        }
        tx.set_scim_removed(ctx.org_id(), id, Some(self.clock.now())).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes the user what `doc` says, through the same paths as our own API: a reactivation
    /// first, then names, e-mail and manager, then a deactivation (the leaver flow); then the
    /// provider's view is stored. `creating`: an absent `active` means active.
    async fn write_user(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        existing: &ScimUser,
        doc: Map<String, Value>,
        creating: bool,
    ) -> Result<(), ServiceError> {
        let fields = directory_user(&doc).map_err(invalid_value)?;
        let user = &existing.user;
        let active = fields.active.or(creating.then_some(true));
        if active == Some(true) && user.deleted_at.is_some() {
            self.change_user_in(tx, ctx, user.id, UserPatch::default(), AuditAction::UserRestored)
                .await?;
        }
        let had_manager = existing.attributes.as_deref().is_some_and(|a| {
            stored_doc(Some(a)).get(ENTERPRISE_USER).and_then(|e| e.get("manager")).is_some()
        });
        let manager_id = match &fields.manager {
            Some(value) => self.resolve_manager(tx, ctx, value, Some(user.id)).await?.map(Some),
            // The provider stopped naming a manager it named before: it cleared it.
            None if had_manager => Some(None),
            None => None,
        };
        let patch = UserPatch {
            first_name: Some(fields.first_name.clone()),
            last_name: Some(fields.last_name.clone()),
            email: (fields.email != user.email).then(|| fields.email.clone()),
            manager_id,
            ..UserPatch::default()
        };
        self.change_user_in(tx, ctx, user.id, patch, AuditAction::UserUpdated)
            .await
            .map_err(uniqueness)?;
        if active == Some(false) && user.deleted_at.is_none() {
            let patch = UserPatch { status: Some(UserStatus::Deactivated), ..UserPatch::default() };
            self.change_user_in(tx, ctx, user.id, patch, AuditAction::UserDeleted).await?;
        }
        let attributes = Value::Object(doc).to_string();
        tx.set_scim_user(
            ctx.org_id(),
            user.id,
            fields.external_id.as_deref(),
            Some(&fields.user_name),
            Some(&attributes),
        )
        .await
        .map_err(user_name_taken)?;
        Ok(())
    }

    /// A manager named by our id or by the provider's externalId. A manager we do not know (yet)
    /// leaves the manager unset: the provider's value is kept in its view of the user.
    async fn resolve_manager(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        value: &str,
        user_id: Option<Uuid>,
    ) -> Result<Option<Uuid>, ServiceError> {
        let org_id = ctx.org_id();
        if let Ok(id) = Uuid::try_parse(value) {
            if tx.get_scim_user(org_id, id).await?.is_some() {
                return Ok(Some(id));
            }
        }
        let found = tx.user_id_by_external_id(org_id, value).await?;
        Ok(found.filter(|id| Some(*id) != user_id))
    }

    // ---- groups -------------------------------------------------------------------------

    pub async fn scim_group(
        &self,
        ctx: &Ctx,
        group_id: &str,
        members: bool,
    ) -> Result<ScimGroup, ServiceError> {
        require_scim(ctx)?;
        let id = Uuid::try_parse(group_id).map_err(|_| group_not_found(group_id))?;
        let mut tx = self.store.read().await?;
        tx.get_scim_group(ctx.org_id(), id, members).await?.ok_or_else(|| group_not_found(group_id))
    }

    pub async fn scim_groups(
        &self,
        ctx: &Ctx,
        filter: Option<&Filter>,
        start_index: Option<i64>,
        count: Option<i64>,
        members: bool,
    ) -> Result<ScimPage<ScimGroup>, ServiceError> {
        require_scim(ctx)?;
        let filter = compile(ScimResource::Group, filter)?;
        let (offset, limit) = window(start_index, count);
        let mut tx = self.store.read().await?;
        Ok(tx.list_scim_groups(ctx.org_id(), filter.as_ref(), offset, limit, members).await?)
    }

    /// `POST /Groups`: a group managed by the provider, with its members (who get its default
    /// apps like any new member).
    pub async fn scim_create_group(
        &self,
        ctx: &Ctx,
        doc: Map<String, Value>,
    ) -> Result<ScimGroup, ServiceError> {
        require_scim(ctx)?;
        let fields = directory_group(&doc).map_err(invalid_value)?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let group =
            self.insert_group_in(&mut *tx, ctx, &fields.name, None).await.map_err(uniqueness)?;
        self.write_group(&mut *tx, ctx, &group, &[], doc).await?;
        let created = tx
            .get_scim_group(ctx.org_id(), group.id, true)
            .await?
            .ok_or_else(|| group_not_found(&group.id.to_string()))?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn scim_replace_group(
        &self,
        ctx: &Ctx,
        group_id: &str,
        doc: Map<String, Value>,
    ) -> Result<ScimGroup, ServiceError> {
        self.change_group(ctx, group_id, |_| Ok(doc)).await
    }

    pub async fn scim_patch_group(
        &self,
        ctx: &Ctx,
        group_id: &str,
        ops: &[PatchOperation],
    ) -> Result<ScimGroup, ServiceError> {
        self.change_group(ctx, group_id, |current| {
            let mut doc = group_document(current);
            apply_patch(&mut doc, ops, &portcullis_domain::scim::GROUP)
                .map_err(ServiceError::Scim)?;
            Ok(doc)
        })
        .await
    }

    async fn change_group(
        &self,
        ctx: &Ctx,
        group_id: &str,
        new_doc: impl FnOnce(&ScimGroup) -> Result<Map<String, Value>, ServiceError>,
    ) -> Result<ScimGroup, ServiceError> {
        require_scim(ctx)?;
        let id = Uuid::try_parse(group_id).map_err(|_| group_not_found(group_id))?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let current = tx
            .get_scim_group(ctx.org_id(), id, true)
            .await?
            .ok_or_else(|| group_not_found(group_id))?;
        let doc = new_doc(&current)?;
        self.write_group(&mut *tx, ctx, &current.group, &current.member_ids, doc).await?;
        let changed = tx
            .get_scim_group(ctx.org_id(), id, true)
            .await?
            .ok_or_else(|| group_not_found(group_id))?;
        tx.commit().await?;
        Ok(changed)
    }

    /// `DELETE /Groups/{id}`: its members leave it first (the group-leave setting applies),
    /// then it is deleted.
    pub async fn scim_delete_group(&self, ctx: &Ctx, group_id: &str) -> Result<(), ServiceError> {
        require_scim(ctx)?;
        let id = Uuid::try_parse(group_id).map_err(|_| group_not_found(group_id))?;
        let mut tx = self.write_tx(ctx.org_id()).await?;
        let current = tx
            .get_scim_group(ctx.org_id(), id, true)
            .await?
            .ok_or_else(|| group_not_found(group_id))?;
        self.remove_members_in(&mut *tx, ctx, &current.group, &current.member_ids).await?;
        self.delete_group_in(&mut *tx, ctx, &current.group).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes the group what `doc` says: its name, the provider's id for it, and its members —
    /// joiners through the same logic as `POST /UsersGroups/{id}/Users`, leavers through the
    /// group-leave rule.
    async fn write_group(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        group: &UsersGroup,
        current_members: &[Uuid],
        doc: Map<String, Value>,
    ) -> Result<(), ServiceError> {
        let fields = directory_group(&doc).map_err(invalid_value)?;
        let org_id = ctx.org_id();
        let group = if fields.name != group.name {
            let patch = GroupPatch { name: Some(fields.name.clone()), description: None };
            self.update_group_in(tx, ctx, group, patch).await.map_err(uniqueness)?
        } else {
            group.clone()
        };
        let mut wanted = Vec::with_capacity(fields.member_values.len());
        for value in &fields.member_values {
            let id = Uuid::try_parse(value).map_err(|_| {
                invalid_value(format!("member {value} is not a user of this organization"))
            })?;
            wanted.push(id);
        }
        let known = tx.get_users(org_id, &wanted).await?;
        if let Some(missing) = wanted.iter().find(|id| !known.iter().any(|u| u.id == **id)) {
            return Err(invalid_value(format!(
                "member {missing} is not a user of this organization"
            )));
        }
        let joining: Vec<Uuid> =
            wanted.iter().copied().filter(|id| !current_members.contains(id)).collect();
        let leaving: Vec<Uuid> =
            current_members.iter().copied().filter(|id| !wanted.contains(id)).collect();
        if !leaving.is_empty() {
            self.remove_members_in(tx, ctx, &group, &leaving).await?;
        }
        if !joining.is_empty() {
            self.add_members_in(tx, ctx, &group, &joining, None, false).await?;
        }
        tx.set_scim_group(org_id, group.id, fields.external_id.as_deref(), GroupSource::Scim)
            .await?;
        Ok(())
    }
}

/// The userName is unique in an organization (uniqueness "server").
fn user_name_taken(err: portcullis_store::StoreError) -> ServiceError {
    match err {
        portcullis_store::StoreError::Conflict(_) => {
            scim(409, Some(ScimType::Uniqueness), "A user with this userName already exists")
        }
        other => other.into(),
    }
}

/// E-mail addresses and group names are unique in an organization (uniqueness "server").
fn uniqueness(err: ServiceError) -> ServiceError {
    match err {
        ServiceError::Conflict(message) => scim(409, Some(ScimType::Uniqueness), message),
        other => other,
    }
}
