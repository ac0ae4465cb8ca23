use portcullis_domain::Organization;
use sqlx::PgConnection;
use uuid::Uuid;

use super::codec::{id, ts};
use crate::decode::organization as from_row;
use crate::StoreError;

pub async fn insert(conn: &mut PgConnection, org: &Organization) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO organizations (id, name, created_at, updated_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id(org.id))
    .bind(&org.name)
    .bind(ts(org.created_at))
    .bind(ts(org.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(
    conn: &mut PgConnection,
    org_id: Uuid,
) -> Result<Option<Organization>, StoreError> {
    sqlx::query("SELECT id, name, created_at, updated_at FROM organizations WHERE id = $1")
        .bind(id(org_id))
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn update(conn: &mut PgConnection, org: &Organization) -> Result<(), StoreError> {
    sqlx::query("UPDATE organizations SET name = $1, updated_at = $2 WHERE id = $3")
        .bind(&org.name)
        .bind(ts(org.updated_at))
        .bind(id(org.id))
        .execute(conn)
        .await?;
    Ok(())
}
