//! The only module that talks to Z3. Terms from [`crate::symbolic::term`] go in; plain Rust
//! models come out (Z3 values are not `Send`; one solver per thread).

use crate::literal::{mask4, mask6, IpAddr, IpNet};
use crate::model::Cmp;
use crate::symbolic::encode::{scaled, Encoder};
use crate::symbolic::term::{Assignment, Term, T};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use z3::ast::{Bool, Int, Regexp, BV};
use z3::{Params, SatResult, Solver};

/// Latest date a model may choose (9999-12-31), so witnesses format as ISO dates.
const MAX_DATE_MS: i64 = 253_402_300_799_000;

/// A model in plain data.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub bools: BTreeMap<usize, bool>,
    pub classes: BTreeMap<usize, u32>,
    /// Integer-scaled numeric values (`None`: not a number).
    pub nums: BTreeMap<usize, Option<i128>>,
    pub dates: BTreeMap<usize, Option<i64>>,
    pub ips: BTreeMap<usize, Option<IpAddr>>,
    pub counts: BTreeMap<usize, u32>,
    /// Numeric scale per slot.
    pub scales: BTreeMap<usize, u32>,
    /// Values of string slots the solver reasons about directly (partition fallback).
    pub strings: BTreeMap<usize, String>,
    /// Truth of (slot, predicate) for those slots (filled by `query::fill_str_preds`).
    pub str_preds: BTreeMap<(usize, usize), bool>,
}

impl Assignment for Model {
    fn bool(&self, i: usize) -> bool {
        self.bools.get(&i).copied().unwrap_or(false)
    }
    fn class(&self, slot: usize) -> u32 {
        self.classes.get(&slot).copied().unwrap_or(0)
    }
    fn num(&self, slot: usize, cmp: Cmp, lit: &crate::literal::Decimal) -> bool {
        let scale = self.scales.get(&slot).copied().unwrap_or(1);
        match (self.nums.get(&slot).copied().flatten(), scaled(lit, scale)) {
            (Some(v), Some(l)) => holds(cmp, v.cmp(&l)),
            _ => false,
        }
    }
    fn date(&self, slot: usize, cmp: Cmp, lit: i64) -> bool {
        match self.dates.get(&slot).copied().flatten() {
            Some(v) => holds(cmp, v.cmp(&lit)),
            None => false,
        }
    }
    fn ip(&self, slot: usize, net: &IpNet) -> bool {
        match self.ips.get(&slot).copied().flatten() {
            Some(ip) => net.contains(ip),
            None => false,
        }
    }
    fn count(&self, key: usize) -> u32 {
        self.counts.get(&key).copied().unwrap_or(0)
    }
    fn str_pred(&self, slot: usize, pred: usize) -> bool {
        self.str_preds.get(&(slot, pred)).copied().unwrap_or(false)
    }
}

fn holds(cmp: Cmp, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match cmp {
        Cmp::Eq => o == Equal,
        Cmp::Lt => o == Less,
        Cmp::Le => o != Greater,
        Cmp::Gt => o == Greater,
        Cmp::Ge => o != Less,
    }
}

pub enum Outcome {
    Sat(Model),
    Unsat,
    Unknown(String),
}

/// A solver session over one encoder's variables.
pub struct Session {
    solver: Solver,
    memo: HashMap<usize, Bool>,
    bools: BTreeMap<usize, Bool>,
    classes: BTreeMap<usize, (Int, u32)>,
    nums: BTreeMap<usize, (Bool, Int)>,
    dates: BTreeMap<usize, (Bool, Int)>,
    ips: BTreeMap<usize, (Bool, Bool, BV, BV)>,
    counts: BTreeMap<usize, Int>,
    strings: BTreeMap<usize, z3::ast::String>,
    scales: BTreeMap<usize, u32>,
    /// Keep terms alive so pointer keys stay unique.
    keep: Vec<T>,
}

impl Session {
    pub fn new(timeout_ms: u32) -> Session {
        let solver = Solver::new();
        let mut p = Params::new();
        p.set_u32("timeout", timeout_ms.max(1));
        solver.set_params(&p);
        Session {
            solver,
            memo: HashMap::new(),
            bools: BTreeMap::new(),
            classes: BTreeMap::new(),
            nums: BTreeMap::new(),
            dates: BTreeMap::new(),
            ips: BTreeMap::new(),
            counts: BTreeMap::new(),
            strings: BTreeMap::new(),
            scales: BTreeMap::new(),
            keep: Vec::new(),
        }
    }

