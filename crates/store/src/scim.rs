//! SCIM directory sync: the identity provider's tokens, and users and groups as it sees them
//! (filters compiled to SQL, offset pages with a total).
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_domain::scim::{AttrPath, CompareOp, Filter};
use portcullis_domain::validate::email_key;
use portcullis_domain::{GroupSource, ScimGroup, ScimToken, ScimUser};
use uuid::Uuid;

use crate::decode::{get_id, get_opt_ts, get_ts, id, id_array, ts};
use crate::groups::decode_users_group;
use crate::session::{Session, Writable};
use crate::sql::{query, query_scalar, Arg, Row};
use crate::users::{decode_user, USER_COLUMNS};
use crate::StoreError;

/// A SCIM filter made SQL: a condition on `users u` or `users_groups g` and its bound values.
#[derive(Debug, Clone, Default)]
pub struct ScimSqlFilter {
    condition: String,
    args: Vec<Arg<'static>>,
}

/// Which resource a filter is compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimResource {
    User,
    Group,
}

/// One page of a SCIM list: the total matching and the resources of the page.
#[derive(Debug, Clone)]
pub struct ScimPage<T> {
    pub total: i64,
    pub resources: Vec<T>,
}

/// What a comparison reads: a SQL expression and how a filter value is folded to compare with it.
#[derive(Clone, Copy)]
enum Fold {
    /// Compared as given (externalId and ids are case-exact).
    Exact,
    /// Folded like e-mail keys (case and Unicode normalization).
    Key,
    /// Lower-cased (names).
    Lower,
}

struct Column {
    expr: &'static str,
    fold: Fold,
    /// Never NULL (so `ne` needs no NULL arm and `pr` is always true).
    always: bool,
}

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user";
const USER_CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:user";
const GROUP_CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:group";

/// The attributes a filter may name, per resource: the ones backed by an indexed or plain column.
fn column(resource: ScimResource, path: &AttrPath) -> Result<Column, String> {
    let uri = path.uri.as_deref().map(str::to_ascii_lowercase);
    let core = match resource {
        ScimResource::User => USER_CORE,
        ScimResource::Group => GROUP_CORE,
    };
    if uri.as_deref().is_some_and(|u| u != core && u != ENTERPRISE) {
        return Err(format!("unknown schema {}", path.uri.as_deref().unwrap_or_default()));
    }
    let attr = path.attr.to_ascii_lowercase();
    let sub = path.sub_attr.as_deref().map(str::to_ascii_lowercase);
    let col = |expr, fold, always| Ok(Column { expr, fold, always });
    match (resource, attr.as_str(), sub.as_deref()) {
        (_, "id", None) => col(id_expr(resource), Fold::Exact, true),
        (_, "externalid", None) => col(external_id_expr(resource), Fold::Exact, false),
        (ScimResource::User, "username", None) => {
            col("coalesce(u.scim_user_key, u.email_key)", Fold::Key, true)
        }
        (ScimResource::User, "emails", None | Some("value")) => col("u.email_key", Fold::Key, true),
        (ScimResource::User, "displayname", None) => {
            col("lower(trim(u.first_name || ' ' || u.last_name))", Fold::Lower, true)
        }
        (ScimResource::User, "name", Some("givenname")) => {
            col("lower(u.first_name)", Fold::Lower, true)
        }
        (ScimResource::User, "name", Some("familyname")) => {
            col("lower(u.last_name)", Fold::Lower, true)
        }
        (ScimResource::Group, "displayname", None) => col("g.name_key", Fold::Lower, true),
        _ => Err(format!("filtering on {} is not supported", display_path(path))),
    }
}

fn id_expr(resource: ScimResource) -> &'static str {
    match resource {
        ScimResource::User => "u.id",
        ScimResource::Group => "g.id",
    }
}

fn external_id_expr(resource: ScimResource) -> &'static str {
    match resource {
        ScimResource::User => "u.external_id",
        ScimResource::Group => "g.external_id",
    }
}

fn display_path(path: &AttrPath) -> String {
    match &path.sub_attr {
        Some(sub) => format!("{}.{sub}", path.attr),
        None => path.attr.clone(),
    }
}

