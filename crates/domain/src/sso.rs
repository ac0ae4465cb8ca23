//! Single sign-on with OpenID Connect: an organization's sign-in settings, and the rule that turns
//! a verified identity from the provider into a person of ours (or a refusal).
//!
//! The protocol itself (discovery, PKCE, the ID token's signature, issuer, audience, expiry and
//! nonce) is checked by the service before anything here runs; these rules only see claims the
//! provider vouched for.
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::validate::email_key;
use crate::{DomainError, User, UserStatus};

/// An organization's sign-in settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationSso {
    pub org_id: Uuid,
    /// The organization's own identity provider; `None` means the server's (if it has one).
    pub provider: Option<SsoProvider>,
    /// May a person the provider vouches for, whom the organization does not know yet, sign in
    /// (and be created as a user)?
    pub allow_just_in_time: bool,
    pub updated_at: DateTime<Utc>,
}

/// An OpenID provider registration: where it is and who we are there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoProvider {
    pub issuer: String,
    pub client_id: String,
    /// The client secret, encrypted with the server's master key.
    pub client_secret_sealed: Vec<u8>,
}

/// Checks an issuer URL an organization configures: absolute, `https` (plain `http` only for a
/// provider on this machine, as in development), no query or fragment (the issuer must equal the
/// `iss` the provider signs, character for character). Returns it without a trailing slash.
pub fn issuer_url(text: &str) -> Result<String, DomainError> {
    let text = text.trim();
    let invalid = |why: &str| DomainError::invalid(format!("issuer {why}"));
    let url = url::Url::parse(text).map_err(|_| invalid("must be an absolute URL"))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(invalid("must use https")),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    if url.host_str().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must name a host and no credentials"));
    }
    Ok(text.trim_end_matches('/').to_string())
}

/// What the provider told us about the person, after the ID token was verified.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifiedIdentity {
    pub subject: String,
    pub email: Option<String>,
    /// The provider's `email_verified` claim (absent counts as not verified).
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub name: Option<String>,
}

impl VerifiedIdentity {
    /// First and last name for a user created just in time: the given and family names, else
    /// the full name split at its first space, else the e-mail's local part.
    pub fn names(&self) -> (String, String) {
        fn clean(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        if let Some(first) = clean(&self.given_name) {
            return (first.to_string(), clean(&self.family_name).unwrap_or_default().to_string());
        }
        if let Some(full) = clean(&self.name) {
            let (first, last) = full.split_once(' ').unwrap_or((full, ""));
            return (first.to_string(), last.trim().to_string());
        }
        let email = self.email.as_deref().unwrap_or_default();
        (email.split('@').next().unwrap_or(email).to_string(), String::new())
    }
}

/// Where a sign-in may land: one organization (its own sign-in link, or a server with one
/// organization), or any organization the person belongs to (the server's provider).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInScope {
    Organization { org_id: Uuid, allow_just_in_time: bool },
    AnyOrganization,
}

/// The outcome of a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInDecision {
    /// An existing person signs in.
    Existing {
        org_id: Uuid,
        user_id: Uuid,
    },
    /// A person the organization does not know yet is created, then signed in.
    JustInTime {
        org_id: Uuid,
        email: String,
    },
    Refused(SignInRefusal),
}

/// Why a sign-in is refused; each has a message for the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInRefusal {
    NoEmail,
    EmailNotVerified,
    Unknown,
    Deactivated,
    SeveralOrganizations,
}

impl SignInRefusal {
    pub fn message(self) -> &'static str {
        match self {
            SignInRefusal::NoEmail => {
                "Your identity provider did not share your e-mail address (ask for the 'email' scope)."
            }
            SignInRefusal::EmailNotVerified => {
                "Your identity provider has not verified your e-mail address."
            }
            SignInRefusal::Unknown => {
                "There is no account for your e-mail address. Ask an administrator to add you."
            }
            SignInRefusal::Deactivated => "Your account is deactivated.",
            SignInRefusal::SeveralOrganizations => {
                "Your e-mail address belongs to several organizations: use your organization's own sign-in link."
            }
        }
    }
}

