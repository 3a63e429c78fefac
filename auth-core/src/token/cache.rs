//! A bounded cache of verified tokens, so that a client presenting the same access token on
//! every request pays for its signature and claims once (as Envoy's `jwt_authn` cache does).
//!
//! - A hit needs the presented bytes to equal, all of them, a token that passed every check
//!   (compared in constant time). Only tokens that verified are ever stored.
//! - Time is checked on every hit against the entry's deadline: `exp` plus leeway, or the end
//!   of its key's grace period if that comes first. Key rotation empties the cache and moves
//!   its generation; an entry is served only in the generation of the key set it was
//!   verified with, so a verification that loaded the old key set and finishes after a
//!   rotation cannot leave an entry that outlives the old key's grace.
//! - Revocation is not cached: the service checks it on every request, after verification.
//! - Fixed size: one slot per hash bucket, a newer token replaces an older one. The slot comes
//!   from a per-process keyed hash (SipHash) of the signature.

use std::hash::BuildHasher as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwapOption;
use subtle::ConstantTimeEq as _;

use super::Claims;

struct Entry {
    token: Box<str>,
    claims: Arc<Claims>,
    /// The first second at which the token is no longer accepted.
    deadline: i64,
    /// The key-set generation it was verified in.
    generation: u64,
}

/// The cache; `entries` slots, a power of two.
pub(super) struct VerifiedCache {
    slots: Box<[ArcSwapOption<Entry>]>,
    hasher: std::collections::hash_map::RandomState,
    /// Moves at every key rotation, after the new key set is in place.
    generation: AtomicU64,
}

impl VerifiedCache {
    /// A cache of at least `entries` slots (rounded up to a power of two); `None` for 0.
    pub(super) fn new(entries: usize) -> Option<Self> {
        (entries > 0).then(|| Self {
            slots: (0..entries.next_power_of_two())
                .map(|_| ArcSwapOption::empty())
                .collect(),
            hasher: std::collections::hash_map::RandomState::new(),
            generation: AtomicU64::new(0),
        })
    }

    /// The current generation. Read it before loading the key set a verification uses, and
    /// insert with it: a rotation in between makes the entry unusable, never wrongly usable.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn slot(&self, token: &str) -> &ArcSwapOption<Entry> {
        // The tail is the signature: it differs between any two tokens we issued. A forged
        // token sharing it only meets the genuine entry, fails the comparison, and is never
        // stored (only verified tokens are).
        let tail = &token.as_bytes()[token.len().saturating_sub(32)..];
        let hash = self.hasher.hash_one(tail);
        #[allow(
            clippy::cast_possible_truncation,
            reason = "only the low bits pick the slot"
        )]
        let index = hash as usize & (self.slots.len() - 1);
        &self.slots[index]
    }

    /// The claims of `token` if it verified before and `now` is before its deadline.
    pub(super) fn get(&self, token: &str, now: i64) -> Option<Arc<Claims>> {
        let entry = self.slot(token).load();
        let entry = entry.as_ref()?;
        (same(entry.token.as_bytes(), token.as_bytes())
            && now < entry.deadline
            && entry.generation == self.generation())
        .then(|| Arc::clone(&entry.claims))
    }

    /// Remembers that `token` verified to `claims`, until `deadline`, with the key set of
    /// `generation`.
    pub(super) fn insert(&self, token: &str, claims: &Arc<Claims>, deadline: i64, generation: u64) {
        self.slot(token).store(Some(Arc::new(Entry {
            token: token.into(),
            claims: Arc::clone(claims),
            deadline,
            generation,
        })));
    }

    /// Forgets every token: the key set changed (call after the new one is in place).
    pub(super) fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        for slot in &*self.slots {
            slot.store(None);
        }
    }
}

/// Whether `a` and `b` are equal, in time that depends on their length only: `subtle`'s
/// comparison, eight bytes at a time.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a_words, a_rest) = a.as_chunks::<8>();
    let (b_words, b_rest) = b.as_chunks::<8>();
    let mut equal = a_rest.ct_eq(b_rest);
    for (x, y) in a_words.iter().zip(b_words) {
        equal &= u64::from_ne_bytes(*x).ct_eq(&u64::from_ne_bytes(*y));
    }
    equal.into()
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn comparison_sees_every_byte() {
        let token = b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl";
        assert!(same(token, token));
        for at in 0..token.len() {
            let mut other = *token;
            other[at] ^= 1;
            assert!(!same(token, &other), "byte {at}");
        }
        assert!(!same(token, &token[..token.len() - 1]));
        assert!(same(b"", b""));
    }
}