fn is_attr(path: &AttrPath, attr: &str, sub: Option<&str>) -> bool {
    path.attr.eq_ignore_ascii_case(attr)
        && match (sub, path.sub_attr.as_deref()) {
            (None, None) => true,
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        }
}

/// `%`, `_` and the escape character itself are literal in a SCIM `co`/`sw`/`ew` value.
fn like_escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

impl ScimSqlFilter {
    /// Compiles a parsed filter. Attributes without a column (e.g. `title`), operators that make
    /// no sense on them (ordering a boolean) and values of the wrong type are refused with a
    /// message naming them; the caller answers `400 invalidFilter`.
    pub fn compile(resource: ScimResource, filter: &Filter) -> Result<Self, String> {
        let mut out = ScimSqlFilter::default();
        out.condition = out.node(resource, filter, None)?;
        Ok(out)
    }

    fn bind(&mut self, value: String) -> String {
        self.args.push(Arg::Text(Some(value.into())));
        // Placeholders are numbered after the fixed ones of the list query ($1 = org).
        format!("${}", self.args.len() + 1)
    }

    /// `within`: the multi-valued attribute a value path (`emails[type eq "work"]`) is inside.
    fn node(
        &mut self,
        resource: ScimResource,
        filter: &Filter,
        within: Option<&AttrPath>,
    ) -> Result<String, String> {
        Ok(match filter {
            Filter::And(a, b) => {
                format!(
                    "({} AND {})",
                    self.node(resource, a, within)?,
                    self.node(resource, b, within)?
                )
            }
            Filter::Or(a, b) => {
                format!(
                    "({} OR {})",
                    self.node(resource, a, within)?,
                    self.node(resource, b, within)?
                )
            }
            Filter::Not(a) => format!("(NOT {})", self.node(resource, a, within)?),
            Filter::ValuePath { path, filter } => {
                if within.is_some() {
                    return Err("value filters cannot be nested".into());
                }
                self.node(resource, filter, Some(path))?
            }
            Filter::Present(path) => {
                let path = qualified(path, within);
                if resource == ScimResource::User && is_attr(&path, "active", None) {
                    return Ok("(1 = 1)".into());
                }
                let col = column(resource, &path)?;
                if col.always {
                    "(1 = 1)".into()
                } else {
                    format!("({} IS NOT NULL AND {} <> '')", col.expr, col.expr)
                }
            }
            Filter::Compare { path, op, value } => {
                let path = qualified(path, within);
                if resource == ScimResource::Group && is_attr(&path, "members", Some("value"))
                    || resource == ScimResource::Group
                        && within.is_some_and(|w| is_attr(w, "members", None))
                        && is_attr(&path, "value", None)
                {
                    return self.member(*op, value);
                }
                if resource == ScimResource::User && is_attr(&path, "active", None) {
                    return active(*op, value);
                }
                let col = column(resource, &path)?;
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => {
                        return Err(format!(
                            "{} is compared with a string, not {other}",
                            display_path(&path)
                        ))
                    }
                };
                let text = match col.fold {
                    Fold::Exact => text,
                    Fold::Key => email_key(&text),
                    Fold::Lower => text.trim().to_lowercase(),
                };
                self.compare(&col, *op, text)?
            }
        })
    }

    fn compare(&mut self, col: &Column, op: CompareOp, text: String) -> Result<String, String> {
        let expr = col.expr;
        Ok(match op {
            CompareOp::Eq => format!("({expr} = {})", self.bind(text)),
            CompareOp::Ne if col.always => format!("({expr} <> {})", self.bind(text)),
            CompareOp::Ne => format!("({expr} IS NULL OR {expr} <> {})", self.bind(text)),
            CompareOp::Co => {
                format!(
                    "({expr} LIKE {} ESCAPE '\\')",
                    self.bind(format!("%{}%", like_escape(&text)))
                )
            }
            CompareOp::Sw => {
                format!(
                    "({expr} LIKE {} ESCAPE '\\')",
                    self.bind(format!("{}%", like_escape(&text)))
                )
            }
            CompareOp::Ew => {
                format!(
                    "({expr} LIKE {} ESCAPE '\\')",
                    self.bind(format!("%{}", like_escape(&text)))
                )
            }
            CompareOp::Gt => format!("({expr} > {})", self.bind(text)),
            CompareOp::Ge => format!("({expr} >= {})", self.bind(text)),
            CompareOp::Lt => format!("({expr} < {})", self.bind(text)),
            CompareOp::Le => format!("({expr} <= {})", self.bind(text)),
        })
    }

    /// `members[value eq "…"]` / `members.value eq "…"`: groups with (or without) that member.
    fn member(&mut self, op: CompareOp, value: &serde_json::Value) -> Result<String, String> {
        let Some(text) = value.as_str() else {
            return Err("members.value is compared with a string".into());
        };
        let exists = |p: String| {
            format!(
                "EXISTS (SELECT 1 FROM users_group_members m WHERE m.group_id = g.id AND m.user_id = {p})"
            )
        };
        match op {
            CompareOp::Eq => Ok(exists(self.bind(text.to_ascii_lowercase()))),
            CompareOp::Ne => Ok(format!("(NOT {})", exists(self.bind(text.to_ascii_lowercase())))),
            _ => Err("members.value supports eq and ne".into()),
        }
    }
}