/// Decides who signs in. A person is matched by e-mail (compared as the directory compares
/// them), which must be verified by the provider unless the server is told to trust its e-mails
/// (providers such as Entra ID send no `email_verified` claim). `people` are the users, in any
/// organization, with that e-mail address.
pub fn decide_sign_in(
    identity: &VerifiedIdentity,
    trust_email: bool,
    scope: SignInScope,
    people: &[User],
) -> SignInDecision {
    let Some(email) = identity.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) else {
        return SignInDecision::Refused(SignInRefusal::NoEmail);
    };
    if !identity.email_verified && !trust_email {
        return SignInDecision::Refused(SignInRefusal::EmailNotVerified);
    }
    let key = email_key(email);
    let matching: Vec<&User> = people
        .iter()
        .filter(|u| email_key(&u.email) == key)
        .filter(|u| match scope {
            SignInScope::Organization { org_id, .. } => u.org_id == org_id,
            SignInScope::AnyOrganization => true,
        })
        .collect();
    match (matching.as_slice(), scope) {
        ([user], _) if user.status() == UserStatus::Deactivated => {
            SignInDecision::Refused(SignInRefusal::Deactivated)
        }
        ([user], _) => SignInDecision::Existing { org_id: user.org_id, user_id: user.id },
        ([], SignInScope::Organization { org_id, allow_just_in_time: true }) => {
            SignInDecision::JustInTime { org_id, email: email.to_string() }
        }
        ([], _) => SignInDecision::Refused(SignInRefusal::Unknown),
        (several, _) => {
            let active: Vec<&&User> =
                several.iter().filter(|u| u.status() != UserStatus::Deactivated).collect();
            match active.as_slice() {
                [] => SignInDecision::Refused(SignInRefusal::Deactivated),
                [user] => SignInDecision::Existing { org_id: user.org_id, user_id: user.id },
                _ => SignInDecision::Refused(SignInRefusal::SeveralOrganizations),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;
    use crate::OrgRole;

    fn user(org: u128, id: u128, email: &str, status: UserStatus) -> User {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut user = User {
            id: Uuid::from_u128(id),
            org_id: Uuid::from_u128(org),
            first_name: "A".into(),
            last_name: "B".into(),
            email: email.into(),
            role: OrgRole::User,
            validated: status == UserStatus::Active,
            deleted_at: None,
            manager_id: None,
            last_login: None,
            created_at: at,
            updated_at: at,
        };
        user.set_status(status, at);
        user
    }

    fn identity(email: &str, verified: bool) -> VerifiedIdentity {
        VerifiedIdentity {
            subject: "s".into(),
            email: Some(email.into()),
            email_verified: verified,
            ..Default::default()
        }
    }

    const ORG1: SignInScope =
        SignInScope::Organization { org_id: Uuid::from_u128(1), allow_just_in_time: false };

    #[test]
    fn a_known_person_signs_in_by_verified_email_whatever_its_case() {
        let people = [user(1, 10, "ada@example.com", UserStatus::Active)];
        let who = identity("ADA@Example.com", true);
        let expected =
            SignInDecision::Existing { org_id: Uuid::from_u128(1), user_id: Uuid::from_u128(10) };
        assert_eq!(decide_sign_in(&who, false, ORG1, &people), expected);
        assert_eq!(decide_sign_in(&who, false, SignInScope::AnyOrganization, &people), expected);
        let invited = [user(1, 10, "ada@example.com", UserStatus::Invited)];
        assert_eq!(decide_sign_in(&who, false, ORG1, &invited), expected);
    }

    #[test]
    fn unverified_or_missing_emails_are_refused_unless_trusted() {
        let people = [user(1, 10, "ada@example.com", UserStatus::Active)];
        let unverified = identity("ada@example.com", false);
        assert_eq!(
            decide_sign_in(&unverified, false, ORG1, &people),
            SignInDecision::Refused(SignInRefusal::EmailNotVerified)
        );
        assert!(matches!(
            decide_sign_in(&unverified, true, ORG1, &people),
            SignInDecision::Existing { .. }
        ));
        let none = VerifiedIdentity { email_verified: true, ..Default::default() };
        assert_eq!(
            decide_sign_in(&none, true, ORG1, &people),
            SignInDecision::Refused(SignInRefusal::NoEmail)
        );
    }

    #[test]
    fn unknown_people_are_refused_unless_the_organization_allows_just_in_time() {
        let who = identity("new@example.com", true);
        let elsewhere = [user(2, 20, "new@example.com", UserStatus::Active)];
        assert_eq!(
            decide_sign_in(&who, false, ORG1, &elsewhere),
            SignInDecision::Refused(SignInRefusal::Unknown)
        );
        let jit =
            SignInScope::Organization { org_id: Uuid::from_u128(1), allow_just_in_time: true };
        assert_eq!(
            decide_sign_in(&who, false, jit, &elsewhere),
            SignInDecision::JustInTime {
                org_id: Uuid::from_u128(1),
                email: "new@example.com".into()
            }
        );
        assert_eq!(
            decide_sign_in(&who, false, SignInScope::AnyOrganization, &[]),
            SignInDecision::Refused(SignInRefusal::Unknown)
        );
    }

    #[test]
    fn deactivated_people_neither_sign_in_nor_come_back_just_in_time() {
        let who = identity("ada@example.com", true);
        let off = [user(1, 10, "ada@example.com", UserStatus::Deactivated)];
        assert_eq!(
            decide_sign_in(&who, false, ORG1, &off),
            SignInDecision::Refused(SignInRefusal::Deactivated)
        );
        // A deactivated person is not created again just in time.
        let jit =
            SignInScope::Organization { org_id: Uuid::from_u128(1), allow_just_in_time: true };
        assert_eq!(
            decide_sign_in(&who, false, jit, &off),
            SignInDecision::Refused(SignInRefusal::Deactivated)
        );
    }

    #[test]
    fn several_organizations_need_the_organization_link() {
        let who = identity("ada@example.com", true);
        let people = [
            user(1, 10, "ada@example.com", UserStatus::Active),
            user(2, 20, "ada@example.com", UserStatus::Active),
        ];
        assert_eq!(
            decide_sign_in(&who, false, SignInScope::AnyOrganization, &people),
            SignInDecision::Refused(SignInRefusal::SeveralOrganizations)
        );
        assert!(matches!(
            decide_sign_in(&who, false, ORG1, &people),
            SignInDecision::Existing { user_id, .. } if user_id == Uuid::from_u128(10)
        ));
        let one_left = [
            user(1, 10, "ada@example.com", UserStatus::Deactivated),
            user(2, 20, "ada@example.com", UserStatus::Active),
        ];
        assert!(matches!(
            decide_sign_in(&who, false, SignInScope::AnyOrganization, &one_left),
            SignInDecision::Existing { user_id, .. } if user_id == Uuid::from_u128(20)
        ));
    }

    #[test]
    fn issuers_must_be_https_except_on_this_machine() {
        assert_eq!(issuer_url("https://idp.example.com/").unwrap(), "https://idp.example.com");
        assert_eq!(
            issuer_url("https://login.microsoftonline.com/t/v2.0").unwrap(),
            "https://login.microsoftonline.com/t/v2.0"
        );
        assert!(issuer_url("http://localhost:9400").is_ok());
        for bad in [
            "http://idp.example.com",
            "idp.example.com",
            "https://a/?x=1",
            "ftp://a",
            "https://u:p@a",
        ] {
            assert!(issuer_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_come_from_the_claims_or_the_email() {
        let mut who = identity("ada.l@example.com", true);
        assert_eq!(who.names(), ("ada.l".into(), String::new()));
        who.name = Some("Ada King Lovelace".into());
        assert_eq!(who.names(), ("Ada".into(), "King Lovelace".into()));
        who.given_name = Some("Ada".into());
        who.family_name = Some("Lovelace".into());
        assert_eq!(who.names(), ("Ada".into(), "Lovelace".into()));
    }

    proptest! {
        /// Whoever signs in is one of the people given, of the scope's organization, not
        /// deactivated; a just-in-time creation happens only where allowed and nobody matched.
        #[test]
        fn a_sign_in_never_lands_outside_its_scope(
            people in proptest::collection::vec((1u128..4, 0usize..3, prop::bool::ANY), 0..6),
            org in 1u128..4,
            jit in prop::bool::ANY,
            any in prop::bool::ANY,
        ) {
            let emails = ["ada@example.com", "ADA@example.com", "bob@example.com"];
            let people: Vec<User> = people
                .iter()
                .enumerate()
                .map(|(i, (o, e, off))| {
                    let status = if *off { UserStatus::Deactivated } else { UserStatus::Active };
                    user(*o, 100 + i as u128, emails[*e], status)
                })
                .collect();
            let scope = if any {
                SignInScope::AnyOrganization
            } else {
                SignInScope::Organization { org_id: Uuid::from_u128(org), allow_just_in_time: jit }
            };
            match decide_sign_in(&identity("ada@example.com", true), false, scope, &people) {
                SignInDecision::Existing { org_id, user_id } => {
                    let u = people.iter().find(|u| u.id == user_id).unwrap();
                    prop_assert_eq!(u.org_id, org_id);
                    prop_assert_ne!(u.status(), UserStatus::Deactivated);
                    prop_assert_eq!(email_key(&u.email), "ada@example.com");
                    if !any { prop_assert_eq!(org_id, Uuid::from_u128(org)); }
                }
                SignInDecision::JustInTime { org_id, .. } => {
                    prop_assert!(!any && jit);
                    prop_assert_eq!(org_id, Uuid::from_u128(org));
                    prop_assert!(!people.iter().any(|u| u.org_id == org_id
                        && email_key(&u.email) == "ada@example.com"));
                }
                SignInDecision::Refused(_) => {}
            }
        }
    }
}