    /// Change the per-check timeout.
    pub fn set_timeout(&self, timeout_ms: u32) {
        let mut p = Params::new();
        p.set_u32("timeout", timeout_ms.max(1));
        self.solver.set_params(&p);
    }

    pub fn assert(&mut self, t: &T, enc: &Encoder) {
        let b = self.tr(t, enc);
        self.solver.assert(&b);
    }

    pub fn to_smt2(&self) -> String {
        self.solver.to_smt2()
    }

    fn bool_var(&mut self, i: usize) -> Bool {
        self.bools.entry(i).or_insert_with(|| Bool::new_const(format!("b{i}"))).clone()
    }

    fn class_var(&mut self, slot: usize, enc: &Encoder) -> Int {
        if let Some((v, _)) = self.classes.get(&slot) {
            return v.clone();
        }
        let n = enc.class_count(slot).max(1);
        let v = Int::new_const(format!("class{slot}"));
        self.solver.assert(&v.ge(&Int::from_i64(0)));
        self.solver.assert(&v.lt(&Int::from_i64(i64::from(n))));
        self.classes.insert(slot, (v.clone(), n));
        v
    }

    fn num_var(&mut self, slot: usize, enc: &Encoder) -> (Bool, Int) {
        if let Some(v) = self.nums.get(&slot) {
            return v.clone();
        }
        self.scales.insert(slot, enc.num_scale(slot));
        let v = (Bool::new_const(format!("isnum{slot}")), Int::new_const(format!("num{slot}")));
        self.nums.insert(slot, v.clone());
        v
    }

    fn date_var(&mut self, slot: usize) -> (Bool, Int) {
        if let Some(v) = self.dates.get(&slot) {
            return v.clone();
        }
        let v = (Bool::new_const(format!("isdate{slot}")), Int::new_const(format!("date{slot}")));
        self.solver.assert(&v.1.ge(&Int::from_i64(0)));
        self.solver.assert(&v.1.le(&Int::from_i64(MAX_DATE_MS)));
        self.dates.insert(slot, v.clone());
        v
    }

    fn ip_var(&mut self, slot: usize) -> (Bool, Bool, BV, BV) {
        if let Some(v) = self.ips.get(&slot) {
            return v.clone();
        }
        let v = (
            Bool::new_const(format!("isip{slot}")),
            Bool::new_const(format!("isv6_{slot}")),
            BV::new_const(format!("ip4_{slot}"), 32),
            BV::new_const(format!("ip6_{slot}"), 128),
        );
        self.ips.insert(slot, v.clone());
        v
    }

    fn count_var(&mut self, key: usize, enc: &Encoder) -> Int {
        if let Some(v) = self.counts.get(&key) {
            return v.clone();
        }
        let max = enc.vars.counts.get(key).map(|c| c.1).unwrap_or(1);
        let v = Int::new_const(format!("count{key}"));
        self.solver.assert(&v.ge(&Int::from_i64(0)));
        self.solver.assert(&v.le(&Int::from_i64(i64::from(max))));
        self.counts.insert(key, v.clone());
        v
    }

    fn string_var(&mut self, slot: usize, enc: &Encoder) -> z3::ast::String {
        if let Some(v) = self.strings.get(&slot) {
            return v.clone();
        }
        let v = z3::ast::String::new_const(format!("str{slot}"));
        // Strings over printable ASCII. Exact: characters no pattern mentions behave alike, and
        // policy patterns are Latin-1 and never mention all 95 printable characters.
        let _ = enc;
        let printable = Regexp::range(&' ', &'~').star();
        self.solver.assert(&v.regex_matches(&printable));
        self.strings.insert(slot, v.clone());
        v
    }

