//! Policies, requests and approval tasks: the request/task state machine as pure functions.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{DomainError, ProvisioningMode};

crate::wire_enum! {
    /// The five request types of the Cakewalk API (exact spellings).
    pub enum RequestType: "request type", exact {
        GrantAccess = 1 => "GrantAccessRequest",
        RemoveAccess = 2 => "RemoveAccessRequest",
        ChangePermissionLevel = 3 => "ChangePermissionLevelRequest",
        AddNewManagedWorkApp = 4 => "AddNewManagedWorkAppRequest",
        ArchiveWorkApp = 5 => "ArchiveWorkAppRequest",
    }
}

impl RequestType {
    /// Requests about one user's access (as opposed to the app itself).
    pub fn targets_user(self) -> bool {
        matches!(
            self,
            RequestType::GrantAccess
                | RequestType::RemoveAccess
                | RequestType::ChangePermissionLevel
        )
    }

    /// The steps of the organization's default policy for this type.
    pub fn default_steps(self) -> Vec<PolicyStep> {
        use Approver::*;
        let kinds: &[Approver] = match self {
            RequestType::GrantAccess | RequestType::ChangePermissionLevel => &[Manager, AppOwner],
            RequestType::RemoveAccess | RequestType::ArchiveWorkApp => &[AppOwner],
            RequestType::AddNewManagedWorkApp => &[Administrators],
        };
        kinds.iter().map(|a| PolicyStep { approver: *a, user_id: None, group_id: None }).collect()
    }

    pub fn default_policy_name(self) -> &'static str {
        match self {
            RequestType::GrantAccess => "Grant access: manager, then app owner",
            RequestType::RemoveAccess => "Remove access: app owner",
            RequestType::ChangePermissionLevel => {
                "Change permission level: manager, then app owner"
            }
            RequestType::AddNewManagedWorkApp => "Add new app: administrators",
            RequestType::ArchiveWorkApp => "Archive app: app owner",
        }
    }
}

/// Who approves one review step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Approver {
    /// The target user's manager.
    Manager,
    /// The work app's owners.
    AppOwner,
    /// The organization's ADMINISTRATOR and OWNER users.
    Administrators,
    /// One named user (`userId`).
    User,
    /// The members of one group (`groupId`).
    GroupMembers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyStep {
    pub approver: Approver,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<Uuid>,
}

/// Most review steps a policy may have.
pub const MAX_POLICY_STEPS: usize = 10;

/// Checks a step list: `User` needs `userId` (only), `GroupMembers` needs `groupId` (only).
pub fn validate_steps(steps: &[PolicyStep]) -> Result<(), DomainError> {
    if steps.len() > MAX_POLICY_STEPS {
        return Err(DomainError::invalid(format!("a policy has at most {MAX_POLICY_STEPS} steps")));
    }
    for (i, step) in steps.iter().enumerate() {
        let ok = match step.approver {
            Approver::User => step.user_id.is_some() && step.group_id.is_none(),
            Approver::GroupMembers => step.group_id.is_some() && step.user_id.is_none(),
            _ => step.user_id.is_none() && step.group_id.is_none(),
        };
        if !ok {
            return Err(DomainError::invalid(format!(
                "steps[{i}]: approver User needs userId, GroupMembers needs groupId, \
                 and the other approvers take neither"
            )));
        }
    }
    Ok(())
}

/// A policy at its current version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub request_type: RequestType,
    pub steps: Vec<PolicyStep>,
    /// Starts at 1; a new version is made when a policy some request follows is edited.
    pub version: i32,
    /// Seeded for every organization.
    pub is_system: bool,
    /// The organization default for its request type.
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Resolution order: permission-level policy → work-app policy → organization default.
pub fn resolve_policy(
    level_policy: Option<Uuid>,
    app_policy: Option<Uuid>,
    org_default: Uuid,
) -> Uuid {
    level_policy.or(app_policy).unwrap_or(org_default)
}

