use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{validate, DomainError};

/// The tenant. Every other row belongs to exactly one organization.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
    /// The company's e-mail domain (set from the first owner's address).
    pub domain: String,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub zipcode: Option<String>,
    pub phone: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub website: Option<String>,
    pub repos_disabled: bool,
    pub is_business: bool,
    pub mfa_enforced: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An organization's governance settings (`GET/PATCH /api/v1/OrganizationSettings`); an
/// organization that never set them has the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrganizationSettings {
    /// May one person approve more than one review step of the same request? Default false: a
    /// person who approved an earlier step is not an approver of a later one.
    pub allow_same_approver_for_multiple_steps: bool,
    /// Joiners added to a group by the identity provider (SCIM) get the group's default apps
    /// approved at once, without the approval policy. Default false.
    pub no_touch_onboarding: bool,
    /// How long after their creation a user counts as a joiner, in hours (1..=720; default 24).
    pub joiner_window_hours: i64,
    /// What leaving a group does to the accesses its default apps gave.
    pub group_leave_action: GroupLeaveAction,
    /// How a leaver's accesses are removed.
    pub leaver_access_action: LeaverAccessAction,
}

impl Default for OrganizationSettings {
    fn default() -> Self {
        Self {
            allow_same_approver_for_multiple_steps: false,
            no_touch_onboarding: false,
            joiner_window_hours: DEFAULT_JOINER_WINDOW_HOURS,
            group_leave_action: GroupLeaveAction::RemoveAccess,
            leaver_access_action: LeaverAccessAction::RemoveAccess,
        }
    }
}

/// The default joiner window, in hours.
pub const DEFAULT_JOINER_WINDOW_HOURS: i64 = 24;
/// The longest joiner window, in hours (30 days).
pub const MAX_JOINER_WINDOW_HOURS: i64 = 720;

impl OrganizationSettings {
    /// Is `user` a joiner at `now`: created less than the joiner window ago, and not deactivated?
    pub fn is_joiner(&self, user: &crate::User, now: DateTime<Utc>) -> bool {
        user.deleted_at.is_none()
            && now.signed_duration_since(user.created_at)
                < chrono::Duration::hours(self.joiner_window_hours)
    }

    /// Are the default apps of a group `user` joins approved at once? Only with no-touch
    /// onboarding, for a join made by the identity provider (`by_scim`), of a joiner.
    pub fn approves_join_at_once(
        &self,
        by_scim: bool,
        user: &crate::User,
        now: DateTime<Utc>,
    ) -> bool {
        self.no_touch_onboarding && by_scim && self.is_joiner(user, now)
    }
}

crate::wire_enum! {
    /// What happens to the accesses a group's default apps gave when a member leaves the group
    /// (`groupLeaveAction`).
    pub enum GroupLeaveAction: "groupLeaveAction", exact {
        /// The default: a Remove-Access request for each default app the user still holds and no
        /// other group of theirs gives; the requests follow the removal policy.
        RemoveAccess = 1 => "RemoveAccess",
        /// Accesses stay.
        Keep = 2 => "Keep",
    }
}

crate::wire_enum! {
    /// How a leaver's accesses are removed (`leaverAccessAction`).
    pub enum LeaverAccessAction: "leaverAccessAction", exact {
        /// The default: a Remove-Access request per access, approved by the offboarding itself
        /// (Automatic apps are removed at once, Manual apps get an action task).
        RemoveAccess = 1 => "RemoveAccess",
        /// Every access is removed at once, Manual apps included (nobody is asked to act).
        RevokeAtOnce = 2 => "RevokeAtOnce",
    }
}

/// A partial update of the governance settings: `None` leaves a setting alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrganizationSettingsPatch {
    pub allow_same_approver_for_multiple_steps: Option<bool>,
    pub no_touch_onboarding: Option<bool>,
    pub joiner_window_hours: Option<i64>,
    pub group_leave_action: Option<GroupLeaveAction>,
    pub leaver_access_action: Option<LeaverAccessAction>,
}

impl OrganizationSettingsPatch {
    /// Validates every given setting and applies them to `settings`.
    pub fn apply(&self, settings: &mut OrganizationSettings) -> Result<(), DomainError> {
        if let Some(hours) = self.joiner_window_hours {
            if !(1..=MAX_JOINER_WINDOW_HOURS).contains(&hours) {
                return Err(DomainError::invalid(format!(
                    "joinerWindowHours must be between 1 and {MAX_JOINER_WINDOW_HOURS} (got {hours})"
                )));
            }
            settings.joiner_window_hours = hours;
        }
        if let Some(allow) = self.allow_same_approver_for_multiple_steps {
            settings.allow_same_approver_for_multiple_steps = allow;
        }
        if let Some(no_touch) = self.no_touch_onboarding {
            settings.no_touch_onboarding = no_touch;
        }
        if let Some(action) = self.group_leave_action {
            settings.group_leave_action = action;
        }
        if let Some(action) = self.leaver_access_action {
            settings.leaver_access_action = action;
        }
        Ok(())
    }
}

