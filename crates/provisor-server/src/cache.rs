//! A bounded cache of verdict documents. A revision never changes once written, so its
//! judgement changes only with the day (acceptances expire by date): the document of an
//! assessment's revision on a day is computed once and served from memory after, the
//! oldest entry leaving when the cache is full.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// What a cached document is of: the assessment, the revision, the day.
pub type Key = (String, i64, String);

/// The documents by key, and the keys oldest first.
type Entries = (HashMap<Key, Arc<str>>, VecDeque<Key>);

/// The cache.
#[derive(Debug)]
pub struct VerdictCache {
    capacity: usize,
    inner: Mutex<Entries>,
}

impl VerdictCache {
    /// A cache of at most `capacity` documents.
    pub fn new(capacity: usize) -> VerdictCache {
        VerdictCache {
            capacity: capacity.max(1),
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    /// The document of a key, if cached.
    pub fn get(&self, key: &Key) -> Option<Arc<str>> {
        self.inner.lock().ok()?.0.get(key).cloned()
    }

    /// Keeps a document, dropping the oldest beyond the capacity.
    pub fn put(&self, key: Key, document: Arc<str>) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let (map, order) = &mut *inner;
        if map.insert(key.clone(), document).is_none() {
            order.push_back(key);
        }
        while order.len() > self.capacity {
            if let Some(oldest) = order.pop_front() {
                map.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_leaves_when_full() {
        let cache = VerdictCache::new(2);
        let key = |n: i64| ("asm".to_owned(), n, "2026-11-30".to_owned());
        cache.put(key(1), Arc::from("one"));
        cache.put(key(2), Arc::from("two"));
        cache.put(key(2), Arc::from("two again"));
        cache.put(key(3), Arc::from("three"));
        assert!(cache.get(&key(1)).is_none());
        assert_eq!(cache.get(&key(2)).as_deref(), Some("two again"));
        assert_eq!(cache.get(&key(3)).as_deref(), Some("three"));
    }
}