crate::wire_enum! {
    pub enum RequestStatus: "request status", case_insensitive {
        Pending = 1 => "Pending",
        Approved = 2 => "Approved",
        Declined = 3 => "Declined",
        Completed = 4 => "Completed",
        Cancelled = 5 => "Cancelled",
        Failed = 6 => "Failed",
    }
}

impl RequestStatus {
    /// Pending and Approved requests are open: they still await a decision or an action.
    pub fn is_open(self) -> bool {
        matches!(self, RequestStatus::Pending | RequestStatus::Approved)
    }
}

crate::wire_enum! {
    pub enum TaskKind: "task kind", exact {
        Review = 1 => "Review",
        Action = 2 => "Action",
    }
}

crate::wire_enum! {
    pub enum TaskStatus: "task status", case_insensitive {
        Open = 1 => "Open",
        Approved = 2 => "Approved",
        Declined = 3 => "Declined",
        Completed = 4 => "Completed",
        Cancelled = 5 => "Cancelled",
    }
}

/// An access request (or an app-level request) following one policy version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub id: Uuid,
    pub org_id: Uuid,
    pub request_type: RequestType,
    pub work_app_id: Uuid,
    pub target_user_id: Option<Uuid>,
    pub permission_level_id: Option<Uuid>,
    pub created_by_user_id: Option<Uuid>,
    pub justification: String,
    /// For grants: when the granted access should expire.
    pub expires_at: Option<DateTime<Utc>>,
    pub status: RequestStatus,
    pub policy_id: Uuid,
    pub policy_version: i32,
    pub step_count: i32,
    pub cancelled_by_user_id: Option<Uuid>,
    /// Set when a group membership caused the request.
    pub source_group_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One review step or the action of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: Uuid,
    pub org_id: Uuid,
    pub request_id: Uuid,
    pub kind: TaskKind,
    pub status: TaskStatus,
    /// Review step index (0-based); the action task's step is the number of review steps.
    pub step: i32,
    pub assignee_ids: Vec<Uuid>,
    /// Why the task has no assignee (separation of duties left nobody eligible); cleared when an
    /// operator assigns someone.
    pub unassigned_reason: Option<String>,
    pub decided_by_user_id: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub comment: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Task {
    /// A request's new task at `step`, given to `assignment`. `done = Some(by)` opens it already
    /// Completed, decided by `by` (an Automatic action carried out at once): such a task waits
    /// for nobody, so it keeps no reason for having no assignee.
    pub fn opened(
        request: &Request,
        kind: TaskKind,
        step: i32,
        assignment: crate::Assignment,
        done: Option<Option<Uuid>>,
        now: DateTime<Utc>,
    ) -> Task {
        Task {
            id: crate::new_id(),
            org_id: request.org_id,
            request_id: request.id,
            kind,
            status: if done.is_some() { TaskStatus::Completed } else { TaskStatus::Open },
            step,
            assignee_ids: assignment.assignees,
            unassigned_reason: assignment.unassigned_reason.filter(|_| done.is_none()),
            decided_by_user_id: done.flatten(),
            decided_at: done.map(|_| now),
            comment: None,
            created_at: now,
            updated_at: now,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Decline,
}

/// A task to open next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextTask {
    Review {
        step: i32,
    },
    /// The action task; `completed` when the app provisions automatically (carried out at once).
    Action {
        completed: bool,
    },
}

/// What a state change does: the request's new status, the task to open, whether the requested
/// change is applied now, and whether the request's other open tasks are cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub request_status: RequestStatus,
    pub next: Option<NextTask>,
    pub apply: bool,
    pub cancel_open_tasks: bool,
}

fn after_reviews(mode: ProvisioningMode) -> Transition {
    match mode {
        ProvisioningMode::Automatic => Transition {
            request_status: RequestStatus::Completed,
            next: Some(NextTask::Action { completed: true }),
            apply: true,
            cancel_open_tasks: false,
        },
        ProvisioningMode::Manual => Transition {
            request_status: RequestStatus::Approved,
            next: Some(NextTask::Action { completed: false }),
            apply: false,
            cancel_open_tasks: false,
        },
    }
}