    fn tr(&mut self, t: &T, enc: &Encoder) -> Bool {
        let key = Rc::as_ptr(t) as usize;
        if let Some(b) = self.memo.get(&key) {
            return b.clone();
        }
        let b = match &**t {
            Term::Const(b) => Bool::from_bool(*b),
            Term::Bool(i) => self.bool_var(*i),
            Term::Not(x) => self.tr(x, enc).not(),
            Term::And(xs) => {
                let v: Vec<Bool> = xs.iter().map(|x| self.tr(x, enc)).collect();
                Bool::and(&v)
            }
            Term::Or(xs) => {
                let v: Vec<Bool> = xs.iter().map(|x| self.tr(x, enc)).collect();
                Bool::or(&v)
            }
            Term::ClassIn { slot, classes } => {
                let v = self.class_var(*slot, enc);
                // compress runs into ranges
                let mut parts = Vec::new();
                let mut i = 0;
                while i < classes.len() {
                    let lo = classes[i];
                    let mut hi = lo;
                    while i + 1 < classes.len() && classes[i + 1] == hi + 1 {
                        i += 1;
                        hi = classes[i];
                    }
                    if lo == hi {
                        parts.push(v.eq(Int::from_i64(i64::from(lo))));
                    } else {
                        parts.push(Bool::and(&[v.ge(Int::from_i64(i64::from(lo))), v.le(Int::from_i64(i64::from(hi)))]));
                    }
                    i += 1;
                }
                Bool::or(&parts)
            }
            Term::Num { slot, cmp, lit } => {
                let (isnum, v) = self.num_var(*slot, enc);
                let scale = self.scales.get(slot).copied().unwrap_or(1);
                match scaled(lit, scale) {
                    Some(l) => {
                        let l = Int::from_i128(l);
                        let c = match cmp {
                            Cmp::Eq => v.eq(&l),
                            Cmp::Lt => v.lt(&l),
                            Cmp::Le => v.le(&l),
                            Cmp::Gt => v.gt(&l),
                            Cmp::Ge => v.ge(&l),
                        };
                        Bool::and(&[isnum, c])
                    }
                    None => Bool::from_bool(false),
                }
            }
            Term::Date { slot, cmp, lit } => {
                let (isdate, v) = self.date_var(*slot);
                let l = Int::from_i64(*lit);
                let c = match cmp {
                    Cmp::Eq => v.eq(&l),
                    Cmp::Lt => v.lt(&l),
                    Cmp::Le => v.le(&l),
                    Cmp::Gt => v.gt(&l),
                    Cmp::Ge => v.ge(&l),
                };
                Bool::and(&[isdate, c])
            }
            Term::Ip { slot, net } => {
                let (isip, is6, v4, v6) = self.ip_var(*slot);
                match net {
                    IpNet::V4 { addr, prefix } => {
                        let m = BV::from_u64(u64::from(mask4(*prefix)), 32);
                        let n = BV::from_u64(u64::from(*addr), 32);
                        Bool::and(&[isip, is6.not(), v4.bvand(&m).eq(&n)])
                    }
                    IpNet::V6 { addr, prefix } => {
                        let m = bv128(mask6(*prefix));
                        let n = bv128(*addr);
                        Bool::and(&[isip, is6, v6.bvand(&m).eq(&n)])
                    }
                }
            }
            Term::CountGt { key, n } => {
                let v = self.count_var(*key, enc);
                v.gt(Int::from_i64(i64::from(*n)))
            }
            Term::StrPred { slot, pred } => {
                let v = self.string_var(*slot, enc);
                match enc.domain_of(*slot) {
                    Some(d) => {
                        let members: Vec<Bool> = d.preds.get(*pred).map(|atoms| atoms.iter().filter_map(|&a| d.atoms.get(a)).map(|a| v.regex_matches(&atom_regex(a))).collect()).unwrap_or_default();
                        Bool::or(&members)
                    }
                    None => Bool::from_bool(false),
                }
            }
        };
        self.keep.push(t.clone());
        self.memo.insert(key, b.clone());
        b
    }

    pub fn push(&self) {
        self.solver.push();
    }
    pub fn pop(&self) {
        self.solver.pop(1);
    }

