use uuid::Uuid;

/// A new, time-ordered identifier (UUID v7). Ordering by id is ordering by creation.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
