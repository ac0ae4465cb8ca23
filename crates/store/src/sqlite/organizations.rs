use portcullis_domain::Organization;
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::codec::{id, ts};
use crate::decode::organization as from_row;
use crate::StoreError;

pub async fn insert(conn: &mut SqliteConnection, org: &Organization) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO organizations (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)")
        .bind(id(org.id))
        .bind(&org.name)
        .bind(ts(org.created_at))
        .bind(ts(org.updated_at))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn get(
    conn: &mut SqliteConnection,
    org_id: Uuid,
) -> Result<Option<Organization>, StoreError> {
    sqlx::query("SELECT id, name, created_at, updated_at FROM organizations WHERE id = ?")
        .bind(id(org_id))
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn update(conn: &mut SqliteConnection, org: &Organization) -> Result<(), StoreError> {
    sqlx::query("UPDATE organizations SET name = ?, updated_at = ? WHERE id = ?")
        .bind(&org.name)
        .bind(ts(org.updated_at))
        .bind(id(org.id))
        .execute(conn)
        .await?;
    Ok(())
}
