//! The MCP tools: their names and parameters (as Cakewalk publishes them), the scope each needs,
//! their hints, and how each maps to one service call. Answers reuse the API's JSON views, so a
//! field is named the same through the API and through an assistant.
use std::sync::Arc;

use portcullis_domain::{Decision, ItemDecision, McpScope, RequestType, ReviewDecision};
use portcullis_service::{
    Ctx, MyReviewItem, NewRequest, RequestFilter, Service, ServiceError, UserWithAccesses,
};
use rmcp::handler::server::common::schema_for_type;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::cakewalk::access_reviews::{AccessReviewItemView, AccessReviewView};
use crate::cakewalk::custom_fields::WorkAppCustomFieldView;
use crate::cakewalk::requests::{RequestView, TaskView};
use crate::cakewalk::users::UserView;
use crate::cakewalk::work_apps::{PermissionLevelView, UserSimplifiedView};

/// Most e-mail addresses or app ids one call may name.
const MAX_NAMED: usize = 50;

/// Most users `ListAllUsers` returns.
const MAX_ROSTER: usize = 1000;

/// One tool: what a client sees of it, and the scope it needs.
pub(crate) struct ToolDef {
    pub name: &'static str,
    title: &'static str,
    description: &'static str,
    pub scope: McpScope,
    read_only: bool,
    /// A change that takes something away (an access).
    destructive: bool,
    input_schema: fn() -> Arc<JsonObject>,
}

impl ToolDef {
    pub fn describe(&self) -> Tool {
        let mut hints =
            ToolAnnotations::with_title(self.title).read_only(self.read_only).open_world(false);
        if !self.read_only {
            hints = hints.destructive(self.destructive).idempotent(false);
        }
        Tool::new(self.name, self.description, (self.input_schema)()).annotate(hints)
    }
}

pub(crate) fn find(name: &str) -> Option<&'static ToolDef> {
    TOOLS.iter().find(|t| t.name == name)
}

/// Why a tool call failed, in words for the model.
pub(crate) enum ToolError {
    /// The arguments do not fit the tool's input schema.
    Arguments(String),
    /// The caller may not use the tool (a scope it lacks).
    Refused(String),
    Service(ServiceError),
}

impl From<ServiceError> for ToolError {
    fn from(err: ServiceError) -> Self {
        ToolError::Service(err)
    }
}

impl ToolError {
    pub fn message(&self) -> String {
        match self {
            ToolError::Arguments(m) => format!("Invalid arguments: {m}"),
            ToolError::Refused(m) => m.clone(),
            // Our own failures are logged, never shown.
            ToolError::Service(err @ (ServiceError::Internal(_) | ServiceError::Crypto(_))) => {
                tracing::error!(error = %err, "MCP tool failed");
                "Portcullis could not complete the call (an internal error); try again later".into()
            }
            ToolError::Service(ServiceError::ReadOnlyCredential) => {
                "This API key is read-only: the tool would change something".into()
            }
            ToolError::Service(err) => err.to_string(),
        }
    }
}

// ---- Parameters (their doc comments are the descriptions a model reads) ----

