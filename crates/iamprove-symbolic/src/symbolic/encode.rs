//! The encoder: the evaluator's rules (`crate::eval`) compiled to terms over a symbolic request.
//!
//! String fields (action, resource, principal, each value of a string condition key) never reach
//! the solver as strings. Every distinct pattern that tests a field is an *atom*; a statement
//! element (a union of patterns) is a *predicate*. [`crate::automata::partition`] computes the
//! exact set of realisable atom vectors of each field, projected onto predicates, and the field
//! becomes one integer "class" variable. A pattern that is exactly one policy variable under
//! exact comparison becomes an exact equality between two slots of one domain ([`VarEq`]);
//! other patterns containing unresolved policy variables are abstracted by free Booleans, tied
//! by facts that hold for every value, and refined lazily (see [`crate::query`]).

use super::term::*;
use crate::automata::{self, Pattern, PatternSpec};
use crate::matching::{self, Tok};
use crate::model::*;
use crate::request::{
    claim_key_provider, is_saml_key, Context, Principal, PrincipalKind, SAML_ACTIONS,
    WEB_IDENTITY_ACTIONS, WEB_IDENTITY_HOSTS,
};
use crate::rules::{entry_grant, not_principal_excludes, Grant, RCP_SERVICES};
use iamprove_core::fxhash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;
use std::rc::Rc;

/// One atom: a pattern over one field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AtomKey {
    /// The pattern's tokens.
    pub toks: Vec<Tok>,
    /// How `*`, `?` and `:` interact.
    pub mode: matching::Mode,
    /// Case-insensitive (`StringEqualsIgnoreCase`).
    pub ignore_case: bool,
}

impl AtomKey {
    /// An atom from a glob with wildcards.
    pub fn glob(s: &str, mode: matching::Mode) -> AtomKey {
        AtomKey {
            toks: matching::tokens(s, true),
            mode,
            ignore_case: false,
        }
    }
    /// An atom that matches exactly this string.
    pub fn literal(s: &str) -> AtomKey {
        AtomKey {
            toks: matching::tokens(s, false),
            mode: matching::Mode::Plain,
            ignore_case: false,
        }
    }
    /// The atom as an automata pattern.
    pub fn spec(&self) -> PatternSpec {
        PatternSpec {
            toks: self
                .toks
                .iter()
                .map(|t| match t {
                    Tok::Lit(c) => automata::Tok::Char(*c),
                    Tok::Run => automata::Tok::AnyRun,
                    Tok::One => automata::Tok::AnyChar,
                    Tok::Digit => automata::Tok::Digit,
                    Tok::RegionRun => automata::Tok::RegionRun,
                    Tok::BucketChar => automata::Tok::BucketChar,
                    Tok::BucketRun => automata::Tok::BucketRun,
                    Tok::OneChar { colon } => automata::Tok::OneChar { colon: *colon },
                })
                .collect(),
            mode: match self.mode {
                matching::Mode::Plain => automata::Mode::Plain,
                matching::Mode::Resource => automata::Mode::Resource,
                matching::Mode::Arn => automata::Mode::Arn,
                matching::Mode::Format => automata::Mode::Format,
            },
            ignore_case: self.ignore_case,
        }
    }
    /// The atom as a glob (for messages).
    pub fn text(&self) -> String {
        self.toks
            .iter()
            .map(|t| match t {
                Tok::Lit(c) => *c,
                Tok::Run | Tok::RegionRun | Tok::BucketRun => '*',
                Tok::One | Tok::Digit | Tok::OneChar { .. } | Tok::BucketChar => '?',
            })
            .collect()
    }
}

/// A string domain: the atoms and predicates over one kind of field.
#[derive(Debug, Default)]
pub struct Domain {
    /// The field the domain covers (`action`, `resource`, a key).
    pub name: String,
    /// The distinct patterns tested on the field.
    pub atoms: Vec<AtomKey>,
    atom_idx: FxHashMap<AtomKey, usize>,
    /// Each predicate is a union of atoms.
    pub preds: Vec<Vec<usize>>,
    pred_idx: FxHashMap<Vec<usize>, usize>,
    /// After [`Encoder::partition`]: the classes, each with its predicate vector and witness.
    pub classes: Vec<DomainClass>,
    /// The atoms compiled to automata.
    pub compiled: Vec<Pattern>,
    /// Candidate witnesses (e.g. catalog action names).
    pub prefer: Vec<String>,
    /// The partition exceeded its limits: each (slot, predicate) is a free Boolean, constrained by
    /// the predicates' inclusions and disjointness, and realised lazily (`query::realize_lazy`).
    pub fallback: bool,
    /// With `fallback`, when only some groups of overlapping atoms exceeded the budget
    /// (`automata::partition_predicates_partial`), at most half of the atoms: those groups'
    /// atoms, sorted. `classes` then holds the other groups' classes, and the slot's class
    /// variable has one more value, [`Domain::lazy_class`]: a string matching one of these
    /// atoms, whose predicates are Booleans realised lazily like a wholly lazy field's. Empty
    /// with `fallback`: every predicate is lazy.
    pub lazy_atoms: Vec<usize>,
}

#[derive(Debug, Clone)]
/// One realisable class of a domain.
pub struct DomainClass {
    /// Which predicates hold on the class.
    pub preds: Vec<bool>,
    /// Which atoms match it.
    pub atoms: automata::Bits,
    /// A string of the class.
    pub witness: String,
}

impl Domain {
    /// The class value that stands for "a lazily realised atom matches" in a domain partitioned
    /// except for some groups (see [`Domain::lazy_atoms`]).
    pub fn lazy_class(&self) -> Option<u32> {
        (self.fallback && !self.lazy_atoms.is_empty()).then_some(self.classes.len() as u32)
    }

    fn atom(&mut self, a: AtomKey) -> usize {
        if let Some(&i) = self.atom_idx.get(&a) {
            return i;
        }
        let i = self.atoms.len();
        self.atom_idx.insert(a.clone(), i);
        self.atoms.push(a);
        i
    }
    fn pred(&mut self, mut atoms: Vec<usize>) -> usize {
        atoms.sort_unstable();
        atoms.dedup();
        if let Some(&i) = self.pred_idx.get(&atoms) {
            return i;
        }
        let i = self.preds.len();
        self.pred_idx.insert(atoms.clone(), i);
        self.preds.push(atoms);
        i
    }
}

/// A value slot: one value of a request field or context key.
#[derive(Debug, Clone)]
pub struct Slot {
    /// Slot name (`action`, `resource`, key and value index).
    pub name: String,
    /// String domain used by this slot, if any.
    pub domain: Option<usize>,
}

/// How a context key is modelled.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    /// Lowercased key.
    pub key: String,
    /// The key as first written.
    pub raw: String,
    /// Multivalued (N value slots and a count).
    pub multi: bool,
    /// Value slots (1 for single-valued keys, N for multivalued ones).
    pub slots: Vec<usize>,
    /// Index into `Vars::counts` for multivalued keys; presence var for single-valued ones.
    pub presence: usize,
    /// Numeric scale used for this key's integer encoding (values are int / 10^scale).
    pub num_scale: u32,
    /// Operator families the key is used with (one encoding each).
    pub families: Vec<Family>,
}

/// A pattern with an unresolved policy variable, abstracted as a free Boolean.
#[derive(Debug, Clone)]
pub struct AbstractAtom {
    /// The free Boolean standing for the pattern.
    pub var: usize,
    /// The slot the pattern tests.
    pub slot: usize,
    /// The pattern, with its variables.
    pub template: Template,
    /// How `*`, `?` and `:` interact.
    pub mode: matching::Mode,
    /// Case-insensitive.
    pub ignore_case: bool,
}

impl AbstractAtom {
    /// The pattern with its variables resolved to `toks` (`Template::resolve`), compiled in the
    /// atom's mode and case.
    pub fn pattern(&self, toks: Vec<Tok>) -> Pattern {
        Pattern::compile(
            &AtomKey {
                toks,
                mode: self.mode,
                ignore_case: self.ignore_case,
            }
            .spec(),
        )
    }
}

/// `slot_a == slot_b` as strings: a pattern that is exactly one policy variable (`${v}`),
/// compared for exact equality with a key that shares `v`'s string domain
/// (`Encoder::link_variable_equalities`).
#[derive(Debug, Clone)]
pub struct VarEq {
    /// The policy variable (its key's slot).
    pub var: usize,
    /// One compared slot.
    pub a: usize,
    /// The other compared slot.
    pub b: usize,
}

/// The variables a query uses.
#[derive(Debug, Default)]
pub struct Vars {
    /// Names of the Boolean variables.
    pub bools: Vec<String>,
    /// The value slots.
    pub slots: Vec<Slot>,
    /// Multivalued keys: (name, max count).
    pub counts: Vec<(String, u32)>,
}

impl Vars {
    /// A new Boolean variable; its index.
    pub(crate) fn new_bool(&mut self, name: String) -> usize {
        self.bools.push(name);
        self.bools.len() - 1
    }
}

/// Whether the principal is fixed (scenario mode) or symbolic (single-policy modes).
#[derive(Debug, Clone)]
pub enum PrincipalMode {
    /// A scenario's principal.
    Fixed(Principal),
    /// Symbolic principal: a string slot over principal ARNs, service names, `anonymous` and
    /// federated providers; its derived keys are linked to it by `Encoder::link_principal_keys`.
    Symbolic {
        /// The principal's string slot.
        slot: usize,
    },
}

/// The slot of the request's action.
pub const ACTION_SLOT: usize = 0;
/// The slot of the request's resource.
pub const RESOURCE_SLOT: usize = 1;

/// The encoder: the evaluator's rules as terms over a symbolic request (mirrors `eval.rs` function by function).
pub struct Encoder {
    /// The variables.
    pub vars: Vars,
    /// The string domains (action, resource, principal, string keys).
    pub domains: Vec<Domain>,
    /// Fixed or symbolic principal.
    pub principal: PrincipalMode,
    /// The context keys the policies use, by lowercased name.
    pub keys: BTreeMap<String, KeyInfo>,
    /// Context values fixed by the scenario (and derived from a fixed principal).
    pub fixed: Context,
    /// Fixed resource account (scenario `resource_account`).
    pub resource_account: Option<String>,
    /// Patterns abstracted because of policy variables.
    pub abstract_atoms: Vec<AbstractAtom>,
    /// Exact equalities between a key and a policy variable (`StringEquals k = ${v}`).
    pub var_eqs: Vec<VarEq>,
    /// Some [`VarEq`] could not be made exact (its domain is unpartitioned, or a singleton check
    /// ran out of budget): a model may be spurious, so an answer after refinement is not a proof.
    pub vars_inexact: bool,
    /// Constraints that every request satisfies (domain shapes, linked keys).
    pub background: Vec<T>,
    /// The actions (lower case) whose well-formed resources include a shape the policies pair
    /// with them beyond the catalog (`Encoder::well_formed_resources`).
    pub shaped_actions: Vec<String>,
    /// Notes for the report (bounds, abstractions).
    pub notes: Vec<String>,
    /// The symbolic principal is an IAM user or role session (never anonymous).
    pub identity_only: bool,
    /// (action element, resource patterns) of every statement of the query: the resource shapes
    /// the policies themselves pair with an action ([`Encoder::well_formed_resources`]).
    declared: Vec<(ActionElem, Vec<Template>)>,
    /// What a proof relies on beyond the inputs (no silent narrowing: a verdict lists every
    /// modelling assumption it depends on).
    pub assumptions: Vec<String>,
    memo: FxHashMap<(usize, usize), T>,
    /// For slots of unpartitioned domains: (slot, predicate) → Boolean variable.
    pub pred_vars: FxHashMap<(usize, usize), usize>,
}

/// The domain index of a slot's field: action=0, resource=1, principal=2, then keys.
/// The share of the budget that a partition's first try over atom vectors gives a group
/// without prefix structure (see [`Encoder::partition`]).
const FIRST_TRY: usize = 10;

/// Largest (classes × predicates) of a partly partitioned field (`Domain::lazy_atoms`); a larger
/// one is realised lazily as a whole.
const HYBRID_MAX: usize = 40_000;

const ACTION_DOMAIN: usize = 0;
const RESOURCE_DOMAIN: usize = 1;
const PRINCIPAL_DOMAIN: usize = 2;

/// A `Format` pattern as an atom of the resource field.
fn format_key(toks: Vec<Tok>) -> AtomKey {
    AtomKey {
        toks,
        mode: matching::Mode::Format,
        ignore_case: false,
    }
}

/// What a proof relies on when requests are restricted to well-formed resources.
pub(crate) const WELL_FORMED_ASSUMPTION: &str = "well-formed requests: an action named literally acts on `*` or on resources of the ARN formats the action catalog lists for it (or of a shape the policies themselves pair with it that overlaps none of those formats: a resource type the catalog does not list for it yet); in those formats a region is empty or a run of `a-z`, `0-9` and `-`, an account is 12 digits, `aws`, or empty (regional formats only), a bucket name is letters, digits, `.`, `-` and `_`, and every other placeholder but a path (a name, an ID, a key) is never empty";

/// At most this many distinct ARN formats constrain the resource field of one query
/// ([`Encoder::well_formed_resources`]).
pub(crate) const WELL_FORMED_BUDGET: usize = 48;

/// Principal-derived keys (linked to a symbolic principal by [`Encoder::link_principal_keys`]).
pub(crate) const PRINCIPAL_KEYS: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:userid",
    "aws:username",
    "aws:principalisawsservice",
    "aws:principalservicename",
];

/// Shapes of a symbolic principal (ARN mode): the forms `Principal::parse` accepts.
const SHAPE_USER: &str = "arn:?*:iam::?*:user/?*";
const SHAPE_ROLE: &str = "arn:?*:iam::?*:role/?*";
const SHAPE_ROOT: &str = "arn:?*:iam::?*:root";
const SHAPE_SESSION: &str = "arn:?*:sts::?*:assumed-role/?*/?*";
const SHAPE_FED_USER: &str = "arn:?*:sts::?*:federated-user/?*";
const SHAPE_OIDC: &str = "arn:?*:iam::?*:oidc-provider/?*";
const SHAPE_SAML: &str = "arn:?*:iam::?*:saml-provider/?*";
/// The resource of a federated caller's request: a role (mirrors `eval::is_role_arn`).
const ROLE_RESOURCE: &str = "arn:*:iam:*:*:role/*";

/// A condition operator under which a pattern that is exactly `${v}` means "equals v's value"
/// (substituted text is literal, so `StringLike` compares exactly too; IAM-SEMANTICS §3.7).
fn exact_string_op(c: &Condition) -> bool {
    matches!(
        c.op.base.string_match(),
        Some(StrMatch::Exact) | Some(StrMatch::Like)
    ) && !matches!(c.values, CondValues::Binary(_))
}

/// `${key}` or `${key, 'default'}` as the whole pattern: (key, default).
fn pure_variable(t: &Template) -> Option<(&str, Option<&str>)> {
    match t.pieces.as_slice() {
        [Piece::Var { key, default }] => Some((key.as_str(), default.as_deref())),
        _ => None,
    }
}

/// The same pieces but for the defaults of variables.
fn same_but_defaults(a: &Template, b: &Template) -> bool {
    a.pieces.len() == b.pieces.len()
        && a.pieces.iter().zip(&b.pieces).all(|(x, y)| match (x, y) {
            (Piece::Var { key: k, .. }, Piece::Var { key: l, .. }) => k == l,
            _ => x == y,
        })
}