    /// Diagnostics: the smallest sub-term whose Z3 value under the current model differs from
    /// its value under `m` by `term::eval`.
    pub fn first_disagreement(&mut self, t: &T, m: &Model, enc: &Encoder) -> Option<String> {
        let z = self.solver.get_model()?;
        let zb = self.tr(t, enc);
        let zv = z.eval(&zb, true).and_then(|b| b.as_bool())?;
        let tv = crate::symbolic::term::eval(t, m);
        if zv == tv {
            return None;
        }
        let children: Vec<T> = match &**t {
            Term::Not(x) => vec![x.clone()],
            Term::And(xs) | Term::Or(xs) => xs.clone(),
            _ => vec![],
        };
        for c in children {
            if let Some(d) = self.first_disagreement(&c, m, enc) {
                return Some(d);
            }
        }
        Some(format!("{t:?}: z3 {zv} term {tv}"))
    }

    pub fn check(&mut self) -> Outcome {
        match self.solver.check() {
            SatResult::Unsat => Outcome::Unsat,
            SatResult::Unknown => Outcome::Unknown(self.solver.get_reason_unknown().unwrap_or_else(|| "unknown".into())),
            SatResult::Sat => match self.solver.get_model() {
                Some(m) => Outcome::Sat(self.read_model(&m)),
                None => Outcome::Unknown("the solver returned no model".into()),
            },
        }
    }

    fn read_model(&self, m: &z3::Model) -> Model {
        let mut out = Model { scales: self.scales.clone(), ..Default::default() };
        for (i, b) in &self.bools {
            out.bools.insert(*i, m.eval(b, true).and_then(|v| v.as_bool()).unwrap_or(false));
        }
        for (slot, (v, _)) in &self.classes {
            let c = m.eval(v, true).and_then(|v| v.as_i64()).unwrap_or(0);
            out.classes.insert(*slot, u32::try_from(c).unwrap_or(0));
        }
        for (slot, (isnum, v)) in &self.nums {
            let is = m.eval(isnum, true).and_then(|b| b.as_bool()).unwrap_or(false);
            let val = m.eval(v, true).and_then(|v| v.as_i128());
            out.nums.insert(*slot, if is { val } else { None });
        }
        for (slot, (isdate, v)) in &self.dates {
            let is = m.eval(isdate, true).and_then(|b| b.as_bool()).unwrap_or(false);
            let val = m.eval(v, true).and_then(|v| v.as_i64());
            out.dates.insert(*slot, if is { val } else { None });
        }
        for (slot, (isip, is6, v4, v6)) in &self.ips {
            let is = m.eval(isip, true).and_then(|b| b.as_bool()).unwrap_or(false);
            let six = m.eval(is6, true).and_then(|b| b.as_bool()).unwrap_or(false);
            let ip = if !is {
                None
            } else if six {
                bv_to_u128(m, v6).map(IpAddr::V6)
            } else {
                m.eval(v4, true).and_then(|v| v.as_u64()).map(|x| IpAddr::V4(x as u32))
            };
            out.ips.insert(*slot, ip);
        }
        for (slot, v) in &self.strings {
            if let Some(s) = m.eval(v, true).and_then(|x| x.as_string()) {
                out.strings.insert(*slot, s);
            }
        }
        for (k, v) in &self.counts {
            let c = m.eval(v, true).and_then(|v| v.as_i64()).unwrap_or(0);
            out.counts.insert(*k, u32::try_from(c).unwrap_or(0));
        }
        out
    }

    /// Forbid the class assignment of `slot` seen in `model`.
    pub fn block_class(&mut self, slot: usize, class: u32, enc: &Encoder) {
        let v = self.class_var(slot, enc);
        self.solver.assert(&v.eq(Int::from_i64(i64::from(class))).not());
    }

    /// Forbid the conjunction of the given literals (class choices and Booleans).
    pub fn block(&mut self, classes: &[(usize, u32)], bools: &[(usize, bool)], enc: &Encoder) {
        let mut lits = Vec::new();
        for (slot, c) in classes {
            let v = self.class_var(*slot, enc);
            lits.push(v.eq(Int::from_i64(i64::from(*c))));
        }
        for (i, val) in bools {
            let b = self.bool_var(*i);
            lits.push(if *val { b } else { b.not() });
        }
        if !lits.is_empty() {
            self.solver.assert(&Bool::and(&lits).not());
        }
    }

    /// Does the model choose a class for this slot (i.e. does the query depend on it)?
    pub fn uses_slot(&self, slot: usize) -> bool {
        self.classes.contains_key(&slot)
    }
}