/// A new request: its first review task, or (zero steps, or implicit approval) straight to action.
pub fn start_request(step_count: i32, mode: ProvisioningMode) -> Transition {
    if step_count > 0 {
        Transition {
            request_status: RequestStatus::Pending,
            next: Some(NextTask::Review { step: 0 }),
            apply: false,
            cancel_open_tasks: false,
        }
    } else {
        after_reviews(mode)
    }
}

/// A decision on a task: the task's new status and what happens to the request.
///
/// Only an Open task can be decided (409 otherwise). Approving a review step opens the next step,
/// or after the last one the action; declining a review declines the request and cancels its other
/// open tasks. Approving the action completes the request and applies the change; declining the
/// action fails the request.
pub fn decide_task(
    kind: TaskKind,
    status: TaskStatus,
    step: i32,
    step_count: i32,
    decision: Decision,
    mode: ProvisioningMode,
) -> Result<(TaskStatus, Transition), DomainError> {
    if status != TaskStatus::Open {
        return Err(DomainError::Conflict(format!(
            "the task is {} and can no longer be decided",
            status.name()
        )));
    }
    let ended = |request_status| Transition {
        request_status,
        next: None,
        apply: false,
        cancel_open_tasks: true,
    };
    Ok(match (kind, decision) {
        (TaskKind::Review, Decision::Approve) if step + 1 < step_count => (
            TaskStatus::Approved,
            Transition {
                request_status: RequestStatus::Pending,
                next: Some(NextTask::Review { step: step + 1 }),
                apply: false,
                cancel_open_tasks: false,
            },
        ),
        (TaskKind::Review, Decision::Approve) => (TaskStatus::Approved, after_reviews(mode)),
        (TaskKind::Review, Decision::Decline) => {
            (TaskStatus::Declined, ended(RequestStatus::Declined))
        }
        (TaskKind::Action, Decision::Approve) => (
            TaskStatus::Completed,
            Transition {
                request_status: RequestStatus::Completed,
                next: None,
                apply: true,
                cancel_open_tasks: false,
            },
        ),
        (TaskKind::Action, Decision::Decline) => {
            (TaskStatus::Declined, ended(RequestStatus::Failed))
        }
    })
}

