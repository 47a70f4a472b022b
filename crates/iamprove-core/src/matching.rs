//! The policy pattern language: action globs, resource ARN patterns, `StringLike`, `ArnLike`,
//! `StringEquals(IgnoreCase)`, catalog ARN formats.
//!
//! This module is the language's syntax (tokens, modes, where a string is used); its one
//! implementation is [`crate::automata::Pattern`]. A policy's patterns are compiled once, when it
//! is parsed ([`crate::model::ActionPattern::pattern`], [`crate::model::Template::compiled`]);
//! the evaluator, the encoder's witnesses and every other concrete check match through those
//! compiled patterns. Patterns with policy variables are compiled when the variables are resolved.
//! A property test compares the compiled patterns with the token matchers this module had before
//! (kept in its tests as the reference).

/// A pattern token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tok {
    /// A literal character.
    Lit(char),
    /// `*`
    Run,
    /// `?`
    One,
    /// One ASCII digit `0`–`9`. Written only by [`crate::wellformed`] (an account ID of a
    /// catalog ARN format), never by policy text.
    Digit,
    /// A run of `[a-z0-9-]`, possibly empty (an AWS region name). Written only by
    /// [`crate::wellformed`], never by policy text.
    RegionRun,
    /// One character of an S3 bucket name, `[A-Za-z0-9._-]` (never `:` or `/`). Written only by
    /// [`crate::wellformed`], never by policy text.
    BucketChar,
    /// A run of `[A-Za-z0-9._-]`, possibly empty (the rest of an S3 bucket name). Written only
    /// by [`crate::wellformed`], never by policy text.
    BucketRun,
    /// Exactly one character: the first character of a catalog placeholder, which AWS never
    /// leaves empty. With `colon` false it is never `:`, in every mode; with `colon` true it is
    /// any character in [`Mode::Plain`] and [`Mode::Format`] and what `?` is in
    /// [`Mode::Resource`] and [`Mode::Arn`]. Written only by [`crate::wellformed`], never by
    /// policy text.
    OneChar {
        /// May the character be `:`?
        colon: bool,
    },
}

/// How `*` and `?` treat `:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `*` any run, `?` any char.
    Plain,
    /// `Resource` element rules (§2.2): before the pattern's fifth colon `?` and `*` do not match `:`,
    /// except a `*` followed by `:` or ending the pattern, which may run past colons.
    Resource,
    /// `ArnLike`: six colon-separated parts globbed separately; non-ARN values never match.
    Arn,
    /// ARN formats of the action catalog (`crate::wellformed`), never policy text: `*` is a run
    /// without `:`, `?` any run ([`Tok::Digit`], [`Tok::RegionRun`], [`Tok::BucketChar`],
    /// [`Tok::BucketRun`] and [`Tok::OneChar`] are described at the token).
    Format,
}

/// Tokenise a pattern; with `wildcards` false `*` and `?` are literal characters.
pub fn tokens(s: &str, wildcards: bool) -> Vec<Tok> {
    s.chars()
        .map(|c| match c {
            '*' if wildcards => Tok::Run,
            '?' if wildcards => Tok::One,
            c => Tok::Lit(c),
        })
        .collect()
}

/// The automata specification of a token pattern: the one place where policy tokens become
/// [`crate::automata::PatternSpec`]s (case-sensitive; see [`compile`]).
pub fn spec(toks: &[Tok], mode: Mode) -> crate::automata::PatternSpec {
    use crate::automata::{Mode as M, Tok as T};
    crate::automata::PatternSpec {
        toks: toks
            .iter()
            .map(|t| match *t {
                Tok::Lit(c) => T::Char(c),
                Tok::Run => T::AnyRun,
                Tok::One => T::AnyChar,
                Tok::Digit => T::Digit,
                Tok::RegionRun => T::RegionRun,
                Tok::BucketChar => T::BucketChar,
                Tok::BucketRun => T::BucketRun,
                Tok::OneChar { colon } => T::OneChar { colon },
            })
            .collect(),
        mode: match mode {
            Mode::Plain => M::Plain,
            Mode::Resource => M::Resource,
            Mode::Arn => M::Arn,
            Mode::Format => M::Format,
        },
        ignore_case: false,
    }
}

