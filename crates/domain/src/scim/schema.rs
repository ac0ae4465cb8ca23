//! The SCIM attributes we publish (RFC 7643 §4, §7): a deliberately small subset of the User,
//! enterprise User and Group schemas. The same definitions are rendered by `/Schemas` and drive
//! validation, so what we announce is exactly what we accept.

use super::filter::AttrPath;

pub const USER_SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP_SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The data type of an attribute (RFC 7643 §2.3; binary and decimal are not used here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Integer,
    DateTime,
    Reference,
    Complex,
}

impl AttrType {
    /// The spelling in `/Schemas`.
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

/// Whether and when a client may write an attribute (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    /// Set once (when absent), never changed.
    Immutable,
    WriteOnly,
}

impl Mutability {
    /// The spelling in `/Schemas`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// One attribute definition, as `/Schemas` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrDef {
    pub name: &'static str,
    pub kind: AttrType,
    pub multi_valued: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    /// "always", "never", "default" or "request".
    pub returned: &'static str,
    /// "none", "server" or "global".
    pub uniqueness: &'static str,
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub_attributes: &'static [AttrDef],
    pub description: &'static str,
}

impl AttrDef {
    /// A single-valued, optional, readWrite attribute of `kind`: the common case, refined by the
    /// builders below so that the tables read as the RFC does.
    const fn new(name: &'static str, kind: AttrType, description: &'static str) -> Self {
        AttrDef {
            name,
            kind,
            multi_valued: false,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: "default",
            uniqueness: "none",
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
            description,
        }
    }
    const fn string(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::String, description)
    }
    const fn complex(
        name: &'static str,
        sub_attributes: &'static [AttrDef],
        description: &'static str,
    ) -> Self {
        AttrDef { sub_attributes, ..Self::new(name, AttrType::Complex, description) }
    }
    const fn reference(
        name: &'static str,
        reference_types: &'static [&'static str],
        description: &'static str,
    ) -> Self {
        AttrDef { reference_types, ..Self::new(name, AttrType::Reference, description) }
    }
    const fn multi(self) -> Self {
        AttrDef { multi_valued: true, ..self }
    }
    const fn required(self) -> Self {
        AttrDef { required: true, ..self }
    }
    const fn unique(self) -> Self {
        AttrDef { uniqueness: "server", ..self }
    }
    const fn case_exact(self) -> Self {
        AttrDef { case_exact: true, ..self }
    }
    const fn mutability(self, mutability: Mutability) -> Self {
        AttrDef { mutability, ..self }
    }
    const fn returned(self, returned: &'static str) -> Self {
        AttrDef { returned, ..self }
    }
    const fn canonical(self, canonical_values: &'static [&'static str]) -> Self {
        AttrDef { canonical_values, ..self }
    }

    /// A sub-attribute, by name (case-insensitive).
    pub fn sub(&self, name: &str) -> Option<&'static AttrDef> {
        find(self.sub_attributes, name)
    }
}

/// A schema: the core schema of a resource type or an extension of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [AttrDef],
}

impl SchemaDef {
    /// An attribute, by name (case-insensitive).
    pub fn attr(&self, name: &str) -> Option<&'static AttrDef> {
        find(self.attributes, name)
    }
}

/// A resource type: its core schema and the extensions it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceSchema {
    pub core: &'static SchemaDef,
    pub extensions: &'static [&'static SchemaDef],
}

impl ResourceSchema {
    /// The extension a URN names (case-insensitive).
    pub fn extension(&self, urn: &str) -> Option<&'static SchemaDef> {
        self.extensions.iter().copied().find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Is `urn` the core schema's?
    pub fn is_core(&self, urn: &str) -> bool {
        self.core.id.eq_ignore_ascii_case(urn)
    }

