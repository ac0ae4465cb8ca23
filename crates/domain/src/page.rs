use uuid::Uuid;

/// The fixed page size of every list endpoint (the Cakewalk API pages by 100).
pub const PAGE_SIZE: u32 = 100;

/// Keyset pagination: return rows whose id is strictly greater than `after`, in id order.
///
/// Keyset (rather than offset) paging means rows inserted while a client walks the pages never
/// cause a duplicate or a gap among the rows that existed when it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<Uuid>,
    pub limit: u32,
}

impl PageRequest {
    pub fn first() -> Self {
        Self { after: None, limit: PAGE_SIZE }
    }
    pub fn after(after: Option<Uuid>) -> Self {
        Self { after, limit: PAGE_SIZE }
    }
}

/// One page of results and the key to continue from, if there are more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_after: Option<Uuid>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only signals that more exist.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32, id_of: impl Fn(&T) -> Uuid) -> Self {
        let limit = limit as usize;
        let next_after = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(&id_of)
        } else {
            None
        };
        Self { items: rows, next_after }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_after: self.next_after }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn overfetch_keeps_at_most_limit_and_signals_more(n in 0usize..300, limit in 1u32..150) {
            let ids: Vec<Uuid> = (0..n).map(|i| Uuid::from_u128(i as u128 + 1)).collect();
            let page = Page::from_overfetch(ids.clone(), limit, |id| *id);
            prop_assert_eq!(page.items.len(), n.min(limit as usize));
            prop_assert_eq!(page.next_after.is_some(), n > limit as usize);
            if let Some(next) = page.next_after {
                prop_assert_eq!(Some(&next), page.items.last());
            }
        }
    }
}
