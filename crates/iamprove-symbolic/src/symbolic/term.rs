//! Our own term IR. Constructors fold constants and flatten, so trivial queries never reach the
//! solver and tests can inspect terms. Only [`crate::solver`] turns terms into Z3 terms.

use crate::literal::{Decimal, IpNet};
use crate::model::Cmp;
use iamprove_core::fxhash::FxHashSet;
use std::rc::Rc;

/// A shared term.
pub type T = Rc<Term>;

/// Variables are indices into the [`Vars`](crate::symbolic::encode::Vars) registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Term {
    /// A constant.
    Const(bool),
    /// A free Boolean (key presence, a Bool-typed value, an abstracted predicate).
    Bool(usize),
    /// Negation.
    Not(T),
    /// Conjunction (empty: true).
    And(Vec<T>),
    /// Disjunction (empty: false).
    Or(Vec<T>),
    /// The class variable of string slot `slot` takes one of `classes`.
    ClassIn {
        /// The slot.
        slot: usize,
        /// The allowed classes.
        classes: Vec<u32>,
    },
    /// Numeric value of a key slot compared with a literal (value OP literal).
    Num {
        /// The slot.
        slot: usize,
        /// The comparison.
        cmp: Cmp,
        /// The literal.
        lit: Decimal,
    },
    /// Date value (epoch ms) compared with a literal.
    Date {
        /// The slot.
        slot: usize,
        /// The comparison.
        cmp: Cmp,
        /// The literal (epoch ms).
        lit: i64,
    },
    /// IP value in a network.
    Ip {
        /// The slot.
        slot: usize,
        /// The network.
        net: IpNet,
    },
    /// The number of values of multivalued key `key` is greater than `n`.
    CountGt {
        /// The multivalued key's index.
        key: usize,
        /// The bound.
        n: u32,
    },
}

/// True.
pub fn tt() -> T {
    Rc::new(Term::Const(true))
}
/// False.
pub fn ff() -> T {
    Rc::new(Term::Const(false))
}
/// The constant `b`.
pub fn konst(b: bool) -> T {
    Rc::new(Term::Const(b))
}
/// Boolean variable `i`.
pub fn bvar(i: usize) -> T {
    Rc::new(Term::Bool(i))
}

/// Whether `t` is the constant true.
pub fn is_true(t: &T) -> bool {
    matches!(**t, Term::Const(true))
}
/// Whether `t` is the constant false.
pub(crate) fn is_false(t: &T) -> bool {
    matches!(**t, Term::Const(false))
}

/// Negation, folded.
pub fn not(t: T) -> T {
    match &*t {
        Term::Const(b) => konst(!b),
        Term::Not(inner) => inner.clone(),
        _ => Rc::new(Term::Not(t)),
    }
}

/// Conjunction, flattened and folded.
pub fn and(items: impl IntoIterator<Item = T>) -> T {
    let mut out: Vec<T> = Vec::new();
    for t in items {
        match &*t {
            Term::Const(true) => {}
            Term::Const(false) => return ff(),
            Term::And(inner) => out.extend(inner.iter().cloned()),
            _ => out.push(t),
        }
    }
    dedup(&mut out);
    match out.len() {
        0 => tt(),
        1 => out.pop().unwrap_or_else(tt),
        _ => Rc::new(Term::And(out)),
    }
}

/// Disjunction, flattened and folded.
pub fn or(items: impl IntoIterator<Item = T>) -> T {
    let mut out: Vec<T> = Vec::new();
    for t in items {
        match &*t {
            Term::Const(false) => {}
            Term::Const(true) => return tt(),
            Term::Or(inner) => out.extend(inner.iter().cloned()),
            _ => out.push(t),
        }
    }
    dedup(&mut out);
    match out.len() {
        0 => ff(),
        1 => out.pop().unwrap_or_else(ff),
        _ => Rc::new(Term::Or(out)),
    }
}

