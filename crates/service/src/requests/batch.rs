//! Many group-join grants at once. A group join opens one grant request per new member and
//! default app; those that start without a review (implicitly approved, or under a policy with no
//! steps) are built in memory with the same rules as one request at a time (`start_request`,
//! `Duties`, `Task::opened`) and each table is written with one statement, so a join of a
//! thousand members costs a handful of statements instead of tens of thousands.
use std::collections::{HashMap, HashSet};

use portcullis_domain::governance::NextTask;
use portcullis_domain::workapp::GrantEntry;
use portcullis_domain::{
    AccessSource, AuditAction, Duties, PermissionLevel, Request, Task, TaskKind, TaskStatus, User,
    UsersGroup,
};
use portcullis_store::prelude::*;
use portcullis_store::StoreError;
use uuid::Uuid;

use super::carry_out::{access_granted, grant_source};
use super::decide::status_changed;
use super::open::{actionable_data, task_created, Subject};
use super::*;
use crate::notifications::request_words;
use crate::{Change, Ctx, Service, ServiceError};

/// One grant request of the set, as it ends up once started.
struct Started<'p> {
    plan: &'p GrantPlan,
    /// The request as created (its `request.created` snapshot says Pending).
    created: Request,
    /// The request in the status its start leaves it in.
    request: Request,
    /// Carried out at once: the access is granted.
    apply: bool,
    /// The action task its start opens.
    task: Option<Task>,
}

impl Service {
    /// Opens the group-join grants `grants` (plan, member, how the request came to be), in that
    /// order, all requested by `created_by`; returns how many requests were opened. A request
    /// whose start is a review goes on its own ([`Service::open_planned_grant`]): its approvers
    /// depend on the member. The others are written together: the requests in their status after
    /// the start, their action tasks and assignees, the accesses granted, then the audit rows and
    /// webhook events, and the notifications, in the order one request at a time writes them.
    pub(crate) async fn open_planned_grants(
        &self,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        grants: &[(&GrantPlan, Uuid, Origin)],
        created_by: Option<Uuid>,
        justification: &str,
    ) -> Result<usize, ServiceError> {
        let org_id = ctx.org_id();
        let now = self.clock.now();
        let mut started = Vec::new();
        for (plan, member, origin) in grants {
            let created = plan.request(org_id, *member, created_by, *origin, justification, now);
            let transition = plan.start(&created);
            let task = match transition.next {
                Some(NextTask::Review { .. }) => {
                    self.open_planned_grant(tx, ctx, plan, created).await?;
                    continue;
                }
                Some(NextTask::Action { completed }) => {
                    let candidates = &plan.action_candidates;
                    let assignment =
                        Duties::of_request(&created).assign(&candidates.owners, &candidates.admins);
                    // Nobody decided it: it was approved implicitly (or needed no approval).
                    let done = completed.then_some(None);
                    let step = created.step_count;
                    Some(Task::opened(&created, TaskKind::Action, step, assignment, done, now))
                }
                None => None,
            };
            let mut request = created.clone();
            if transition.request_status != request.status {
                request.status = transition.request_status;
                request.updated_at = now;
            }
            started.push(Started { plan, created, request, apply: transition.apply, task });
        }
        if started.is_empty() {
            return Ok(grants.len());
        }

        let requests: Vec<Request> = started.iter().map(|s| s.request.clone()).collect();
        match tx.insert_requests(&requests).await {
            Err(StoreError::Conflict(_)) => return Err(open_request_exists()),
            other => other?,
        }
        let tasks: Vec<Task> = started.iter().filter_map(|s| s.task.clone()).collect();
        tx.insert_tasks(&tasks).await?;
        let existed = self.grant_all(tx, org_id, &started, now).await?;

        let subjects = Subjects::load(self, tx, ctx, &started).await?;
        let mut changes = Vec::with_capacity(started.len() * 4);
        let mut notices = Vec::new();
        for s in &started {
            changes.push(
                Change::new(AuditAction::RequestCreated, "request", s.created.id)
                    .after(request_snapshot(&s.created)),
            );
            if s.apply {
                let key = (s.request.work_app_id, s.request.target_user_id);
                let granted =
                    access_granted(&s.request, existed.contains(&key), grant_source(&s.request));
                changes.push(granted);
            }
            let words = subjects.words(s);
            if let Some(task) = &s.task {
                changes.push(task_created(&s.request, task));
                if task.kind == TaskKind::Action && task.status == TaskStatus::Open {
                    // A request that starts at its action has no approved review: no reviewers.
                    let data = actionable_data(
                        &s.request,
                        task,
                        &[],
                        |id| subjects.users.get(&id),
                        subjects.about(s),
                    );
                    changes.push(
                        Change::new(AuditAction::ActionTaskActionable, "task", task.id).event(data),
                    );
                }
                if let Some(words) = &words {
                    notices.extend(self.task_opened_notices(words, task));
                }
            }
            if s.request.status != s.created.status {
                changes.push(status_changed(&s.request));
                if let Some(words) = &words {
                    notices.extend(self.request_status_notice(words, &s.request));
                }
            }
        }
        self.audit_many(tx, ctx, changes).await?;
        self.notify(tx, org_id, notices).await?;
        Ok(grants.len())
    }

