//! `Registry`: the sessions a server accepted, so that `Server.close()` can close each
//! gracefully. It holds them weakly: a session the application dropped and whose tasks
//! ended is not kept alive (with its whole connection state) just to be closed again.

use std::sync::{Arc, Mutex, MutexGuard, Weak};

use web_transport_quinn as wtq;

/// The registry, generic over what it holds (the server's: `wtq::Session`).
#[derive(Clone)]
pub struct Registry<T = wtq::Session>(Arc<Mutex<Entries<T>>>);

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(Entries {
            list: Vec::new(),
            prune_at: 0,
        })))
    }
}

struct Entries<T> {
    list: Vec<Weak<T>>,
    /// Forget dropped entries once the list reaches this length (amortised O(1) adds).
    prune_at: usize,
}

impl<T> Registry<T> {
    fn lock(&self) -> MutexGuard<'_, Entries<T>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remember a new session, forgetting dropped ones now and then.
    pub fn add(&self, session: &Arc<T>) {
        let mut entries = self.lock();
        if entries.list.len() >= entries.prune_at {
            entries.list.retain(|s| s.strong_count() > 0);
            entries.prune_at = (2 * entries.list.len()).max(16);
        }
        entries.list.push(Arc::downgrade(session));
    }

    /// Every session still alive; the registry is left empty.
    pub fn take(&self) -> Vec<Arc<T>> {
        let mut entries = self.lock();
        entries.prune_at = 0;
        std::mem::take(&mut entries.list)
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().list.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_returns_the_live_sessions_and_empties_it() {
        let registry = Registry::default();
        let kept = Arc::new(1);
        registry.add(&kept);
        registry.add(&Arc::new(2));
        let live = registry.take();
        assert_eq!(live.len(), 1);
        assert_eq!(*live[0], 1);
        assert!(registry.take().is_empty());
    }

    #[test]
    fn dropped_sessions_are_pruned_as_it_grows() {
        let registry = Registry::default();
        let kept: Vec<_> = (0..10).map(Arc::new).collect();
        for k in &kept {
            registry.add(k);
        }
        for i in 0..1000 {
            registry.add(&Arc::new(i));
        }
        // Pruning keeps the list within twice the live count (plus the floor of 16).
        assert!(
            registry.len() <= 2 * (kept.len() + 16),
            "{}",
            registry.len()
        );
        assert_eq!(registry.take().len(), kept.len());
    }
}