/// A plain pattern with exactly one variable and otherwise only literals and wildcards: the
/// variable's key, and whether everything around the variable can match the empty string (then
/// the pattern matches its variable's own value; otherwise it never does: a literal or `?` makes
/// a match longer than the value). Case-insensitive patterns too: a value equals itself ignoring
/// case, and per-character lowercasing keeps lengths.
pub(crate) fn one_variable(t: &Template, mode: matching::Mode) -> Option<(&str, bool)> {
    if mode != matching::Mode::Plain {
        return None;
    }
    let mut key = None;
    let mut nullable = true;
    for p in &t.pieces {
        match p {
            Piece::Var { key: k, .. } => {
                if key.replace(k.as_str()).is_some() {
                    return None; // two variables
                }
            }
            Piece::Star => {}
            Piece::Lit(s) if s.is_empty() => {}
            Piece::Lit(_) | Piece::Quest => nullable = false,
        }
    }
    Some((key?, nullable))
}

/// The pattern with every variable replaced by `*`: a superset of the pattern under any value
/// (substituted text is literal). Only where a `*` there matches any run: plain patterns, and
/// `Resource`/ARN patterns whose variables come after the fifth colon.
pub fn widened(t: &Template, mode: matching::Mode, ignore_case: bool) -> Option<AtomKey> {
    let mut toks = Vec::new();
    let mut colons = 0usize;
    for p in &t.pieces {
        match p {
            Piece::Lit(s) => {
                colons += s.matches(':').count();
                toks.extend(s.chars().map(Tok::Lit));
            }
            Piece::Star => toks.push(Tok::Run),
            Piece::Quest => toks.push(Tok::One),
            Piece::Var { .. } => {
                if mode != matching::Mode::Plain && colons < 5 {
                    return None;
                }
                toks.push(Tok::Run);
            }
        }
    }
    Some(AtomKey {
        toks,
        mode,
        ignore_case,
    })
}

/// The loose `Format` shape of a resource pattern with policy variables (as
/// `declared_shapes` reads plain ones): a variable may hold any text, `:` included, so it is
/// any run (`?` in `Format`). Before this, such a pattern stood for any resource, which a
/// catalog format always "covers", so the shape was dropped: a false proof once the pattern's
/// truth is tied to the resource (found by `tests/variables.rs`'s generator).
fn declared_template_shape(t: &Template) -> Vec<Tok> {
    let mut colons = 0;
    let mut out = Vec::new();
    for p in &t.pieces {
        match p {
            Piece::Lit(s) => {
                for c in s.chars() {
                    if c == ':' {
                        colons += 1;
                    }
                    out.push(Tok::Lit(c));
                }
            }
            Piece::Var { .. } => out.push(Tok::One),
            Piece::Star | Piece::Quest if colons >= 5 || colons == 0 => out.push(Tok::One),
            Piece::Star | Piece::Quest => out.push(Tok::Run),
        }
    }
    out
}

/// The colons in the literal pieces of a template's prefix (five fix an ARN's resource part).
fn literal_colons(pieces: &[Piece]) -> usize {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Lit(s) => s.matches(':').count(),
            _ => 0,
        })
        .sum()
}

/// `(before, variable, after)` of a template with exactly one variable.
fn split_at_var(t: &Template) -> Option<(&[Piece], &Piece, &[Piece])> {
    let mut at = None;
    for (i, p) in t.pieces.iter().enumerate() {
        if matches!(p, Piece::Var { .. }) {
            if at.is_some() {
                return None;
            }
            at = Some(i);
        }
    }
    let i = at?;
    Some((&t.pieces[..i], &t.pieces[i], &t.pieces[i + 1..]))
}

/// The limits of the searches that decide facts between abstracted patterns
/// ([`plain_included`], [`templates_disjoint`]); an exceeded budget decides no fact.
const TEMPLATE_FACT_LIMITS: automata::Limits = automata::Limits {
    max_states: 20_000,
    max_steps: 1_000_000,
};

/// `head` (literal) followed by `pieces` as a plain, case-sensitive pattern; `None` when a piece
/// is a variable.
fn plain_pattern(head: &[char], pieces: &[Piece]) -> Option<Pattern> {
    let mut toks: Vec<Tok> = head.iter().copied().map(Tok::Lit).collect();
    for p in pieces {
        match p {
            Piece::Lit(s) => toks.extend(s.chars().map(Tok::Lit)),
            Piece::Star => toks.push(Tok::Run),
            Piece::Quest => toks.push(Tok::One),
            Piece::Var { .. } => return None,
        }
    }
    let key = AtomKey {
        toks,
        mode: matching::Mode::Plain,
        ignore_case: false,
    };
    Some(Pattern::compile(&key.spec()))
}

/// Is every string of plain pattern `small` matched by plain pattern `big` (no variables)?
fn plain_included(small: &[Piece], big: &[Piece]) -> bool {
    let (Some(s), Some(b)) = (plain_pattern(&[], small), plain_pattern(&[], big)) else {
        return false;
    };
    matches!(
        automata::find_witness(&[&s], &[&b], &TEMPLATE_FACT_LIMITS),
        Ok(None)
    )
}

/// Does piece `p` of a true abstracted pattern stand for the same text as piece `q` of another?
/// Equal pieces do; so does a variable without a default beside the same variable with one:
/// the first pattern holds only while the variable is present (`Encoder::templates_pred`), and
/// then both read its value (`b/${aws:PrincipalTag/team}/…` and
/// `b/${aws:PrincipalTag/team, 'shared'}/…`).
fn reads_as(p: &Piece, q: &Piece) -> bool {
    match (p, q) {
        (
            Piece::Var {
                key: a,
                default: None,
            },
            Piece::Var { key: b, .. },
        ) => a == b,
        _ => p == q,
    }
}

/// Does abstracted pattern `a` match only strings that `b` matches, whatever the value of
/// their one shared variable `x`? Sufficient conditions only (never a guess):
/// - same mode, `a = A2·x·B2`, `b = A1·x·B1` with `A2 ⊆ A1` and `B2 ⊆ B1` as plain patterns
///   (a string `p·x·q` of `a` is then one of `b`); in `Resource`/ARN mode only with `A1 = A2`
///   holding five colons, after which wildcards are plain;
/// - `b` is the plain `*${x}Q` with a literal `Q` and `a` ends with `${x}Q` (any mode: a
///   pattern ending in literal text matches only strings ending in it);
/// - `b` is the plain `P${x}*` with a literal `P`, `a` a plain or `Resource` pattern starting
///   with `P${x}`.
fn template_included(a: &AbstractAtom, b: &AbstractAtom) -> bool {
    if a.ignore_case || b.ignore_case {
        return false;
    }
    // `b` = X·`*` and `a` starts with the same pieces X, variables and defaults included
    // (`corp/${aws:PrincipalTag/team}/${aws:username}/*` ⊆ `corp/${aws:PrincipalTag/team}/*`),
    // for any number of variables: a string of `a` has a prefix of X under the same values.
    // In ARN modes only when X has five colons, so that the last `*` is a plain run.
    if a.mode == b.mode {
        if let Some((Piece::Star, x)) = b.template.pieces.split_last() {
            let star_is_a_run = match a.mode {
                matching::Mode::Plain => true,
                matching::Mode::Resource | matching::Mode::Arn => literal_colons(x) >= 5,
                _ => false,
            };
            if star_is_a_run
                && !x.is_empty()
                && a.template.pieces.len() >= x.len()
                && a.template.pieces.iter().zip(x).all(|(p, q)| reads_as(p, q))
            {
                return true;
            }
        }
    }
    let (Some((a1, va, a2)), Some((b1, vb, b2))) =
        (split_at_var(&a.template), split_at_var(&b.template))
    else {
        return false;
    };
    if !reads_as(va, vb) {
        return false;
    }
    let literal = |ps: &[Piece]| ps.iter().all(|p| matches!(p, Piece::Lit(_)));
    let plain = matching::Mode::Plain;
    if b.mode == plain && b1 == [Piece::Star] && literal(b2) && a2 == b2 {
        return true;
    }
    if b.mode == plain
        && b2 == [Piece::Star]
        && literal(b1)
        && a1 == b1
        && matches!(a.mode, matching::Mode::Plain | matching::Mode::Resource)
    {
        return true;
    }
    if a.mode != b.mode {
        return false;
    }
    if a.mode == plain {
        return plain_included(a1, b1) && plain_included(a2, b2);
    }
    matches!(a.mode, matching::Mode::Resource | matching::Mode::Arn)
        && a1 == b1
        && literal_colons(a1) >= 5
        && plain_included(a2, b2)
}

/// Do abstracted patterns `a` and `b` match no common string for any value of their one shared
/// variable `x`, while `x` is present? Then the variable's key is returned. Exact for
/// `a = L·x·A` and `b = L·w·x·B` with literal `L`, `w` (either way round) and `*`, `?` after `x`
/// plain runs (a plain pattern, or an ARN pattern whose `L` holds five colons): a common string
/// `L·t·α = L·w·t·β` (`α` of `A`, `β` of `B`) makes `t` a prefix of `w w w …`, so that
/// `w·t = t·r` with `r` the rotation of `w` by `|t|` mod `|w|`, and `α = r·β`. So they are
/// disjoint exactly when `A` and `r·B` share no string for every rotation `r` of `w` (`w`
/// empty: `A` and `B`). `arn:aws:s3:::${aws:PrincipalTag/team}-data/*` and
/// `arn:aws:s3:::corp/${aws:PrincipalTag/team}/*` are: `-data/` starts no rotation of `corp/`.
fn templates_disjoint(a: &AbstractAtom, b: &AbstractAtom) -> Option<String> {
    if a.ignore_case || b.ignore_case || a.mode != b.mode {
        return None;
    }
    let (Some((a1, va, a2)), Some((b1, vb, b2))) =
        (split_at_var(&a.template), split_at_var(&b.template))
    else {
        return None;
    };
    let (Piece::Var { key: ka, .. }, Piece::Var { key: kb, .. }) = (va, vb) else {
        return None;
    };
    if ka != kb {
        return None;
    }
    let literal = |ps: &[Piece]| -> Option<String> {
        ps.iter()
            .map(|p| match p {
                Piece::Lit(s) => Some(s.as_str()),
                _ => None,
            })
            .collect()
    };
    let (la, lb) = (literal(a1)?, literal(b1)?);
    // the shorter prefix first
    let ((short, s_tail), (long, l_tail)) = if la.len() <= lb.len() {
        ((la, a2), (lb, b2))
    } else {
        ((lb, b2), (la, a2))
    };
    let plain_after = match a.mode {
        matching::Mode::Plain => true,
        matching::Mode::Resource => short.matches(':').count() >= 5,
        _ => false,
    };
    if !plain_after {
        return None;
    }
    // (a prefix that is not the other's start: disjoint already, and the partition knows it)
    let w: Vec<char> = long.strip_prefix(short.as_str())?.chars().collect();
    let first = plain_pattern(&[], s_tail)?;
    for k in 0..w.len().max(1) {
        let r: Vec<char> = w.iter().skip(k).chain(w.iter().take(k)).copied().collect();
        let second = plain_pattern(&r, l_tail)?;
        // (an exceeded budget is no proof)
        if !matches!(
            automata::find_witness(&[&first, &second], &[], &TEMPLATE_FACT_LIMITS),
            Ok(None)
        ) {
            return None;
        }
    }
    Some(ka.clone())
}

/// Keys that share one string domain (union of the equal pairs whose variable is a free,
/// single-valued key): key → group name.
#[allow(clippy::type_complexity)]
fn shared_domain_groups(
    pairs: &[(String, String)],
    uses: &BTreeMap<String, (String, u32, bool, Vec<Family>, u32)>,
    fixed: &Context,
) -> BTreeMap<String, String> {
    let mut group: BTreeMap<String, String> = BTreeMap::new();
    let free = |k: &str| !fixed.contains_key(k) && uses.contains_key(k);
    for (k, v) in pairs {
        let single_var = uses.get(v).is_some_and(|u| !u.2);
        if !free(k) || !free(v) || !single_var {
            continue;
        }
        let gk = group.get(k).cloned().unwrap_or_else(|| k.clone());
        let gv = group.get(v).cloned().unwrap_or_else(|| v.clone());
        let target = gk.clone().min(gv.clone());
        for x in [k, v] {
            group.insert(x.clone(), target.clone());
        }
        for g in group.values_mut() {
            if *g == gk || *g == gv {
                *g = target.clone();
            }
        }
    }
    group
}

impl Encoder {
    /// `policies`: everything the query mentions (to size multivalued keys), `fixed`: context
    /// values fixed by the scenario.
    pub fn new(
        principal: Option<Principal>,
        fixed_ctx: Context,
        resource_account: Option<String>,
        statements: &[&Statement],
        identity_only: bool,
    ) -> Encoder {
        let mut vars = Vars::default();
        vars.slots.push(Slot {
            name: "action".into(),
            domain: Some(ACTION_DOMAIN),
        });
        vars.slots.push(Slot {
            name: "resource".into(),
            domain: Some(RESOURCE_DOMAIN),
        });
        let domains = vec![
            Domain {
                name: "action".into(),
                ..Default::default()
            },
            Domain {
                name: "resource".into(),
                ..Default::default()
            },
            Domain {
                name: "principal".into(),
                ..Default::default()
            },
        ];
        let mut fixed = fixed_ctx;
        let principal = match principal {
            Some(p) => {
                for (k, v) in p.derived_keys() {
                    fixed
                        .entry(k.to_owned())
                        .or_insert_with(|| crate::request::CtxValue {
                            key: k.to_owned(),
                            values: vec![v],
                            multi: false,
                        });
                }
                PrincipalMode::Fixed(p)
            }
            None => {
                vars.slots.push(Slot {
                    name: "principal".into(),
                    domain: Some(PRINCIPAL_DOMAIN),
                });
                PrincipalMode::Symbolic { slot: 2 }
            }
        };
        let mut enc = Encoder {
            vars,
            domains,
            principal,
            keys: BTreeMap::new(),
            fixed,
            resource_account,
            abstract_atoms: Vec::new(),
            var_eqs: Vec::new(),
            vars_inexact: false,
            background: Vec::new(),
            shaped_actions: Vec::new(),
            notes: Vec::new(),
            assumptions: Vec::new(),
            identity_only,
            declared: statements
                .iter()
                .filter_map(|s| {
                    let r = s.resource.as_ref().filter(|r| !r.negated)?;
                    Some((s.action.clone(), r.patterns.clone()))
                })
                .collect(),
            memo: FxHashMap::default(),
            pred_vars: FxHashMap::default(),
        };
        enc.scan_keys(statements);
        let services: Vec<String> = statements
            .iter()
            .filter_map(|s| s.principal.as_ref())
            .flat_map(|p| p.entries.iter())
            .filter_map(|e| match e {
                PrincipalEntry::Service(s) => Some(s.clone()),
                _ => None,
            })
            .filter(|s| {
                Principal::parse(s).is_ok_and(|p| matches!(p.kind, PrincipalKind::Service(_)))
            })
            .collect();
        // partitions are isolated: callers come from the partition the policies name (`aws`, the
        // partition a bare account ID stands for, and any other that a principal entry names)
        let mut partitions: Vec<String> = vec!["aws".into()];
        for e in statements
            .iter()
            .filter_map(|s| s.principal.as_ref())
            .flat_map(|p| p.entries.iter())
        {
            let part = match e {
                PrincipalEntry::Account { partition, .. } => Some(partition.clone()),
                PrincipalEntry::Arn(a) | PrincipalEntry::Federated(a) => {
                    a.split(':').nth(1).map(str::to_owned)
                }
                _ => None,
            };
            if let Some(p) = part.filter(|p| !p.is_empty() && !p.contains(['*', '?'])) {
                if !partitions.contains(&p) {
                    partitions.push(p);
                }
            }
        }
        enc.shape_constraints(&services, &partitions, identity_only);
        enc
    }

