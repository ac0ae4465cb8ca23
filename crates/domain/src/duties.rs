//! Separation of duties: who may take — be assigned or decide — a task of a request.
//!
//! The one rule, for every place that assigns or decides work (requests and their tasks, the
//! items of access reviews — see [`Duties::of_access`]; MCP tools later call the same functions):
//!
//! - nobody decides a task of a request they created (the requester) or that is about their own
//!   access (the target user);
//! - by default one person approves at most one review step of a request: whoever approved an
//!   earlier step is not an approver of a later one (the organization setting
//!   `allowSameApproverForMultipleSteps` relaxes this). Carrying out the action of an approved
//!   request is not an approval, so this part does not apply to action tasks.
//!
//! Assigning a step: the step's own approvers minus the people in conflict; if none is left, the
//! organization's administrators and owners minus the people in conflict; if none is left either,
//! nobody, with a reason the request shows until an operator assigns someone.
use uuid::Uuid;

use crate::{OrganizationSettings, Request, Task, TaskKind, TaskStatus};

/// Why a person may not take a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DutyConflict {
    /// They created the request.
    Requester,
    /// The request is about their own access.
    Target,
    /// They approved an earlier review step of the same request.
    EarlierApprover,
}

impl DutyConflict {
    /// What the person is, as a phrase after their id ("… created the request").
    pub fn phrase(self) -> &'static str {
        match self {
            DutyConflict::Requester => "created the request",
            DutyConflict::Target => "is the user the request is about",
            DutyConflict::EarlierApprover => "approved an earlier step of the request",
        }
    }

    /// The refusal a person gets who tries to decide anyway (403).
    pub fn refusal(self) -> String {
        let why = match self {
            DutyConflict::Requester => {
                "you created this request; cancel it instead if it is no longer needed"
            }
            DutyConflict::Target => "this request is about your own access",
            DutyConflict::EarlierApprover => {
                "you approved an earlier step of this request, and one person approves at most \
                 one step (organization setting allowSameApproverForMultipleSteps)"
            }
        };
        format!("Separation of duties: you may not decide this task: {why}")
    }

    /// The refusal for a named user (`userId` on a decision, an assignee an operator picks).
    pub fn refusal_for(self, user_id: Uuid) -> String {
        format!(
            "Separation of duties: user {user_id} may not decide this task: they {}",
            self.phrase()
        )
    }
}

/// What separation of duties looks at for one task of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Duties {
    pub requester: Option<Uuid>,
    pub target: Option<Uuid>,
    /// People who may not approve this step because they approved an earlier one (empty for an
    /// action task, and when the organization allows one person several steps).
    pub earlier_approvers: Vec<Uuid>,
}

impl Duties {
    /// The requester and the target user of `request`: all there is for an action task.
    pub fn of_request(request: &Request) -> Self {
        Self {
            requester: request.created_by_user_id,
            target: request.target_user_id,
            earlier_approvers: Vec::new(),
        }
    }

    /// An access review item about `user`'s access: nobody reviews their own access.
    pub fn of_access(user: Uuid) -> Self {
        Self { requester: None, target: Some(user), earlier_approvers: Vec::new() }
    }

    /// The duties of a task of `kind` at `step` of `request`, given the request's tasks so far.
    pub fn for_task(
        request: &Request,
        tasks: &[Task],
        kind: TaskKind,
        step: i32,
        settings: &OrganizationSettings,
    ) -> Self {
        let mut duties = Self::of_request(request);
        if kind == TaskKind::Review && !settings.allow_same_approver_for_multiple_steps {
            for t in tasks {
                if t.kind == TaskKind::Review && t.status == TaskStatus::Approved && t.step < step {
                    if let Some(by) =
                        t.decided_by_user_id.filter(|by| !duties.earlier_approvers.contains(by))
                    {
                        duties.earlier_approvers.push(by);
                    }
                }
            }
        }
        duties
    }