#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoArguments {}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct UserIdArgs {
    /// The user's id (a UUID), as other tools return it.
    user_id: Uuid,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailArgs {
    /// The person's e-mail address (any case).
    email: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailsArgs {
    /// Comma-separated e-mail addresses, e.g. `ada@example.com,grace@example.com` (at most 50).
    emails: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct WorkAppIdsArgs {
    /// Comma-separated work app ids (UUIDs; at most 50). Find them with ListManagedWorkApps or
    /// SearchTemplatesOrWorkAppsByName.
    work_app_ids: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NameArgs {
    /// Part of the app's name (any case), e.g. `sales` finds Salesforce.
    name: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct WorkAppIdArgs {
    /// The work app's id (a UUID).
    work_app_id: Uuid,
}

#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecentArgs {
    /// How many requests, newest first: 1 to 100 (default 20).
    #[serde(default)]
    limit: Option<u32>,
}

#[derive(Deserialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct OpenRequestsArgs {
    /// Only requests for this work app (a UUID).
    #[serde(default)]
    work_app_id: Option<Uuid>,
    /// Only requests about this person (their e-mail address).
    #[serde(default)]
    user_email: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RequestAccessArgs {
    /// The work app to get access to (a UUID).
    work_app_id: Uuid,
    /// The permission level to ask for (a UUID from GetWorkAppPermissionLevels); required when
    /// the app has levels.
    #[serde(default)]
    permission_level_id: Option<Uuid>,
    /// Why the access is needed; approvers read it.
    justification: String,
    /// Who should get the access, when it is not you (a UUID); allowed where you may request
    /// for others (administrators, and managers for the people who report to them).
    #[serde(default)]
    target_user_id: Option<Uuid>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RequestRemovalArgs {
    /// The work app whose access should be removed (a UUID).
    work_app_id: Uuid,
    /// Why the access should go; approvers read it.
    justification: String,
    /// Whose access, when it is not yours (a UUID).
    #[serde(default)]
    target_user_id: Option<Uuid>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DecideTaskArgs {
    /// The approval task's id (a UUID, from ListMyTasks).
    task_id: Uuid,
    /// A note for the requester and the audit log.
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DecideReviewItemArgs {
    /// The access review's id (a UUID, from ListMyAccessReviewItems).
    access_review_id: Uuid,
    /// The item's id (a UUID, from ListMyAccessReviewItems).
    item_id: Uuid,
    /// `Keep` the access, `Revoke` it, or `ChangeLevel` to another permission level.
    decision: ReviewDecisionArg,
    /// The new permission level (a UUID), for `ChangeLevel` only.
    #[serde(default)]
    permission_level_id: Option<Uuid>,
    /// Why; kept with the decision.
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Deserialize, JsonSchema, Clone, Copy)]
pub(crate) enum ReviewDecisionArg {
    Keep,
    Revoke,
    ChangeLevel,
}

// ---- The tools ----

macro_rules! tool {
    ($name:literal, $title:literal, $scope:ident, $args:ty, read_only, $description:expr) => {
        ToolDef {
            name: $name,
            title: $title,
            description: $description,
            scope: McpScope::$scope,
            read_only: true,
            destructive: false,
            input_schema: schema_for_type::<$args>,
        }
    };
    ($name:literal, $title:literal, $scope:ident, $args:ty, writes($destructive:literal), $description:expr) => {
        ToolDef {
            name: $name,
            title: $title,
            description: $description,
            scope: McpScope::$scope,
            read_only: false,
            destructive: $destructive,
            input_schema: schema_for_type::<$args>,
        }
    };
}

pub(crate) static TOOLS: &[ToolDef] = &[
    tool!(
        "GetMyUserInformation",
        "Who am I",
        UsersRead,
        NoArguments,
        read_only,
        "Your own profile (name, e-mail, role, status, manager) and every work app you hold, \
         with its permission level. A good first call to confirm who you act as."
    ),
    tool!(
        "GetUserInformation",
        "Look up a person by id",
        UsersRead,
        UserIdArgs,
        read_only,
        "A person's profile by user id, and their work app accesses as far as you may see them: \
         all of them if you manage the directory, otherwise only their accesses to apps you own \
         (`accessesLimited` says so)."
    ),
    tool!(
        "GetUserByEmail",
        "Look up a person by e-mail",
        UsersRead,
        EmailArgs,
        read_only,
        "A person's profile by e-mail address, and their work app accesses as far as you may see \
         them (see GetUserInformation)."
    ),
    tool!(
        "ListAllUsers",
        "List everyone",
        UsersRead,
        NoArguments,
        read_only,
        "Everyone in the organization (id, name, e-mail, role, status), up to 1,000. Only for \
         those who manage the directory (the WORKSPACES role or higher) and API keys."
    ),
    tool!(
        "ListUserAccessesByEmails",
        "Accesses of people",
        UsersRead,
        EmailsArgs,
        read_only,
        "Which work apps each person holds, at which level, looked up by e-mail. You see \
         everyone's if you manage the directory, your own, and others' only for apps you own."
    ),
    tool!(
        "ListUsersByWorkAppIds",
        "Who holds these apps",
        UsersRead,
        WorkAppIdsArgs,
        read_only,
        "Who holds each of the given work apps, at which level (up to 100 per app). For those who \
         manage the directory, and app owners for their own apps."
    ),
    tool!(
        "ListManagedWorkApps",
        "Requestable apps",
        WorkAppsRead,
        NoArguments,
        read_only,
        "The Managed work apps (the ones access can be requested for) that you may see, with \
         their ids, descriptions and owners."
    ),
    tool!(
        "SearchTemplatesOrWorkAppsByName",
        "Find apps by name",
        WorkAppsRead,
        NameArgs,
        read_only,
        "Work apps of the organization whose name contains the text (any case), with their \
         status. People who do not manage the directory see the apps offered to them and the \
         apps they own."
    ),
    tool!(
        "GetWorkAppPermissionLevels",
        "Permission levels of an app",
        WorkAppsRead,
        WorkAppIdArgs,
        read_only,
        "The permission levels of a work app (id, name, description, whether it is the default \
         and whether it is privileged). Use a level's id with RequestAccess."
    ),
    tool!(
        "GetWorkAppCustomFields",
        "Custom fields of an app",
        WorkAppsRead,
        WorkAppIdArgs,
        read_only,
        "The organization's custom fields and the app's value for each (e.g. cost center, data \
         classification)."
    ),
    tool!(
        "ListRecentRequests",
        "Recent requests",
        RequestsRead,
        RecentArgs,
        read_only,
        "The newest access requests you may see, newest first, with their status and approval \
         tasks. A person sees the requests about themself; administrators and API keys see \
         all."
    ),
    tool!(
        "SearchOpenRequests",
        "Open requests",
        RequestsRead,
        OpenRequestsArgs,
        read_only,
        "Requests still in progress (Pending or Approved), newest first, optionally for one work \
         app or one person, as far as you may see them."
    ),
    tool!(
        "RequestAccess",
        "Request access",
        RequestsWrite,
        RequestAccessArgs,
        writes(false),
        "Files a request to grant access to a work app, for you or (where you may) for someone \
         else. It follows the app's approval policy: approvers are asked, nothing is granted \
         until they approve."
    ),
    tool!(
        "RequestRemoval",
        "Request removal",
        RequestsWrite,
        RequestRemovalArgs,
        writes(true),
        "Files a request to remove an access to a work app (yours, or where you may someone \
         else's). It follows the app's removal policy."
    ),
    tool!(
        "ListMyTasks",
        "My approval tasks",
        RequestsWrite,
        NoArguments,
        read_only,
        "The approval tasks waiting for your decision, with the request each belongs to."
    ),
    tool!(
        "ApproveTask",
        "Approve a task",
        RequestsWrite,
        DecideTaskArgs,
        writes(false),
        "Approves one of your approval tasks, as you. The request moves to its next policy step \
         (or is carried out after the last one). You cannot approve your own request or a task \
         you are not assigned."
    ),
    tool!(
        "DeclineTask",
        "Decline a task",
        RequestsWrite,
        DecideTaskArgs,
        writes(true),
        "Declines one of your approval tasks, as you; the request is declined."
    ),
    tool!(
        "ListMyAccessReviewItems",
        "My access review items",
        RequestsWrite,
        NoArguments,
        read_only,
        "The undecided items of running access reviews that you review: whose access, to which \
         app, at which level, and the campaign's due date."
    ),
    tool!(
        "DecideAccessReviewItem",
        "Decide an access review item",
        RequestsWrite,
        DecideReviewItemArgs,
        writes(true),
        "Records your decision on an access review item: Keep, Revoke, or ChangeLevel (with \
         permissionLevelId). The decision takes effect when the campaign closes; you may change \
         it until then."
    ),
];

fn args<T: DeserializeOwned>(arguments: JsonObject) -> Result<T, ToolError> {
    serde_json::from_value(Value::Object(arguments))
        .map_err(|e| ToolError::Arguments(e.to_string()))
}

/// Splits a comma-separated list, refusing an empty one or more than [`MAX_NAMED`] entries.
fn split_list(field: &str, text: &str) -> Result<Vec<String>, ToolError> {
    let items: Vec<String> =
        text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
    if items.is_empty() || items.len() > MAX_NAMED {
        return Err(ToolError::Arguments(format!("{field} must list 1 to {MAX_NAMED} entries")));
    }
    Ok(items)
}

/// Runs a tool for the caller.
pub(crate) async fn run(
    service: &Service,
    ctx: &Ctx,
    tool: &ToolDef,
    arguments: JsonObject,
) -> Result<Value, ToolError> {
    match tool.name {
        "GetMyUserInformation" => {
            let _: NoArguments = args(arguments)?;
            let me = Service::require_person(ctx)?;
            Ok(user_json(service.user_with_accesses(ctx, me).await?))
        }
        "GetUserInformation" => {
            let a: UserIdArgs = args(arguments)?;
            Ok(user_json(service.user_with_accesses(ctx, a.user_id).await?))
        }
        "GetUserByEmail" => {
            let a: EmailArgs = args(arguments)?;
            Ok(user_json(service.user_by_email_with_accesses(ctx, &a.email).await?))
        }
        "ListAllUsers" => {
            let _: NoArguments = args(arguments)?;
            let users = service.list_all_users(ctx).await?;
            let truncated = users.len() > MAX_ROSTER;
            let users: Vec<UserView> =
                users.into_iter().take(MAX_ROSTER).map(UserView::from).collect();
            Ok(json!({ "users": users, "truncated": truncated }))
        }
        "ListUserAccessesByEmails" => {
            let a: EmailsArgs = args(arguments)?;
            let mut people = Vec::new();
            for email in split_list("emails", &a.emails)? {
                people.push(match service.user_by_email_with_accesses(ctx, &email).await {
                    Ok(found) => json!({ "email": email, "found": true, "user": user_json(found) }),
                    Err(err @ (ServiceError::NotFound(_) | ServiceError::Invalid(_))) => {
                        json!({ "email": email, "found": false, "error": err.to_string() })
                    }
                    Err(err) => return Err(err.into()),
                });
            }
            Ok(json!({ "people": people }))
        }
        "ListUsersByWorkAppIds" => {
            let a: WorkAppIdsArgs = args(arguments)?;
            let ids = split_list("workAppIds", &a.work_app_ids)?
                .iter()
                .map(|id| {
                    Uuid::try_parse(id).map_err(|_| {
                        ToolError::Arguments(format!("{id} is not a work app id (a UUID)"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let apps = service.holders_of_apps(ctx, &ids).await?;
            let apps: Vec<Value> = apps
                .into_iter()
                .map(|a| {
                    let holders: Vec<Value> = a
                        .holders
                        .iter()
                        .map(|h| {
                            json!({
                                "user": UserSimplifiedView::from(&h.user),
                                "permissionLevel": h.level.clone().map(PermissionLevelView::from),
                                "source": h.access.source.name(),
                                "grantedAt": h.access.granted_at,
                                "expiresAt": h.access.expires_at,
                            })
                        })
                        .collect();
                    json!({ "workApp": app_json(&a.app), "holders": holders, "truncated": a.truncated })
                })
                .collect();
            Ok(json!({ "workApps": apps }))
        }
        "ListManagedWorkApps" => {
            let _: NoArguments = args(arguments)?;
            let apps = service.visible_work_apps(ctx, None).await?;
            Ok(json!({ "workApps": apps.iter().map(app_json).collect::<Vec<_>>() }))
        }
        "SearchTemplatesOrWorkAppsByName" => {
            let a: NameArgs = args(arguments)?;
            if a.name.trim().is_empty() {
                return Err(ToolError::Arguments("name must not be empty".into()));
            }
            let apps = service.visible_work_apps(ctx, Some(&a.name)).await?;
            Ok(json!({ "workApps": apps.iter().map(app_json).collect::<Vec<_>>() }))
        }
        "GetWorkAppPermissionLevels" => {
            let a: WorkAppIdArgs = args(arguments)?;
            let (app, levels) = service.visible_permission_levels(ctx, a.work_app_id).await?;
            let levels: Vec<PermissionLevelView> = levels.into_iter().map(Into::into).collect();
            Ok(json!({ "workApp": app_json(&app), "permissionLevels": levels }))
        }
        "GetWorkAppCustomFields" => {
            let a: WorkAppIdArgs = args(arguments)?;
            let app = service.visible_work_app(ctx, a.work_app_id).await?;
            let page = portcullis_domain::PageRequest::first();
            let fields = service.list_app_custom_fields(ctx, app.id, page).await?.items;
            let fields: Vec<WorkAppCustomFieldView> = fields.into_iter().map(Into::into).collect();
            Ok(json!({ "workApp": app_json(&app), "customFields": fields }))
        }
        "ListRecentRequests" => {
            let a: RecentArgs = args(arguments)?;
            let limit = a.limit.unwrap_or(20);
            if !(1..=portcullis_service::MAX_ASSISTANT_ITEMS).contains(&limit) {
                return Err(ToolError::Arguments("limit must be between 1 and 100".into()));
            }
            let requests =
                service.recent_requests(ctx, RequestFilter::default(), false, limit).await?;
            Ok(
                json!({ "requests": requests.into_iter().map(RequestView::from).collect::<Vec<_>>() }),
            )
        }
        "SearchOpenRequests" => {
            let a: OpenRequestsArgs = args(arguments)?;
            let target_user_id = match a.user_email {
                Some(email) => Some(service.user_by_email(ctx, &email).await?.id),
                None => None,
            };
            let filter = RequestFilter {
                work_app_id: a.work_app_id,
                target_user_id,
                ..RequestFilter::default()
            };
            let limit = portcullis_service::MAX_ASSISTANT_ITEMS;
            let requests = service.recent_requests(ctx, filter, true, limit).await?;
            Ok(
                json!({ "requests": requests.into_iter().map(RequestView::from).collect::<Vec<_>>() }),
            )
        }
        "RequestAccess" => {
            let a: RequestAccessArgs = args(arguments)?;
            let me = Service::require_person(ctx)?;
            let new = NewRequest {
                request_type: RequestType::GrantAccess,
                work_app_id: a.work_app_id,
                target_user_id: Some(a.target_user_id.unwrap_or(me)),
                permission_level_id: a.permission_level_id,
                created_by_user_id: None,
                justification: Some(a.justification),
                expires_at: None,
            };
            Ok(json!({ "request": RequestView::from(service.create_request(ctx, new).await?) }))
        }
        "RequestRemoval" => {
            let a: RequestRemovalArgs = args(arguments)?;
            let me = Service::require_person(ctx)?;
            let new = NewRequest {
                request_type: RequestType::RemoveAccess,
                work_app_id: a.work_app_id,
                target_user_id: Some(a.target_user_id.unwrap_or(me)),
                permission_level_id: None,
                created_by_user_id: None,
                justification: Some(a.justification),
                expires_at: None,
            };
            Ok(json!({ "request": RequestView::from(service.create_request(ctx, new).await?) }))
        }
        "ListMyTasks" => {
            let _: NoArguments = args(arguments)?;
            Service::require_person(ctx)?;
            let tasks = service.my_open_tasks(ctx).await?;
            Ok(json!({ "tasks": tasks.into_iter().map(TaskView::from).collect::<Vec<_>>() }))
        }
        "ApproveTask" | "DeclineTask" => {
            let a: DecideTaskArgs = args(arguments)?;
            Service::require_person(ctx)?;
            let decision =
                if tool.name == "ApproveTask" { Decision::Approve } else { Decision::Decline };
            let task = service.decide(ctx, a.task_id, decision, a.comment, None).await?;
            Ok(json!({ "task": TaskView::from(task) }))
        }
        "ListMyAccessReviewItems" => {
            let _: NoArguments = args(arguments)?;
            let items = service.my_review_items(ctx).await?;
            Ok(json!({ "items": items.into_iter().map(review_item_json).collect::<Vec<_>>() }))
        }
        "DecideAccessReviewItem" => {
            let a: DecideReviewItemArgs = args(arguments)?;
            Service::require_person(ctx)?;
            let decision = ItemDecision {
                decision: match a.decision {
                    ReviewDecisionArg::Keep => ReviewDecision::Keep,
                    ReviewDecisionArg::Revoke => ReviewDecision::Revoke,
                    ReviewDecisionArg::ChangeLevel => ReviewDecision::ChangeLevel,
                },
                permission_level_id: a.permission_level_id,
                comment: a.comment,
            };
            let item = service
                .decide_access_review_item(ctx, a.access_review_id, a.item_id, decision, None)
                .await?;
            Ok(json!({ "item": AccessReviewItemView::from(item) }))
        }
        other => Err(ToolError::Refused(format!("unknown tool {other}"))),
    }
}

fn user_json(found: UserWithAccesses) -> Value {
    let accesses: Vec<Value> = found
        .accesses
        .iter()
        .map(|a| {
            json!({
                "workAppId": a.access.work_app_id,
                "workAppName": a.app_name,
                "permissionLevelId": a.access.permission_level_id,
                "permissionLevelName": a.level_name,
                "source": a.access.source.name(),
                "grantedAt": a.access.granted_at,
                "expiresAt": a.access.expires_at,
            })
        })
        .collect();
    json!({
        "user": UserView::from(found.user),
        "accesses": accesses,
        "accessesLimited": found.limited,
    })
}

fn app_json(app: &portcullis_domain::WorkApp) -> Value {
    json!({
        "id": app.id,
        "name": app.name,
        "description": app.description,
        "status": app.status.name(),
        "category": app.category,
        "url": app.url,
        "ownerIds": app.owner_ids,
    })
}

fn review_item_json(mine: MyReviewItem) -> Value {
    json!({
        "accessReview": AccessReviewView::from(mine.campaign),
        "item": AccessReviewItemView::from(mine.item),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_a_unique_name_an_object_schema_and_hints() {
        let mut names: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TOOLS.len());
        assert_eq!(TOOLS.len(), 19);
        for t in TOOLS {
            let tool = t.describe();
            assert_eq!(tool.input_schema.get("type"), Some(&json!("object")), "{}", t.name);
            let hints = tool.annotations.expect("hints");
            assert_eq!(hints.read_only_hint, Some(t.read_only), "{}", t.name);
            if !t.read_only {
                assert!(hints.destructive_hint.is_some(), "{}", t.name);
                assert_eq!(t.scope, McpScope::RequestsWrite, "{} changes things", t.name);
            }
        }
    }

    #[test]
    fn lists_are_split_and_bounded() {
        assert_eq!(
            split_list("emails", " a@x.io, b@x.io ,").ok(),
            Some(vec!["a@x.io".into(), "b@x.io".into()])
        );
        assert!(split_list("emails", " , ").is_err());
        assert!(split_list("emails", &vec!["a@x.io"; 51].join(",")).is_err());
    }
}