/// A partial update of an organization's profile: `None` leaves a field alone; for the optional
/// text fields `Some(None)` (JSON `null`) or an empty string clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationPatch {
    pub name: Option<String>,
    pub address1: Option<Option<String>>,
    pub address2: Option<Option<String>>,
    pub city: Option<Option<String>>,
    pub zipcode: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub state: Option<Option<String>>,
    pub country: Option<Option<String>>,
    pub website: Option<Option<String>>,
    pub is_business: Option<bool>,
    pub mfa_enforced: Option<bool>,
}

impl OrganizationPatch {
    /// Does the patch name any field at all?
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Validates every given field and applies them to `org`.
    pub fn apply(&self, org: &mut Organization) -> Result<(), DomainError> {
        if let Some(name) = &self.name {
            org.name = validate::name("name", name)?;
        }
        let texts = [
            ("address1", &self.address1, &mut org.address1),
            ("address2", &self.address2, &mut org.address2),
            ("city", &self.city, &mut org.city),
            ("zipcode", &self.zipcode, &mut org.zipcode),
            ("phone", &self.phone, &mut org.phone),
            ("state", &self.state, &mut org.state),
            ("country", &self.country, &mut org.country),
            ("website", &self.website, &mut org.website),
        ];
        for (field, given, stored) in texts {
            if let Some(value) = given {
                let value = validate::text(field, value.as_deref())?;
                *stored = (!value.is_empty()).then_some(value);
            }
        }
        if let Some(is_business) = self.is_business {
            org.is_business = is_business;
        }
        if let Some(mfa_enforced) = self.mfa_enforced {
            org.mfa_enforced = mfa_enforced;
        }
        Ok(())
    }
}

crate::wire_enum! {
    /// A user's role in the organization, in increasing order of power (Flashback's order); the
    /// id is Cakewalk's `roleId`, the name its `roleName` (accepted case-insensitively). The
    /// Flashback API shows roles as numbers: see [`OrgRole::flashback_number`].
    pub enum OrgRole: "role", case_insensitive {
        User = 1 => "User",
        Billing = 2 => "Billing",
        Workspaces = 3 => "Workspaces",
        Administrator = 4 => "Administrator",
        Owner = 5 => "Owner",
    }
}

impl OrgRole {
    /// Cakewalk `roleName` ("User", "Administrator", ...).
    pub fn cakewalk_name(self) -> &'static str {
        self.name()
    }

    /// Flashback's `orgRoleDescription` ("USER", …, "ADMINISTRATORS", "OWNER"), spelled as the
    /// public client's enum spells it.
    pub fn flashback_name(self) -> &'static str {
        match self {
            OrgRole::User => "USER",
            OrgRole::Billing => "BILLING",
            OrgRole::Workspaces => "WORKSPACES",
            OrgRole::Administrator => "ADMINISTRATORS",
            OrgRole::Owner => "OWNER",
        }
    }

    /// Flashback's numeric `orgRole`.
    pub fn flashback_number(self) -> u8 {
        match self {
            OrgRole::User => 0,
            OrgRole::Billing => 1,
            OrgRole::Workspaces => 2,
            OrgRole::Administrator => 254,
            OrgRole::Owner => 255,
        }
    }

    /// The role whose Flashback number is `number`.
    pub fn from_flashback_number(number: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|r| i64::from(r.flashback_number()) == number)
    }

    /// Flashback's `orgRoles`: every role this one includes (itself and all below it).
    pub fn included_roles(self) -> Vec<OrgRole> {
        Self::ALL.into_iter().filter(|r| *r <= self).collect()
    }

    /// Administrators and owners run the organization (and resolve unassignable approval steps).
    pub fn is_org_admin(self) -> bool {
        self >= OrgRole::Administrator
    }

    /// Managing the user directory needs WORKSPACES or higher.
    pub fn can_manage_users(self) -> bool {
        self >= OrgRole::Workspaces
    }
}

crate::wire_enum! {
    /// What an organization API credential may do.
    pub enum AccessLevel: "access level", exact {
        ReadWrite = 1 => "ReadWrite",
        ReadOnly = 2 => "ReadOnly",
    }
}