fn bv128(v: u128) -> BV {
    let hi = BV::from_u64((v >> 64) as u64, 64);
    let lo = BV::from_u64(v as u64, 64);
    hi.concat(&lo)
}

fn bv_to_u128(m: &z3::Model, v: &BV) -> Option<u128> {
    let hi = m.eval(&v.extract(127, 64), true)?.as_u64()?;
    let lo = m.eval(&v.extract(63, 0), true)?.as_u64()?;
    Some((u128::from(hi) << 64) | u128::from(lo))
}

/// Concatenation and union that accept any number of parts (Z3 wants at least two).
fn cat(mut v: Vec<Regexp>) -> Regexp {
    match v.len() {
        0 => Regexp::literal(""),
        1 => v.remove(0),
        _ => Regexp::concat(&v),
    }
}
fn alt(mut v: Vec<Regexp>) -> Regexp {
    match v.len() {
        0 => Regexp::empty(),
        1 => v.remove(0),
        _ => Regexp::union(&v),
    }
}

/// A pattern as a Z3 regular expression (same semantics as `matching::glob_match`).
fn atom_regex(a: &crate::symbolic::encode::AtomKey) -> Regexp {
    use crate::matching::{Mode, Tok};
    // one printable character (string slots are restricted to printable ASCII)
    let any = Regexp::range(&' ', &'~');
    let not_colon = alt(vec![Regexp::range(&' ', &'9'), Regexp::range(&';', &'~')]);
    let lit = |c: char| -> Regexp {
        if a.ignore_case {
            let lower = crate::eval::lower_char(c);
            let mut forms: Vec<Regexp> = vec![Regexp::literal(&c.to_string())];
            for u in c.to_uppercase().chain(lower.to_uppercase()).chain(std::iter::once(lower)) {
                if u != c && crate::eval::lower_char(u) == lower {
                    forms.push(Regexp::literal(&u.to_string()));
                }
            }
            alt(forms)
        } else {
            Regexp::literal(&c.to_string())
        }
    };
    let seq = |toks: &[Tok], flags: &[bool]| -> Regexp {
        let mut parts: Vec<Regexp> = Vec::new();
        for (i, t) in toks.iter().enumerate() {
            let colon_ok = flags.get(i).copied().unwrap_or(true);
            parts.push(match t {
                Tok::Lit(c) if c.is_ascii_graphic() || *c == ' ' => lit(*c),
                Tok::Lit(_) => Regexp::empty(), // never matches a printable-ASCII string
                Tok::One => if colon_ok { any.clone() } else { not_colon.clone() },
                Tok::Run => if colon_ok { any.clone().star() } else { not_colon.clone().star() },
            });
        }
        cat(parts)
    };
    match a.mode {
        Mode::Plain => seq(&a.toks, &vec![true; a.toks.len()]),
        Mode::Resource => seq(&a.toks, &crate::matching::wildcard_colon_flags(&a.toks, Mode::Resource)),
        Mode::Arn => {
            // six parts; parts 1-5 contain no colon; a lone `*` needs only five colons
            let colon = Regexp::literal(":");
            let free = |n: usize| -> Regexp {
                let mut v = Vec::new();
                for _ in 0..n {
                    v.push(not_colon.clone().star());
                    v.push(colon.clone());
                }
                cat(v)
            };
            if a.toks == [Tok::Run] {
                return cat(vec![free(5), any.clone().star()]);
            }
            let mut parts: Vec<&[Tok]> = Vec::new();
            let mut start = 0;
            for (i, t) in a.toks.iter().enumerate() {
                if parts.len() == 5 {
                    break;
                }
                if *t == Tok::Lit(':') {
                    parts.push(&a.toks[start..i]);
                    start = i + 1;
                }
            }
            if parts.len() < 5 {
                return Regexp::empty();
            }
            parts.push(&a.toks[start..]);
            let mut v = Vec::new();
            for (i, p) in parts.iter().enumerate() {
                if i < 5 {
                    // within a part, wildcards cannot match ':'
                    v.push(seq(p, &vec![false; p.len()]));
                    v.push(colon.clone());
                } else {
                    v.push(seq(p, &vec![true; p.len()]));
                }
            }
            cat(v)
        }
    }
}