    /// Grants the accesses of the requests carried out at once, one statement per source;
    /// returns the (app, user) pairs that held a live access before (a change, not a grant).
    async fn grant_all(
        &self,
        tx: &mut dyn WriteTx,
        org_id: Uuid,
        started: &[Started<'_>],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<HashSet<(Uuid, Option<Uuid>)>, ServiceError> {
        let mut existed = HashSet::new();
        for source in [AccessSource::Group, AccessSource::Request] {
            let entries: Vec<GrantEntry> = started
                .iter()
                .filter(|s| s.apply && grant_source(&s.request) == source)
                .filter_map(|s| {
                    Some(GrantEntry {
                        work_app_id: s.request.work_app_id,
                        user_id: s.request.target_user_id?,
                        permission_level_id: s.request.permission_level_id,
                        expires_at: s.request.expires_at,
                    })
                })
                .collect();
            if entries.is_empty() {
                continue;
            }
            let before = tx.upsert_accesses(org_id, &entries, source, now).await?;
            existed.extend(
                before
                    .iter()
                    .filter(|a| a.is_live_at(now))
                    .map(|a| (a.work_app_id, Some(a.user_id))),
            );
        }
        Ok(existed)
    }
}

/// What the audit payloads and notifications of a set of requests name, read once for the set.
struct Subjects {
    /// The requesters, target users and action assignees.
    users: HashMap<Uuid, User>,
    levels: HashMap<Uuid, PermissionLevel>,
    groups: HashMap<Uuid, UsersGroup>,
    /// Does the organization have a notification channel (otherwise nobody is told anything)?
    notifies: bool,
}

impl Subjects {
    async fn load(
        service: &Service,
        tx: &mut dyn WriteTx,
        ctx: &Ctx,
        started: &[Started<'_>],
    ) -> Result<Self, ServiceError> {
        let org_id = ctx.org_id();
        let notifies = service.has_channel(tx, org_id).await?;
        let actionable = started.iter().any(|s| {
            s.task
                .as_ref()
                .is_some_and(|t| t.kind == TaskKind::Action && t.status == TaskStatus::Open)
        });
        let mut subjects = Subjects {
            users: HashMap::new(),
            levels: HashMap::new(),
            groups: HashMap::new(),
            notifies,
        };
        if !notifies && !actionable {
            return Ok(subjects);
        }
        let mut ids: Vec<Uuid> = Vec::new();
        for s in started {
            ids.extend(s.request.created_by_user_id);
            ids.extend(s.request.target_user_id);
            ids.extend(s.task.iter().flat_map(|t| t.assignee_ids.iter().copied()));
        }
        ids.sort();
        ids.dedup();
        subjects.users = tx.get_users(org_id, &ids).await?.into_iter().map(|u| (u.id, u)).collect();
        let level_ids: HashSet<Uuid> =
            started.iter().filter_map(|s| s.request.permission_level_id).collect();
        for id in level_ids {
            subjects.levels.extend(tx.get_permission_level(org_id, id).await?.map(|l| (id, l)));
        }
        let group_ids: HashSet<Uuid> =
            started.iter().filter_map(|s| s.request.source_group_id).collect();
        for id in group_ids {
            subjects.groups.extend(tx.get_group(org_id, id).await?.map(|g| (id, g)));
        }
        Ok(subjects)
    }

    fn about<'a>(&'a self, s: &'a Started<'_>) -> Subject<'a> {
        Subject {
            app: Some(&s.plan.app),
            level: s.request.permission_level_id.and_then(|id| self.levels.get(&id)),
            group: s.request.source_group_id.and_then(|id| self.groups.get(&id)),
        }
    }

    /// The request in words for its notifications; `None` when nobody is notified.
    fn words(&self, s: &Started<'_>) -> Option<String> {
        if !self.notifies {
            return None;
        }
        let about = self.about(s);
        let target = s.request.target_user_id.and_then(|id| self.users.get(&id));
        Some(request_words(&s.request, about.app, about.level, target))
    }
}