    /// The extension a path names as a whole (`urn:…:enterprise:2.0:User`, which parses as the
    /// URI `urn:…:2.0` with the attribute `User`).
    pub fn whole_extension(&self, path: &AttrPath) -> Option<&'static SchemaDef> {
        let uri = path.uri.as_deref()?;
        if path.sub_attr.is_some() {
            return None;
        }
        self.extensions.iter().copied().find(|s| {
            s.id.len() == uri.len() + 1 + path.attr.len()
                && s.id[..uri.len()].eq_ignore_ascii_case(uri)
                && s.id[uri.len() + 1..].eq_ignore_ascii_case(&path.attr)
        })
    }

    /// The definition of a path's attribute and the extension it lives in (`None`: top level).
    /// Without a URI the core schema and the common attributes come first, then the extensions,
    /// since clients do not always qualify extension attributes.
    pub fn find(&self, path: &AttrPath) -> Option<(Option<&'static SchemaDef>, &'static AttrDef)> {
        match path.uri.as_deref() {
            Some(uri) if self.is_core(uri) => self.find_top(&path.attr).map(|d| (None, d)),
            Some(uri) => {
                let ext = self.extension(uri)?;
                ext.attr(&path.attr).map(|d| (Some(ext), d))
            }
            None => self.find_top(&path.attr).map(|d| (None, d)).or_else(|| {
                self.extensions.iter().find_map(|ext| ext.attr(&path.attr).map(|d| (Some(*ext), d)))
            }),
        }
    }

    fn find_top(&self, name: &str) -> Option<&'static AttrDef> {
        self.core.attr(name).or_else(|| find(COMMON_ATTRIBUTES, name))
    }
}