    /// Decide, before encoding, which keys are multivalued and how many slots they need.
    fn scan_keys(&mut self, statements: &[&Statement]) {
        let mut uses: BTreeMap<String, (String, u32, bool, Vec<Family>, u32)> = BTreeMap::new();
        let note_var =
            |key: &str, uses: &mut BTreeMap<String, (String, u32, bool, Vec<Family>, u32)>| {
                let e = uses
                    .entry(key.to_owned())
                    .or_insert_with(|| (key.to_owned(), 0, false, Vec::new(), 0));
                if !e.3.contains(&Family::String) {
                    e.3.push(Family::String);
                }
            };
        // (key, variable) pairs compared for exact equality: they share one string domain
        let mut equal_pairs: Vec<(String, String)> = Vec::new();
        // the distinct conditions on each key: a multivalued key needs one value per distinct
        // condition (see the slot count below), and policies repeat conditions many times
        let mut distinct: BTreeMap<&str, Vec<&Condition>> = BTreeMap::new();
        for s in statements {
            for c in &s.conditions {
                if let CondValues::Str(ts) = &c.values {
                    if exact_string_op(c) {
                        for t in ts {
                            if let Some((v, _)) = pure_variable(t) {
                                if v != c.key {
                                    equal_pairs.push((c.key.clone(), v.to_owned()));
                                }
                            }
                        }
                    }
                }
                let e = uses
                    .entry(c.key.clone())
                    .or_insert_with(|| (c.key_raw.clone(), 0, false, Vec::new(), 0));
                let seen = distinct.entry(c.key.as_str()).or_default();
                if !seen.contains(&c) {
                    seen.push(c);
                    e.1 += 1;
                }
                if c.op.set.is_some() || is_multivalued_key(&c.key) {
                    e.2 = true;
                }
                // Null needs the string domain too: an empty value counts as null (§3.5)
                let fam = match c.op.base.family() {
                    Family::Arn | Family::Binary | Family::Null => Family::String,
                    f => f,
                };
                if !e.3.contains(&fam) {
                    e.3.push(fam);
                }
                if let CondValues::Num(ns) = &c.values {
                    e.4 = e.4.max(ns.iter().map(|d| d.scale).max().unwrap_or(0));
                }
                if let CondValues::Str(ts) = &c.values {
                    for t in ts {
                        for v in t.vars() {
                            note_var(v, &mut uses);
                        }
                    }
                }
            }
            if let Some(r) = &s.resource {
                for t in &r.patterns {
                    for v in t.vars() {
                        note_var(v, &mut uses);
                    }
                }
            }
        }
        let shared = shared_domain_groups(&equal_pairs, &uses, &self.fixed);
        let mut group_domain: BTreeMap<String, usize> = BTreeMap::new();
        for (key, (raw, count, multi, families, scale)) in uses {
            if self.fixed.contains_key(&key) {
                continue;
            }
            // Exact with `count` = the number of *distinct* conditions on the key: each
            // condition is a quantifier over the request's values (some value satisfies it, or
            // every value does), so from any counterexample's value set keep one value that
            // makes each true "some" condition true and one that makes each false "every"
            // condition false (identical conditions have the same truth and share that value),
            // plus one so that a present key stays present: every condition keeps its truth.
            let n = if multi { count + 1 } else { 1 };
            let mut slots = Vec::new();
            let group = shared.get(&key).cloned();
            let domain = if families.contains(&Family::String) {
                match group.as_ref().and_then(|g| group_domain.get(g)) {
                    Some(&d) => {
                        self.domains[d].name.push_str(&format!(", {raw}"));
                        Some(d)
                    }
                    None => {
                        self.domains.push(Domain {
                            name: format!("context key {raw}"),
                            ..Default::default()
                        });
                        let d = self.domains.len() - 1;
                        if let Some(g) = group {
                            group_domain.insert(g, d);
                        }
                        Some(d)
                    }
                }
            } else {
                None
            };
            for i in 0..n {
                self.vars.slots.push(Slot {
                    name: if multi {
                        format!("{key}[{i}]")
                    } else {
                        key.clone()
                    },
                    domain,
                });
                slots.push(self.vars.slots.len() - 1);
            }
            let presence = if multi {
                self.vars.counts.push((key.clone(), n));
                self.notes.push(format!(
                    "multivalued key `{raw}` is modelled with up to {n} values (enough for an exact answer: one more than the distinct conditions that mention it)"
                ));
                self.vars.counts.len() - 1
            } else {
                self.vars.new_bool(format!("has:{key}"))
            };
            self.keys.insert(
                key.clone(),
                KeyInfo {
                    key,
                    raw,
                    multi,
                    slots,
                    presence,
                    num_scale: scale + 1,
                    families,
                },
            );
        }
    }

    /// Every request has an action of the form `service:name`; a symbolic principal is one of
    /// the principal forms the evaluator accepts, and carries the principal-derived keys.
    fn shape_constraints(
        &mut self,
        services: &[String],
        partitions: &[String],
        identity_only: bool,
    ) {
        let p = self.pred_of(
            ACTION_SLOT,
            vec![AtomKey::glob("?*:?*", matching::Mode::Plain)],
        );
        self.background.push(p);
        if let PrincipalMode::Symbolic { slot } = self.principal {
            let shapes = [
                SHAPE_USER,
                SHAPE_ROLE,
                SHAPE_ROOT,
                SHAPE_SESSION,
                SHAPE_FED_USER,
            ];
            let in_partition = |shape: &str, part: &str| {
                let mut toks = matching::tokens("arn:", false);
                toks.extend(matching::tokens(part, false));
                toks.extend(matching::tokens(&shape["arn:?*".len()..], true));
                AtomKey {
                    toks,
                    mode: matching::Mode::Arn,
                    ignore_case: false,
                }
            };
            let mut arn_shapes: Vec<&str> = if identity_only {
                // identity policies belong to IAM users and roles
                vec![shapes[0], shapes[1], shapes[3]]
            } else {
                shapes.to_vec()
            };
            let mut atoms: Vec<AtomKey> = Vec::new();
            if !identity_only {
                atoms.push(AtomKey::literal("anonymous"));
                atoms.extend(services.iter().map(|s| AtomKey::literal(s)));
                // federated callers: any OIDC or SAML provider, and the providers without an ARN
                arn_shapes.push(SHAPE_OIDC);
                arn_shapes.push(SHAPE_SAML);
                atoms.extend(WEB_IDENTITY_HOSTS.iter().map(|h| AtomKey::literal(h)));
            }
            for shape in arn_shapes {
                for part in partitions {
                    atoms.push(in_partition(shape, part));
                }
            }
            let p = self.pred_of(slot, atoms);
            self.background.push(p);
        }
    }

    /// Predicate: the symbolic principal has one of these shapes (ARN-mode patterns).
    fn shape(&mut self, slot: usize, shapes: &[&str]) -> T {
        let atoms = shapes
            .iter()
            .map(|s| AtomKey::glob(s, matching::Mode::Arn))
            .collect();
        self.pred_of(slot, atoms)
    }

    /// Is the principal an STS federated-user session (GetFederationToken)?
    pub(crate) fn federated_user(&mut self) -> T {
        match &self.principal {
            PrincipalMode::Fixed(p) => konst(matches!(p.kind, PrincipalKind::FederatedUser { .. })),
            PrincipalMode::Symbolic { slot } => {
                let slot = *slot;
                self.shape(slot, &[SHAPE_FED_USER])
            }
        }
    }

    /// Is the principal a web-identity caller / a SAML caller? (`ff()` when impossible.)
    fn federated_shapes(&mut self) -> (T, T) {
        match &self.principal {
            PrincipalMode::Fixed(p) => (
                konst(matches!(p.kind, PrincipalKind::WebIdentity { .. })),
                konst(matches!(p.kind, PrincipalKind::Saml { .. })),
            ),
            PrincipalMode::Symbolic { slot } => {
                let slot = *slot;
                let mut oidc = vec![AtomKey::glob(SHAPE_OIDC, matching::Mode::Arn)];
                oidc.extend(WEB_IDENTITY_HOSTS.iter().map(|h| AtomKey::literal(h)));
                let oidc = self.pred_of(slot, oidc);
                let saml = self.shape(slot, &[SHAPE_SAML]);
                (oidc, saml)
            }
        }
    }

    /// Mirrors the federated branch of `eval::evaluate_with`: a web-identity caller can only
    /// call `sts:AssumeRoleWithWebIdentity` (and `sts:TagSession`, `sts:SetSourceIdentity`), a
    /// SAML caller `sts:AssumeRoleWithSAML` (and the same two), always on a role.
    pub fn federated_action_ok(&mut self) -> T {
        let (oidc, saml) = self.federated_shapes();
        if is_false(&oidc) && is_false(&saml) {
            return tt();
        }
        let role = self.pred_of(
            RESOURCE_SLOT,
            vec![AtomKey::glob(ROLE_RESOURCE, matching::Mode::Arn)],
        );
        let web = self.pred_of(
            ACTION_SLOT,
            WEB_IDENTITY_ACTIONS
                .iter()
                .map(|a| AtomKey::literal(a))
                .collect(),
        );
        let saml_acts = self.pred_of(
            ACTION_SLOT,
            SAML_ACTIONS.iter().map(|a| AtomKey::literal(a)).collect(),
        );
        and([
            implies(oidc, and([web, role.clone()])),
            implies(saml, and([saml_acts, role])),
        ])
    }

    /// The value of a single-valued, string-modelled key is exactly `v` (None: key not modelled
    /// that way, so no constraint can be stated).
    fn key_is(&mut self, key: &str, v: &str) -> Option<T> {
        let info = self.keys.get(key)?.clone();
        if info.multi || info.families != [Family::String] || self.fixed.contains_key(key) {
            return None;
        }
        let eq = self.pred_of(info.slots[0], vec![AtomKey::literal(v)]);
        Some(and([bvar(info.presence), eq]))
    }

    /// Presence of a free key (None when it is fixed or not in the query).
    fn key_present(&self, key: &str) -> Option<T> {
        if self.fixed.contains_key(key) || !self.keys.contains_key(key) {
            return None;
        }
        Some(self.present(key))
    }

    /// Atoms of the (single-valued, string) key's domain, with its value slot.
    fn key_atoms(&self, key: &str) -> Option<(usize, Vec<AtomKey>)> {
        let info = self.keys.get(key)?;
        if info.multi || info.families != [Family::String] || self.fixed.contains_key(key) {
            return None;
        }
        let d = self.vars.slots.get(info.slots[0])?.domain?;
        Some((info.slots[0], self.domains[d].atoms.clone()))
    }

