//! Requests and their approval tasks.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use portcullis_domain::{Page, PageRequest, Request, RequestStatus, Task, TaskStatus};
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::codec::{get_id, id, id_array, opt_id, opt_ts, ts};
use crate::decode::request as request_from_row;
use crate::decode::task as task_from_row;
use crate::{RequestFilter, StoreError, TaskFilter};

const REQUEST_COLUMNS: &str = "id, org_id, request_type, work_app_id, target_user_id,
    permission_level_id, created_by_user_id, justification, expires_at, status, policy_id,
    policy_version, step_count, cancelled_by_user_id, source_group_id, created_at, updated_at";

pub async fn insert_request(conn: &mut SqliteConnection, r: &Request) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO requests ({REQUEST_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(id(r.id))
    .bind(id(r.org_id))
    .bind(r.request_type.name())
    .bind(id(r.work_app_id))
    .bind(opt_id(r.target_user_id))
    .bind(opt_id(r.permission_level_id))
    .bind(opt_id(r.created_by_user_id))
    .bind(&r.justification)
    .bind(opt_ts(r.expires_at))
    .bind(r.status.name())
    .bind(id(r.policy_id))
    .bind(r.policy_version)
    .bind(r.step_count)
    .bind(opt_id(r.cancelled_by_user_id))
    .bind(opt_id(r.source_group_id))
    .bind(ts(r.created_at))
    .bind(ts(r.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_request(conn: &mut SqliteConnection, r: &Request) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE requests SET status = ?, cancelled_by_user_id = ?, updated_at = ? WHERE org_id = ? AND id = ?",
    )
    .bind(r.status.name())
    .bind(opt_id(r.cancelled_by_user_id))
    .bind(ts(r.updated_at))
    .bind(id(r.org_id))
    .bind(id(r.id))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_request(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    request_id: Uuid,
) -> Result<Option<Request>, StoreError> {
    sqlx::query(&format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE org_id = ? AND id = ?"))
        .bind(id(org_id))
        .bind(id(request_id))
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(request_from_row)
        .transpose()
}

pub async fn list_requests(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    filter: RequestFilter,
    page: PageRequest,
) -> Result<Page<Request>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM requests
         WHERE org_id = ?1 AND id > ?2
           AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR target_user_id = ?4)
           AND (?5 IS NULL OR work_app_id = ?5)
         ORDER BY id LIMIT ?6"
    ))
    .bind(id(org_id))
    .bind(page.after.map(id).unwrap_or_default())
    .bind(filter.status.map(RequestStatus::name))
    .bind(opt_id(filter.target_user_id))
    .bind(opt_id(filter.work_app_id))
    .bind(i64::from(page.limit) + 1)
    .fetch_all(conn)
    .await?;
    let requests = rows.iter().map(request_from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(requests, page.limit, |r| r.id))
}

const TASK_COLUMNS: &str = "t.id, t.org_id, t.request_id, t.kind, t.status, t.step,
    t.decided_by_user_id, t.decided_at, t.comment, t.created_at, t.updated_at";

async fn attach_assignees(
    conn: &mut SqliteConnection,
    tasks: &mut [Task],
) -> Result<(), StoreError> {
    if tasks.is_empty() {
        return Ok(());
    }
    let rows = sqlx::query(
        "SELECT task_id, user_id FROM task_assignees
         WHERE task_id IN (SELECT value FROM json_each(?)) ORDER BY position",
    )
    .bind(id_array(tasks.iter().map(|t| t.id)))
    .fetch_all(conn)
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

pub async fn insert_task(conn: &mut SqliteConnection, t: &Task) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tasks (id, org_id, request_id, kind, status, step, decided_by_user_id,
                            decided_at, comment, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id(t.id))
    .bind(id(t.org_id))
    .bind(id(t.request_id))
    .bind(t.kind.name())
    .bind(t.status.name())
    .bind(t.step)
    .bind(opt_id(t.decided_by_user_id))
    .bind(opt_ts(t.decided_at))
    .bind(&t.comment)
    .bind(ts(t.created_at))
    .bind(ts(t.updated_at))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO task_assignees (task_id, user_id, org_id, position)
         SELECT ?, value, ?, key FROM json_each(?)",
    )
    .bind(id(t.id))
    .bind(id(t.org_id))
    .bind(id_array(t.assignee_ids.iter().copied()))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_task(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    task_id: Uuid,
) -> Result<Option<Task>, StoreError> {
    let row =
        sqlx::query(&format!("SELECT {TASK_COLUMNS} FROM tasks t WHERE t.org_id = ? AND t.id = ?"))
            .bind(id(org_id))
            .bind(id(task_id))
            .fetch_optional(&mut *conn)
            .await?;
    let Some(row) = row else { return Ok(None) };
    let mut tasks = [task_from_row(&row)?];
    attach_assignees(conn, &mut tasks).await?;
    let [task] = tasks;
    Ok(Some(task))
}

pub async fn decide_task(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    task_id: Uuid,
    status: TaskStatus,
    decided_by: Option<Uuid>,
    comment: Option<&str>,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE tasks SET status = ?, decided_by_user_id = ?, decided_at = ?, comment = ?, updated_at = ?
         WHERE org_id = ? AND id = ? AND status = 'Open'",
    )
    .bind(status.name())
    .bind(opt_id(decided_by))
    .bind(ts(at))
    .bind(comment)
    .bind(ts(at))
    .bind(id(org_id))
    .bind(id(task_id))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn list_tasks(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    filter: TaskFilter,
    page: PageRequest,
) -> Result<Page<Task>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {TASK_COLUMNS} FROM tasks t
         WHERE t.org_id = ?1 AND t.id > ?2
           AND (?3 IS NULL OR t.status = ?3) AND (?4 IS NULL OR t.request_id = ?4)
           AND (?5 IS NULL OR EXISTS (SELECT 1 FROM task_assignees a WHERE a.task_id = t.id AND a.user_id = ?5))
         ORDER BY t.id LIMIT ?6"
    ))
    .bind(id(org_id))
    .bind(page.after.map(id).unwrap_or_default())
    .bind(filter.status.map(TaskStatus::name))
    .bind(opt_id(filter.request_id))
    .bind(opt_id(filter.assignee_user_id))
    .bind(i64::from(page.limit) + 1)
    .fetch_all(&mut *conn)
    .await?;
    let tasks = rows.iter().map(task_from_row).collect::<Result<Vec<_>, _>>()?;
    let mut page = Page::from_overfetch(tasks, page.limit, |t| t.id);
    attach_assignees(conn, &mut page.items).await?;
    Ok(page)
}

pub async fn request_tasks(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    request_id: Uuid,
) -> Result<Vec<Task>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {TASK_COLUMNS} FROM tasks t WHERE t.org_id = ? AND t.request_id = ? ORDER BY t.step, t.id"
    ))
    .bind(id(org_id))
    .bind(id(request_id))
    .fetch_all(&mut *conn)
    .await?;
    let mut tasks = rows.iter().map(task_from_row).collect::<Result<Vec<_>, _>>()?;
    attach_assignees(conn, &mut tasks).await?;
    Ok(tasks)
}

pub async fn cancel_open_tasks(
    conn: &mut SqliteConnection,
    org_id: Uuid,
    request_id: Uuid,
    at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE tasks SET status = 'Cancelled', updated_at = ? WHERE org_id = ? AND request_id = ? AND status = 'Open'",
    )
    .bind(ts(at))
    .bind(id(org_id))
    .bind(id(request_id))
    .execute(conn)
    .await?
    .rows_affected())
}
