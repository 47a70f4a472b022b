//! Concrete string matching: action globs, resource ARN patterns, `StringLike`, `ArnLike`.
//!
//! The symbolic side ([`crate::automata`]) compiles the same token lists to automata; a property
//! test checks that both agree.

/// A pattern token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tok {
    /// A literal character.
    Lit(char),
    /// `*`
    Run,
    /// `?`
    One,
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
    /// without `:`, `?` any run.
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

/// Match `s` against a token pattern (case-sensitive; lowercase both sides for case-insensitive use).
pub fn glob_match(toks: &[Tok], mode: Mode, s: &str) -> bool {
    if mode == Mode::Arn {
        return arn_match(toks, s);
    }
    if mode == Mode::Format {
        let flags: Vec<bool> = toks.iter().map(|t| *t == Tok::One).collect();
        let runs: Vec<Tok> = toks
            .iter()
            .map(|t| if *t == Tok::One { Tok::Run } else { *t })
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
        vec![true; toks.len()]
    };
    nfa_match(toks, &full_flags, rest)
}

fn colon_ok_offset(toks: &[Tok], colons_before: usize) -> Vec<bool> {
    let mut out = vec![true; toks.len()];
    let mut colons = colons_before;
    for i in 0..toks.len() {
        match toks[i] {
            Tok::Lit(':') => colons += 1,
            Tok::Lit(_) => {}
            Tok::One => out[i] = colons >= 5,
            Tok::Run => out[i] = colons >= 5 || i + 1 == toks.len() || toks[i + 1] == Tok::Lit(':'),
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
                Tok::One => {
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

/// Epsilon closure: a `*` may match the empty run.
fn close(toks: &[Tok], set: &mut [bool]) {
    for i in 0..toks.len() {
        if set[i] && toks[i] == Tok::Run {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn res(p: &str, s: &str) -> bool {
        glob_match(&tokens(p, true), Mode::Resource, s)
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
        assert!(glob_match(&p, Mode::Plain, v));
        assert!(!glob_match(&p, Mode::Arn, v));
        assert!(glob_match(
            &p,
            Mode::Arn,
            "arn:aws:svc:us-east-2:111122223333:finance/a:b"
        ));
        assert!(!glob_match(&tokens("*", true), Mode::Arn, "not-an-arn"));
        assert!(glob_match(&tokens("*", true), Mode::Arn, "arn:aws:s3:::b"));
    }

    #[test]
    fn plain_globs() {
        let m = |p: &str, s: &str| glob_match(&tokens(p, true), Mode::Plain, s);
        assert!(m("iam:*accesskey*", "iam:createaccesskey"));
        assert!(m("s3:get?bject", "s3:getobject"));
        assert!(!m("s3:get?bject", "s3:getbject"));
        assert!(m("a*b*c", "aXbYc"));
        assert!(!m("a*b*c", "aXbY"));
        assert!(m("[x].y", "[x].y"));
        assert!(!m("[x].y", "x.y"));
    }
}
