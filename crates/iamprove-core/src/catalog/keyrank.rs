//! Which definition of a condition key wins, shared by `build.rs` (the build-time table of key
//! types, `index::KEY_TYPES`/`KEY_TEMPLATES`) and `catalog.rs` (`KeyIndex`, over the parsed
//! catalog), so that both choose alike. `build.rs` includes this file with `#[path]`: it uses
//! `std` only.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// Definitions of condition keys by lower-case name; the lowest `(rank, def)` wins. Ranks:
/// global keys 0, a service's own keys 1, keys a service lists with another prefix 2, keys
/// named but listed by no service 3 (untyped). `def` orders the definitions (file order); the
/// payload `P` goes with the winner.
pub(crate) struct KeyRanking<D, P> {
    defs: HashMap<String, (u8, D, P)>,
}

/// Keys without placeholder: lower-case name, definition, payload.
pub(crate) type Exact<D, P> = Vec<(String, D, P)>;

/// Templated keys in lookup order: literal pieces, definition, payload.
pub(crate) type Templates<D, P> = Vec<(Vec<String>, D, P)>;

impl<D: Ord + Copy, P> KeyRanking<D, P> {
    pub(crate) fn new() -> Self {
        KeyRanking {
            defs: HashMap::new(),
        }
    }

    /// One definition of `name` (any case).
    pub(crate) fn add(&mut self, name: &str, rank: u8, def: D, payload: P) {
        match self.defs.entry(name.to_ascii_lowercase()) {
            Entry::Occupied(mut e) => {
                if (rank, def) < (e.get().0, e.get().1) {
                    e.insert((rank, def, payload));
                }
            }
            Entry::Vacant(e) => {
                e.insert((rank, def, payload));
            }
        }
    }

    /// The winners: keys without placeholder (lower-case name, unsorted), and templated keys
    /// split at their placeholders ([`template_pieces`]) in lookup order, by (definition, name).
    pub(crate) fn split(self) -> (Exact<D, P>, Templates<D, P>) {
        let mut exact = Vec::new();
        let mut templates = Vec::new();
        for (name, (_, def, payload)) in self.defs {
            match template_pieces(&name) {
                Some(pieces) => templates.push((name, pieces, def, payload)),
                None => exact.push((name, def, payload)),
            }
        }
        templates.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
        let templates = templates
            .into_iter()
            .map(|(_, pieces, def, payload)| (pieces, def, payload))
            .collect();
        (exact, templates)
    }
}

/// Split a key at `${...}` / `<...>` placeholders; `None` when it has none.
pub(crate) fn template_pieces(key: &str) -> Option<Vec<String>> {
    let mut pieces = Vec::new();
    let mut rest = key;
    let mut found = false;
    loop {
        let dollar = rest.find("${").map(|i| (i, "}"));
        let angle = rest.find('<').map(|i| (i, ">"));
        let next = match (dollar, angle) {
            (Some(d), Some(a)) => Some(if d.0 < a.0 { d } else { a }),
            (d, a) => d.or(a),
        };
        let Some((start, close)) = next else { break };
        let Some(len) = rest[start..].find(close) else {
            break;
        };
        pieces.push(rest[..start].to_owned());
        rest = &rest[start + len + close.len()..];
        found = true;
    }
    pieces.push(rest.to_owned());
    found.then_some(pieces)
}