    /// How far up a manager chain [`Duties::manager`] can look: past every person in conflict,
    /// to one more.
    pub fn manager_chain_depth(&self) -> usize {
        2 + self.earlier_approvers.len() + 1
    }

    /// Why `person` may not take the task, if they may not.
    pub fn conflict(&self, person: Uuid) -> Option<DutyConflict> {
        if self.requester == Some(person) {
            Some(DutyConflict::Requester)
        } else if self.target == Some(person) {
            Some(DutyConflict::Target)
        } else if self.earlier_approvers.contains(&person) {
            Some(DutyConflict::EarlierApprover)
        } else {
            None
        }
    }

    /// The candidates who may take the task, in their order, each once.
    pub fn eligible(&self, candidates: &[Uuid]) -> Vec<Uuid> {
        let mut out: Vec<Uuid> = Vec::with_capacity(candidates.len());
        for id in candidates {
            if self.conflict(*id).is_none() && !out.contains(id) {
                out.push(*id);
            }
        }
        out
    }

    /// The Manager approver: the nearest manager up the chain (`(id, active)`, nearest first) who
    /// is not in conflict. Managers in conflict are passed over (the manager's manager takes the
    /// step); a manager who is not active ends the walk with nobody, so the step falls back to
    /// the administrators as for any step nobody can take.
    pub fn manager(&self, chain: &[(Uuid, bool)]) -> Option<Uuid> {
        for (id, active) in chain {
            if self.conflict(*id).is_some() {
                continue;
            }
            return active.then_some(*id);
        }
        None
    }

    /// Who takes a step: the eligible `resolved` approvers, else the eligible `admins` (the
    /// organization's active administrators and owners), else nobody, with the reason.
    pub fn assign(&self, resolved: &[Uuid], admins: &[Uuid]) -> Assignment {
        let own = self.eligible(resolved);
        if !own.is_empty() {
            return Assignment { assignees: own, unassigned_reason: None };
        }
        let fallback = self.eligible(admins);
        if !fallback.is_empty() {
            return Assignment { assignees: fallback, unassigned_reason: None };
        }
        let mut excluded: Vec<(Uuid, DutyConflict)> = Vec::new();
        for id in resolved.iter().chain(admins) {
            if let Some(c) = self.conflict(*id) {
                if !excluded.iter().any(|(e, _)| e == id) {
                    excluded.push((*id, c));
                }
            }
        }
        Assignment {
            assignees: Vec::new(),
            unassigned_reason: Some(no_eligible_approver(&excluded)),
        }
    }
}

/// The reason a task opened without an assignee.
pub fn no_eligible_approver(excluded: &[(Uuid, DutyConflict)]) -> String {
    let who = if excluded.is_empty() {
        "the step names nobody and the organization has no active administrator or owner"
            .to_string()
    } else {
        let people: Vec<String> =
            excluded.iter().map(|(id, c)| format!("user {id} {}", c.phrase())).collect();
        format!(
            "every candidate, the organization's administrators and owners included, is kept \
             out by separation of duties ({})",
            people.join("; ")
        )
    };
    format!(
        "No eligible approver: {who}. An administrator or owner who is not involved in the \
         request can assign someone (PUT /api/v1/Tasks/{{taskId}}/Assignees) or decide the task."
    )
}