/// May `actor` give `target_role` to someone, or change a user who currently holds `target_role`?
/// Nobody acts above their own role: an ADMINISTRATOR cannot create or edit an OWNER.
pub fn may_assign_role(actor: OrgRole, target_role: OrgRole) -> bool {
    actor.can_manage_users() && target_role <= actor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip_case_insensitively() {
        for role in OrgRole::ALL {
            assert_eq!(OrgRole::parse(role.cakewalk_name()), Ok(role));
            assert_eq!(OrgRole::parse(&role.cakewalk_name().to_uppercase()), Ok(role));
            assert_eq!(OrgRole::from_id(role.id()), Some(role));
        }
        assert!(OrgRole::parse("Superuser").is_err());
    }

    #[test]
    fn flashback_numbers_round_trip_and_roles_include_those_below() {
        let numbers: Vec<u8> = OrgRole::ALL.iter().map(|r| r.flashback_number()).collect();
        assert_eq!(numbers, [0, 1, 2, 254, 255]);
        for role in OrgRole::ALL {
            assert_eq!(OrgRole::from_flashback_number(role.flashback_number().into()), Some(role));
        }
        assert_eq!(OrgRole::from_flashback_number(3), None);
        assert_eq!(
            OrgRole::Workspaces.included_roles(),
            [OrgRole::User, OrgRole::Billing, OrgRole::Workspaces]
        );
    }

    #[test]
    fn an_organization_patch_sets_clears_and_validates() {
        let mut org = Organization { name: "Acme".into(), ..Organization::default() };
        let patch = OrganizationPatch {
            city: Some(Some("Lisbon".into())),
            is_business: Some(true),
            ..OrganizationPatch::default()
        };
        patch.apply(&mut org).expect("valid");
        assert_eq!(
            (org.city.as_deref(), org.is_business, org.name.as_str()),
            (Some("Lisbon"), true, "Acme")
        );
        let clear =
            OrganizationPatch { city: Some(Some(" ".into())), ..OrganizationPatch::default() };
        clear.apply(&mut org).expect("valid");
        assert_eq!(org.city, None);
        let bad = OrganizationPatch { name: Some(" ".into()), ..OrganizationPatch::default() };
        assert!(bad.apply(&mut org).is_err());
        assert!(OrganizationPatch::default().is_empty() && !patch.is_empty());
    }

    #[test]
    fn a_settings_patch_validates_the_joiner_window_and_keeps_what_it_does_not_name() {
        let mut settings = OrganizationSettings::default();
        assert_eq!(settings.joiner_window_hours, 24);
        for bad in [0, -1, 721] {
            let patch = OrganizationSettingsPatch {
                joiner_window_hours: Some(bad),
                no_touch_onboarding: Some(true),
                ..OrganizationSettingsPatch::default()
            };
            assert!(patch.apply(&mut settings).is_err(), "{bad}");
            assert_eq!(settings, OrganizationSettings::default(), "nothing applied");
        }
        let patch = OrganizationSettingsPatch {
            joiner_window_hours: Some(720),
            leaver_access_action: Some(LeaverAccessAction::RevokeAtOnce),
            ..OrganizationSettingsPatch::default()
        };
        patch.apply(&mut settings).expect("valid");
        assert_eq!(settings.joiner_window_hours, 720);
        assert_eq!(settings.leaver_access_action, LeaverAccessAction::RevokeAtOnce);
        assert_eq!(settings.group_leave_action, GroupLeaveAction::RemoveAccess);
        assert!(GroupLeaveAction::parse("keep").is_err(), "exact spelling");
    }

    #[test]
    fn no_touch_onboarding_needs_the_setting_scim_and_a_joiner() {
        let now = chrono::Utc::now();
        let user = |age_hours: i64| crate::User {
            id: Uuid::nil(),
            org_id: Uuid::nil(),
            first_name: "J".into(),
            last_name: String::new(),
            email: "j@example.com".into(),
            role: OrgRole::User,
            validated: true,
            deleted_at: None,
            manager_id: None,
            last_login: None,
            created_at: now - chrono::Duration::hours(age_hours),
            updated_at: now,
        };
        let on = OrganizationSettings { no_touch_onboarding: true, ..Default::default() };
        assert!(on.approves_join_at_once(true, &user(23), now));
        assert!(!on.approves_join_at_once(true, &user(24), now), "window is exclusive");
        assert!(!on.approves_join_at_once(false, &user(1), now), "not from SCIM");
        assert!(!OrganizationSettings::default().approves_join_at_once(true, &user(1), now));
        let mut gone = user(1);
        gone.deleted_at = Some(now);
        assert!(!on.approves_join_at_once(true, &gone, now));
    }

    #[test]
    fn nobody_assigns_above_their_own_role() {
        assert!(may_assign_role(OrgRole::Owner, OrgRole::Owner));
        assert!(may_assign_role(OrgRole::Administrator, OrgRole::Administrator));
        assert!(!may_assign_role(OrgRole::Administrator, OrgRole::Owner));
        assert!(may_assign_role(OrgRole::Workspaces, OrgRole::User));
        assert!(!may_assign_role(OrgRole::Billing, OrgRole::User));
    }
}
