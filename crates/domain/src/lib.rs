//! Portcullis domain: entities, enums and the pure rules that govern them.
//!
//! Nothing here performs I/O; every function is deterministic given its inputs
//! (time is passed in by the caller through [`Clock`]).

pub mod access_reviews;
pub mod audit;
pub mod clock;
pub mod credential;
pub mod custom_fields;
pub mod directory;
pub mod duties;
pub mod egress;
pub mod error;
pub mod governance;
pub mod groups;
pub mod ids;
pub mod mcp;
pub mod notifications;
pub mod oauth;
pub mod org;
pub mod page;
pub mod scim;
pub mod sso;
pub mod user;
pub mod validate;
pub mod webhook;
pub mod wire;
pub mod workapp;
pub mod workspace;

pub use access_reviews::{
    AccessReview, AccessReviewItem, AccessReviewPatch, AccessReviewStatus, AccessReviewType,
    CarriedOut, CheckedDecision, CloseItem, ItemDecision, ItemOutcome, NewAccessReview,
    ReviewDecision, ReviewItemDetail, ReviewProgress, UndecidedItems,
};
pub use audit::{ActorRef, AuditAction, AuditEvent, CallSource};
pub use clock::{Clock, ManualClock, SystemClock};
pub use credential::{ApiCredential, ConsoleSession, ScimToken, UserToken};
pub use custom_fields::{
    CustomField, CustomFieldPatch, CustomFieldType, CustomFieldValue, NewCustomField, SelectOption,
};
pub use duties::{Assignment, Duties, DutyConflict};
pub use error::DomainError;
pub use governance::{
    Approver, Decision, Policy, PolicyStep, Request, RequestStatus, RequestType, Task, TaskKind,
    TaskStatus,
};
pub use groups::{DefaultWorkApp, GroupSource, ScimGroup, UsersGroup};
pub use ids::{
    new_id, AccessReviewId, AccessReviewItemId, CustomFieldId, DeliveryId, GroupId,
    PermissionLevelId, PolicyId, RequestId, SubscriptionId, TaskId, TokenId, UserId, WorkAppId,
    WorkspaceId,
};
pub use mcp::{McpScope, McpScopes};
pub use notifications::{
    Notification, NotificationCategory, NotificationChannel, NotificationPreference,
    NotificationSettings, NotificationSettingsPatch, NotificationStatus,
};
pub use org::{
    AccessLevel, GroupLeaveAction, LeaverAccessAction, OrgRole, Organization, OrganizationPatch,
    OrganizationSettings, OrganizationSettingsPatch,
};
pub use page::{Page, PageRequest};
pub use user::{ScimUser, User, UserStatus};
pub use webhook::{
    Delivery, DeliveryAttempt, DeliveryStatus, EventType, WebhookEvent, WebhookSubscription,
};
pub use workapp::{
    Access, AccessDetail, AccessSource, PermissionLevel, ProvisioningMode, WorkApp, WorkAppStatus,
};
pub use workspace::{Workspace, WorkspaceMember, WorkspaceRole};

#[doc(hidden)]
pub use serde as __serde;