/// A path inside a value filter names a sub-attribute of the filtered attribute.
fn qualified(path: &AttrPath, within: Option<&AttrPath>) -> AttrPath {
    match within {
        Some(outer) if path.sub_attr.is_none() => AttrPath {
            uri: outer.uri.clone(),
            attr: outer.attr.clone(),
            sub_attr: Some(path.attr.clone()),
        },
        _ => path.clone(),
    }
}

fn active(op: CompareOp, value: &serde_json::Value) -> Result<String, String> {
    let wanted = match value {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("true") => true,
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("false") => false,
        other => return Err(format!("active is compared with true or false, not {other}")),
    };
    let wanted = match op {
        CompareOp::Eq => wanted,
        CompareOp::Ne => !wanted,
        _ => return Err("active supports eq, ne and pr".into()),
    };
    Ok(if wanted { "(u.deleted_at IS NULL)" } else { "(u.deleted_at IS NOT NULL)" }.into())
}

fn scim_user_columns() -> String {
    let user = USER_COLUMNS.split(", ").map(|c| format!("u.{}", c.trim())).collect::<Vec<_>>();
    format!("{}, u.external_id, u.scim_user_name, u.scim_attributes", user.join(", "))
}

const GROUP_COLUMNS: &str = "g.id, g.org_id, g.name, g.description, g.created_at, g.updated_at,
    g.external_id, g.source,
    (SELECT COUNT(*) FROM users_group_members m WHERE m.group_id = g.id) AS member_count";

fn decode_scim_user(row: &Row) -> Result<ScimUser, StoreError> {
    Ok(ScimUser {
        user: decode_user(row)?,
        external_id: row.try_get("external_id")?,
        user_name: row.try_get("scim_user_name")?,
        attributes: row.try_get("scim_attributes")?,
    })
}

fn decode_scim_group(row: &Row) -> Result<ScimGroup, StoreError> {
    let source: Option<String> = row.try_get("source")?;
    Ok(ScimGroup {
        group: decode_users_group(row)?,
        external_id: row.try_get("external_id")?,
        source: match source.as_deref() {
            Some("scim") => GroupSource::Scim,
            _ => GroupSource::Portcullis,
        },
        member_ids: Vec::new(),
    })
}

fn decode_scim_token(row: &Row) -> Result<ScimToken, StoreError> {
    Ok(ScimToken {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        name: row.try_get("name")?,
        secret_hash: row.try_get("secret_hash")?,
        created_at: get_ts(row, "created_at")?,
        last_used_at: get_opt_ts(row, "last_used_at")?,
        revoked_at: get_opt_ts(row, "revoked_at")?,
    })
}

const TOKEN_COLUMNS: &str = "id, org_id, name, secret_hash, created_at, last_used_at, revoked_at";

