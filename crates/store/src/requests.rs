//! Requests and their approval tasks.
use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_domain::{
    Assignment, Page, PageRequest, Request, RequestStatus, RequestType, Task, TaskKind, TaskStatus,
};
use portcullis_domain::{TaskId, UserId};
use uuid::Uuid;

use crate::decode::{
    self, get_id, get_opt_id, get_opt_ts, get_ts, id, id_array, ids_arg, opt_id, opt_ts,
    stored_name, ts,
};
use crate::session::{Session, Writable};
use crate::sql::{insert_rows, query, query_scalar, Db, Row};
use crate::{RequestFilter, StoreError, TaskFilter};

const REQUEST_COLUMNS: &str = "id, org_id, request_type, work_app_id, target_user_id,
    permission_level_id, created_by_user_id, justification, expires_at, status, policy_id,
    policy_version, step_count, cancelled_by_user_id, source_group_id, created_at, updated_at";

const TASK_COLUMNS: &str = "t.id, t.org_id, t.request_id, t.kind, t.status, t.step,
    t.unassigned_reason, t.decided_by_user_id, t.decided_at, t.comment, t.created_at, t.updated_at";

async fn attach_assignees(db: &mut Db, tasks: &mut [Task]) -> Result<(), StoreError> {
    if tasks.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = tasks.iter().map(|t| t.id).collect();
    let rows = query(format!(
        "SELECT task_id, user_id FROM task_assignees WHERE {} ORDER BY position",
        db.dialect().id_in("task_id", "$1", ids.len())
    ))
    .bind(ids_arg(&ids))
    .fetch_all(db)
    .await?;
    let mut by_task: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for row in &rows {
        by_task.entry(get_id(row, "task_id")?).or_default().push(get_id(row, "user_id")?);
    }
    for task in tasks {
        task.assignee_ids = by_task.remove(&task.id).unwrap_or_default();
    }
    Ok(())
}

/// Which requests a filtered read returns, and in what order.
struct Order {
    /// Only ids after this one (the page cursor; empty for all).
    after: String,
    newest_first: bool,
    /// Only Pending and Approved requests.
    open_only: bool,
}

/// The requests of `org_id` matching `filter`, at most `limit`: the one query behind the
/// paged list and an assistant's recent and open requests.
async fn select_requests(
    db: &mut Db,
    org_id: Uuid,
    filter: &RequestFilter,
    order: Order,
    limit: i64,
) -> Result<Vec<Request>, StoreError> {
    let direction = if order.newest_first { "DESC" } else { "ASC" };
    let rows = query(format!(
        "SELECT {REQUEST_COLUMNS} FROM requests
         WHERE org_id = $1 AND id > $2
           AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR target_user_id = $4)
           AND ($5 IS NULL OR work_app_id = $5) AND ($6 IS NULL OR request_type = $6)
           AND ($7 IS NULL OR updated_at > $7)
           AND ($8 = 0 OR status IN ('Pending', 'Approved'))
         ORDER BY id {direction} LIMIT $9"
    ))
    .bind(id(org_id))
    .bind(order.after)
    .bind(filter.status.map(RequestStatus::name))
    .bind(opt_id(filter.target_user_id))
    .bind(opt_id(filter.work_app_id))
    .bind(filter.request_type.map(RequestType::name))
    .bind(opt_ts(filter.updated_after))
    .bind(i64::from(order.open_only))
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter().map(decode_request).collect()
}