fn dedup(v: &mut Vec<T>) {
    if v.len() < 2 {
        return;
    }
    // by pointer for compound terms, structurally for leaves (cheap to hash)
    let mut ptrs = FxHashSet::default();
    let mut leaves = FxHashSet::default();
    v.retain(|t| match &**t {
        Term::And(_) | Term::Or(_) | Term::Not(_) => ptrs.insert(Rc::as_ptr(t) as usize),
        _ => leaves.insert(t.clone()),
    });
}

/// `a → b`.
pub fn implies(a: T, b: T) -> T {
    or([not(a), b])
}

/// `if c then a else b`.
pub(crate) fn ite(c: T, a: T, b: T) -> T {
    or([and([c.clone(), a]), and([not(c), b])])
}

/// Class membership, folded when trivially empty or full (`size` = number of classes).
pub(crate) fn class_in(slot: usize, mut classes: Vec<u32>, size: u32) -> T {
    classes.sort_unstable();
    classes.dedup();
    if classes.is_empty() {
        return ff();
    }
    if classes.len() as u32 >= size {
        return tt();
    }
    Rc::new(Term::ClassIn { slot, classes })
}

/// Evaluate a term under an assignment (used to check models and in tests).
pub trait Assignment {
    /// Value of Boolean variable `i`.
    fn bool(&self, i: usize) -> bool;
    /// Class of string slot `slot`.
    fn class(&self, slot: usize) -> u32;
    /// Whether numeric slot `slot` compares with `lit` as `cmp` says (false if absent or not a number).
    fn num(&self, slot: usize, cmp: Cmp, lit: &Decimal) -> bool;
    /// Whether date slot `slot` compares with `lit` as `cmp` says.
    fn date(&self, slot: usize, cmp: Cmp, lit: i64) -> bool;
    /// Whether IP slot `slot` is in `net`.
    fn ip(&self, slot: usize, net: &IpNet) -> bool;
    /// Value count of multivalued key `key`.
    fn count(&self, key: usize) -> u32;
}

/// Evaluate a term under an assignment.
pub fn eval(t: &Term, a: &dyn Assignment) -> bool {
    match t {
        Term::Const(b) => *b,
        Term::Bool(i) => a.bool(*i),
        Term::Not(x) => !eval(x, a),
        Term::And(xs) => xs.iter().all(|x| eval(x, a)),
        Term::Or(xs) => xs.iter().any(|x| eval(x, a)),
        Term::ClassIn { slot, classes } => classes.binary_search(&a.class(*slot)).is_ok(),
        Term::Num { slot, cmp, lit } => a.num(*slot, *cmp, lit),
        Term::Date { slot, cmp, lit } => a.date(*slot, *cmp, *lit),
        Term::Ip { slot, net } => a.ip(*slot, net),
        Term::CountGt { key, n } => a.count(*key) > *n,
    }
}

/// Number of nodes (shared nodes counted once per occurrence), for statistics.
pub fn size(t: &Term) -> usize {
    match t {
        Term::Not(x) => 1 + size(x),
        Term::And(xs) | Term::Or(xs) => 1 + xs.iter().map(|x| size(x)).sum::<usize>(),
        _ => 1,
    }
}

/// Decimal helper: the integer `v * 10^scale` if exact.
pub fn scaled(d: &Decimal, scale: u32) -> Option<i128> {
    if d.scale > scale {
        return None;
    }
    d.mant.checked_mul(10i128.checked_pow(scale - d.scale)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_fold() {
        assert!(is_true(&and([tt(), tt()])));
        assert!(is_false(&and([bvar(0), ff()])));
        assert!(is_true(&or([bvar(0), tt()])));
        assert_eq!(not(not(bvar(3))), bvar(3));
        assert_eq!(and([bvar(1)]), bvar(1));
        assert_eq!(and([bvar(1), bvar(1)]), bvar(1));
        assert!(is_false(&class_in(0, vec![], 4)));
        assert!(is_true(&class_in(0, vec![0, 1, 2, 3], 4)));
        match &*and([and([bvar(1), bvar(2)]), bvar(3)]) {
            Term::And(v) => assert_eq!(v.len(), 3),
            other => panic!("not flattened: {other:?}"),
        }
    }
}
