//! What an AI assistant may do through the MCP server: the scopes a person grants it (named as
//! Cakewalk names them), and which scope each tool needs.

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

    proptest! {
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
