//! `Stash`: the bytes a `RecvStream` took from quinn but has not returned yet (see
//! `recv_stream.rs`): a read cancelled after its bytes arrived leaves them here for the
//! next read, in order.

use std::collections::VecDeque;

use bytes::Bytes;

/// Bytes taken from quinn but not yet returned, with their total length.
#[derive(Default)]
pub struct Stash {
    chunks: VecDeque<Bytes>,
    pub len: usize,
}

impl Stash {
    pub fn push_back(&mut self, b: Bytes) {
        self.len += b.len();
        self.chunks.push_back(b);
    }

    pub fn take(&mut self, max: usize) -> Option<Bytes> {
        let front = self.chunks.front_mut()?;
        let b = if front.len() <= max {
            self.chunks.pop_front()?
        } else {
            front.split_to(max)
        };
        self.len -= b.len();
        Some(b)
    }

    /// Take up to `max` bytes, across chunks.
    pub fn take_parts(&mut self, max: usize) -> Vec<Bytes> {
        let mut parts = Vec::new();
        let mut left = max;
        while left > 0 {
            match self.take(left) {
                Some(b) => {
                    left -= b.len();
                    parts.push(b);
                }
                None => break,
            }
        }
        parts
    }

    pub fn drain(&mut self) -> Vec<Bytes> {
        self.len = 0;
        self.chunks.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stash(chunks: &[&'static [u8]]) -> Stash {
        let mut s = Stash::default();
        for c in chunks {
            s.push_back(Bytes::from_static(c));
        }
        s
    }

    #[test]
    fn take_splits_the_front_chunk_and_keeps_the_rest_in_order() {
        let mut s = stash(&[b"hello", b"world"]);
        assert_eq!(s.len, 10);
        assert_eq!(s.take(3).as_deref(), Some(&b"hel"[..]));
        assert_eq!(s.len, 7);
        assert_eq!(s.take(100).as_deref(), Some(&b"lo"[..]));
        assert_eq!(s.take(100).as_deref(), Some(&b"world"[..]));
        assert_eq!(s.take(1), None);
        assert_eq!(s.len, 0);
    }

    #[test]
    fn take_parts_crosses_chunks_up_to_max() {
        let mut s = stash(&[b"ab", b"cde", b"f"]);
        let parts = s.take_parts(4);
        assert_eq!(parts.concat(), b"abcd");
        assert_eq!(s.len, 2);
        assert_eq!(s.take_parts(0), Vec::<Bytes>::new());
        assert_eq!(s.take_parts(10).concat(), b"ef");
        assert!(s.take_parts(10).is_empty());
    }

    #[test]
    fn drain_empties_it() {
        let mut s = stash(&[b"ab", b"c"]);
        s.take(1);
        assert_eq!(s.drain().concat(), b"bc");
        assert_eq!(s.len, 0);
        assert_eq!(s.take(1), None);
    }
}