/// Reading what the directory sync needs.
#[async_trait]
pub trait ScimReads: Send {
    async fn get_scim_token(&mut self, token_id: Uuid) -> Result<Option<ScimToken>, StoreError>;
    async fn list_scim_tokens(&mut self, org_id: Uuid) -> Result<Vec<ScimToken>, StoreError>;
    async fn get_scim_user(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<ScimUser>, StoreError>;
    /// Users matching `filter`, oldest first, `offset` skipped, at most `limit` (0 = count only).
    async fn list_scim_users(
        &mut self,
        org_id: Uuid,
        filter: Option<&ScimSqlFilter>,
        offset: i64,
        limit: i64,
    ) -> Result<ScimPage<ScimUser>, StoreError>;
    /// The user the provider knows by this `externalId` (its id for the user, e.g. for managers).
    async fn user_id_by_external_id(
        &mut self,
        org_id: Uuid,
        external_id: &str,
    ) -> Result<Option<Uuid>, StoreError>;
    /// A user the provider deleted earlier whose userName or e-mail is one of these (folded):
    /// provisioning the same person again revives that record.
    async fn removed_scim_user(
        &mut self,
        org_id: Uuid,
        user_name: &str,
        email: &str,
    ) -> Result<Option<ScimUser>, StoreError>;
    /// The group, with its member ids when `members` is true.
    async fn get_scim_group(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        members: bool,
    ) -> Result<Option<ScimGroup>, StoreError>;
    async fn list_scim_groups(
        &mut self,
        org_id: Uuid,
        filter: Option<&ScimSqlFilter>,
        offset: i64,
        limit: i64,
        members: bool,
    ) -> Result<ScimPage<ScimGroup>, StoreError>;
}

#[async_trait]
impl<S: Session + ?Sized> ScimReads for S {
    async fn get_scim_token(&mut self, token_id: Uuid) -> Result<Option<ScimToken>, StoreError> {
        let db = self.db();
        query(format!("SELECT {TOKEN_COLUMNS} FROM scim_tokens WHERE id = $1"))
            .bind(id(token_id))
            .fetch_optional(db)
            .await?
            .as_ref()
            .map(decode_scim_token)
            .transpose()
    }

    async fn list_scim_tokens(&mut self, org_id: Uuid) -> Result<Vec<ScimToken>, StoreError> {
        let db = self.db();
        query(format!("SELECT {TOKEN_COLUMNS} FROM scim_tokens WHERE org_id = $1 ORDER BY id"))
            .bind(id(org_id))
            .fetch_all(db)
            .await?
            .iter()
            .map(decode_scim_token)
            .collect()
    }

