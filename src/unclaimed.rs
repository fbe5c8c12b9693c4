//! What arrived for an `accept()` whose caller stopped waiting: a session request
//! (`Server.accept`) or a stream (`Session.accept_bi`/`accept_uni`) is kept in its
//! [`Unclaimed`] queue for the next `accept()` of its kind, so cancellation loses nothing.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

/// Values whose `accept()` was cancelled after they arrived, oldest first; shared by the
/// owner and its pending accepts.
pub struct Unclaimed<T>(Arc<Mutex<VecDeque<T>>>);

impl<T> Clone for Unclaimed<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Default for Unclaimed<T> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<T> Unclaimed<T> {
    fn lock(&self) -> MutexGuard<'_, VecDeque<T>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The oldest unclaimed value, if any.
    pub fn pop(&self) -> Option<T> {
        self.lock().pop_front()
    }

    /// `value` on its way to Python: back in this queue if the accept is cancelled.
    pub fn claim(&self, value: T) -> Claim<T> {
        Claim {
            value: Some(value),
            queue: Some(self.clone()),
        }
    }
}

/// A value on its way to Python ([`Claim::take`] when the awaiting task resumes), back in
/// its queue when the task stopped waiting ([`Claim::abandon`]).
pub struct Claim<T> {
    value: Option<T>,
    queue: Option<Unclaimed<T>>,
}

impl<T> Claim<T> {
    /// A value with no queue (an `open`, which nobody else would take): abandoning it
    /// drops it.
    pub fn unqueued(value: T) -> Self {
        Self {
            value: Some(value),
            queue: None,
        }
    }

    /// The value, once.
    pub fn take(&mut self) -> Option<T> {
        self.value.take()
    }

    /// Return the value to its queue for the next `accept()`.
    pub fn abandon(mut self) {
        if let (Some(value), Some(queue)) = (self.value.take(), &self.queue) {
            queue.lock().push_back(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Unclaimed;

    #[test]
    fn an_abandoned_claim_goes_back_in_order() {
        let queue = Unclaimed::default();
        queue.claim(1).abandon();
        queue.claim(2).abandon();
        let mut taken = queue.claim(3);
        assert_eq!(taken.take(), Some(3));
        taken.abandon();
        assert_eq!(
            (queue.pop(), queue.pop(), queue.pop()),
            (Some(1), Some(2), None)
        );
    }
}