fn find(defs: &'static [AttrDef], name: &str) -> Option<&'static AttrDef> {
    defs.iter().find(|d| d.name.eq_ignore_ascii_case(name))
}

/// The attributes every resource has (RFC 7643 §3.1); not listed in `/Schemas`.
pub static COMMON_ATTRIBUTES: &[AttrDef] = &[
    AttrDef::string("id", "Unique identifier assigned by the service provider.")
        .case_exact()
        .mutability(Mutability::ReadOnly)
        .returned("always")
        .unique(),
    AttrDef::string("externalId", "Identifier assigned by the provisioning client.").case_exact(),
    AttrDef::complex(
        "meta",
        &[
            AttrDef::string("resourceType", "").mutability(Mutability::ReadOnly),
            AttrDef::new("created", AttrType::DateTime, "").mutability(Mutability::ReadOnly),
            AttrDef::new("lastModified", AttrType::DateTime, "").mutability(Mutability::ReadOnly),
            AttrDef::reference("location", &["uri"], "").mutability(Mutability::ReadOnly),
            AttrDef::string("version", "").case_exact().mutability(Mutability::ReadOnly),
        ],
        "Resource metadata.",
    )
    .mutability(Mutability::ReadOnly),
];

pub static USER_CORE: SchemaDef = SchemaDef {
    id: USER_SCHEMA_URN,
    name: "User",
    description: "User Account",
    attributes: &[
        AttrDef::string("userName", "Unique identifier for the user, used to sign in.")
            .required()
            .unique(),
        AttrDef::complex(
            "name",
            &[
                AttrDef::string("givenName", "Given name."),
                AttrDef::string("familyName", "Family name."),
                AttrDef::string("formatted", "Full name, formatted for display."),
            ],
            "The components of the user's name.",
        ),
        AttrDef::string("displayName", "The name of the user, for display."),
        AttrDef::complex(
            "emails",
            &[
                AttrDef::string("value", "E-mail address."),
                AttrDef::string("type", "The kind of address.")
                    .canonical(&["work", "home", "other"]),
                AttrDef::new("primary", AttrType::Boolean, "The preferred address."),
            ],
            "E-mail addresses of the user.",
        )
        .multi(),
        AttrDef::new("active", AttrType::Boolean, "Whether the user may sign in."),
    ],
};

pub static ENTERPRISE_USER: SchemaDef = SchemaDef {
    id: ENTERPRISE_USER_URN,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: &[
        AttrDef::string("employeeNumber", "Identifier assigned by the organization."),
        AttrDef::string("department", "Department."),
        AttrDef::complex(
            "manager",
            &[
                AttrDef::string("value", "The id of the manager's User."),
                AttrDef::reference("$ref", &["User"], "The URI of the manager's User."),
            ],
            "The user's manager.",
        ),
    ],
};

pub static GROUP_CORE: SchemaDef = SchemaDef {
    id: GROUP_SCHEMA_URN,
    name: "Group",
    description: "Group",
    attributes: &[
        AttrDef::string("displayName", "The name of the group.").required().unique(),
        AttrDef::complex(
            "members",
            &[
                AttrDef::string("value", "The id of the member.").mutability(Mutability::Immutable),
                AttrDef::reference("$ref", &["User"], "The URI of the member.")
                    .mutability(Mutability::Immutable),
                AttrDef::string("type", "The member's resource type.")
                    .canonical(&["User"])
                    .mutability(Mutability::Immutable),
            ],
            "Members of the group.",
        )
        .multi(),
    ],
};

pub static USER: ResourceSchema =
    ResourceSchema { core: &USER_CORE, extensions: &[&ENTERPRISE_USER] };

pub static GROUP: ResourceSchema = ResourceSchema { core: &GROUP_CORE, extensions: &[] };

#[cfg(test)]
mod tests {
    use super::*;

    fn path(uri: Option<&str>, attr: &str) -> AttrPath {
        AttrPath { uri: uri.map(String::from), attr: attr.into(), sub_attr: None }
    }

    #[test]
    fn published_attributes_are_exactly_the_agreed_ones() {
        let names = |s: &SchemaDef| s.attributes.iter().map(|a| a.name).collect::<Vec<_>>();
        assert_eq!(names(&USER_CORE), ["userName", "name", "displayName", "emails", "active"]);
        assert_eq!(names(&ENTERPRISE_USER), ["employeeNumber", "department", "manager"]);
        assert_eq!(names(&GROUP_CORE), ["displayName", "members"]);
        let user_name = USER_CORE.attr("username").unwrap();
        assert!(user_name.required && !user_name.case_exact);
        assert_eq!(user_name.uniqueness, "server");
        let manager = ENTERPRISE_USER.attr("manager").unwrap();
        assert!(manager.sub("displayName").is_none());
        assert_eq!(manager.sub("$REF").unwrap().reference_types, ["User"]);
        let members = GROUP_CORE.attr("members").unwrap();
        assert!(members.multi_valued && members.sub("display").is_none());
        assert!(members.sub_attributes.iter().all(|s| s.mutability == Mutability::Immutable));
        assert_eq!(
            USER_CORE.attr("emails").unwrap().sub("type").unwrap().canonical_values,
            ["work", "home", "other"]
        );
    }

    #[test]
    fn paths_resolve_to_core_common_and_extension_attributes() {
        let (ext, def) = USER.find(&path(None, "USERNAME")).unwrap();
        assert_eq!((ext, def.name), (None, "userName"));
        let (ext, def) = USER.find(&path(Some(USER_SCHEMA_URN), "emails")).unwrap();
        assert_eq!((ext, def.name), (None, "emails"));
        let (ext, def) = USER.find(&path(Some(ENTERPRISE_USER_URN), "manager")).unwrap();
        assert_eq!((ext.unwrap().id, def.name), (ENTERPRISE_USER_URN, "manager"));
        // Unqualified extension attributes are found too.
        let (ext, _) = USER.find(&path(None, "department")).unwrap();
        assert_eq!(ext.unwrap().id, ENTERPRISE_USER_URN);
        assert_eq!(USER.find(&path(None, "externalId")).unwrap().1.name, "externalId");
        assert_eq!(USER.find(&path(None, "id")).unwrap().1.mutability, Mutability::ReadOnly);
        assert!(USER.find(&path(None, "nickName")).is_none());
        assert!(USER.find(&path(Some("urn:x:y"), "userName")).is_none());
        assert!(GROUP.find(&path(None, "department")).is_none());
        let whole = path(Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0"), "user");
        assert_eq!(USER.whole_extension(&whole).unwrap().id, ENTERPRISE_USER_URN);
        assert!(GROUP.whole_extension(&whole).is_none());
    }
}
