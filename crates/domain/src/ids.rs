use uuid::Uuid;

/// A new, time-ordered identifier (UUID v7). Ordering by id is ordering by creation.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// Declares id newtypes: a store method that takes several ids in a row takes them typed, so
/// passing a user id where an app id belongs does not compile.
macro_rules! typed_ids {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )+};
}

typed_ids! {
    /// A user's id.
    UserId,
    /// A work app's id.
    WorkAppId,
    /// A permission level's id.
    PermissionLevelId,
    /// A user group's id.
    GroupId,
    /// A workspace's id.
    WorkspaceId,
    /// An approval policy's id.
    PolicyId,
    /// An access request's id.
    RequestId,
    /// An approval task's id.
    TaskId,
    /// A webhook subscription's id.
    SubscriptionId,
    /// A webhook delivery's id.
    DeliveryId,
    /// A personal bearer token's id.
    TokenId,
    /// A custom field definition's id.
    CustomFieldId,
    /// An access review's (campaign's) id.
    AccessReviewId,
    /// An access review item's id.
    AccessReviewItemId,
}