/// Reading requests.
#[async_trait]
pub trait RequestReads: Send {
    async fn get_request(
        &mut self,
        org_id: Uuid,
        request_id: Uuid,
    ) -> Result<Option<Request>, StoreError>;
    async fn list_requests(
        &mut self,
        org_id: Uuid,
        filter: RequestFilter,
        page: PageRequest,
    ) -> Result<Page<Request>, StoreError>;
    async fn get_task(&mut self, org_id: Uuid, task_id: Uuid) -> Result<Option<Task>, StoreError>;
    async fn list_tasks(
        &mut self,
        org_id: Uuid,
        filter: TaskFilter,
        page: PageRequest,
    ) -> Result<Page<Task>, StoreError>;
    async fn request_tasks(
        &mut self,
        org_id: Uuid,
        request_id: Uuid,
    ) -> Result<Vec<Task>, StoreError>;
    /// The newest requests first, at most `limit`, filtered; with `open_only`, only Pending
    /// and Approved ones (an assistant's "recent" and "open" requests).
    async fn recent_requests(
        &mut self,
        org_id: Uuid,
        filter: RequestFilter,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<Request>, StoreError>;
    /// The open (Pending or Approved) requests `user_id` made or that are about them, by id.
    async fn open_requests_of_user(
        &mut self,
        org_id: Uuid,
        user_id: UserId,
    ) -> Result<Vec<Request>, StoreError>;
    /// The open tasks assigned to `assignee` (with all their assignees), by id; with `about`,
    /// only the tasks of requests about that user (their target, or their requester when the
    /// request has no target).
    async fn open_tasks_assigned_to(
        &mut self,
        org_id: Uuid,
        assignee: UserId,
        about: Option<UserId>,
    ) -> Result<Vec<Task>, StoreError>;
}

#[async_trait]
impl<S: Session + ?Sized> RequestReads for S {
    async fn get_request(
        &mut self,
        org_id: Uuid,
        request_id: Uuid,
    ) -> Result<Option<Request>, StoreError> {
        let db = self.db();
        query(format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE org_id = $1 AND id = $2"))
            .bind(id(org_id))
            .bind(id(request_id))
            .fetch_optional(db)
            .await?
            .as_ref()
            .map(decode_request)
            .transpose()
    }

    async fn list_requests(
        &mut self,
        org_id: Uuid,
        filter: RequestFilter,
        page: PageRequest,
    ) -> Result<Page<Request>, StoreError> {
        let after = page.after.map(id).unwrap_or_default();
        let order = Order { after, newest_first: false, open_only: false };
        let requests =
            select_requests(self.db(), org_id, &filter, order, i64::from(page.limit) + 1).await?;
        Ok(Page::from_overfetch(requests, page.limit, |r| r.id))
    }

    async fn recent_requests(
        &mut self,
        org_id: Uuid,
        filter: RequestFilter,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<Request>, StoreError> {
        let order = Order { after: String::new(), newest_first: true, open_only };
        select_requests(self.db(), org_id, &filter, order, i64::from(limit)).await
    }

    async fn get_task(&mut self, org_id: Uuid, task_id: Uuid) -> Result<Option<Task>, StoreError> {
        let db = self.db();
        let row =
            query(format!("SELECT {TASK_COLUMNS} FROM tasks t WHERE t.org_id = $1 AND t.id = $2"))
                .bind(id(org_id))
                .bind(id(task_id))
                .fetch_optional(&mut *db)
                .await?;
        let Some(row) = row else { return Ok(None) };
        let mut tasks = [decode_task(&row)?];
        attach_assignees(db, &mut tasks).await?;
        let [task] = tasks;
        Ok(Some(task))
    }

    async fn list_tasks(
        &mut self,
        org_id: Uuid,
        filter: TaskFilter,
        page: PageRequest,
    ) -> Result<Page<Task>, StoreError> {
        let db = self.db();
        let rows = query(format!(
            "SELECT {TASK_COLUMNS} FROM tasks t
             WHERE t.org_id = $1 AND t.id > $2
               AND ($3 IS NULL OR t.status = $3) AND ($4 IS NULL OR t.request_id = $4)
               AND ($5 IS NULL OR EXISTS (SELECT 1 FROM task_assignees a WHERE a.task_id = t.id AND a.user_id = $5))
             ORDER BY t.id LIMIT $6"
        ))
        .bind(id(org_id))
        .bind(page.after.map(id).unwrap_or_default())
        .bind(filter.status.map(TaskStatus::name))
        .bind(opt_id(filter.request_id))
        .bind(opt_id(filter.assignee_user_id))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&mut *db)
        .await?;
        let tasks = rows.iter().map(decode_task).collect::<Result<Vec<_>, _>>()?;
        let mut page = Page::from_overfetch(tasks, page.limit, |t| t.id);
        attach_assignees(db, &mut page.items).await?;
        Ok(page)
    }

    async fn request_tasks(
        &mut self,
        org_id: Uuid,
        request_id: Uuid,
    ) -> Result<Vec<Task>, StoreError> {
        let db = self.db();
        let rows = query(format!(
            "SELECT {TASK_COLUMNS} FROM tasks t WHERE t.org_id = $1 AND t.request_id = $2 ORDER BY t.step, t.id"
        ))
        .bind(id(org_id))
        .bind(id(request_id))
        .fetch_all(&mut *db)
        .await?;
        let mut tasks = rows.iter().map(decode_task).collect::<Result<Vec<_>, _>>()?;
        attach_assignees(db, &mut tasks).await?;
        Ok(tasks)
    }

    async fn open_requests_of_user(
        &mut self,
        org_id: Uuid,
        user_id: UserId,
    ) -> Result<Vec<Request>, StoreError> {
        let db = self.db();
        let rows = query(format!(
            "SELECT {REQUEST_COLUMNS} FROM requests
             WHERE org_id = $1 AND status IN ('Pending', 'Approved')
               AND (target_user_id = $2 OR created_by_user_id = $2)
             ORDER BY id"
        ))
        .bind(id(org_id))
        .bind(user_id)
        .fetch_all(db)
        .await?;
        rows.iter().map(decode_request).collect()
    }

    async fn open_tasks_assigned_to(
        &mut self,
        org_id: Uuid,
        assignee: UserId,
        about: Option<UserId>,
    ) -> Result<Vec<Task>, StoreError> {
        let db = self.db();
        let rows = query(format!(
            "SELECT {TASK_COLUMNS} FROM task_assignees x
             JOIN tasks t ON t.id = x.task_id
             WHERE x.user_id = $2 AND x.org_id = $1 AND t.status = 'Open'
               AND ($3 IS NULL OR EXISTS (
                   SELECT 1 FROM requests r
                   WHERE r.id = t.request_id AND COALESCE(r.target_user_id, r.created_by_user_id) = $3))
             ORDER BY t.id"
        ))
        .bind(id(org_id))
        .bind(assignee)
        .bind(about)
        .fetch_all(&mut *db)
        .await?;
        let mut tasks = rows.iter().map(decode_task).collect::<Result<Vec<_>, _>>()?;
        attach_assignees(db, &mut tasks).await?;
        Ok(tasks)
    }
}

/// Changing requests.
#[async_trait]
pub trait RequestWrites: Send {
    /// Cancels the given requests that are still open, and their open tasks, in two statements;
    /// returns how many requests were cancelled.
    async fn cancel_requests(
        &mut self,
        org_id: Uuid,
        request_ids: &[Uuid],
        cancelled_by: Option<UserId>,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Gives open tasks new assignees (and the reason of those left without any) from one
    /// array; tasks no longer Open are left alone.
    async fn set_task_assignments(
        &mut self,
        org_id: Uuid,
        assignments: &[(Uuid, Assignment)],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// [`StoreError::Conflict`] when the (app, user) already has an open request.
    async fn insert_request(&mut self, r: &Request) -> Result<(), StoreError>;
    /// Inserts many requests, as they are (any status), in one statement: a group join's grants.
    /// [`StoreError::Conflict`] (and nothing inserted) when any (app, user) of an open one
    /// already has an open request.
    async fn insert_requests(&mut self, requests: &[Request]) -> Result<(), StoreError>;
    async fn update_request(&mut self, r: &Request) -> Result<(), StoreError>;
    async fn insert_task(&mut self, t: &Task) -> Result<(), StoreError>;
    /// Inserts many tasks with their assignees: one statement for the tasks, one for all their
    /// assignees.
    async fn insert_tasks(&mut self, tasks: &[Task]) -> Result<(), StoreError>;
    /// Replaces the assignees of a task that is still Open and clears its unassigned reason;
    /// false if the task is not Open (decided or cancelled meanwhile).
    async fn reassign_task(
        &mut self,
        org_id: Uuid,
        task_id: TaskId,
        assignees: &[Uuid],
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Records a decision only if the task is still Open; false if someone decided first.
    async fn decide_task(
        &mut self,
        org_id: Uuid,
        task_id: TaskId,
        status: TaskStatus,
        decided_by: Option<UserId>,
        comment: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Cancels every open task of the request; returns how many.
    async fn cancel_open_tasks(
        &mut self,
        org_id: Uuid,
        request_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}

#[async_trait]
impl<S: Writable + ?Sized> RequestWrites for S {
    async fn cancel_requests(
        &mut self,
        org_id: Uuid,
        request_ids: &[Uuid],
        cancelled_by: Option<UserId>,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if request_ids.is_empty() {
            return Ok(0);
        }
        let db = self.db();
        let ids_3 = db.dialect().in_json_texts("$3");
        let ids = id_array(request_ids.iter().copied());
        query(format!(
            "UPDATE tasks SET status = 'Cancelled', updated_at = $1
             WHERE org_id = $2 AND request_id IN {ids_3} AND status = 'Open'"
        ))
        .bind(ts(at))
        .bind(id(org_id))
        .bind(&ids)
        .execute(&mut *db)
        .await?;
        Ok(query(format!(
            "UPDATE requests SET status = 'Cancelled', cancelled_by_user_id = $4, updated_at = $1
             WHERE org_id = $2 AND id IN {ids_3} AND status IN ('Pending', 'Approved')"
        ))
        .bind(ts(at))
        .bind(id(org_id))
        .bind(&ids)
        .bind(cancelled_by)
        .execute(db)
        .await?
        .rows_affected())
    }

    async fn set_task_assignments(
        &mut self,
        org_id: Uuid,
        assignments: &[(Uuid, Assignment)],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if assignments.is_empty() {
            return Ok(());
        }
        let db = self.db();
        let tasks: Vec<(String, Option<&str>)> = assignments
            .iter()
            .map(|(task, a)| (id(*task), a.unassigned_reason.as_deref()))
            .collect();
        let tasks =
            serde_json::to_string(&tasks).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let open = query_scalar::<Uuid>(format!(
            "UPDATE tasks SET unassigned_reason = j.value ->> 1, updated_at = $1
             FROM {} AS j
             WHERE tasks.id = (j.value ->> 0) AND tasks.org_id = $2 AND tasks.status = 'Open'
             RETURNING tasks.id",
            db.dialect().json_rows("$3")
        ))
        .bind(ts(at))
        .bind(id(org_id))
        .bind(&tasks)
        .fetch_all(&mut *db)
        .await?;
        let ids_2 = db.dialect().in_json_texts("$2");
        query(format!("DELETE FROM task_assignees WHERE org_id = $1 AND task_id IN {ids_2}"))
            .bind(id(org_id))
            .bind(id_array(open.iter().copied()))
            .execute(&mut *db)
            .await?;
        let rows: Vec<(String, String, usize)> = assignments
            .iter()
            .filter(|(task, _)| open.contains(task))
            .flat_map(|(task, a)| {
                a.assignees.iter().enumerate().map(|(i, user)| (id(*task), id(*user), i))
            })
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        let rows = serde_json::to_string(&rows).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        query(format!(
            "INSERT INTO task_assignees (task_id, user_id, org_id, position)
             SELECT value ->> 0, value ->> 1, $1, CAST(value ->> 2 AS INTEGER) FROM {}",
            db.dialect().json_rows("$2")
        ))
        .bind(id(org_id))
        .bind(rows)
        .execute(db)
        .await?;
        Ok(())
    }

    async fn insert_request(&mut self, r: &Request) -> Result<(), StoreError> {
        self.insert_requests(std::slice::from_ref(r)).await
    }

    async fn insert_requests(&mut self, requests: &[Request]) -> Result<(), StoreError> {
        if requests.is_empty() {
            return Ok(());
        }
        let db = self.db();
        let rows: Vec<serde_json::Value> = requests
            .iter()
            .map(|r| {
                serde_json::json!([
                    id(r.id),
                    id(r.org_id),
                    r.request_type.name(),
                    id(r.work_app_id),
                    opt_id(r.target_user_id),
                    opt_id(r.permission_level_id),
                    opt_id(r.created_by_user_id),
                    r.justification,
                    opt_ts(r.expires_at),
                    r.status.name(),
                    id(r.policy_id),
                    r.policy_version,
                    r.step_count,
                    opt_id(r.cancelled_by_user_id),
                    opt_id(r.source_group_id),
                    ts(r.created_at),
                    ts(r.updated_at),
                ])
            })
            .collect();
        insert_rows(
            db.dialect(),
            &format!("requests ({REQUEST_COLUMNS})"),
            "{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, CAST({} AS INTEGER), CAST({} AS INTEGER),
             {}, {}, {}, {}",
            rows,
        )
        .execute(db)
        .await?;
        Ok(())
    }

    async fn update_request(&mut self, r: &Request) -> Result<(), StoreError> {
        let db = self.db();
        query(
            "UPDATE requests SET status = $1, cancelled_by_user_id = $2, updated_at = $3 WHERE org_id = $4 AND id = $5",
        )
        .bind(r.status.name())
        .bind(opt_id(r.cancelled_by_user_id))
        .bind(ts(r.updated_at))
        .bind(id(r.org_id))
        .bind(id(r.id))
        .execute(db)
        .await?;
        Ok(())
    }

    async fn insert_task(&mut self, t: &Task) -> Result<(), StoreError> {
        self.insert_tasks(std::slice::from_ref(t)).await
    }

    async fn insert_tasks(&mut self, tasks: &[Task]) -> Result<(), StoreError> {
        if tasks.is_empty() {
            return Ok(());
        }
        let db = self.db();
        let rows: Vec<serde_json::Value> = tasks
            .iter()
            .map(|t| {
                serde_json::json!([
                    id(t.id),
                    id(t.org_id),
                    id(t.request_id),
                    t.kind.name(),
                    t.status.name(),
                    t.step,
                    opt_id(t.decided_by_user_id),
                    opt_ts(t.decided_at),
                    t.comment,
                    ts(t.created_at),
                    ts(t.updated_at),
                    t.unassigned_reason,
                ])
            })
            .collect();
        insert_rows(
            db.dialect(),
            "tasks (id, org_id, request_id, kind, status, step, decided_by_user_id, decided_at,
                    comment, created_at, updated_at, unassigned_reason)",
            "{}, {}, {}, {}, {}, CAST({} AS INTEGER), {}, {}, {}, {}, {}, {}",
            rows,
        )
        .execute(&mut *db)
        .await?;
        let assignees: Vec<serde_json::Value> = tasks
            .iter()
            .flat_map(|t| {
                t.assignee_ids
                    .iter()
                    .enumerate()
                    .map(|(i, user)| serde_json::json!([id(t.id), id(*user), id(t.org_id), i]))
            })
            .collect();
        if assignees.is_empty() {
            return Ok(());
        }
        insert_rows(
            db.dialect(),
            "task_assignees (task_id, user_id, org_id, position)",
            "{}, {}, {}, CAST({} AS INTEGER)",
            assignees,
        )
        .execute(db)
        .await?;
        Ok(())
    }

    async fn reassign_task(
        &mut self,
        org_id: Uuid,
        task_id: TaskId,
        assignees: &[Uuid],
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let db = self.db();
        let done = query(
            "UPDATE tasks SET unassigned_reason = NULL, updated_at = $1
             WHERE org_id = $2 AND id = $3 AND status = 'Open'",
        )
        .bind(ts(at))
        .bind(id(org_id))
        .bind(task_id)
        .execute(&mut *db)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        query("DELETE FROM task_assignees WHERE org_id = $1 AND task_id = $2")
            .bind(id(org_id))
            .bind(task_id)
            .execute(&mut *db)
            .await?;
        insert_assignees(db, org_id, task_id.0, assignees).await?;
        Ok(true)
    }

    async fn decide_task(
        &mut self,
        org_id: Uuid,
        task_id: TaskId,
        status: TaskStatus,
        decided_by: Option<UserId>,
        comment: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let db = self.db();
        let done = query(
            "UPDATE tasks SET status = $1, decided_by_user_id = $2, decided_at = $3, comment = $4, updated_at = $5
             WHERE org_id = $6 AND id = $7 AND status = 'Open'",
        )
        .bind(status.name())
        .bind(decided_by)
        .bind(ts(at))
        .bind(comment)
        .bind(ts(at))
        .bind(id(org_id))
        .bind(task_id)
        .execute(db)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn cancel_open_tasks(
        &mut self,
        org_id: Uuid,
        request_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let db = self.db();
        Ok(query(
            "UPDATE tasks SET status = 'Cancelled', updated_at = $1 WHERE org_id = $2 AND request_id = $3 AND status = 'Open'",
        )
        .bind(ts(at))
        .bind(id(org_id))
        .bind(id(request_id))
        .execute(db)
        .await?
        .rows_affected())
    }
}

/// Writes a task's assignees in their order.
async fn insert_assignees(
    db: &mut Db,
    org_id: Uuid,
    task_id: Uuid,
    assignees: &[Uuid],
) -> Result<(), StoreError> {
    query(format!(
        "INSERT INTO task_assignees (task_id, user_id, org_id, position)
         SELECT $1, value ->> 0, $2, CAST(value ->> 1 AS INTEGER) FROM {}",
        db.dialect().json_rows("$3")
    ))
    .bind(id(task_id))
    .bind(id(org_id))
    .bind(decode::positioned_ids(assignees))
    .execute(db)
    .await?;
    Ok(())
}

pub(crate) fn decode_request(row: &Row) -> Result<Request, StoreError> {
    let request_type: String = row.try_get("request_type")?;
    let status: String = row.try_get("status")?;
    Ok(Request {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        request_type: stored_name("request_type", &request_type)?,
        work_app_id: get_id(row, "work_app_id")?,
        target_user_id: get_opt_id(row, "target_user_id")?,
        permission_level_id: get_opt_id(row, "permission_level_id")?,
        created_by_user_id: get_opt_id(row, "created_by_user_id")?,
        justification: row.try_get("justification")?,
        expires_at: get_opt_ts(row, "expires_at")?,
        status: stored_name::<RequestStatus>("request status", &status)?,
        policy_id: get_id(row, "policy_id")?,
        policy_version: row.try_get("policy_version")?,
        step_count: row.try_get("step_count")?,
        cancelled_by_user_id: get_opt_id(row, "cancelled_by_user_id")?,
        source_group_id: get_opt_id(row, "source_group_id")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}

pub(crate) fn decode_task(row: &Row) -> Result<Task, StoreError> {
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    Ok(Task {
        id: get_id(row, "id")?,
        org_id: get_id(row, "org_id")?,
        request_id: get_id(row, "request_id")?,
        kind: stored_name::<TaskKind>("task kind", &kind)?,
        status: stored_name::<TaskStatus>("task status", &status)?,
        step: row.try_get("step")?,
        assignee_ids: Vec::new(),
        unassigned_reason: row.try_get("unassigned_reason")?,
        decided_by_user_id: get_opt_id(row, "decided_by_user_id")?,
        decided_at: get_opt_ts(row, "decided_at")?,
        comment: row.try_get("comment")?,
        created_at: get_ts(row, "created_at")?,
        updated_at: get_ts(row, "updated_at")?,
    })
}
