//! What an AI assistant may do through the MCP server: the scopes a person grants it (named as
//! Cakewalk names them), and what a caller may see through one.
use uuid::Uuid;

use crate::org::OrgRole;
use crate::workapp::{WorkApp, WorkAppStatus};

/// One permission an MCP client holds. A token carries a set of them; each tool needs one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum McpScope {
    UsersRead,
    WorkAppsRead,
    RequestsRead,
    RequestsWrite,
}

impl McpScope {
    pub const ALL: [McpScope; 4] = [
        McpScope::UsersRead,
        McpScope::WorkAppsRead,
        McpScope::RequestsRead,
        McpScope::RequestsWrite,
    ];

    /// The scope's name on the wire (`scope` parameters, metadata documents).
    pub fn name(self) -> &'static str {
        match self {
            McpScope::UsersRead => "mcp:users.read",
            McpScope::WorkAppsRead => "mcp:workapps.read",
            McpScope::RequestsRead => "mcp:requests.read",
            McpScope::RequestsWrite => "mcp:requests.write",
        }
    }

    pub fn from_name(name: &str) -> Option<McpScope> {
        McpScope::ALL.into_iter().find(|s| s.name() == name)
    }

    /// What granting the scope lets an assistant do, in the words the consent page shows.
    pub fn description(self) -> &'static str {
        match self {
            McpScope::UsersRead => "See people in the directory and the apps they hold, as you can",
            McpScope::WorkAppsRead => "See work apps, their permission levels and custom fields",
            McpScope::RequestsRead => "See access requests you can see",
            McpScope::RequestsWrite => {
                "File access requests and removals, approve or decline your tasks, and decide your \
                 access review items, as you"
            }
        }
    }

    /// Does this scope only read? (Read-only credentials hold only these.)
    pub fn is_read(self) -> bool {
        !matches!(self, McpScope::RequestsWrite)
    }
}

/// A set of scopes, kept sorted and without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct McpScopes(Vec<McpScope>);

impl McpScopes {
    pub fn all() -> Self {
        McpScopes(McpScope::ALL.to_vec())
    }

    /// The read scopes only (what a read-only credential holds).
    pub fn read_only() -> Self {
        McpScopes(McpScope::ALL.into_iter().filter(|s| s.is_read()).collect())
    }

    pub fn new(scopes: impl IntoIterator<Item = McpScope>) -> Self {
        let mut scopes: Vec<McpScope> = scopes.into_iter().collect();
        scopes.sort();
        scopes.dedup();
        McpScopes(scopes)
    }