    /// Principal-derived keys as functions of a symbolic principal (IAM-SEMANTICS §3.7, §5):
    /// `aws:PrincipalType`, `aws:PrincipalAccount`, `aws:PrincipalArn`, `aws:username`,
    /// `aws:userid`, `aws:PrincipalIsAWSService`, `aws:PrincipalServiceName` take the values the
    /// evaluator derives for each principal form, as far as the query's patterns can tell them
    /// apart; and a web-identity claim key (`HOST:claim`) or `SAML:*` key is present only for a
    /// caller of that provider or a role session (these keys propagate into web-identity and
    /// SAML sessions). Every constraint holds for every real request (a narrowing of spurious
    /// combinations only); keys of service principals and federated callers stay free.
    /// Call after the query is built (the keys' patterns are known) and before partitioning.
    pub(crate) fn link_principal_keys(&mut self) {
        let PrincipalMode::Symbolic { slot } = self.principal else {
            return;
        };
        let linked = self.keys.keys().any(|k| {
            PRINCIPAL_KEYS.contains(&k.as_str())
                || is_saml_key(k)
                || claim_key_provider(k).is_some()
        });
        if !linked {
            return;
        }
        let mut bg: Vec<T> = Vec::new();
        let user = self.shape(slot, &[SHAPE_USER]);
        let role = self.shape(slot, &[SHAPE_ROLE]);
        let root = self.shape(slot, &[SHAPE_ROOT]);
        let session = self.shape(slot, &[SHAPE_SESSION]);
        let fed_user = self.shape(slot, &[SHAPE_FED_USER]);
        // (identity-policy queries: no anonymous caller, so no `anonymous` value either)
        let anonymous = if self.identity_only {
            ff()
        } else {
            self.pred_of(slot, vec![AtomKey::literal("anonymous")])
        };
        let signed = or([
            user.clone(),
            role.clone(),
            root.clone(),
            session.clone(),
            fed_user.clone(),
        ]);
        // services the shape constraint admits
        let services: Vec<String> = self
            .domains
            .get(PRINCIPAL_DOMAIN)
            .map(|d| {
                d.atoms
                    .iter()
                    .map(AtomKey::text)
                    .filter(|t| {
                        Principal::parse(t)
                            .is_ok_and(|p| matches!(p.kind, PrincipalKind::Service(_)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let service = self.pred_of(slot, services.iter().map(|s| AtomKey::literal(s)).collect());

        // aws:PrincipalType
        for (shape, v) in [
            (user.clone(), "User"),
            (or([role.clone(), session.clone()]), "AssumedRole"),
            (fed_user.clone(), "FederatedUser"),
            (root.clone(), "Account"),
            (anonymous.clone(), "Anonymous"),
        ] {
            if is_false(&shape) {
                continue;
            }
            if let Some(t) = self.key_is("aws:principaltype", v) {
                bg.push(implies(shape, t));
            }
        }
        // aws:PrincipalAccount: the account segment; `anonymous` for anonymous callers
        if let Some(p) = self.key_present("aws:principalaccount") {
            bg.push(implies(signed.clone(), p));
        }
        if !self.identity_only {
            if let Some(t) = self.key_is("aws:principalaccount", "anonymous") {
                bg.push(implies(anonymous.clone(), t));
            }
        }
        if let Some((kslot, atoms)) = self.key_atoms("aws:principalaccount") {
            for a in atoms {
                if a.mode != matching::Mode::Plain {
                    continue;
                }
                let mut toks = matching::tokens("arn:?*:*::", true);
                toks.extend(a.toks.iter().copied());
                toks.extend(matching::tokens(":?*", true));
                let in_acct = self.pred_of(
                    slot,
                    vec![AtomKey {
                        toks,
                        mode: matching::Mode::Arn,
                        ignore_case: a.ignore_case,
                    }],
                );
                let kv = self.pred_of(kslot, vec![a]);
                bg.push(implies(signed.clone(), iff(kv, in_acct)));
            }
        }
        // aws:PrincipalArn: the principal itself for users, roles, roots and federated users;
        // the role's ARN (any path) for sessions; absent for anonymous callers
        if let Some(p) = self.key_present("aws:principalarn") {
            bg.push(implies(signed.clone(), p.clone()));
            bg.push(implies(anonymous.clone(), not(p)));
        }
        if let Some((kslot, atoms)) = self.key_atoms("aws:principalarn") {
            let same = or([user.clone(), role.clone(), root.clone(), fed_user.clone()]);
            let mut accounts: Vec<String> = Vec::new();
            let mut roles: Vec<(String, String, String)> = Vec::new();
            for a in &atoms {
                let kv = self.pred_of(kslot, vec![a.clone()]);
                let pv = self.pred_of(slot, vec![a.clone()]);
                bg.push(implies(same.clone(), iff(kv, pv)));
                collect_arn_facts(&a.text(), &mut accounts, &mut roles);
            }
            if let Some(d) = self.domains.get(PRINCIPAL_DOMAIN) {
                for a in &d.atoms {
                    collect_arn_facts(&a.text(), &mut accounts, &mut roles);
                }
            }
            let role_arn =
                self.pred_of(kslot, vec![AtomKey::glob(SHAPE_ROLE, matching::Mode::Arn)]);
            bg.push(implies(session.clone(), role_arn));
            accounts.sort();
            accounts.dedup();
            for acct in accounts {
                let toks = arn_account_toks(&acct);
                let key = AtomKey {
                    toks,
                    mode: matching::Mode::Arn,
                    ignore_case: false,
                };
                let kv = self.pred_of(kslot, vec![key.clone()]);
                let pv = self.pred_of(slot, vec![key]);
                bg.push(implies(session.clone(), iff(kv, pv)));
            }
            roles.sort();
            roles.dedup();
            for (part, acct, name) in roles {
                let lit = |s: String| matching::tokens(&s, false);
                let mut any_path = lit(format!("arn:{part}:iam::{acct}:role/"));
                any_path.push(Tok::One);
                any_path.push(Tok::Run);
                any_path.extend(lit(format!("/{name}")));
                let kv = self.pred_of(
                    kslot,
                    vec![
                        AtomKey::literal(&format!("arn:{part}:iam::{acct}:role/{name}")),
                        AtomKey {
                            toks: any_path,
                            mode: matching::Mode::Plain,
                            ignore_case: false,
                        },
                    ],
                );
                let mut sess = lit(format!("arn:{part}:sts::{acct}:assumed-role/{name}/"));
                sess.push(Tok::One);
                sess.push(Tok::Run);
                let pv = self.pred_of(
                    slot,
                    vec![AtomKey {
                        toks: sess,
                        mode: matching::Mode::Plain,
                        ignore_case: false,
                    }],
                );
                bg.push(implies(session.clone(), iff(kv, pv)));
            }
        }
        // aws:username: present exactly for IAM users, their name
        if let Some(p) = self.key_present("aws:username") {
            bg.push(implies(user.clone(), p.clone()));
            bg.push(implies(
                or([
                    role.clone(),
                    root.clone(),
                    session.clone(),
                    fed_user.clone(),
                    anonymous.clone(),
                ]),
                not(p),
            ));
        }
        if let Some((kslot, atoms)) = self.key_atoms("aws:username") {
            for a in atoms {
                let name = a.text();
                let literal = a.toks.iter().all(|t| matches!(t, Tok::Lit(_)));
                if !literal
                    || a.mode != matching::Mode::Plain
                    || a.ignore_case
                    || name.is_empty()
                    || name.contains('/')
                {
                    continue;
                }
                let lit = |s: &str| matching::tokens(s, false);
                let mut direct = matching::tokens("arn:?*:iam::?*:user/", true);
                direct.extend(lit(&name));
                let mut nested = matching::tokens("arn:?*:iam::?*:user/*/", true);
                nested.extend(lit(&name));
                let pv = self.pred_of(
                    slot,
                    vec![
                        AtomKey {
                            toks: direct,
                            mode: matching::Mode::Arn,
                            ignore_case: false,
                        },
                        AtomKey {
                            toks: nested,
                            mode: matching::Mode::Arn,
                            ignore_case: false,
                        },
                    ],
                );
                let kv = self.pred_of(kslot, vec![a]);
                bg.push(implies(user.clone(), iff(kv, pv)));
            }
        }
        // aws:userid: always present for signed callers; `anonymous`; the account for roots
        if let Some(p) = self.key_present("aws:userid") {
            bg.push(implies(signed.clone(), p));
        }
        if !self.identity_only {
            if let Some(t) = self.key_is("aws:userid", "anonymous") {
                bg.push(implies(anonymous.clone(), t));
            }
        }
        if let Some((kslot, atoms)) = self.key_atoms("aws:userid") {
            for a in atoms {
                let text = a.text();
                if a.mode != matching::Mode::Plain
                    || text.is_empty()
                    || !text.bytes().all(|b| b.is_ascii_digit())
                {
                    continue;
                }
                let mut toks = matching::tokens("arn:?*:iam::", true);
                toks.extend(matching::tokens(&text, false));
                toks.extend(matching::tokens(":root", false));
                let pv = self.pred_of(
                    slot,
                    vec![AtomKey {
                        toks,
                        mode: matching::Mode::Arn,
                        ignore_case: false,
                    }],
                );
                let kv = self.pred_of(kslot, vec![a]);
                bg.push(implies(root.clone(), iff(kv, pv)));
            }
        }
        // aws:PrincipalIsAWSService: true for service principals, false for signed IAM callers
        if let Some(info) = self.keys.get("aws:principalisawsservice").cloned() {
            if !info.multi
                && info.families == [Family::Bool]
                && !self.fixed.contains_key("aws:principalisawsservice")
            {
                let p = bvar(info.presence);
                let v = self.bool_slot(info.slots[0]);
                bg.push(implies(service.clone(), and([p.clone(), v.clone()])));
                bg.push(implies(signed.clone(), and([p.clone(), not(v)])));
                bg.push(implies(anonymous.clone(), not(p)));
            }
        }
        // aws:PrincipalServiceName: the service's name; absent for other callers
        if let Some(p) = self.key_present("aws:principalservicename") {
            bg.push(implies(or([signed.clone(), anonymous.clone()]), not(p)));
        }
        for s in &services {
            let is_s = self.pred_of(slot, vec![AtomKey::literal(s)]);
            if let Some(t) = self.key_is("aws:principalservicename", s) {
                bg.push(implies(is_s, t));
            }
        }
        // claim keys: only a caller of that provider, or a role session, carries them
        let claim_keys: Vec<String> = self
            .keys
            .keys()
            .filter(|k| !self.fixed.contains_key(*k))
            .cloned()
            .collect();
        let sessions = or([role.clone(), session.clone()]);
        for k in claim_keys {
            let provider = if is_saml_key(&k) {
                self.shape(slot, &[SHAPE_SAML])
            } else if let Some(host) = claim_key_provider(&k) {
                let mut toks = matching::tokens("arn:?*:iam::?*:oidc-provider/", true);
                toks.extend(matching::tokens(&host, false));
                let mut atoms = vec![AtomKey {
                    toks,
                    mode: matching::Mode::Arn,
                    ignore_case: true,
                }];
                if WEB_IDENTITY_HOSTS.contains(&host.as_str()) {
                    atoms.push(AtomKey::literal(&host));
                }
                self.pred_of(slot, atoms)
            } else {
                continue;
            };
            let p = self.present(&k);
            bg.push(implies(p.clone(), or([provider, sessions.clone()])));
            // an OIDC provider (named by its ARN) always sends `sub` and `aud` (required claims
            // of an OIDC ID token); the providers without an ARN use their own claim names
            if let Some(host) = claim_key_provider(&k) {
                if k.ends_with(":sub") || k.ends_with(":aud") {
                    let mut toks = matching::tokens("arn:?*:iam::?*:oidc-provider/", true);
                    toks.extend(matching::tokens(&host, false));
                    let this = self.pred_of(
                        slot,
                        vec![AtomKey {
                            toks,
                            mode: matching::Mode::Arn,
                            ignore_case: true,
                        }],
                    );
                    bg.push(implies(this, p));
                }
            }
        }
        self.background.extend(bg);
    }

    /// `iamprove:…` keys stand for values an IaC plan or template leaves unresolved
    /// (`${iamprove:cfn/…}`, `${iamprove:tf/…}`): every deployment gives each one a value, so
    /// they are present in every request the query ranges over. A request without one stands
    /// for no deployed value; without this fact a widening found there is no witness for any
    /// value. No AWS request carries such a key, and AWS rejects such variables in policies, so
    /// only IaC comparisons (or a user writing one) are affected. Call before partitioning.
    pub fn link_iac_values(&mut self) {
        let keys: Vec<String> = self
            .keys
            .keys()
            .filter(|k| k.starts_with("iamprove:") && !self.fixed.contains_key(*k))
            .cloned()
            .collect();
        for k in keys {
            let p = self.present(&k);
            self.background.push(p);
        }
    }

    /// Record an assumption the answer depends on (once).
    pub fn assume(&mut self, text: &str) {
        if !self.assumptions.iter().any(|a| a == text) {
            self.assumptions.push(text.to_owned());
        }
    }

    /// Is the predicate "slot matches one of `atoms`" (placeholder until partitioned).
    pub fn pred_of(&mut self, slot: usize, atoms: Vec<AtomKey>) -> T {
        let Some(d) = self.vars.slots.get(slot).and_then(|s| s.domain) else {
            return ff();
        };
        let dom = &mut self.domains[d];
        let ids: Vec<usize> = atoms.into_iter().map(|a| dom.atom(a)).collect();
        let pred = dom.pred(ids);
        Rc::new(Term::ClassIn {
            slot,
            classes: vec![u32::MAX - pred as u32],
        })
    }

    fn is_fixed_principal(&self) -> Option<&Principal> {
        match &self.principal {
            PrincipalMode::Fixed(p) => Some(p),
            PrincipalMode::Symbolic { .. } => None,
        }
    }

    // ---------------------------------------------------------------- statements (mirrors eval::Matcher)

    /// `applies(stmt)` ignoring the principal element.
    pub fn applies_no_principal(&mut self, policy: &Policy, s: &Statement) -> T {
        let vars = policy.vars_enabled();
        let action = {
            let atoms: Vec<AtomKey> = s
                .action
                .patterns
                .iter()
                .map(|p| AtomKey {
                    toks: p.toks.clone(),
                    mode: matching::Mode::Plain,
                    ignore_case: false,
                })
                .collect();
            let hit = self.pred_of(ACTION_SLOT, atoms);
            if s.action.negated {
                not(hit)
            } else {
                hit
            }
        };
        let resource = match &s.resource {
            None => tt(),
            Some(r) => {
                let hit = self.templates_pred(
                    RESOURCE_SLOT,
                    &r.patterns,
                    vars,
                    matching::Mode::Resource,
                    false,
                );
                if r.negated {
                    not(hit)
                } else {
                    hit
                }
            }
        };
        let mut parts = vec![action, resource];
        for c in &s.conditions {
            parts.push(self.condition(c, vars));
        }
        and(parts)
    }

    /// `applies(stmt)` including the principal; for resource-policy allows, also the grant class
    /// (fixed principal only).
    pub fn applies(&mut self, policy: &Policy, s: &Statement) -> (T, Option<Grant>) {
        let key = (
            policy as *const Policy as usize,
            s as *const Statement as usize,
        );
        let (principal, grant) = match &s.principal {
            None => (tt(), None),
            Some(pe) => self.principal_elem(pe),
        };
        if is_false(&principal) {
            return (ff(), None);
        }
        let body = match self.memo.get(&key) {
            Some(t) => t.clone(),
            None => {
                let t = self.applies_no_principal(policy, s);
                self.memo.insert(key, t.clone());
                t
            }
        };
        (and([principal, body]), grant)
    }

    /// Does the principal match one of `entries` (in any grant class)?
    pub fn principal_match(&mut self, entries: &[PrincipalEntry]) -> T {
        let pe = PrincipalElem {
            negated: false,
            entries: entries.to_vec(),
        };
        self.principal_elem(&pe).0
    }

    fn principal_elem(&mut self, pe: &PrincipalElem) -> (T, Option<Grant>) {
        match self.is_fixed_principal() {
            Some(p) => {
                if pe.negated {
                    (
                        konst(!not_principal_excludes(&pe.entries, p)),
                        Some(Grant::Direct),
                    )
                } else {
                    match crate::rules::principal_grant(&pe.entries, p) {
                        Some(g) => (tt(), Some(g)),
                        None => (ff(), None),
                    }
                }
            }
            None => {
                let PrincipalMode::Symbolic { slot } = self.principal else {
                    return (ff(), None);
                };
                if pe.negated {
                    let ex = self.symbolic_not_principal_excludes(slot, &pe.entries);
                    (not(ex), Some(Grant::Direct))
                } else {
                    let mut atoms = Vec::new();
                    let mut account_atoms = Vec::new();
                    let mut any = false;
                    for e in &pe.entries {
                        match e {
                            PrincipalEntry::Any => any = true,
                            PrincipalEntry::Account { .. } => {
                                account_atoms.extend(principal_entry_atoms(e))
                            }
                            _ => atoms.extend(principal_entry_atoms(e)),
                        }
                    }
                    if any {
                        return (tt(), Some(Grant::Direct));
                    }
                    let mut parts = vec![self.pred_of(slot, atoms)];
                    if !account_atoms.is_empty() {
                        // an account names its signed principals, not a provider that lives there
                        let acct = self.pred_of(slot, account_atoms);
                        let fed = self.shape(slot, &[SHAPE_OIDC, SHAPE_SAML]);
                        parts.push(and([acct, not(fed)]));
                    }
                    (or(parts), Some(Grant::Direct))
                }
            }
        }
    }

    /// Mirror of `eval::not_principal_excludes` for a symbolic principal: the principals that
    /// every listed form covers are finitely many exact strings.
    fn symbolic_not_principal_excludes(&mut self, slot: usize, entries: &[PrincipalEntry]) -> T {
        if entries.contains(&PrincipalEntry::Any) {
            return tt();
        }
        let mut exact: Vec<String> = Vec::new();
        for e in entries {
            match e {
                PrincipalEntry::Account { partition, account } => {
                    exact.push(format!("arn:{partition}:iam::{account}:root"))
                }
                PrincipalEntry::Service(s) | PrincipalEntry::Federated(s) => exact.push(s.clone()),
                PrincipalEntry::Arn(a) => exact.push(a.clone()),
                _ => {}
            }
        }
        // keep the candidates that the concrete rule excludes
        let excluded: Vec<AtomKey> = exact
            .into_iter()
            .filter(|cand| {
                Principal::parse(cand).is_ok_and(|p| not_principal_excludes(entries, &p))
            })
            .map(|c| AtomKey::literal(&c))
            .collect();
        self.pred_of(slot, excluded)
    }

    /// A pattern list as a predicate on `slot`; patterns with unresolved variables are
    /// substituted when the variable's value is fixed, else abstracted.
    fn templates_pred(
        &mut self,
        slot: usize,
        ts: &[Template],
        vars: bool,
        mode: matching::Mode,
        ignore_case: bool,
    ) -> T {
        let mut atoms = Vec::new();
        let mut extra = Vec::new();
        for t in ts {
            if !t.has_vars() {
                atoms.push(AtomKey {
                    toks: t.toks.clone(),
                    mode,
                    ignore_case,
                });
                continue;
            }
            if !vars {
                continue; // unreachable: templates only hold variables under 2012-10-17
            }
            // all variables fixed? substitute
            let fixed = &self.fixed;
            let all_fixed = t
                .vars()
                .all(|v| fixed.contains_key(v) || !self.keys.contains_key(v));
            if all_fixed {
                let lookup = |k: &str| match fixed.get(k) {
                    Some(cv) if cv.values.len() == 1 => Some(cv.values[0].clone()),
                    _ => None,
                };
                if let Some(toks) = t.resolve(&lookup) {
                    atoms.push(AtomKey {
                        toks,
                        mode,
                        ignore_case,
                    });
                }
                continue;
            }
            // `${v}` compared exactly with a key sharing v's domain: an exact equality
            if let Some(e) = self.var_equality(slot, t, mode, ignore_case) {
                extra.push(e);
                continue;
            }
            // one Boolean per (slot, pattern): the same pattern in OLD and NEW must agree
            if let Some(a) = self.abstract_atoms.iter().find(|a| {
                a.slot == slot && a.template == *t && a.mode == mode && a.ignore_case == ignore_case
            }) {
                extra.push(bvar(a.var));
                continue;
            }
            let var = self.vars.new_bool(format!("abstract:{}", t.raw));
            self.abstract_atoms.push(AbstractAtom {
                var,
                slot,
                template: t.clone(),
                mode,
                ignore_case,
            });
            // a variable with no value and no default makes the pattern match nothing
            let mut need = Vec::new();
            for p in &t.pieces {
                if let Piece::Var { key, default: None } = p {
                    need.push(self.present(key));
                }
            }
            self.background.push(implies(bvar(var), and(need)));
            // the field equal to the variable's value decides the pattern
            if let Some(fact) = self.equal_to_variable(slot, t, mode, var) {
                self.background.push(fact);
            }
            // one variable with a default that the request lacks: the pattern with the
            // default, an ordinary pattern of the field (exact)
            let vars: Vec<&str> = t.vars().collect();
            if let ([v], Some(toks)) = (vars.as_slice(), t.resolve(&|_| None)) {
                let absent = not(self.present(v));
                let p = self.pred_of(
                    slot,
                    vec![AtomKey {
                        toks,
                        mode,
                        ignore_case,
                    }],
                );
                self.background
                    .push(implies(absent.clone(), implies(bvar(var), p.clone())));
                self.background.push(implies(absent, implies(p, bvar(var))));
            }
            // a pattern that differs from another only in its variables' defaults
            // (`b/${aws:PrincipalTag/team, 'shared'}/*` and `b/${aws:PrincipalTag/team}/*`) is
            // the same pattern while those variables are present
            let twins: Vec<usize> = self
                .abstract_atoms
                .iter()
                .filter(|a| {
                    a.var != var
                        && a.slot == slot
                        && a.mode == mode
                        && a.ignore_case == ignore_case
                        && same_but_defaults(&a.template, t)
                })
                .map(|a| a.var)
                .collect();
            if !twins.is_empty() {
                let mut present = Vec::new();
                for p in &t.pieces {
                    if let Piece::Var { key, .. } = p {
                        present.push(self.present(key));
                    }
                }
                for other in twins {
                    let have = and(present.clone());
                    self.background
                        .push(implies(have.clone(), implies(bvar(var), bvar(other))));
                    self.background
                        .push(implies(have, implies(bvar(other), bvar(var))));
                }
            }
            // and the field matches the pattern with each variable widened to `*` (substituted
            // text is literal, so this holds for every value: a sound, exact-preserving fact)
            if let Some(w) = widened(t, mode, ignore_case) {
                let p = self.pred_of(slot, vec![w]);
                self.background.push(implies(bvar(var), p));
            }
            extra.push(bvar(var));
        }
        let mut parts = vec![if atoms.is_empty() {
            ff()
        } else {
            self.pred_of(slot, atoms)
        }];
        parts.extend(extra);
        or(parts)
    }

    // ---------------------------------------------------------------- policy variables, exact

    /// `${v}` (or `${v, 'default'}`) as a whole pattern, compared with exact equality on `slot`,
    /// where `slot` shares v's string domain (`scan_keys`): "v is present and equal to the
    /// slot's value" (or, v absent, the slot equals the default). `None`: not this shape.
    fn var_equality(
        &mut self,
        slot: usize,
        t: &Template,
        mode: matching::Mode,
        ignore_case: bool,
    ) -> Option<T> {
        if mode != matching::Mode::Plain || ignore_case {
            return None;
        }
        let (key, default) = pure_variable(t)?;
        let eq = self.equals_key(slot, key)?;
        let has = self.present(key);
        let dflt = match default {
            Some(dv) => {
                let m = self.pred_of(slot, vec![AtomKey::literal(dv)]);
                and([not(has.clone()), m])
            }
            None => ff(),
        };
        Some(or([and([has, eq]), dflt]))
    }

    /// For a plain pattern (case-sensitive or not) with one variable and otherwise only literals
    /// and wildcards (`${aws:PrincipalTag/team}*`, `team-${aws:username}`): when the field equals the
    /// variable's value, the pattern matches exactly when everything around the variable can
    /// match the empty string (`*` only; a literal or `?` makes the match longer than the value).
    /// An exact fact about the abstracted Boolean `var`, over the exact equality of the two slots
    /// (`var_eq`), so that "tag starts with the principal's tag" against "tag equals it" is
    /// decided without a refinement (issue 13 item 1).
    fn equal_to_variable(
        &mut self,
        slot: usize,
        t: &Template,
        mode: matching::Mode,
        var: usize,
    ) -> Option<T> {
        let (key, nullable) = one_variable(t, mode)?;
        let eq = self.equals_key(slot, key)?;
        let has = self.present(key);
        let decided = if nullable { bvar(var) } else { not(bvar(var)) };
        Some(implies(and([has, eq]), decided))
    }

    /// "`slot` equals the value of `key`" as an exact term, when `key` is a free single-valued
    /// key whose slot shares `slot`'s string domain: true for the key's own slot, else the
    /// [`VarEq`] Boolean of the two slots. `None` otherwise.
    fn equals_key(&mut self, slot: usize, key: &str) -> Option<T> {
        let info = self.keys.get(key)?;
        if info.multi || self.fixed.contains_key(key) {
            return None;
        }
        let vslot = *info.slots.first()?;
        let d = self.vars.slots.get(slot)?.domain?;
        if self.vars.slots.get(vslot)?.domain? != d {
            return None;
        }
        Some(if vslot == slot {
            tt()
        } else {
            bvar(self.var_eq(slot, vslot))
        })
    }

    /// The Boolean "slot `a` equals slot `b`" (one per unordered pair).
    fn var_eq(&mut self, a: usize, b: usize) -> usize {
        let (a, b) = (a.min(b), a.max(b));
        if let Some(e) = self.var_eqs.iter().find(|e| e.a == a && e.b == b) {
            return e.var;
        }
        let var = self.vars.new_bool(format!("var-eq:{a}:{b}"));
        self.var_eqs.push(VarEq { var, a, b });
        var
    }

    /// Exact meaning of the [`VarEq`] Booleans, stated before partitioning (every predicate of
    /// the shared domain is known): equal strings agree on every predicate, so they lie in the
    /// same class; and equality is transitive. The remaining half (unequal strings in one class
    /// need a class of two or more strings) is stated after partitioning
    /// (`query::link_variable_singletons`).
    pub(crate) fn link_variable_equalities(&mut self) {
        let eqs = self.var_eqs.clone();
        for e in &eqs {
            let Some(d) = self.vars.slots.get(e.a).and_then(|s| s.domain) else {
                continue;
            };
            let n = self.domains[d].preds.len();
            let pred = |slot: usize, p: usize| {
                Rc::new(Term::ClassIn {
                    slot,
                    classes: vec![u32::MAX - p as u32],
                })
            };
            let agree: Vec<T> = (0..n)
                .map(|p| {
                    let (x, y) = (pred(e.a, p), pred(e.b, p));
                    and([implies(x.clone(), y.clone()), implies(y, x)])
                })
                .collect();
            self.background.push(implies(bvar(e.var), and(agree)));
        }
        self.link_variable_inclusions();
        // transitivity over the triangles of equalities that exist
        let find = |x: usize, y: usize| {
            let (x, y) = (x.min(y), x.max(y));
            eqs.iter().find(|e| e.a == x && e.b == y).map(|e| e.var)
        };
        let mut slots: Vec<usize> = eqs.iter().flat_map(|e| [e.a, e.b]).collect();
        slots.sort_unstable();
        slots.dedup();
        for (i, &x) in slots.iter().enumerate() {
            for (j, &y) in slots.iter().enumerate().skip(i + 1) {
                for &z in slots.iter().skip(j + 1) {
                    if let (Some(xy), Some(yz), Some(xz)) = (find(x, y), find(y, z), find(x, z)) {
                        let (xy, yz, xz) = (bvar(xy), bvar(yz), bvar(xz));
                        self.background
                            .push(implies(and([xy.clone(), yz.clone()]), xz.clone()));
                        self.background
                            .push(implies(and([xy.clone(), xz.clone()]), yz.clone()));
                        self.background.push(implies(and([yz, xz]), xy));
                    }
                }
            }
        }
    }

    /// Inclusions between abstracted patterns on one field that hold for every value of their
    /// (one, shared) variable, as implications between their Booleans: facts about all
    /// requests, so answers stay exact (`template_included`).
    pub(crate) fn link_variable_inclusions(&mut self) {
        let atoms = self.abstract_atoms.clone();
        for a in &atoms {
            for b in &atoms {
                if a.var != b.var && a.slot == b.slot && template_included(a, b) {
                    self.background.push(implies(bvar(a.var), bvar(b.var)));
                }
            }
        }
        // and disjointness while their shared variable is present (`templates_disjoint`)
        for (i, a) in atoms.iter().enumerate() {
            for b in atoms.iter().skip(i + 1) {
                if a.slot != b.slot {
                    continue;
                }
                // (single-valued keys: a variable reads one value)
                let key =
                    templates_disjoint(a, b).filter(|k| self.keys.get(k).is_some_and(|i| !i.multi));
                if let Some(key) = key {
                    let present = self.present(&key);
                    self.background
                        .push(implies(present, not(and(vec![bvar(a.var), bvar(b.var)]))));
                }
            }
        }
    }

    /// Is key `k` present (non-empty)?
    pub fn present(&self, key: &str) -> T {
        if let Some(v) = self.fixed.get(key) {
            return konst(!v.values.is_empty());
        }
        match self.keys.get(key) {
            Some(info) if info.multi => Rc::new(Term::CountGt {
                key: info.presence,
                n: 0,
            }),
            Some(info) => bvar(info.presence),
            None => ff(),
        }
    }

    /// §3: one condition (mirrors `eval::Matcher::condition`).
    pub fn condition(&mut self, c: &Condition, vars: bool) -> T {
        if let Some(cv) = self.fixed.get(&c.key).cloned() {
            return self.fixed_condition(c, vars, &cv.values);
        }
        let Some(info) = self.keys.get(&c.key).cloned() else {
            return ff();
        };
        let present = self.present(&c.key);
        if let CondValues::Null(ps) = &c.values {
            // null: absent, or every value empty (mirrors eval: `values.iter().all(String::is_empty)`)
            let null = if info.multi {
                let count = info.presence;
                let mut parts = Vec::new();
                for (i, &s) in info.slots.iter().enumerate() {
                    let empty = self.pred_of(s, vec![AtomKey::literal("")]);
                    parts.push(implies(
                        Rc::new(Term::CountGt {
                            key: count,
                            n: i as u32,
                        }),
                        empty,
                    ));
                }
                and(parts)
            } else {
                let empty = self.pred_of(info.slots[0], vec![AtomKey::literal("")]);
                or([not(present), empty])
            };
            return or(ps
                .iter()
                .map(|&want_absent| {
                    if want_absent {
                        null.clone()
                    } else {
                        not(null.clone())
                    }
                })
                .collect::<Vec<_>>());
        }
        let negated = c.op.base.negated();
        let m = |enc: &mut Encoder, slot: usize| -> T {
            let any = enc.any_cmp(c, slot, vars, &info);
            if negated {
                not(any)
            } else {
                any
            }
        };
        if !info.multi {
            let s0 = info.slots[0];
            let mv = m(self, s0);
            return match c.op.set {
                Some(SetOp::ForAllValues) => or([not(present), mv]),
                Some(SetOp::ForAnyValue) => {
                    if c.op.if_exists {
                        or([not(present), mv])
                    } else {
                        and([present, mv])
                    }
                }
                None => {
                    if c.op.if_exists || negated {
                        or([not(present), mv])
                    } else {
                        and([present, mv])
                    }
                }
            };
        }
        let count = info.presence;
        let within = |i: usize| {
            Rc::new(Term::CountGt {
                key: count,
                n: i as u32,
            })
        };
        let all = |enc: &mut Encoder| {
            and(info
                .slots
                .iter()
                .enumerate()
                .map(|(i, &s)| implies(within(i), m(enc, s)))
                .collect::<Vec<_>>())
        };
        let any = |enc: &mut Encoder| {
            or(info
                .slots
                .iter()
                .enumerate()
                .map(|(i, &s)| and([within(i), m(enc, s)]))
                .collect::<Vec<_>>())
        };
        match c.op.set {
            Some(SetOp::ForAllValues) => all(self),
            Some(SetOp::ForAnyValue) => {
                let a = any(self);
                if c.op.if_exists {
                    or([not(present), a])
                } else {
                    a
                }
            }
            None => {
                if negated {
                    // absent: true (the universal over no values)
                    all(self)
                } else {
                    let a = any(self);
                    if c.op.if_exists {
                        or([not(present), a])
                    } else {
                        a
                    }
                }
            }
        }
    }

    /// A condition on a key whose values are fixed: decided concretely by the evaluator's rules.
    fn fixed_condition(&mut self, c: &Condition, vars: bool, values: &[String]) -> T {
        // Build a throwaway request carrying only the fixed context; the matcher only reads
        // the context for conditions. Variables may refer to free keys: abstract those.
        let needs_free_var = matches!(&c.values, CondValues::Str(ts) if ts.iter().any(|t| t.vars().any(|v| !self.fixed.contains_key(v) && self.keys.contains_key(v))));
        if needs_free_var {
            self.notes.push(format!(
                "condition on fixed key `{}` refers to a free policy variable; treated as unknown",
                c.key_raw
            ));
            let v = self.vars.new_bool(format!("abstract-cond:{}", c.key));
            return bvar(v);
        }
        let _ = values;
        let req = crate::request::Request {
            principal: self
                .is_fixed_principal()
                .cloned()
                .unwrap_or_else(|| Principal {
                    raw: "anonymous".into(),
                    partition: "aws".into(),
                    account: String::new(),
                    kind: PrincipalKind::Anonymous,
                }),
            action: String::new(),
            resource: String::new(),
            resource_account: String::new(),
            context: self.fixed.clone(),
        };
        konst(crate::rules::condition(&req.context, c, vars))
    }

    /// ∃p ∈ P: cmp(value of `slot`, p)
    fn any_cmp(&mut self, c: &Condition, slot: usize, vars: bool, info: &KeyInfo) -> T {
        match &c.values {
            CondValues::Str(ps) => {
                let how = c.op.base.string_match().unwrap_or(StrMatch::Exact);
                let (mode, ic, wild) = match how {
                    StrMatch::Exact => (matching::Mode::Plain, false, false),
                    StrMatch::IgnoreCase => (matching::Mode::Plain, true, false),
                    StrMatch::Like => (matching::Mode::Plain, false, true),
                    StrMatch::Arn => (matching::Mode::Arn, false, true),
                };
                let _ = wild; // templates already tokenised wildcards per operator
                self.templates_pred(slot, ps, vars, mode, ic)
            }
            CondValues::Binary(ps) => {
                let atoms = ps.iter().map(|p| AtomKey::literal(p)).collect();
                self.pred_of(slot, atoms)
            }
            CondValues::Num(ps) => {
                let cmp = c.op.base.cmp().unwrap_or(Cmp::Eq);
                let _ = info;
                or(ps
                    .iter()
                    .map(|lit| {
                        Rc::new(Term::Num {
                            slot,
                            cmp,
                            lit: *lit,
                        })
                    })
                    .collect::<Vec<_>>())
            }
            CondValues::Date(ps) => {
                let cmp = c.op.base.cmp().unwrap_or(Cmp::Eq);
                or(ps
                    .iter()
                    .map(|lit| {
                        Rc::new(Term::Date {
                            slot,
                            cmp,
                            lit: *lit,
                        })
                    })
                    .collect::<Vec<_>>())
            }
            CondValues::Bool(ps) => {
                let v = self.bool_slot(slot);
                or(ps
                    .iter()
                    .map(|&p| if p { v.clone() } else { not(v.clone()) })
                    .collect::<Vec<_>>())
            }
            CondValues::Ip(ps) => or(ps
                .iter()
                .map(|net| Rc::new(Term::Ip { slot, net: *net }))
                .collect::<Vec<_>>()),
            CondValues::Null(_) => ff(),
        }
    }

    /// The Boolean "value is `true`" of a slot (created on first use).
    pub(crate) fn bool_slot(&mut self, slot: usize) -> T {
        let name = format!("istrue:{slot}");
        match self.vars.bools.iter().position(|b| *b == name) {
            Some(i) => bvar(i),
            None => bvar(self.vars.new_bool(name)),
        }
    }

    // ---------------------------------------------------------------- policy sets

    /// (ALLOW, DENY) of a policy set, ignoring grant classes.
    pub fn allow_deny(&mut self, policies: &[&Policy]) -> (T, T) {
        let mut allows = Vec::new();
        let mut denies = Vec::new();
        for p in policies {
            for s in &p.statements {
                let (t, _) = self.applies(p, s);
                match s.effect {
                    Effect::Allow => allows.push(t),
                    Effect::Deny => denies.push(t),
                }
            }
        }
        (or(allows), or(denies))
    }

    /// Predicates on the action: does it belong to a service whose resources RCPs govern?
    fn rcp_service(&mut self) -> T {
        let atoms = RCP_SERVICES
            .iter()
            .map(|s| AtomKey::glob(&format!("{s}:*"), matching::Mode::Plain))
            .collect();
        self.pred_of(ACTION_SLOT, atoms)
    }

    /// Is the resource account `acct`? (Fixed when the scenario says; else the ARN's account
    /// segment, defaulting to the principal's account.)
    fn resource_account_is(&mut self, acct: &str, principal_account: &str) -> T {
        if let Some(r) = &self.resource_account {
            return konst(r == acct);
        }
        let has_acct = self.pred_of(
            RESOURCE_SLOT,
            vec![AtomKey::glob("arn:*:*:*:?*:*", matching::Mode::Arn)],
        );
        let in_acct = if acct.is_empty() {
            ff()
        } else {
            self.pred_of(
                RESOURCE_SLOT,
                vec![AtomKey {
                    toks: arn_account_toks(acct),
                    mode: matching::Mode::Arn,
                    ignore_case: false,
                }],
            )
        };
        or([
            in_acct,
            and([
                not(has_acct),
                konst(acct == principal_account && !acct.is_empty()),
            ]),
        ])
    }

    /// Well-formed requests (`crate::wellformed`): for every action the query names literally
    /// and the catalog knows, the resource is `*` or an ARN of one of the action's formats.
    /// Actions matched only through wildcards keep the general resource (conservative).
    ///
    /// The constraint only removes requests (it never adds any), so leaving it out is sound: when
    /// the actions named have more than [`WELL_FORMED_BUDGET`] formats in all, only those of the
    /// services the resource patterns name are constrained (while they fit), so that a policy
    /// listing thousands of actions keeps an exactly partitioned resource field; findings on the
    /// others may then name a resource no service forms (a false positive, never a false proof).
    pub(crate) fn well_formed_resources(&mut self, declared_shapes: bool) {
        let literals: Vec<String> = self.domains[ACTION_DOMAIN]
            .atoms
            .iter()
            .filter(|a| {
                a.mode == matching::Mode::Plain
                    && !a.ignore_case
                    && a.toks.iter().all(|t| matches!(t, Tok::Lit(_)))
            })
            .map(AtomKey::text)
            .collect();
        // (catalog formats, not the account variants `wellformed` splits one into): the formats
        // of the literal actions in order, until their families exceed the budget (the count only
        // grows, so a policy listing thousands of actions stops early)
        let mut chosen: Vec<(String, Vec<Vec<Tok>>)> = Vec::new();
        let mut families: FxHashSet<Vec<Tok>> = FxHashSet::default();
        let mut over = false;
        for a in &literals {
            if let Some(f) = crate::wellformed::action_formats(a) {
                families.extend(f.iter().map(|t| crate::wellformed::family(t)));
                chosen.push((a.clone(), f));
                if families.len() > WELL_FORMED_BUDGET {
                    over = true;
                    break;
                }
            }
        }
        if over {
            // the services the resource patterns name (`arn:PART:SERVICE:…`)
            let services: FxHashSet<String> = self.domains[RESOURCE_DOMAIN]
                .atoms
                .iter()
                .filter_map(|a| {
                    let t = a.text();
                    let svc = t.split(':').nth(2)?.to_string();
                    (!svc.contains('*') && !svc.contains('?')).then_some(svc)
                })
                .collect();
            // their actions only, in order, and of those the longest prefix whose formats fit
            let mut families: FxHashSet<Vec<Tok>> = FxHashSet::default();
            chosen.clear();
            for a in literals {
                if !a.split(':').next().is_some_and(|s| services.contains(s)) {
                    continue;
                }
                if let Some(f) = crate::wellformed::action_formats(&a) {
                    families.extend(f.iter().map(|t| crate::wellformed::family(t)));
                    if families.len() > WELL_FORMED_BUDGET {
                        break;
                    }
                    chosen.push((a, f));
                }
            }
        }
        if !chosen.is_empty() {
            self.assume(WELL_FORMED_ASSUMPTION);
        }
        // When every resource pattern tells accounts apart only by naming them, the exact account
        // shapes change no answer: any colon-free account (`wellformed::account_insensitive`)
        let exact_accounts = self.domains[RESOURCE_DOMAIN].atoms.iter().any(|t| {
            t.mode != matching::Mode::Resource
                || t.ignore_case
                || !crate::wellformed::account_insensitive(&t.toks)
        });
        let loosen = |fs: Vec<Vec<Tok>>| -> Vec<Vec<Tok>> {
            if exact_accounts {
                return fs;
            }
            let mut out: Vec<Vec<Tok>> = Vec::new();
            for f in fs.iter().map(|f| crate::wellformed::family(f)) {
                if !out.contains(&f) {
                    out.push(f);
                }
            }
            out
        };
        let small = automata::Limits {
            max_states: 20_000,
            max_steps: 200_000,
        };
        // the same formats and shapes recur across the actions of a service: each is compiled
        // once, and each (shape, format) pair is searched at most once
        let mut patterns: FxHashMap<Vec<Tok>, Pattern> = FxHashMap::default();
        let mut overlap: FxHashMap<(Vec<Tok>, Vec<Tok>), bool> = FxHashMap::default();
        for (a, formats) in chosen {
            // the catalog may lag the service: a resource shape the policies pair with the action
            // and that no format of the action overlaps is taken as one more format (a resource
            // type the catalog does not list for the action yet). Overlap is decided on the
            // exact shapes, any account variant of the shape against any format: read with any
            // colon-free account (`family`) they overlap where no request does
            // (`arn:aws:s3:::*b/x` and an access point's `arn:aws:s3:R:A:accesspoint/…`), which
            // dropped the shape and with it requests the listed assumption covers.
            let exact = formats;
            let mut formats = loosen(exact.clone());
            let declared = if declared_shapes {
                self.declared_shapes(&a)
            } else {
                Vec::new()
            };
            for variants in declared {
                let covered = variants.iter().any(|d| {
                    exact.iter().any(|f| {
                        let key = (d.clone(), f.clone());
                        if let Some(&o) = overlap.get(&key) {
                            return o;
                        }
                        for t in [d, f] {
                            patterns
                                .entry(t.clone())
                                .or_insert_with(|| Pattern::compile(&format_key(t.clone()).spec()));
                        }
                        // exact product reachability; an exceeded budget counts as not covered
                        // (the shape stays: more requests)
                        let o = match (patterns.get(d), patterns.get(f)) {
                            (Some(dp), Some(fp)) => {
                                automata::patterns_overlap(dp, fp, &small).unwrap_or(false)
                            }
                            _ => false,
                        };
                        overlap.insert(key, o);
                        o
                    })
                });
                if !covered {
                    for l in loosen(variants) {
                        if !formats.contains(&l) {
                            formats.push(l);
                        }
                    }
                    if !self.shaped_actions.contains(&a) {
                        self.shaped_actions.push(a.clone());
                    }
                }
            }
            let is_a = self.pred_of(ACTION_SLOT, vec![AtomKey::literal(&a)]);
            let mut atoms = vec![AtomKey::literal("*")];
            atoms.extend(formats.into_iter().map(format_key));
            let wf = self.pred_of(RESOURCE_SLOT, atoms);
            self.background.push(implies(is_a, wf));
        }
    }

    /// The resource patterns of the statements whose `Action` element names `action`, as
    /// `Format` patterns read loosely (a wildcard before the fifth colon: a run without `:`;
    /// after it, any run), each as its account-syntax variants (`wellformed::shape_variants`).
    /// `*` says nothing and is left out; a pattern with policy variables stands for any resource.
    fn declared_shapes(&self, action: &str) -> Vec<Vec<Vec<Tok>>> {
        let mut out: Vec<Vec<Vec<Tok>>> = Vec::new();
        for (act, ress) in &self.declared {
            let hit = act.patterns.iter().any(|p| p.matches_lower(action));
            if hit == act.negated {
                continue;
            }
            for t in ress {
                let toks: Vec<Tok> = if t.has_vars() {
                    declared_template_shape(t)
                } else {
                    let mut colons = 0;
                    t.toks
                        .iter()
                        .map(|k| match k {
                            Tok::Lit(c) => {
                                if *c == ':' {
                                    colons += 1;
                                }
                                Tok::Lit(*c)
                            }
                            _ if colons >= 5 => Tok::One,
                            Tok::Run if colons == 0 => Tok::One,
                            _ => Tok::Run,
                        })
                        .collect()
                };
                if t.raw == "*" || toks.is_empty() {
                    continue;
                }
                // a pattern with fewer colons than an ARN (`arn:aws:ssm:*`) ends in any run
                let mut toks = toks;
                if toks.iter().filter(|k| **k == Tok::Lit(':')).count() < 5 {
                    if let Some(last) = toks.last_mut() {
                        if *last == Tok::Run {
                            *last = Tok::One;
                        }
                    }
                }
                // requests on it still have AWS's account and region syntax
                let variants = crate::wellformed::shape_variants(toks);
                if !out.contains(&variants) {
                    out.push(variants);
                }
            }
        }
        out
    }

    /// Mirrors `eval::needs_no_permission`: `sts:GetCallerIdentity` by any signed caller is
    /// always allowed.
    pub(crate) fn always_allowed(&mut self) -> T {
        let gci = self.pred_of(
            ACTION_SLOT,
            vec![AtomKey::literal(
                &crate::rules::GET_CALLER_IDENTITY.to_lowercase(),
            )],
        );
        // mirrors `eval`: a signed caller with AWS credentials (not anonymous, not a web-identity
        // or SAML caller, which only presents a token to STS)
        let signed = match &self.principal {
            PrincipalMode::Fixed(p) => {
                konst(p.kind != PrincipalKind::Anonymous && !p.is_federated_caller())
            }
            // identity-policy queries: every principal is signed (shape constraints)
            PrincipalMode::Symbolic { .. } if self.identity_only => tt(),
            PrincipalMode::Symbolic { slot } => {
                let slot = *slot;
                let anon = self.pred_of(slot, vec![AtomKey::literal("anonymous")]);
                let (oidc, saml) = self.federated_shapes();
                and([not(anon), not(oidc), not(saml)])
            }
        };
        and([gci, signed])
    }

    /// The request is an `sts:` action on a role (what a role's trust policy decides; mirrors
    /// `eval::role_sts`).
    pub fn role_sts(&mut self) -> T {
        let role = self.pred_of(
            RESOURCE_SLOT,
            vec![AtomKey::glob("arn:*:iam:*:*:role/*", matching::Mode::Arn)],
        );
        let sts = self.pred_of(
            ACTION_SLOT,
            vec![AtomKey::glob("sts:*", matching::Mode::Plain)],
        );
        and([role, sts])
    }

    /// Mirrors `eval::strict_resource`.
    pub fn strict_resource(&mut self) -> T {
        let role_sts = self.role_sts();
        let key = self.pred_of(
            RESOURCE_SLOT,
            vec![AtomKey::glob("arn:*:kms:*:*:key/*", matching::Mode::Arn)],
        );
        or([role_sts, key])
    }

    /// The full decision of §4 for a fixed principal (mirrors `eval::evaluate_with`): Allowed.
    pub fn allowed_scenario(&mut self, sc: &crate::scenario::Scenario) -> T {
        let Some(p) = self.is_fixed_principal().cloned() else {
            return ff();
        };
        let idp: Vec<&Policy> = sc.identity_policies.iter().collect();
        let (idp_allow, idp_deny) = self.allow_deny(&idp);
        let pb = sc
            .permissions_boundary
            .as_ref()
            .map(|b| self.allow_deny(&[b]));
        let sp: Vec<&Policy> = sc.session_policies.iter().collect();
        let (sp_allow, sp_deny) = self.allow_deny(&sp);
        let scp: Vec<(T, T)> = sc
            .scps
            .iter()
            .map(|l| self.allow_deny(&l.iter().collect::<Vec<_>>()))
            .collect();
        let rcp: Vec<(T, T)> = sc
            .rcps
            .iter()
            .map(|l| self.allow_deny(&l.iter().collect::<Vec<_>>()))
            .collect();
        let vpce = sc
            .vpc_endpoint_policy
            .as_ref()
            .map(|v| self.allow_deny(&[v]));

        // resource policy: denies, grant classes, Deny+NotPrincipal statements
        let mut rb_deny = Vec::new();
        let mut grants: BTreeMap<Grant, Vec<T>> = BTreeMap::new();
        let mut np_deny = Vec::new();
        if let Some(r) = &sc.resource_policy {
            for s in &r.statements {
                let (t, g) = self.applies(r, s);
                match s.effect {
                    Effect::Deny => {
                        rb_deny.push(t);
                        if s.principal.as_ref().is_some_and(|pe| pe.negated) {
                            np_deny.push(self.applies_no_principal(r, s));
                        }
                    }
                    Effect::Allow => {
                        if let Some(g) = g {
                            grants.entry(g).or_default().push(t);
                        }
                    }
                }
            }
        }
        let g = |grants: &BTreeMap<Grant, Vec<T>>, k: Grant| {
            or(grants.get(&k).cloned().unwrap_or_default())
        };
        let (g_direct, g_role, g_acct, g_svc) = (
            g(&grants, Grant::Direct),
            g(&grants, Grant::Role),
            g(&grants, Grant::Account),
            g(&grants, Grant::Service),
        );

        let service_principal = matches!(p.kind, PrincipalKind::Service(_));
        let anonymous = p.kind == PrincipalKind::Anonymous;
        let federated = p.is_federated_caller();
        let mgmt = sc.management_account.clone();
        let slr = p.is_service_linked_role();
        let scp_exempt = service_principal
            || anonymous
            || federated
            || slr
            || mgmt.as_deref() == Some(p.account.as_str());
        let rcp_exempt = {
            let mgmt_res = match &mgmt {
                Some(m) => self.resource_account_is(m, &p.account),
                None => ff(),
            };
            let svc = self.rcp_service();
            let retire = self.pred_of(ACTION_SLOT, vec![AtomKey::literal("kms:retiregrant")]);
            or([konst(slr), mgmt_res, not(svc), retire])
        };
        let identity_side = !(service_principal || anonymous || federated);

        let mut denies = Vec::new();
        if identity_side {
            denies.push(idp_deny);
            if let Some((_, d)) = &pb {
                denies.push(d.clone());
            }
            if p.is_session() {
                denies.push(sp_deny);
            }
        }
        if !scp_exempt {
            denies.extend(scp.iter().map(|(_, d)| d.clone()));
        }
        denies.push(and([
            not(rcp_exempt.clone()),
            or(rcp.iter().map(|(_, d)| d.clone()).collect::<Vec<_>>()),
        ]));
        denies.extend(rb_deny);
        if sc.permissions_boundary.is_some() && identity_side {
            denies.extend(np_deny);
        }
        if let Some((_, d)) = &vpce {
            denies.push(d.clone());
        }
        let denied = or(denies);
        let scp_ok = if scp_exempt {
            tt()
        } else {
            and(scp.iter().map(|(a, _)| a.clone()).collect::<Vec<_>>())
        };
        let rcp_ok = or([
            rcp_exempt,
            and(rcp.iter().map(|(a, _)| a.clone()).collect::<Vec<_>>()),
        ]);
        let vpce_ok = vpce.as_ref().map(|(a, _)| a.clone()).unwrap_or_else(tt);
        let guard = and([not(denied), scp_ok, rcp_ok, vpce_ok]);
        let free = self.always_allowed();
        if federated {
            let ok = self.federated_action_ok();
            return and([guard, ok, g_direct]);
        }
        if anonymous {
            return or([free, and([guard, g_direct])]);
        }
        if service_principal {
            return or([free, and([guard, or([g_svc, g_direct])])]);
        }
        let pb_ok = pb.as_ref().map(|(a, _)| a.clone()).unwrap_or_else(tt);
        let sp_ok = match &p.kind {
            PrincipalKind::RoleSession { .. } => {
                if sc.session_policies.is_empty() {
                    tt()
                } else {
                    sp_allow
                }
            }
            PrincipalKind::FederatedUser { .. } => sp_allow,
            _ => tt(),
        };
        let strict = self.strict_resource();
        let root = p.kind == PrincipalKind::Root;
        let same = self.same_account(&p);
        let same_branch = if root {
            or([
                not(strict.clone()),
                or([
                    g_direct.clone(),
                    g_role.clone(),
                    g_acct.clone(),
                    g_svc.clone(),
                ]),
            ])
        } else {
            or([
                g_direct.clone(),
                and([g_role.clone(), pb_ok.clone(), sp_ok.clone()]),
                and([
                    not(and([strict, not(or([g_acct.clone(), g_role.clone()]))])),
                    idp_allow.clone(),
                    pb_ok.clone(),
                    sp_ok.clone(),
                ]),
            ])
        };
        let cross_branch = and([
            or([idp_allow, konst(root)]),
            pb_ok,
            sp_ok,
            or([g_direct, g_role, g_acct]),
        ]);
        let decided = and([guard, ite(same, same_branch, cross_branch)]);
        or([free, decided])
    }

    fn same_account(&mut self, p: &Principal) -> T {
        if p.account.is_empty() {
            return ff();
        }
        let acct = p.account.clone();
        self.resource_account_is(&acct, &acct)
    }

    // ---------------------------------------------------------------- partition and resolution

    /// Partition every string domain; then placeholders can be resolved.
    pub fn partition(&mut self, limits: &automata::Limits) -> Result<(), String> {
        let mut notes = Vec::new();
        for d in &mut self.domains {
            if d.preds.is_empty() {
                continue;
            }
            d.compiled = d
                .atoms
                .iter()
                .map(|a| Pattern::compile(&a.spec()))
                .collect();
            let prefer: Vec<&str> = d.prefer.iter().map(String::as_str).collect();
            // Atom vectors first, a group without prefix structure under a tenth of the budget
            // (a trie group under a tenth of its steps);
            // when those are too many (dense `*:*:` ARNs), predicate vectors under the whole
            // budget, leaving out each group of overlapping atoms that still exceeds it: only
            // those groups' predicates are realised lazily. Both are exact, and which one
            // answers depends on budgets alone, not on the machine's speed. (Atom vectors under
            // the whole budget, once the third try, decided none of the 119 fields of the
            // corpus that reach this point.)
            let first = automata::Limits {
                max_states: limits.max_states / FIRST_TRY,
                max_steps: limits.max_steps / FIRST_TRY,
            };
            let attempt = automata::partition_with(&d.compiled, &prefer, limits, &first)
                .map(|p| (p, Vec::new()))
                .or_else(|_| {
                    let pp = automata::partition_predicates_partial(
                        &d.compiled,
                        &d.preds,
                        &prefer,
                        limits,
                        HYBRID_MAX / d.preds.len().max(1),
                    )?;
                    match pp.error {
                        // A partition of a few atoms buys nothing over a wholly lazy field, and
                        // one of many classes costs more: every predicate is tied to the class
                        // variable, and Z3 took 8.4 s instead of 1.1 s on 707 predicates × 5,149
                        // classes (a generated 1,000-statement pair). SageMakerStudio
                        // ProjectProvisioningRolePolicy v3→v4 (93 × 296) took 190 instead of 410 ms.
                        Some(e)
                            if pp.lazy.len() * 2 > d.compiled.len()
                                || pp.partition.classes.len() * d.preds.len() > HYBRID_MAX =>
                        {
                            Err(e)
                        }
                        Some(e) => {
                            notes.push(format!(
                                "{}: {e}; those {} of its {} patterns are checked lazily instead",
                                d.name,
                                pp.lazy.len(),
                                d.compiled.len()
                            ));
                            Ok((pp.partition, pp.lazy))
                        }
                        None => Ok((pp.partition, pp.lazy)),
                    }
                });
            let (part, lazy) = match attempt {
                Ok(p) => p,
                Err(e) => {
                    // exact, lazier: predicates become Booleans, realised (or refuted) per model
                    d.fallback = true;
                    d.lazy_atoms.clear();
                    notes.push(format!(
                        "{}: {e}; its patterns are checked lazily instead",
                        d.name
                    ));
                    continue;
                }
            };
            d.fallback = !lazy.is_empty();
            d.lazy_atoms = lazy;
            // the predicates each atom belongs to: a class's predicate vector from its few true
            // atoms, not by asking every predicate about every class (thousands of classes over
            // hundreds of predicates for policies such as AWSSupportServiceRolePolicy)
            let mut preds_of: Vec<Vec<usize>> = vec![Vec::new(); d.compiled.len()];
            for (p, atoms) in d.preds.iter().enumerate() {
                for &a in atoms {
                    if let Some(v) = preds_of.get_mut(a) {
                        v.push(p);
                    }
                }
            }
            // (keyed by the packed vector)
            let mut seen: FxHashMap<Vec<u64>, usize> = FxHashMap::default();
            // rank of each preferred candidate (the first occurrence counts)
            let mut rank: FxHashMap<&str, usize> =
                FxHashMap::with_capacity_and_hasher(d.prefer.len(), Default::default());
            for (i, p) in d.prefer.iter().enumerate() {
                rank.entry(p.as_str()).or_insert(i);
            }
            d.classes.clear();
            for c in part.classes {
                let mut pv = vec![false; d.preds.len()];
                let mut packed = vec![0u64; d.preds.len().div_ceil(64)];
                for a in c.bits.ones() {
                    for &p in preds_of.get(a).map(Vec::as_slice).unwrap_or(&[]) {
                        if let (Some(x), Some(w)) = (pv.get_mut(p), packed.get_mut(p / 64)) {
                            *x = true;
                            *w |= 1 << (p % 64);
                        }
                    }
                }
                if let Some(&k) = seen.get(&packed) {
                    // same behaviour for the query: keep the most readable witness, i.e. a
                    // preferred candidate (a real action, an outsider principal) over a synthetic one
                    let preferred = |w: &str| rank.get(w).copied();
                    let better = match (preferred(&c.witness), preferred(&d.classes[k].witness)) {
                        (Some(a), Some(b)) => a < b,
                        (Some(_), None) => true,
                        _ => false,
                    };
                    if better {
                        d.classes[k].witness = c.witness.clone();
                        d.classes[k].atoms = c.bits.clone();
                    }
                    continue;
                }
                seen.insert(packed, d.classes.len());
                d.classes.push(DomainClass {
                    preds: pv,
                    atoms: c.bits,
                    witness: c.witness,
                });
            }
        }
        self.notes.extend(notes);
        self.lazy_domains(limits);
        Ok(())
    }

    /// Booleans and static relations for the predicates of unpartitioned domains.
    fn lazy_domains(&mut self, limits: &automata::Limits) {
        let small = automata::Limits {
            max_states: limits.max_states.min(20_000),
            max_steps: 200_000,
        };
        for di in 0..self.domains.len() {
            if !self.domains[di].fallback {
                continue;
            }
            let slots: Vec<usize> = (0..self.vars.slots.len())
                .filter(|&s| self.vars.slots[s].domain == Some(di))
                .collect();
            let npred = self.domains[di].preds.len();
            let lazy_class = self.domains[di].lazy_class();
            // pairwise relations between predicates (sound pruning: only proved facts are used);
            // in a partly partitioned domain, between the predicates' lazy parts (their lazy and
            // universal atoms), which are the predicates when the slot takes the lazy class
            let (empty, facts, lazy_part) = {
                let d = &self.domains[di];
                match lazy_class {
                    None => {
                        let (empty, facts) = predicate_facts(&d.compiled, &d.preds, &small);
                        (empty, facts, Vec::new())
                    }
                    Some(_) => {
                        let lazy_or_universal = |a: &usize| {
                            d.lazy_atoms.binary_search(a).is_ok()
                                || d.compiled.get(*a).is_some_and(Pattern::is_universal)
                        };
                        let parts: Vec<Vec<usize>> = d
                            .preds
                            .iter()
                            .map(|atoms| atoms.iter().copied().filter(lazy_or_universal).collect())
                            .collect();
                        let idx: Vec<usize> =
                            (0..npred).filter(|&p| !parts[p].is_empty()).collect();
                        let sub: Vec<Vec<usize>> = idx.iter().map(|&p| parts[p].clone()).collect();
                        let (empty, facts) = predicate_facts(&d.compiled, &sub, &small);
                        (
                            empty.into_iter().map(|p| idx[p]).collect(),
                            facts
                                .into_iter()
                                .map(|(p, q, subset)| (idx[p], idx[q], subset))
                                .collect(),
                            parts.iter().map(|p| !p.is_empty()).collect(),
                        )
                    }
                }
            };
            for &slot in &slots {
                for p in 0..npred {
                    let v = self.vars.new_bool(format!("pred:{slot}:{p}"));
                    self.pred_vars.insert((slot, p), v);
                }
                // a fact about the lazy parts binds when the slot takes the lazy class
                let guard = |fact: T| match lazy_class {
                    Some(m) => or([not(class_in(slot, vec![m], m + 1)), fact]),
                    None => fact,
                };
                let mut background = Vec::new();
                for &p in &empty {
                    if let Some(&v) = self.pred_vars.get(&(slot, p)) {
                        background.push(guard(not(bvar(v))));
                    }
                }
                for &(p, q, subset) in &facts {
                    if let (Some(&a), Some(&b)) = (
                        self.pred_vars.get(&(slot, p)),
                        self.pred_vars.get(&(slot, q)),
                    ) {
                        background.push(guard(if subset {
                            implies(bvar(a), bvar(b))
                        } else {
                            not(and([bvar(a), bvar(b)]))
                        }));
                    }
                }
                // a partitioned class fixes every predicate; the lazy class leaves free only the
                // predicates with a lazy part (no other atom matches a string of a lazy atom)
                if let Some(m) = lazy_class {
                    let d = &self.domains[di];
                    for p in 0..npred {
                        let Some(&v) = self.pred_vars.get(&(slot, p)) else {
                            continue;
                        };
                        let on: Vec<u32> = (0..m)
                            .filter(|&c| {
                                d.classes
                                    .get(c as usize)
                                    .is_some_and(|cl| cl.preds.get(p).copied().unwrap_or(false))
                            })
                            .collect();
                        let mut may = on.clone();
                        if lazy_part.get(p).copied().unwrap_or(false) {
                            may.push(m);
                        }
                        background.push(implies(class_in(slot, on, m + 1), bvar(v)));
                        background.push(implies(bvar(v), class_in(slot, may, m + 1)));
                    }
                }
                self.background.extend(background);
            }
        }
    }

    /// Replace predicate placeholders by class memberships.
    /// `memo` maps a term's address to (the term, kept alive so the address stays unique; its
    /// resolution).
    pub fn resolve(&self, t: &T, memo: &mut FxHashMap<usize, (T, T)>) -> T {
        let key = Rc::as_ptr(t) as usize;
        if let Some((_, r)) = memo.get(&key) {
            return r.clone();
        }
        let r = match &**t {
            Term::ClassIn { slot, classes } if classes.len() == 1 && classes[0] > u32::MAX / 2 => {
                let pred = (u32::MAX - classes[0]) as usize;
                match self.vars.slots.get(*slot).and_then(|s| s.domain) {
                    Some(d) if self.domains[d].fallback => match self.pred_vars.get(&(*slot, pred))
                    {
                        Some(&v) => bvar(v),
                        None => ff(),
                    },
                    Some(d) => {
                        let dom = &self.domains[d];
                        let members: Vec<u32> = dom
                            .classes
                            .iter()
                            .enumerate()
                            .filter(|(_, c)| c.preds.get(pred).copied().unwrap_or(false))
                            .map(|(i, _)| i as u32)
                            .collect();
                        class_in(*slot, members, dom.classes.len() as u32)
                    }
                    None => ff(),
                }
            }
            Term::Not(x) => not(self.resolve(x, memo)),
            Term::And(xs) => and(xs.iter().map(|x| self.resolve(x, memo)).collect::<Vec<_>>()),
            Term::Or(xs) => or(xs.iter().map(|x| self.resolve(x, memo)).collect::<Vec<_>>()),
            _ => t.clone(),
        };
        memo.insert(key, (t.clone(), r.clone()));
        r
    }

    /// Number of classes of the domain of `slot`.
    pub(crate) fn class_count(&self, slot: usize) -> u32 {
        self.vars
            .slots
            .get(slot)
            .and_then(|s| s.domain)
            .map(|d| {
                let d = &self.domains[d];
                d.classes.len() as u32 + u32::from(d.lazy_class().is_some())
            })
            .unwrap_or(0)
    }

    /// The string domain of a slot, if it has one.
    pub fn domain_of(&self, slot: usize) -> Option<&Domain> {
        self.vars
            .slots
            .get(slot)
            .and_then(|s| s.domain)
            .map(|d| &self.domains[d])
    }

    /// The string domain of a slot, mutable.
    pub fn domain_mut(&mut self, slot: usize) -> Option<&mut Domain> {
        let d = self.vars.slots.get(slot).and_then(|s| s.domain)?;
        self.domains.get_mut(d)
    }

    /// Integer scale for numeric values of slot `slot`'s key.
    pub(crate) fn num_scale(&self, slot: usize) -> u32 {
        self.keys
            .values()
            .find(|k| k.slots.contains(&slot))
            .map(|k| k.num_scale)
            .unwrap_or(1)
    }
}

/// The static relations between the predicates (unions of atoms) of an unpartitioned domain:
/// the predicates no string satisfies, and `(p, q, true)` when p ⊆ q, `(p, q, false)` when p
/// and q are disjoint. Only proved relations are listed (a search that gives up adds nothing),
/// and after 20,000 searches' worth of pairs the rest are left out: sound pruning for
/// [`Encoder::lazy_domains`]. Searches are skipped when a cheap exact argument decides a pair of
/// atoms: [`automata::surely_disjoint`], or one shortest string per atom that matches (or misses)
/// the other side.
fn predicate_facts(
    compiled: &[Pattern],
    preds: &[Vec<usize>],
    small: &automata::Limits,
) -> (Vec<usize>, Vec<(usize, usize, bool)>) {
    let npred = preds.len();
    let mut facts: Vec<(usize, usize, bool)> = Vec::new(); // (p, q, true: p ⊆ q; false: disjoint)
    let mut empty: Vec<usize> = Vec::new();
    let mut calls = 0usize;
    for (p, atoms) in preds.iter().enumerate() {
        // (a single glob's language is empty exactly when it is never-matching)
        if atoms
            .iter()
            .all(|&a| compiled.get(a).is_some_and(Pattern::is_empty_language))
        {
            empty.push(p);
        }
    }
    // atoms proved disjoint without an automaton (`automata::surely_disjoint`),
    // computed once per pair of atoms
    let mut apart: FxHashMap<(usize, usize), bool> = FxHashMap::default();
    let mut disjoint = |a: usize, b: usize| -> bool {
        let key = (a.min(b), a.max(b));
        *apart
            .entry(key)
            .or_insert_with(|| match (compiled.get(a), compiled.get(b)) {
                (Some(x), Some(y)) => automata::surely_disjoint(x, y),
                _ => false,
            })
    };
    // one string of each atom (a shortest one): a concrete string that matches an
    // atom and misses every atom of q refutes p ⊆ q, and one that matches two atoms
    // refutes their disjointness, without a search
    // (only of the atoms some predicate reads: a partly partitioned domain asks about a few)
    let mut read = vec![false; compiled.len()];
    for &a in preds.iter().flatten() {
        if let Some(r) = read.get_mut(a) {
            *r = true;
        }
    }
    let sample: Vec<Option<String>> = compiled
        .iter()
        .zip(&read)
        .map(|(a, &r)| {
            r.then(|| automata::find_witness(&[a], &[], small).ok().flatten())
                .flatten()
        })
        .collect();
    let shared = |a: usize, b: usize| -> bool {
        let hits = |x: usize, y: usize| matches!((sample.get(x), compiled.get(y)), (Some(Some(w)), Some(p)) if p.is_match(w));
        hits(a, b) || hits(b, a)
    };
    'outer: for p in 0..npred {
        for q in 0..npred {
            if p == q || calls > 20_000 {
                if calls > 20_000 {
                    break 'outer;
                }
                continue;
            }
            let (ap, aq) = (&preds[p], &preds[q]);
            // (the call count, the budget of this loop, counts searches the
            // pre-checks below skip, so the same facts are examined as before)
            calls += ap.len();
            // p ⊆ q: every atom of p is empty or inside q's atoms; an atom with a
            // string that is disjoint from every atom of q is not
            let subset = ap.iter().all(|&a| {
                let Some(pa) = compiled.get(a) else {
                    return false;
                };
                if pa.is_empty_language() {
                    return true;
                }
                if let Some(Some(w)) = sample.get(a) {
                    let in_q = aq
                        .iter()
                        .any(|&b| compiled.get(b).is_some_and(|p| p.is_match(w)));
                    if !in_q {
                        return false;
                    }
                }
                let near: Vec<&Pattern> = aq
                    .iter()
                    .filter(|&&b| !disjoint(a, b))
                    .filter_map(|&b| compiled.get(b))
                    .collect();
                !near.is_empty() && matches!(automata::find_witness(&[pa], &near, small), Ok(None))
            });
            if subset {
                facts.push((p, q, true));
            }
            if p < q {
                calls += ap.len() * aq.len();
                if ap.iter().all(|&a| {
                    aq.iter().all(|&b| {
                        disjoint(a, b)
                            || !shared(a, b)
                                && matches!(
                                    (compiled.get(a), compiled.get(b)),
                                    (Some(x), Some(y))
                                        if automata::patterns_overlap(x, y, small) == Some(false)
                                )
                    })
                }) {
                    facts.push((p, q, false));
                }
            }
        }
    }
    (empty, facts)
}

fn arn_account_toks(acct: &str) -> Vec<Tok> {
    let mut v = matching::tokens("arn:*:*:*:", true);
    v.extend(acct.chars().map(Tok::Lit));
    v.extend(matching::tokens(":*", true));
    v
}

/// The principal strings an entry admits (symbolic principal), as atoms.
fn principal_entry_atoms(e: &PrincipalEntry) -> Vec<AtomKey> {
    match e {
        PrincipalEntry::Any => vec![AtomKey::glob("*", matching::Mode::Plain)],
        PrincipalEntry::Account { partition, account } => {
            // signed principals of the account: IAM and STS ARNs with that account
            let mut toks = matching::tokens("arn:", false);
            toks.extend(partition.chars().map(Tok::Lit));
            toks.extend(matching::tokens(":*:*:", true));
            toks.extend(account.chars().map(Tok::Lit));
            toks.extend(matching::tokens(":*", true));
            vec![AtomKey {
                toks,
                mode: matching::Mode::Arn,
                ignore_case: false,
            }]
        }
        PrincipalEntry::Arn(a) => {
            let mut out = vec![AtomKey::literal(a)];
            // a role ARN also names every session of the role (grant class Role)
            let parts: Vec<&str> = a.splitn(6, ':').collect();
            if parts.len() == 6 && parts[2] == "iam" && parts[5].starts_with("role/") {
                if let Some(name) = parts[5].rsplit('/').next() {
                    let mut toks = matching::tokens(
                        &format!("arn:{}:sts::{}:assumed-role/", parts[1], parts[4]),
                        false,
                    );
                    toks.extend(name.chars().map(Tok::Lit));
                    toks.extend(matching::tokens("/?*", true));
                    out.push(AtomKey {
                        toks,
                        mode: matching::Mode::Arn,
                        ignore_case: false,
                    });
                    // and the role given with another path is a different role: no atom
                }
            }
            out
        }
        // a `Service` entry names a service principal, a `Federated` entry a federated caller
        // (as `eval::entry_grant`): a value of the other kind names nothing
        PrincipalEntry::Service(s) => match Principal::parse(s) {
            Ok(p) if matches!(p.kind, PrincipalKind::Service(_)) => vec![AtomKey::literal(s)],
            _ => Vec::new(),
        },
        PrincipalEntry::Federated(s) => match Principal::parse(s) {
            Ok(p) if p.is_federated_caller() => vec![AtomKey::literal(s)],
            _ => Vec::new(),
        },
        PrincipalEntry::UniqueId(_) | PrincipalEntry::CanonicalUser(_) => Vec::new(),
    }
}

/// `a ⇔ b`.
fn iff(a: T, b: T) -> T {
    and([implies(a.clone(), b.clone()), implies(b, a)])
}

/// Accounts (12 digits) and role names (partition, account, name) that literal ARNs in a
/// pattern name, for linking `aws:PrincipalArn` to a symbolic session.
fn collect_arn_facts(
    t: &str,
    accounts: &mut Vec<String>,
    roles: &mut Vec<(String, String, String)>,
) {
    let parts: Vec<&str> = t.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return;
    }
    let acct = parts[4];
    if acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit()) {
        accounts.push(acct.to_owned());
        let literal = |s: &str| !s.contains('*') && !s.contains('?') && !s.is_empty();
        if parts[2] == "iam" && parts[5].starts_with("role/") && literal(parts[1]) {
            if let Some(name) = parts[5].rsplit('/').next().filter(|n| literal(n)) {
                roles.push((parts[1].to_owned(), acct.to_owned(), name.to_owned()));
            }
        }
        if parts[2] == "sts" && parts[5].starts_with("assumed-role/") && literal(parts[1]) {
            if let Some(name) = parts[5].split('/').nth(1).filter(|n| literal(n)) {
                roles.push((parts[1].to_owned(), acct.to_owned(), name.to_owned()));
            }
        }
    }
}

/// Check the abstraction against the concrete matcher (used by tests and the grant map).
pub fn grant_of(entries: &[PrincipalEntry], p: &Principal) -> Option<Grant> {
    entries.iter().filter_map(|e| entry_grant(e, p)).min()
}

pub use super::term::scaled;

/// The solver reads the sorts of the encoder's variables through this table (issue 8 item 4:
/// the solver no longer depends on the encoder).
impl crate::solver::VarSorts for Encoder {
    fn class_count(&self, slot: usize) -> u32 {
        Encoder::class_count(self, slot)
    }
    fn num_scale(&self, slot: usize) -> u32 {
        Encoder::num_scale(self, slot)
    }
    fn count_bound(&self, key: usize) -> u32 {
        self.vars.counts.get(key).map(|c| c.1).unwrap_or(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automata::{Limits, Mode, PatternSpec};
    use proptest::prelude::*;

    /// [`predicate_facts`] as it was before its pre-checks: one search per question.
    fn facts_by_search(
        compiled: &[Pattern],
        preds: &[Vec<usize>],
        small: &Limits,
    ) -> (Vec<usize>, Vec<(usize, usize, bool)>) {
        let pats = |p: usize| -> Vec<&Pattern> { preds[p].iter().map(|&a| &compiled[a]).collect() };
        let none = |pos: &[&Pattern], neg: &[&Pattern]| {
            matches!(automata::find_witness(pos, neg, small), Ok(None))
        };
        let empty = (0..preds.len())
            .filter(|&p| pats(p).iter().all(|a| none(&[a], &[])))
            .collect();
        let mut facts = Vec::new();
        for p in 0..preds.len() {
            for q in 0..preds.len() {
                if p == q {
                    continue;
                }
                let (mp, mq) = (pats(p), pats(q));
                if mp.iter().all(|a| none(&[a], &mq)) {
                    facts.push((p, q, true));
                }
                if p < q && mp.iter().all(|a| mq.iter().all(|b| none(&[a, b], &[]))) {
                    facts.push((p, q, false));
                }
            }
        }
        (empty, facts)
    }

    /// ARN-like globs: 1 to 7 segments (so fewer than five colons too) with shared prefixes,
    /// `*` and `?` in any segment (the service segment included), in every mode, case-sensitive
    /// or not.
    fn arn_like() -> impl Strategy<Value = PatternSpec> {
        let seg = prop_oneof![
            Just("arn"),
            Just("aws"),
            Just("aws*"),
            Just("*"),
            Just("?"),
            Just(""),
            Just("s3"),
            Just("S3"),
            Just("sqs"),
            Just("s*"),
            Just("s?s"),
            Just("ec2"),
            Just("x/*"),
            Just("x/a"),
            Just("X/a*"),
        ];
        (
            proptest::collection::vec(seg, 1..8),
            prop_oneof![
                Just(Mode::Plain),
                Just(Mode::Resource),
                Just(Mode::Arn),
                Just(Mode::Format)
            ],
            any::<bool>(),
        )
            .prop_map(|(segs, mode, ignore_case)| {
                let mut spec = PatternSpec::glob(&segs.join(":"), mode);
                spec.ignore_case = ignore_case;
                spec
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// The pre-checks (`surely_disjoint`, shortest strings, searches against the atoms not
        /// proved disjoint) change no fact: the same empty predicates, inclusions and
        /// disjointness as one exact search per question.
        #[test]
        fn predicate_facts_agree_with_the_searches(
            specs in proptest::collection::vec(arn_like(), 1..7),
            raw in proptest::collection::vec(proptest::collection::vec(0usize..7, 1..4), 1..6),
        ) {
            let compiled: Vec<Pattern> = specs.iter().map(Pattern::compile).collect();
            let preds: Vec<Vec<usize>> = raw
                .iter()
                .map(|p| {
                    let mut v: Vec<usize> = p.iter().map(|&a| a % compiled.len()).collect();
                    v.sort_unstable();
                    v.dedup();
                    v
                })
                .collect();
            let small = Limits { max_states: 20_000, max_steps: 200_000 };
            prop_assert_eq!(
                predicate_facts(&compiled, &preds, &small),
                facts_by_search(&compiled, &preds, &small)
            );
        }
    }

    /// One abstracted pattern from text (`Like` or `Resource` syntax).
    fn abstract_atom(text: &str, mode: matching::Mode) -> AbstractAtom {
        let kind = if mode == matching::Mode::Plain {
            matching::Kind::Like
        } else {
            matching::Kind::Resource
        };
        AbstractAtom {
            var: 0,
            slot: 0,
            template: crate::parse::template(text, kind, true).unwrap(),
            mode,
            ignore_case: false,
        }
    }

    /// Random one-variable patterns over a small alphabet: `template_included` and
    /// `templates_disjoint` agree with an exact search for every value of the variable up to
    /// four characters (and, for inclusion, with the variable absent).
    #[test]
    fn inclusion_and_disjointness_of_variable_patterns_hold_for_every_value() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let alphabet = ['a', 'b', '/', '-'];
        let piece = |next: &mut dyn FnMut(usize) -> usize| -> String {
            let mut out = String::new();
            for _ in 0..next(4) {
                match next(7) {
                    0 => out.push('*'),
                    1 => out.push('?'),
                    i => out.push(alphabet[i % 4]),
                }
            }
            out
        };
        let var = |next: &mut dyn FnMut(usize) -> usize| {
            if next(3) == 0 {
                "${aws:PrincipalTag/t, 'ab'}"
            } else {
                "${aws:PrincipalTag/t}"
            }
        };
        let values: Vec<String> = {
            let mut v = vec![String::new()];
            let mut layer = vec![String::new()];
            for _ in 0..4 {
                layer = layer
                    .iter()
                    .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                    .collect();
                v.extend(layer.iter().cloned());
            }
            v
        };
        let limits = Limits {
            max_states: 20_000,
            max_steps: 1_000_000,
        };
        let resolved = |a: &AbstractAtom, v: Option<&str>| -> Option<Pattern> {
            a.template
                .resolve(&|_| v.map(str::to_owned))
                .map(|t| a.pattern(t))
        };
        let (mut included, mut disjoint) = (0, 0);
        for _ in 0..400 {
            let (mode, head) = if next(2) == 0 {
                (matching::Mode::Plain, String::new())
            } else {
                (matching::Mode::Resource, "arn:aws:s3:::".to_string())
            };
            // literal heads (the shape the rules read), sometimes one extending the other
            let lit = |next: &mut dyn FnMut(usize) -> usize| -> String {
                (0..next(3)).map(|_| alphabet[next(4)]).collect()
            };
            let ha = format!("{head}{}", lit(&mut next));
            let hb = if next(2) == 0 {
                format!("{ha}{}", lit(&mut next))
            } else {
                format!("{head}{}", lit(&mut next))
            };
            let (va, ta) = (var(&mut next), piece(&mut next));
            let a = abstract_atom(&format!("{ha}{va}{ta}"), mode);
            // (a third of the time `b` is `a` cut short and ended with `*`: inclusions)
            let b = if next(3) == 0 {
                let cut: String = ta.chars().take(next(ta.len() + 1)).collect();
                abstract_atom(&format!("{ha}{}{cut}*", var(&mut next)), mode)
            } else {
                abstract_atom(&format!("{hb}{}{}", var(&mut next), piece(&mut next)), mode)
            };
            let inc = template_included(&a, &b);
            let dis = templates_disjoint(&a, &b).is_some();
            included += usize::from(inc);
            disjoint += usize::from(dis);
            for v in values.iter().map(|v| Some(v.as_str())).chain([None]) {
                let (Some(pa), pb) = (resolved(&a, v), resolved(&b, v)) else {
                    continue;
                };
                if inc {
                    let outside = match &pb {
                        Some(pb) => automata::find_witness(&[&pa], &[pb], &limits),
                        None => automata::find_witness(&[&pa], &[], &limits),
                    };
                    assert_eq!(
                        outside,
                        Ok(None),
                        "{} ⊄ {} for {v:?}",
                        a.template.raw,
                        b.template.raw
                    );
                }
                if let (true, Some(pb), Some(_)) = (dis, &pb, v) {
                    assert_eq!(
                        automata::find_witness(&[&pa, pb], &[], &limits),
                        Ok(None),
                        "{} and {} overlap for {v:?}",
                        a.template.raw,
                        b.template.raw
                    );
                }
            }
        }
        // the generator reaches both rules
        assert!(included > 10 && disjoint > 10, "{included} {disjoint}");
    }
}