/// A `Plain` glob from its text (`*` and `?` wildcards, case-sensitive), for one-off patterns
/// that are not part of a policy.
pub fn glob(text: &str) -> crate::automata::Pattern {
    compile(&tokens(text, true), Mode::Plain)
}

/// Compile a token pattern once; match with [`crate::automata::Pattern::is_match`].
pub fn compile(toks: &[Tok], mode: Mode) -> crate::automata::Pattern {
    crate::automata::Pattern::from_spec(spec(toks, mode))
}

/// Two `Plain` globs of `*` and `?` (token lists): does some string match both? Exact, by a
/// search over pairs of positions (at most `(|a|+1)·(|b|+1)` states). Tokens other than
/// literals, `*` and `?` (written only by [`crate::wellformed`]) are not modelled: the answer is
/// then `true`, "may meet".
pub fn globs_intersect(a: &[Tok], b: &[Tok]) -> bool {
    if a.iter()
        .chain(b)
        .any(|t| !matches!(t, Tok::Lit(_) | Tok::Run | Tok::One))
    {
        return true;
    }
    let (n, m) = (a.len(), b.len());
    let mut seen = vec![false; (n + 1) * (m + 1)];
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, j)) = stack.pop() {
        let k = i * (m + 1) + j;
        match seen.get_mut(k) {
            Some(v) if !*v => *v = true,
            _ => continue,
        }
        if i == n && j == m {
            return true;
        }
        // a run may match the empty string
        if a.get(i) == Some(&Tok::Run) {
            stack.push((i + 1, j));
        }
        if b.get(j) == Some(&Tok::Run) {
            stack.push((i, j + 1));
        }
        if let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
            let ok = match (x, y) {
                (Tok::Lit(x), Tok::Lit(y)) => x == y,
                _ => true,
            };
            if ok {
                // one character read by both; a run stays where it is
                let ni = if x == Tok::Run { i } else { i + 1 };
                let nj = if y == Tok::Run { j } else { j + 1 };
                stack.push((ni, nj));
            }
        }
    }
    false
}

/// Where a policy string is used, which decides how it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A `Resource`/`NotResource` pattern ([`Mode::Resource`]).
    Resource,
    /// `StringEquals`: case-sensitive equality, `*` and `?` literal.
    Exact,
    /// `StringEqualsIgnoreCase`: equality after simple per-character lowercasing.
    IgnoreCase,
    /// `StringLike`: a [`Mode::Plain`] glob.
    Like,
    /// `ArnLike`/`ArnEquals`: a [`Mode::Arn`] glob.
    Arn,
}

impl Kind {
    /// Whether `*` and `?` are wildcards in this use.
    pub fn wildcards(self) -> bool {
        matches!(self, Kind::Resource | Kind::Like | Kind::Arn)
    }
}

/// Compile tokens for a use. For [`Kind::Exact`] and [`Kind::IgnoreCase`] every token must be
/// literal (the parser writes them so); a wildcard token there matches nothing, as a
/// character-by-character comparison would decide.
pub(crate) fn compile_kind(toks: &[Tok], kind: Kind) -> crate::automata::Pattern {
    use crate::automata::{Pattern, PatternSpec};
    let equality = |ignore_case: bool| {
        if toks.iter().all(|t| matches!(t, Tok::Lit(_))) {
            let s = spec(toks, Mode::Plain);
            if ignore_case {
                s.ignore_case()
            } else {
                s
            }
        } else {
            // an `Arn` pattern with fewer than five colons: the empty language
            PatternSpec {
                toks: Vec::new(),
                mode: crate::automata::Mode::Arn,
                ignore_case: false,
            }
        }
    };
    Pattern::from_spec(match kind {
        Kind::Resource => spec(toks, Mode::Resource),
        Kind::Like => spec(toks, Mode::Plain),
        Kind::Arn => spec(toks, Mode::Arn),
        Kind::Exact => equality(false),
        Kind::IgnoreCase => equality(true),
    })
}