/// Cancelling a request: only open ones, and it cancels their open tasks.
pub fn cancel_request(status: RequestStatus) -> Result<Transition, DomainError> {
    if !status.is_open() {
        return Err(DomainError::Conflict(format!(
            "the request is {} and can no longer be cancelled",
            status.name()
        )));
    }
    Ok(Transition {
        request_status: RequestStatus::Cancelled,
        next: None,
        apply: false,
        cancel_open_tasks: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn request_types_round_trip_and_reject_unknown_names() {
        for t in RequestType::ALL {
            assert_eq!(RequestType::parse(t.name()), Ok(t));
            assert!(!t.default_steps().is_empty());
        }
        assert!(RequestType::parse("grantaccessrequest").is_err());
    }

    #[test]
    fn step_validation() {
        let user = PolicyStep {
            approver: Approver::User,
            user_id: Some(Uuid::from_u128(1)),
            group_id: None,
        };
        assert!(validate_steps(&[user]).is_ok());
        assert!(validate_steps(&[PolicyStep { user_id: None, ..user }]).is_err());
        let manager = PolicyStep {
            approver: Approver::Manager,
            user_id: Some(Uuid::from_u128(1)),
            group_id: None,
        };
        assert!(validate_steps(&[manager]).is_err());
        assert!(validate_steps(&vec![RequestType::RemoveAccess.default_steps()[0]; 11]).is_err());
    }

    #[test]
    fn unresolvable_steps_fall_back_to_administrators() {
        let admins = [Uuid::from_u128(9)];
        let nobody = crate::duties::Duties::default();
        assert_eq!(nobody.assign(&[], &admins).assignees, admins);
        let a = Uuid::from_u128(1);
        assert_eq!(nobody.assign(&[a, a], &admins).assignees, vec![a]);
        assert_eq!(resolve_policy(None, None, a), a);
        assert_eq!(resolve_policy(None, Some(admins[0]), a), admins[0]);
        assert_eq!(
            resolve_policy(Some(Uuid::from_u128(5)), Some(admins[0]), a),
            Uuid::from_u128(5)
        );
    }

    /// Simulates a request through the state machine: `decisions` are applied, in turn, to the
    /// task that is open (ignoring extra decisions once the request has ended); `cancel_at`
    /// cancels the request before that decision.
    fn simulate(
        steps: i32,
        mode: ProvisioningMode,
        decisions: &[Decision],
        cancel_at: Option<usize>,
    ) -> (RequestStatus, bool, bool) {
        let mut t = start_request(steps, mode);
        let mut status = t.request_status;
        let mut applied = t.apply;
        let mut open = t.next.filter(|n| !matches!(n, NextTask::Action { completed: true }));
        let mut all_reviews_approved = steps == 0;
        for (i, decision) in decisions.iter().enumerate() {
            if cancel_at == Some(i) {
                if let Ok(c) = cancel_request(status) {
                    status = c.request_status;
                    open = None;
                }
            }
            let Some(task) = open else { break };
            let (kind, step) = match task {
                NextTask::Review { step } => (TaskKind::Review, step),
                NextTask::Action { .. } => (TaskKind::Action, steps),
            };
            let (_, tr) =
                decide_task(kind, TaskStatus::Open, step, steps, *decision, mode).unwrap();
            if kind == TaskKind::Review && step == steps - 1 && *decision == Decision::Approve {
                all_reviews_approved = true;
            }
            t = tr;
            status = t.request_status;
            applied |= t.apply;
            open = t.next.filter(|n| !matches!(n, NextTask::Action { completed: true }));
        }
        (status, applied, all_reviews_approved)
    }

    proptest! {
        #[test]
        fn any_decision_sequence_ends_in_one_state_and_applies_iff_everything_approved(
            steps in 0i32..5,
            automatic in any::<bool>(),
            decisions in proptest::collection::vec(prop_oneof![Just(Decision::Approve), Just(Decision::Decline)], 0..12),
            cancel_at in proptest::option::of(0usize..12),
        ) {
            let mode = if automatic { ProvisioningMode::Automatic } else { ProvisioningMode::Manual };
            let (status, applied, reviews_ok) = simulate(steps, mode, &decisions, cancel_at);
            // Applied exactly when the request completed, which needs every review approved and
            // the action carried out.
            prop_assert_eq!(applied, status == RequestStatus::Completed);
            if applied {
                prop_assert!(reviews_ok);
            }
            // With enough approvals and no cancel/decline, every request ends Completed.
            let all_approve = decisions.iter().all(|d| *d == Decision::Approve);
            let needed = (steps + i32::from(!automatic)) as usize;
            if all_approve && cancel_at.is_none_or(|c| c >= needed) && decisions.len() >= needed {
                prop_assert_eq!(status, RequestStatus::Completed);
            }
            // Once ended, the status is terminal: it can no longer be cancelled.
            if !status.is_open() {
                prop_assert!(cancel_request(status).is_err());
            }
        }

        #[test]
        fn a_decided_task_cannot_be_decided_again(step in 0i32..4, extra in 1i32..4) {
            for status in [TaskStatus::Approved, TaskStatus::Declined, TaskStatus::Completed, TaskStatus::Cancelled] {
                for kind in [TaskKind::Review, TaskKind::Action] {
                    let r = decide_task(kind, status, step, step + extra, Decision::Approve, ProvisioningMode::Manual);
                    prop_assert!(matches!(r, Err(DomainError::Conflict(_))));
                }
            }
        }
    }
}