    async fn get_scim_user(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<ScimUser>, StoreError> {
        let db = self.db();
        query(format!(
            "SELECT {} FROM users u WHERE u.org_id = $1 AND u.id = $2 AND u.scim_removed_at IS NULL",
            scim_user_columns()
        ))
        .bind(id(org_id))
        .bind(id(user_id))
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(decode_scim_user)
        .transpose()
    }

    async fn list_scim_users(
        &mut self,
        org_id: Uuid,
        filter: Option<&ScimSqlFilter>,
        offset: i64,
        limit: i64,
    ) -> Result<ScimPage<ScimUser>, StoreError> {
        let db = self.db();
        let scope = "users u WHERE u.org_id = $1 AND u.scim_removed_at IS NULL";
        let columns = scim_user_columns();
        let (total, rows) =
            filtered_page(db, scope, &columns, "u.id", org_id, filter, offset, limit).await?;
        let resources = rows.iter().map(decode_scim_user).collect::<Result<_, _>>()?;
        Ok(ScimPage { total, resources })
    }

    async fn user_id_by_external_id(
        &mut self,
        org_id: Uuid,
        external_id: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        let db = self.db();
        let found = query_scalar::<String>(
            "SELECT id FROM users
             WHERE org_id = $1 AND external_id = $2 AND scim_removed_at IS NULL ORDER BY id LIMIT 1",
        )
        .bind(id(org_id))
        .bind(external_id)
        .fetch_optional(db)
        .await?;
        found
            .map(|t| Uuid::parse_str(&t).map_err(|e| StoreError::Corrupt(format!("id: {e}"))))
            .transpose()
    }

    async fn removed_scim_user(
        &mut self,
        org_id: Uuid,
        user_name: &str,
        email: &str,
    ) -> Result<Option<ScimUser>, StoreError> {
        let db = self.db();
        query(format!(
            "SELECT {} FROM users u
             WHERE u.org_id = $1 AND u.scim_removed_at IS NOT NULL
               AND (coalesce(u.scim_user_key, u.email_key) = $2 OR u.email_key = $3)
             ORDER BY u.id LIMIT 1",
            scim_user_columns()
        ))
        .bind(id(org_id))
        .bind(email_key(user_name))
        .bind(email_key(email))
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(decode_scim_user)
        .transpose()
    }

    async fn get_scim_group(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        members: bool,
    ) -> Result<Option<ScimGroup>, StoreError> {
        let db = self.db();
        let row = query(format!(
            "SELECT {GROUP_COLUMNS} FROM users_groups g WHERE g.org_id = $1 AND g.id = $2"
        ))
        .bind(id(org_id))
        .bind(id(group_id))
        .fetch_optional(&mut *db)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut groups = vec![decode_scim_group(&row)?];
        if members {
            fill_members(db, org_id, &mut groups).await?;
        }
        Ok(groups.pop())
    }

    async fn list_scim_groups(
        &mut self,
        org_id: Uuid,
        filter: Option<&ScimSqlFilter>,
        offset: i64,
        limit: i64,
        members: bool,
    ) -> Result<ScimPage<ScimGroup>, StoreError> {
        let db = self.db();
        let scope = "users_groups g WHERE g.org_id = $1";
        let (total, rows) =
            filtered_page(db, scope, GROUP_COLUMNS, "g.id", org_id, filter, offset, limit).await?;
        let mut groups = rows.iter().map(decode_scim_group).collect::<Result<Vec<_>, _>>()?;
        if members {
            fill_members(db, org_id, &mut groups).await?;
        }
        Ok(ScimPage { total, resources: groups })
    }
}

/// One page of a filtered list and the total it is a page of: `COUNT(*)` then the rows (none
/// when only counting or past the end). `scope` is `<table> <alias> WHERE <org condition on $1>`;
/// the filter's placeholders follow `$1`.
#[allow(clippy::too_many_arguments)]
async fn filtered_page(
    db: &mut crate::sql::Db,
    scope: &str,
    columns: &str,
    order: &str,
    org_id: Uuid,
    filter: Option<&ScimSqlFilter>,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<Row>), StoreError> {
    let (condition, args) = match filter {
        Some(f) => (f.condition.as_str(), f.args.as_slice()),
        None => ("1 = 1", &[][..]),
    };
    let mut count = query_scalar::<i64>(format!("SELECT COUNT(*) FROM {scope} AND {condition}"))
        .bind(id(org_id));
    for arg in args.iter().cloned() {
        count = count.bind(arg);
    }
    let total = count.fetch_one(&mut *db).await?;
    if limit == 0 || offset >= total {
        return Ok((total, Vec::new()));
    }
    let n = args.len();
    let mut page = query(format!(
        "SELECT {columns} FROM {scope} AND {condition} ORDER BY {order} LIMIT ${} OFFSET ${}",
        n + 2,
        n + 3
    ))
    .bind(id(org_id));
    for arg in args.iter().cloned() {
        page = page.bind(arg);
    }
    let rows = page.bind(limit).bind(offset).fetch_all(db).await?;
    Ok((total, rows))
}

/// The members of a page of groups, in one statement, in the order they joined.
async fn fill_members(
    db: &mut crate::sql::Db,
    org_id: Uuid,
    groups: &mut [ScimGroup],
) -> Result<(), StoreError> {
    if groups.is_empty() {
        return Ok(());
    }
    let rows = query(format!(
        "SELECT m.group_id, m.user_id FROM users_group_members m
         WHERE m.org_id = $1 AND m.group_id IN {}
         ORDER BY m.group_id, m.added_at, m.user_id",
        db.dialect().in_json_texts("$2")
    ))
    .bind(id(org_id))
    .bind(id_array(groups.iter().map(|g| g.group.id)))
    .fetch_all(db)
    .await?;
    for row in &rows {
        let group_id = get_id(row, "group_id")?;
        let user_id = get_id(row, "user_id")?;
        if let Some(g) = groups.iter_mut().find(|g| g.group.id == group_id) {
            g.member_ids.push(user_id);
        }
    }
    Ok(())
}

/// Changing what the directory sync keeps.
#[async_trait]
pub trait ScimWrites: Send {
    async fn insert_scim_token(&mut self, token: &ScimToken) -> Result<(), StoreError>;
    async fn revoke_scim_token(
        &mut self,
        org_id: Uuid,
        token_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    async fn touch_scim_token(
        &mut self,
        token_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// What the provider said about a user: its id for them, its userName and the rest of the
    /// resource (JSON text).
    async fn set_scim_user(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        external_id: Option<&str>,
        user_name: Option<&str>,
        attributes: Option<&str>,
    ) -> Result<(), StoreError>;
    async fn set_scim_group(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        external_id: Option<&str>,
        source: GroupSource,
    ) -> Result<(), StoreError>;
    /// Hides a user from SCIM (`Some`, when the provider deletes them) or shows them again.
    async fn set_scim_removed(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;
}

#[async_trait]
impl<S: Writable + ?Sized> ScimWrites for S {
    async fn insert_scim_token(&mut self, token: &ScimToken) -> Result<(), StoreError> {
        let db = self.db();
        query(format!(
            "INSERT INTO scim_tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(id(token.id))
        .bind(id(token.org_id))
        .bind(&token.name)
        .bind(&token.secret_hash)
        .bind(ts(token.created_at))
        .bind(token.last_used_at)
        .bind(token.revoked_at)
        .execute(db)
        .await?;
        Ok(())
    }

    async fn revoke_scim_token(
        &mut self,
        org_id: Uuid,
        token_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let db = self.db();
        let done = query(
            "UPDATE scim_tokens SET revoked_at = $1
             WHERE org_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(ts(at))
        .bind(id(org_id))
        .bind(id(token_id))
        .execute(db)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn touch_scim_token(
        &mut self,
        token_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let db = self.db();
        query("UPDATE scim_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(ts(at))
            .bind(id(token_id))
            .execute(db)
            .await?;
        Ok(())
    }

    async fn set_scim_user(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        external_id: Option<&str>,
        user_name: Option<&str>,
        attributes: Option<&str>,
    ) -> Result<(), StoreError> {
        let db = self.db();
        query(
            "UPDATE users SET external_id = $1, scim_user_name = $2, scim_user_key = $3,
                 scim_attributes = $4
             WHERE org_id = $5 AND id = $6",
        )
        .bind(external_id)
        .bind(user_name)
        .bind(user_name.map(email_key))
        .bind(attributes)
        .bind(id(org_id))
        .bind(id(user_id))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn set_scim_group(
        &mut self,
        org_id: Uuid,
        group_id: Uuid,
        external_id: Option<&str>,
        source: GroupSource,
    ) -> Result<(), StoreError> {
        let db = self.db();
        let source = match source {
            GroupSource::Scim => Some("scim"),
            GroupSource::Portcullis => None,
        };
        query(
            "UPDATE users_groups SET external_id = $1, source = $2 WHERE org_id = $3 AND id = $4",
        )
        .bind(external_id)
        .bind(source)
        .bind(id(org_id))
        .bind(id(group_id))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn set_scim_removed(
        &mut self,
        org_id: Uuid,
        user_id: Uuid,
        at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let db = self.db();
        query("UPDATE users SET scim_removed_at = $1 WHERE org_id = $2 AND id = $3")
            .bind(at)
            .bind(id(org_id))
            .bind(id(user_id))
            .execute(db)
            .await?;
        Ok(())
    }
}