/// The matchers this module had before patterns were compiled through [`crate::automata`]
/// (token NFA simulation, the ARN six-part split, the catalog's byte matcher), kept as the
/// reference the property tests compare the compiled patterns with.
#[cfg(test)]
mod old {
    use super::{Mode, Tok};

    /// Match `s` against a token pattern (case-sensitive; lowercase both sides for case-insensitive use).
    pub(super) fn glob_match(toks: &[Tok], mode: Mode, s: &str) -> bool {
        if mode == Mode::Arn {
            return arn_match(toks, s);
        }
        if mode == Mode::Format {
            let flags: Vec<bool> = toks
                .iter()
                .map(|t| matches!(t, Tok::One | Tok::OneChar { colon: true }))
                .collect();
            let runs: Vec<Tok> = toks
                .iter()
                .map(|t| match t {
                    Tok::One => Tok::Run,
                    Tok::OneChar { .. } => Tok::One,
                    t => *t,
                })
                .collect();
            return nfa_match(&runs, &flags, s);
        }
        // fast path: literal prefix
        let mut chars = s.chars();
        let mut i = 0;
        while i < toks.len() {
            match toks[i] {
                Tok::Lit(c) => match chars.next() {
                    Some(x) if x == c => i += 1,
                    _ => return false,
                },
                _ => break,
            }
        }
        let rest = chars.as_str();
        let toks = &toks[i..];
        if toks.is_empty() {
            return rest.is_empty();
        }
        if toks == [Tok::Run] && mode == Mode::Plain {
            return true;
        }
        // Offsets of colon flags must be computed on the whole pattern; recompute on the suffix
        // by counting the colons of the consumed prefix.
        let full_flags = if mode == Mode::Resource {
            let consumed_colons = s
                .chars()
                .take(s.chars().count() - rest.chars().count())
                .filter(|&c| c == ':')
                .count();
            colon_ok_offset(toks, consumed_colons)
        } else {
            toks.iter()
                .map(|t| *t != Tok::OneChar { colon: false })
                .collect()
        };
        // a first character of a placeholder is one character, `?` with the flags above
        let ones: Vec<Tok> = toks
            .iter()
            .map(|t| match t {
                Tok::OneChar { .. } => Tok::One,
                t => *t,
            })
            .collect();
        nfa_match(&ones, &full_flags, rest)
    }

    fn colon_ok_offset(toks: &[Tok], colons_before: usize) -> Vec<bool> {
        let mut out = vec![true; toks.len()];
        let mut colons = colons_before;
        for i in 0..toks.len() {
            match toks[i] {
                Tok::Lit(':') => colons += 1,
                Tok::Lit(_) | Tok::Digit | Tok::RegionRun | Tok::BucketChar | Tok::BucketRun => {}
                Tok::One | Tok::OneChar { colon: true } => out[i] = colons >= 5,
                Tok::OneChar { colon: false } => out[i] = false,
                Tok::Run => {
                    out[i] = colons >= 5 || i + 1 == toks.len() || toks[i + 1] == Tok::Lit(':')
                }
            }
        }
        out
    }

