//! Arrays of request bodies with a bound enforced while they are read.
//!
//! A body may be up to 16 MiB: as a plain `Vec<T>` an array of 400,000 small items would be
//! deserialized whole (and allocated) before any rule could count it. A [`BoundedVec<T, N>`]
//! stops at item `N + 1` with a 400 naming the bound.
//!
//! Document the bound on the field as well:
//! `#[schema(value_type = Vec<T>, max_items = N)]` (the OpenAPI test checks they agree).
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use serde::de::{Deserialize, Deserializer, Error, SeqAccess, Visitor};

/// Most items reserved up front, whatever the array announces.
const MAX_PREALLOCATED: usize = 1024;

/// A `Vec<T>` of at most `N` items, refused as soon as item `N + 1` is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundedVec<T, const N: usize>(Vec<T>);

impl<T, const N: usize> BoundedVec<T, N> {
    pub fn into_inner(self) -> Vec<T> {
        self.0
    }
}

impl<T, const N: usize> Default for BoundedVec<T, N> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T, const N: usize> Deref for BoundedVec<T, N> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

impl<T, const N: usize> IntoIterator for BoundedVec<T, N> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for BoundedVec<T, N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Items<T, const N: usize>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for Items<T, N> {
            type Value = BoundedVec<T, N>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "an array of at most {N} items")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let hint = seq.size_hint().unwrap_or(0).min(N).min(MAX_PREALLOCATED);
                let mut items = Vec::with_capacity(hint);
                while let Some(item) = seq.next_element()? {
                    if items.len() == N {
                        return Err(A::Error::custom(format!(
                            "the array may contain at most {N} items"
                        )));
                    }
                    items.push(item);
                }
                Ok(BoundedVec(items))
            }
        }

        deserializer.deserialize_seq(Items(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    static READ: AtomicUsize = AtomicUsize::new(0);

    /// Counts how many items were deserialized.
    #[derive(Debug)]
    struct Counted;

    impl<'de> Deserialize<'de> for Counted {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            u8::deserialize(d)?;
            READ.fetch_add(1, Ordering::SeqCst);
            Ok(Counted)
        }
    }

    #[test]
    fn arrays_up_to_the_bound_are_read_and_longer_ones_stop_at_the_first_item_too_many() {
        let ok: BoundedVec<u32, 3> = serde_json::from_str("[1, 2, 3]").unwrap();
        assert_eq!(ok.into_inner(), vec![1, 2, 3]);
        let empty: BoundedVec<u32, 3> = serde_json::from_str("[]").unwrap();
        assert!(empty.is_empty());
        let err = serde_json::from_str::<BoundedVec<u32, 3>>("[1, 2, 3, 4]").unwrap_err();
        assert!(err.to_string().contains("at most 3 items"), "{err}");
        assert!(serde_json::from_str::<BoundedVec<u32, 3>>("{}").is_err());

        // A huge array is abandoned right after the bound: the rest is never turned into items.
        let huge = format!("[{}0]", "0,".repeat(1_000_000));
        READ.store(0, Ordering::SeqCst);
        assert!(serde_json::from_str::<BoundedVec<Counted, 10>>(&huge).is_err());
        assert_eq!(READ.load(Ordering::SeqCst), 11);
    }
}
