//! A fast, deterministic hasher for the maps of the automata, the encoder and the solver.
//!
//! `std`'s default hasher (SipHash with a random key per process) showed up at 3-5 % of the
//! CPU of a typical `diff` (the encoder's atom and predicate maps, the solver's memo tables),
//! and it visits a map's entries in a different order in every run. The keys here are our own
//! (pattern states, term addresses, strings from the policies being checked on the user's own
//! machine), so a random key's protection against crafted collisions buys nothing. The mixing
//! step is the one rustc's `FxHasher` uses.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Builds [`FxHasher`]s (all alike).
pub type FxBuildHasher = BuildHasherDefault<FxHasher>;
/// A `HashMap` with [`FxHasher`].
pub type FxHashMap<K, V> = HashMap<K, V, FxBuildHasher>;
/// A `HashSet` with [`FxHasher`].
pub type FxHashSet<K> = HashSet<K, FxBuildHasher>;

/// A word-at-a-time multiplicative hasher.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Little-endian, so that a small integer written as bytes (`[u32]` keys hash their
        // elements as one byte slice) lands in the low bits, which choose the bucket: folding
        // big-endian left the low 16 bits of a state set's hash zero, every DFA state in one
        // probe chain, and long patterns quadratic.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