    /// NFA simulation over pattern positions; `flags[i]`: wildcard `i` may match `:`.
    fn nfa_match(toks: &[Tok], flags: &[bool], s: &str) -> bool {
        let n = toks.len();
        let mut cur = vec![false; n + 1];
        let mut next = vec![false; n + 1];
        cur[0] = true;
        close(toks, &mut cur);
        for c in s.chars() {
            next.iter_mut().for_each(|b| *b = false);
            let mut any = false;
            for i in 0..n {
                if !cur[i] {
                    continue;
                }
                match toks[i] {
                    Tok::Lit(x) => {
                        if x == c {
                            next[i + 1] = true;
                            any = true;
                        }
                    }
                    // (callers write a first character as `?` with its flag)
                    Tok::One | Tok::OneChar { .. } => {
                        if c != ':' || flags[i] {
                            next[i + 1] = true;
                            any = true;
                        }
                    }
                    Tok::Run => {
                        if c != ':' || flags[i] {
                            next[i] = true;
                            any = true;
                        }
                    }
                    Tok::Digit => {
                        if c.is_ascii_digit() {
                            next[i + 1] = true;
                            any = true;
                        }
                    }
                    Tok::RegionRun => {
                        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
                            next[i] = true;
                            any = true;
                        }
                    }
                    Tok::BucketChar => {
                        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                            next[i + 1] = true;
                            any = true;
                        }
                    }
                    Tok::BucketRun => {
                        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                            next[i] = true;
                            any = true;
                        }
                    }
                }
            }
            if !any {
                return false;
            }
            close(toks, &mut next);
            std::mem::swap(&mut cur, &mut next);
        }
        cur[n]
    }

    /// Epsilon closure: a `*` (or a region run) may match the empty run.
    fn close(toks: &[Tok], set: &mut [bool]) {
        for i in 0..toks.len() {
            if set[i] && matches!(toks[i], Tok::Run | Tok::RegionRun | Tok::BucketRun) {
                set[i + 1] = true;
            }
        }
    }

    fn arn_match(toks: &[Tok], s: &str) -> bool {
        let sparts: Vec<&str> = s.splitn(6, ':').collect();
        if sparts.len() < 6 {
            return false;
        }
        if toks == [Tok::Run] {
            return true;
        }
        let mut pparts: Vec<&[Tok]> = Vec::with_capacity(6);
        let mut start = 0;
        for (i, t) in toks.iter().enumerate() {
            if pparts.len() == 5 {
                break;
            }
            if *t == Tok::Lit(':') {
                pparts.push(&toks[start..i]);
                start = i + 1;
            }
        }
        if pparts.len() < 5 {
            return false;
        }
        pparts.push(&toks[start..]);
        pparts
            .iter()
            .zip(sparts.iter())
            .all(|(p, v)| glob_match(p, Mode::Plain, v))
    }

    /// `eval::lower_char`, as it was: simple per-character lowercasing (`ß` stays `ß`).
    pub(super) fn lower_char(c: char) -> char {
        let mut l = c.to_lowercase();
        match (l.next(), l.next()) {
            (Some(x), None) => x,
            _ => c,
        }
    }

    /// The catalog's byte matcher (`catalog::wildcard_match`), as it was.
    pub(super) fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
        let (mut p, mut t) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match pattern.get(p) {
                Some(b'*') => {
                    if p + 1 == pattern.len() {
                        return true;
                    }
                    star = Some((p + 1, t));
                    p += 1;
                }
                Some(&c) if c == b'?' || c == text[t] => {
                    p += 1;
                    t += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        p = sp;
                        t = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
    }
}

#[cfg(test)]
mod tests {
    use super::old::glob_match;
    use super::*;
    use proptest::prelude::*;

    /// Characters that exercise every rule: colons (ARN segments), wildcards as text, case
    /// (ASCII and U+212A KELVIN SIGN, which lowercases to `k`), `ß` and `İ` (no simple
    /// one-character lowercase), the characters of `${...}`.
    fn chr() -> impl Strategy<Value = char> {
        prop_oneof![
            4 => Just('a'),
            2 => Just('k'),
            1 => Just('K'),
            1 => Just('\u{212A}'),
            1 => Just('A'),
            5 => Just(':'),
            1 => Just('/'),
            1 => Just('*'),
            1 => Just('?'),
            1 => Just('$'),
            1 => Just('{'),
            1 => Just('}'),
            1 => Just('ß'),
            1 => Just('İ'),
        ]
    }