    /// Parses a space-separated `scope` parameter (RFC 6749 §3.3). An unknown scope is an
    /// error naming it, never dropped.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut scopes = Vec::new();
        for name in text.split(' ').filter(|s| !s.is_empty()) {
            scopes.push(McpScope::from_name(name).ok_or_else(|| format!("unknown scope {name}"))?);
        }
        Ok(McpScopes::new(scopes))
    }

    pub fn contains(&self, scope: McpScope) -> bool {
        self.0.contains(&scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Is every scope of `self` also in `other`? (A refresh may narrow, never widen.)
    pub fn is_subset_of(&self, other: &McpScopes) -> bool {
        self.0.iter().all(|s| other.contains(*s))
    }

    /// The scopes both sets hold.
    pub fn intersection(&self, other: &McpScopes) -> McpScopes {
        McpScopes(self.0.iter().copied().filter(|s| other.contains(*s)).collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = McpScope> + '_ {
        self.0.iter().copied()
    }

    /// The space-separated form.
    pub fn to_text(&self) -> String {
        self.0.iter().map(|s| s.name()).collect::<Vec<_>>().join(" ")
    }
}

/// Who is reading through an assistant, as far as what they may see goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// An API credential, an administrator, or someone who manages the directory (WORKSPACES
    /// role): sees the whole organization, as in the console's administration pages.
    Organization,
    /// Anyone else: sees themself, the apps offered to them, and who holds the apps they own.
    Person(Uuid),
}

impl Viewer {
    /// The viewer a caller is: `person` is their user id and role (`None` for a credential).
    pub fn of(person: Option<(Uuid, OrgRole)>) -> Viewer {
        match person {
            Some((id, role)) if !role.can_manage_users() => Viewer::Person(id),
            _ => Viewer::Organization,
        }
    }
}

/// May `viewer` see that `holder` holds an access to an app owned by `app_owners`? Their own
/// accesses, and the holders of the apps they own; the organization sees all.
pub fn may_see_access(viewer: Viewer, holder: Uuid, app_owners: &[Uuid]) -> bool {
    match viewer {
        Viewer::Organization => true,
        Viewer::Person(me) => holder == me || app_owners.contains(&me),
    }
}

/// May `viewer` see an app (its levels, fields, holders' names aside)? What the console's
/// catalogue offers them — Managed apps not hidden from any of their groups — and the apps they
/// own; the organization sees all.
pub fn may_see_app(viewer: Viewer, app: &WorkApp, hidden_from_viewer: bool) -> bool {
    match viewer {
        Viewer::Organization => true,
        Viewer::Person(me) => {
            app.owner_ids.contains(&me)
                || (app.status == WorkAppStatus::Managed && !hidden_from_viewer)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn scopes_parse_sorted_and_unknown_ones_are_refused() {
        let scopes = McpScopes::parse("mcp:requests.write  mcp:users.read mcp:users.read").unwrap();
        assert_eq!(scopes.to_text(), "mcp:users.read mcp:requests.write");
        assert_eq!(McpScopes::parse("mcp:users.read admin").unwrap_err(), "unknown scope admin");
        assert!(McpScopes::parse("").unwrap().is_empty());
        assert!(!McpScopes::read_only().contains(McpScope::RequestsWrite));
    }

    fn app(status: WorkAppStatus, owners: Vec<Uuid>) -> WorkApp {
        WorkApp {
            id: Uuid::nil(),
            org_id: Uuid::nil(),
            name: "Figma".into(),
            description: String::new(),
            status,
            provisioning_mode: crate::workapp::ProvisioningMode::Manual,
            category: String::new(),
            url: String::new(),
            image_url: String::new(),
            tag_line: String::new(),
            owner_ids: owners,
            created_at: chrono::DateTime::UNIX_EPOCH,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn people_see_themselves_their_catalogue_and_what_they_own() {
        let (me, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(Viewer::of(None), Viewer::Organization);
        assert_eq!(Viewer::of(Some((me, OrgRole::Workspaces))), Viewer::Organization);
        let person = Viewer::of(Some((me, OrgRole::User)));
        assert_eq!(person, Viewer::Person(me));
        assert!(may_see_access(person, me, &[]));
        assert!(!may_see_access(person, other, &[]));
        assert!(may_see_access(person, other, &[me]));
        assert!(may_see_access(Viewer::Organization, other, &[]));
        assert!(may_see_app(person, &app(WorkAppStatus::Managed, vec![]), false));
        assert!(!may_see_app(person, &app(WorkAppStatus::Managed, vec![]), true));
        assert!(!may_see_app(person, &app(WorkAppStatus::Unmanaged, vec![]), false));
        assert!(may_see_app(person, &app(WorkAppStatus::Unmanaged, vec![me]), true));
        assert!(may_see_app(Viewer::Organization, &app(WorkAppStatus::Archived, vec![]), true));
    }

    proptest! {
        /// A person never sees another's access to an app they do not own, whatever the ids.
        #[test]
        fn a_person_sees_others_only_through_apps_they_own(
            me in any::<u128>(), holder in any::<u128>(), owners in proptest::collection::vec(any::<u128>(), 0..4),
        ) {
            let (me, holder) = (Uuid::from_u128(me), Uuid::from_u128(holder));
            let owners: Vec<Uuid> = owners.into_iter().map(Uuid::from_u128).collect();
            let seen = may_see_access(Viewer::Person(me), holder, &owners);
            prop_assert_eq!(seen, holder == me || owners.contains(&me));
        }

        #[test]
        fn text_round_trips_and_intersection_is_a_subset(a in 0u8..16, b in 0u8..16) {
            let pick = |mask: u8| McpScopes::new(
                McpScope::ALL.into_iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, s)| s),
            );
            let (a, b) = (pick(a), pick(b));
            prop_assert_eq!(McpScopes::parse(&a.to_text()).unwrap(), a.clone());
            let both = a.intersection(&b);
            prop_assert!(both.is_subset_of(&a) && both.is_subset_of(&b));
        }
    }
}