/// Who a new task is assigned to; no assignee comes with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub assignees: Vec<Uuid>,
    pub unassigned_reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn u(n: u8) -> Uuid {
        Uuid::from_u128(u128::from(n))
    }

    fn duties(requester: Option<u8>, target: Option<u8>, earlier: &[u8]) -> Duties {
        Duties {
            requester: requester.map(u),
            target: target.map(u),
            earlier_approvers: earlier.iter().copied().map(u).collect(),
        }
    }

    #[test]
    fn a_manager_requesting_for_himself_is_replaced_by_his_own_manager() {
        // Target 1 (requester 1) reports to 2; 2 reports to 3.
        let d = duties(Some(2), Some(1), &[]);
        assert_eq!(d.manager(&[(u(2), true), (u(3), true)]), Some(u(3)));
        // Requester == manager, and the next one up is deactivated: the step falls back.
        assert_eq!(d.manager(&[(u(2), true), (u(3), false), (u(4), true)]), None);
        // No conflict: the direct manager.
        assert_eq!(duties(Some(9), Some(1), &[]).manager(&[(u(2), true)]), Some(u(2)));
    }

    #[test]
    fn nobody_eligible_leaves_the_task_unassigned_with_a_reason() {
        let d = duties(Some(1), Some(1), &[2]);
        let a = d.assign(&[u(2)], &[u(1), u(2)]);
        assert!(a.assignees.is_empty());
        let reason = a.unassigned_reason.unwrap();
        assert!(reason.starts_with("No eligible approver:"), "{reason}");
        assert!(reason.contains(&format!("user {} created the request", u(1))), "{reason}");
        assert!(reason.contains(&format!("user {} approved an earlier step", u(2))), "{reason}");
        // Another administrator takes it.
        let a = d.assign(&[u(2)], &[u(1), u(2), u(3)]);
        assert_eq!(a, Assignment { assignees: vec![u(3)], unassigned_reason: None });
    }

    #[test]
    fn earlier_approvers_come_from_approved_earlier_review_steps_unless_allowed() {
        let now = chrono::Utc::now();
        let request = Request {
            id: u(100),
            org_id: u(101),
            request_type: crate::RequestType::GrantAccess,
            work_app_id: u(102),
            target_user_id: Some(u(1)),
            permission_level_id: None,
            created_by_user_id: Some(u(2)),
            justification: String::new(),
            expires_at: None,
            status: crate::RequestStatus::Pending,
            policy_id: u(103),
            policy_version: 1,
            step_count: 3,
            cancelled_by_user_id: None,
            source_group_id: None,
            created_at: now,
            updated_at: now,
        };
        let task = |step: i32, status: TaskStatus, by: Option<u8>| Task {
            id: Uuid::from_u128(200 + step as u128),
            org_id: u(101),
            request_id: u(100),
            kind: TaskKind::Review,
            status,
            step,
            assignee_ids: vec![],
            unassigned_reason: None,
            decided_by_user_id: by.map(u),
            decided_at: None,
            comment: None,
            created_at: now,
            updated_at: now,
        };
        let tasks = [task(0, TaskStatus::Approved, Some(5)), task(1, TaskStatus::Open, None)];
        let strict = OrganizationSettings::default();
        let relaxed = OrganizationSettings {
            allow_same_approver_for_multiple_steps: true,
            ..OrganizationSettings::default()
        };
        let d = Duties::for_task(&request, &tasks, TaskKind::Review, 1, &strict);
        assert_eq!((d.requester, d.target), (Some(u(2)), Some(u(1))));
        assert_eq!(d.earlier_approvers, vec![u(5)]);
        assert!(Duties::for_task(&request, &tasks, TaskKind::Review, 1, &relaxed)
            .earlier_approvers
            .is_empty());
        assert!(Duties::for_task(&request, &tasks, TaskKind::Action, 3, &strict)
            .earlier_approvers
            .is_empty());
        assert!(Duties::for_task(&request, &tasks, TaskKind::Review, 0, &strict)
            .earlier_approvers
            .is_empty());
    }

    fn small_id() -> impl Strategy<Value = u8> {
        0u8..8
    }

    /// A requester, a target and earlier approvers drawn from eight people (so that they often
    /// coincide with each other and with the candidates).
    fn any_duties() -> impl Strategy<Value = Duties> {
        (
            proptest::option::of(small_id()),
            proptest::option::of(small_id()),
            proptest::collection::vec(small_id(), 0..3),
        )
            .prop_map(|(requester, target, earlier)| duties(requester, target, &earlier))
    }

    proptest! {
        #[test]
        fn the_eligible_are_exactly_the_candidates_without_a_conflict(
            d in any_duties(),
            candidates in proptest::collection::vec(small_id(), 0..10),
        ) {
            let candidates: Vec<Uuid> = candidates.into_iter().map(u).collect();
            let eligible = d.eligible(&candidates);
            for id in &eligible {
                prop_assert!(d.conflict(*id).is_none());
                prop_assert_ne!(Some(*id), d.requester);
                prop_assert_ne!(Some(*id), d.target);
                prop_assert!(!d.earlier_approvers.contains(id));
                prop_assert_eq!(eligible.iter().filter(|e| *e == id).count(), 1);
            }
            for id in &candidates {
                prop_assert_eq!(eligible.contains(id), d.conflict(*id).is_none());
            }
            // Order kept: the eligible are a subsequence of the candidates.
            let mut rest = candidates.iter();
            for id in &eligible {
                prop_assert!(rest.any(|c| c == id));
            }
        }

        #[test]
        fn an_assignment_never_names_someone_in_conflict_and_explains_an_empty_one(
            d in any_duties(),
            resolved in proptest::collection::vec(small_id(), 0..4),
            admins in proptest::collection::vec(small_id(), 0..4),
        ) {
            let resolved: Vec<Uuid> = resolved.into_iter().map(u).collect();
            let admins: Vec<Uuid> = admins.into_iter().map(u).collect();
            let a = d.assign(&resolved, &admins);
            prop_assert!(a.assignees.iter().all(|id| d.conflict(*id).is_none()));
            let own = d.eligible(&resolved);
            let fallback = d.eligible(&admins);
            if !own.is_empty() {
                prop_assert_eq!(&a.assignees, &own);
            } else {
                prop_assert_eq!(&a.assignees, &fallback);
            }
            prop_assert_eq!(a.assignees.is_empty(), a.unassigned_reason.is_some());
            if let Some(reason) = &a.unassigned_reason {
                prop_assert!(reason.starts_with("No eligible approver: "));
                for id in resolved.iter().chain(&admins) {
                    prop_assert!(reason.contains(&id.to_string()), "{} names {}", reason, id);
                }
            }
        }

        #[test]
        fn the_manager_step_goes_up_the_chain_past_conflicts_only(
            d in any_duties(),
            chain in proptest::collection::vec((small_id(), any::<bool>()), 0..6),
        ) {
            let chain: Vec<(Uuid, bool)> = chain.into_iter().map(|(n, a)| (u(n), a)).collect();
            let first_free = chain.iter().find(|(id, _)| d.conflict(*id).is_none());
            match d.manager(&chain) {
                Some(m) => {
                    prop_assert!(d.conflict(m).is_none());
                    prop_assert_eq!(first_free, Some(&(m, true)));
                }
                None => prop_assert!(first_free.is_none_or(|(_, active)| !active)),
            }
            // Reading the chain only as far as `manager_chain_depth` gives the same answer
            // (when the people in conflict are distinct, as a manager chain's are).
            let mut distinct = Vec::new();
            for link in &chain {
                if !distinct.iter().any(|(id, _): &(Uuid, bool)| *id == link.0) {
                    distinct.push(*link);
                }
            }
            let cut = &distinct[..distinct.len().min(d.manager_chain_depth())];
            prop_assert_eq!(d.manager(cut), d.manager(&distinct));
        }

        #[test]
        fn relaxing_the_setting_only_ever_adds_approvers(
            d in any_duties(),
            candidates in proptest::collection::vec(small_id(), 0..8),
        ) {
            let strict = d.clone();
            let relaxed = Duties { earlier_approvers: Vec::new(), ..d };
            let candidates: Vec<Uuid> = candidates.into_iter().map(u).collect();
            let strict_set = strict.eligible(&candidates);
            let relaxed_set = relaxed.eligible(&candidates);
            prop_assert!(strict_set.iter().all(|id| relaxed_set.contains(id)));
            // The requester and the target stay out either way.
            prop_assert!(relaxed_set.iter().all(|id| Some(*id) != relaxed.requester && Some(*id) != relaxed.target));
        }
    }
}