    fn text(max: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(chr(), 0..max).prop_map(|v| v.into_iter().collect())
    }

    /// Pattern text: the characters above plus ARN-like prefixes and policy variables.
    fn pattern_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                6 => chr().prop_map(String::from),
                1 => Just("arn:aws:".to_owned()),
                1 => Just("${aws:username}".to_owned()),
                1 => Just("${x, 'd*:'}".to_owned()),
                1 => Just("${*}".to_owned()),
                1 => Just("${?}".to_owned()),
                1 => Just("${nokey}".to_owned()),
            ],
            0..10,
        )
        .prop_map(|v| v.concat())
    }

    fn kind() -> impl Strategy<Value = Kind> {
        prop_oneof![
            Just(Kind::Resource),
            Just(Kind::Exact),
            Just(Kind::IgnoreCase),
            Just(Kind::Like),
            Just(Kind::Arn),
        ]
    }

    /// What the evaluator decided before patterns were compiled (`eval::str_cmp`,
    /// `eval::template_match`).
    fn old_decision(toks: &[Tok], kind: Kind, v: &str) -> bool {
        let lower = old::lower_char;
        match kind {
            Kind::Resource => glob_match(toks, Mode::Resource, v),
            Kind::Like => glob_match(toks, Mode::Plain, v),
            Kind::Arn => glob_match(toks, Mode::Arn, v),
            Kind::Exact => {
                toks.len() == v.chars().count()
                    && toks.iter().zip(v.chars()).all(|(t, c)| *t == Tok::Lit(c))
            }
            Kind::IgnoreCase => {
                toks.len() == v.chars().count()
                    && toks.iter().zip(v.chars()).all(|(t, c)| match t {
                        Tok::Lit(x) => lower(*x) == lower(c),
                        _ => false,
                    })
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// A template compiled at parse time (or, with variables, resolved and compiled at
        /// evaluation) decides exactly what the token matcher decided, for every use.
        #[test]
        fn compiled_templates_match_like_tokens(
            p in pattern_text(),
            k in kind(),
            vars in any::<bool>(),
            user in text(4),
            values in proptest::collection::vec(text(16), 1..8),
        ) {
            let Ok(t) = crate::parse::template(&p, k, vars) else { return Ok(()) };
            prop_assert_eq!(t.compiled.is_some(), !t.has_vars());
            let lookup = |key: &str| (key == "aws:username").then(|| user.clone());
            let Some(toks) = t.resolve(&lookup) else { return Ok(()) };
            let compiled = match &t.compiled {
                Some(c) => c.clone(),
                None => compile_kind(&toks, k),
            };
            for v in values.iter().chain([&p, &user, &p.to_uppercase()]) {
                prop_assert_eq!(compiled.is_match(v), old_decision(&toks, k, v), "{:?} {:?} {:?}", p, k, v);
            }
        }

        /// Raw token patterns in every mode, wildcard tokens included where the parser never
        /// writes them (`Exact`/`IgnoreCase` then match nothing).
        #[test]
        fn compiled_tokens_match_like_tokens(
            p in text(12),
            wild in any::<bool>(),
            values in proptest::collection::vec(text(16), 1..8),
        ) {
            let toks = tokens(&p, wild);
            for m in [Mode::Plain, Mode::Resource, Mode::Arn, Mode::Format] {
                let compiled = compile(&toks, m);
                for v in values.iter().chain([&p]) {
                    prop_assert_eq!(compiled.is_match(v), glob_match(&toks, m, v), "{:?} {:?} {:?}", p, m, v);
                }
            }
            for k in [Kind::Exact, Kind::IgnoreCase] {
                let compiled = compile_kind(&toks, k);
                for v in values.iter().chain([&p]) {
                    prop_assert_eq!(compiled.is_match(v), old_decision(&toks, k, v), "{:?} {:?} {:?}", p, k, v);
                }
            }
        }

        /// Actions: the evaluator lowercases pattern and action and matches case-sensitively.
        #[test]
        fn action_patterns_match_like_tokens(p in text(10), values in proptest::collection::vec(text(12), 1..8)) {
            let lower = p.to_lowercase();
            let toks = tokens(&lower, true);
            let compiled = compile(&toks, Mode::Plain);
            for v in &values {
                let v = v.to_lowercase();
                prop_assert_eq!(compiled.is_match(&v), glob_match(&toks, Mode::Plain, &v));
            }
        }

        /// The catalog's action-name matcher (bytes) on the catalog's names (ASCII lower case).
        #[test]
        fn catalog_names_match_like_tokens(p in "[a-c:*?]{0,8}", values in proptest::collection::vec("[a-c:]{0,10}", 1..8)) {
            let compiled = compile(&tokens(&p, true), Mode::Plain);
            for v in &values {
                prop_assert_eq!(compiled.is_match(v), old::wildcard_match(p.as_bytes(), v.as_bytes()), "{:?} {:?}", p, v);
            }
        }
    }

    /// Tokens of every kind, the class tokens of catalog formats included.
    fn any_tok() -> impl Strategy<Value = Tok> {
        prop_oneof![
            3 => Just(Tok::Lit('a')),
            1 => Just(Tok::Lit('A')),
            1 => Just(Tok::Lit('1')),
            1 => Just(Tok::Lit('-')),
            3 => Just(Tok::Lit(':')),
            1 => Just(Tok::Run),
            1 => Just(Tok::One),
            2 => Just(Tok::Digit),
            2 => Just(Tok::RegionRun),
            1 => Just(Tok::BucketChar),
            1 => Just(Tok::BucketRun),
            1 => Just(Tok::OneChar { colon: false }),
            1 => Just(Tok::OneChar { colon: true }),
        ]
    }

    /// Values over the characters the class tokens separate: digits, lower case, `-`, upper
    /// case, `_`, a non-ASCII digit, `:`.
    fn class_text(max: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                2 => Just('a'),
                2 => Just('1'),
                1 => Just('7'),
                1 => Just('-'),
                1 => Just('A'),
                1 => Just('_'),
                1 => Just('.'),
                1 => Just('/'),
                1 => Just('\u{0661}'),
                3 => Just(':'),
            ],
            0..max,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// [`Tok::Digit`], [`Tok::RegionRun`] and [`Tok::OneChar`] (account IDs, regions and
        /// first characters of placeholders of catalog ARN formats): the compiled pattern decides what the token matcher decides, in every mode.
        #[test]
        fn class_tokens_match_like_tokens(
            toks in proptest::collection::vec(any_tok(), 0..12),
            values in proptest::collection::vec(class_text(16), 1..8),
        ) {
            let shortest: String = toks.iter().filter_map(|t| match t {
                Tok::Lit(c) => Some(*c),
                Tok::Digit => Some('0'),
                Tok::One | Tok::OneChar { .. } | Tok::BucketChar => Some('x'),
                Tok::Run | Tok::RegionRun | Tok::BucketRun => None,
            }).collect();
            for m in [Mode::Plain, Mode::Resource, Mode::Arn, Mode::Format] {
                let compiled = compile(&toks, m);
                for v in values.iter().chain([&shortest]) {
                    prop_assert_eq!(compiled.is_match(v), glob_match(&toks, m, v), "{:?} {:?} {:?}", toks, m, v);
                }
            }
        }
    }

    /// Short patterns of wildcards and colons against short values, exhaustively: the corner
    /// cases a random generator rarely writes (`**` as an `ArnLike` pattern, all-`?` patterns,
    /// patterns that are only colons).
    #[test]
    fn wildcard_only_patterns_agree_exhaustively() {
        let pats = all_strings(&['*', '?', ':'], 4);
        let vals = all_strings(&['a', ':'], 7);
        for p in &pats {
            let toks = tokens(p, true);
            for m in [Mode::Plain, Mode::Resource, Mode::Arn, Mode::Format] {
                let compiled = compile(&toks, m);
                for v in &vals {
                    assert_eq!(
                        compiled.is_match(v),
                        glob_match(&toks, m, v),
                        "{p:?} {m:?} {v:?}"
                    );
                }
            }
        }
    }

    fn all_strings(alphabet: &[char], max: usize) -> Vec<String> {
        let mut out = vec![String::new()];
        let mut layer = vec![String::new()];
        for _ in 0..max {
            layer = layer
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            out.extend(layer.iter().cloned());
        }
        out
    }

    /// The compiled matcher on a token pattern.
    fn new_match(toks: &[Tok], mode: Mode, s: &str) -> bool {
        compile(toks, mode).is_match(s)
    }

    fn res(p: &str, s: &str) -> bool {
        new_match(&tokens(p, true), Mode::Resource, s)
    }

    #[test]
    fn resource_rules_from_the_reference() {
        let p = "arn:aws:s3:::B/*/test/*";
        assert!(res(p, "arn:aws:s3:::B/1/2/test/3/x.jpg"));
        assert!(res(p, "arn:aws:s3:::B//test/x.jpg"));
        assert!(res(p, "arn:aws:s3:::B/1/test/"));
        assert!(!res(p, "arn:aws:s3:::B/1-test/x.jpg"));
        assert!(!res(p, "arn:aws:s3:::B/test/x.jpg"));
        assert!(!res(p, "arn:aws:s3:::B/1/2/test.jpg"));
        assert!(res("arn:aws:s3:*", "arn:aws:s3:::bucket/key"));
        assert!(res(
            "arn:aws:dynamodb:*:table/prod-*",
            "arn:aws:dynamodb:us-east-1:123456789012:table/prod-x"
        ));
        assert!(res("*", "*"));
        assert!(res("arn:aws:iam::*:role/x", "arn:aws:iam::123:role/x"));
        assert!(!res("arn:aws:iam::1*3:role/x", "arn:aws:iam::1:2:3:role/x"));
        assert!(!res("arn:aws:s3:::*", "*"));
        assert!(res(
            "arn:aws:logs:*:*:log-group:app:*",
            "arn:aws:logs:us-east-1:1:log-group:app:log-stream:x"
        ));
        assert!(
            !res("arn:aws:iam::123:user/Bob", "arn:aws:iam::123:user/bob"),
            "case-sensitive"
        );
    }

    #[test]
    fn arn_like_vs_string_like() {
        let p = tokens("arn:aws:svc:*:111122223333:finance/*", true);
        let v = "arn:aws:svc:us-east-2:999999999999:store/abc:111122223333:finance/doc.txt";
        assert!(new_match(&p, Mode::Plain, v));
        assert!(!new_match(&p, Mode::Arn, v));
        assert!(new_match(
            &p,
            Mode::Arn,
            "arn:aws:svc:us-east-2:111122223333:finance/a:b"
        ));
        assert!(!new_match(&tokens("*", true), Mode::Arn, "not-an-arn"));
        assert!(new_match(&tokens("*", true), Mode::Arn, "arn:aws:s3:::b"));
    }

    #[test]
    fn plain_globs() {
        let m = |p: &str, s: &str| new_match(&tokens(p, true), Mode::Plain, s);
        assert!(m("iam:*accesskey*", "iam:createaccesskey"));
        assert!(m("s3:get?bject", "s3:getobject"));
        assert!(!m("s3:get?bject", "s3:getbject"));
        assert!(m("a*b*c", "aXbYc"));
        assert!(!m("a*b*c", "aXbY"));
        assert!(m("[x].y", "[x].y"));
        assert!(!m("[x].y", "x.y"));
    }
}
