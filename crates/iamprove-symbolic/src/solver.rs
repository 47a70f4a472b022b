//! The only module that talks to Z3. Terms from [`crate::symbolic::term`] go in; plain Rust
//! models come out (Z3 values are not `Send`; one solver per thread).

use crate::literal::{mask4, mask6, IpAddr, IpNet};
use crate::model::Cmp;
use crate::symbolic::term::{scaled, Assignment, Term, T};
use crate::z3lib::{self, Ast, Context, SatResult, Solver, SolverKind};
use iamprove_core::fxhash::{FxHashMap, FxHashSet};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// Z3 steps (its `rlimit` count) one check may take in Z3's SMT core before the session moves
/// to Z3's default solver ([`SolverKind`]). The default solver answers a first check by a
/// tactic pipeline whose preprocessing costs 100–150 ms on the larger diffs of the corpus (3–5
/// times the core's check: SageMakerStudioProjectUserRolePolicy v62→v61, 185 ms against 41 ms)
/// and pays off only on long searches (a generated 5,000-statement pair: 0.7 s against 2.6 s
/// for a first check of 1.1 M steps in the core). The most a check of the 2,968 corpus pairs
/// takes in the core is 168 k steps. Counted, not timed: the switch happens at the same point
/// on every machine.
pub const CORE_STEPS: u32 = 500_000;

/// The reason of a Z3 check stopped by [`Session::set_step_limit`].
pub const STEP_LIMIT_REASON: &str = "step limit (Z3 resource limit) reached";

/// Latest date a model may choose (9999-12-31), so witnesses format as ISO dates.
const MAX_DATE_MS: i64 = 253_402_300_799_000;

/// A model in plain data.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Boolean variables.
    pub bools: BTreeMap<usize, bool>,
    /// Class of each string slot.
    pub classes: BTreeMap<usize, u32>,
    /// Integer-scaled numeric values (`None`: not a number).
    pub nums: BTreeMap<usize, Option<i128>>,
    /// Date values (epoch ms; `None`: not a date).
    pub dates: BTreeMap<usize, Option<i64>>,
    /// IP values (`None`: not an address).
    pub ips: BTreeMap<usize, Option<IpAddr>>,
    /// Value count of each multivalued key.
    pub counts: BTreeMap<usize, u32>,
    /// Numeric scale per slot.
    pub scales: BTreeMap<usize, u32>,
    /// Strings realised for slots of unpartitioned domains (see `query::realize_lazy`).
    pub strings: BTreeMap<usize, String>,
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

/// The answer of one check.
#[derive(Debug)]
pub enum Outcome {
    /// Satisfiable, with a model.
    Sat(Model),
    /// Unsatisfiable: no model exists.
    Unsat,
    /// Neither (timeout, budget, the deadline): the reason.
    Unknown(String),
}

/// What the asserted terms need to know about their variables, read from the encoder when they
/// are asserted, so that a Z3 solver can be built later (at `check`) without the encoder.
#[derive(Debug, Default, Clone)]
struct Dims {
    bools: BTreeSet<usize>,
    /// Class slots and their number of classes (at least 1).
    classes: BTreeMap<usize, u32>,
    /// Multivalued keys and their largest value count.
    counts: BTreeMap<usize, u32>,
    /// Numeric scale per numeric slot.
    scales: BTreeMap<usize, u32>,
    /// Some term compares numbers, dates or IP addresses: only Z3 decides those.
    infinite: bool,
}

/// Largest number of term nodes the built-in search may evaluate in one check before it hands
/// the query to Z3 (a few milliseconds).
const NATIVE_STEPS: u64 = 400_000;
/// Queries with more finite variables than this go to Z3 directly.
const NATIVE_VARS: usize = 256;

/// The sorts of the variables terms mention, as the solver needs them: how many classes a
/// string slot's variable ranges over, the decimal scale of a numeric slot, the largest value
/// count of a multivalued key. The encoder implements it; the solver knows nothing else of it.
pub trait VarSorts {
    /// Number of classes of string slot `slot` (its variable ranges over `0..n`; 0 if unknown).
    fn class_count(&self, slot: usize) -> u32;
    /// Decimal scale of numeric slot `slot` (values are integers `v * 10^scale`).
    fn num_scale(&self, slot: usize) -> u32;
    /// Largest number of values of multivalued key `key`.
    fn count_bound(&self, key: usize) -> u32;
}

/// A solver session over one encoder's variables.
///
/// Queries over Booleans, string classes and value counts only (most policy diffs) are decided
/// by a small built-in search (`native_check`): exhaustive, so "no model" is a proof, and
/// bounded, so a query too large for it goes to Z3. Z3 (context, solver, translation of every
/// term asserted so far) is created only when a check needs it: numbers, dates and IP
/// addresses, a search over budget, or an SMT-LIB dump. Start-up of a small diff then does no
/// Z3 work at all.
pub struct Session {
    timeout_ms: u32,
    /// Z3's resource limit per check (`rlimit`; `None`: none). Counted, not timed: the same
    /// check gives up at the same point on any machine (see [`Session::set_step_limit`]).
    step_limit: Option<u32>,
    /// Every assertion, in order (blocking clauses included), kept alive so pointer keys in
    /// `seen` stay unique.
    asserted: Vec<T>,
    dims: Dims,
    /// Terms already walked by `note`.
    seen: FxHashSet<usize>,
    z3: Option<Z3Session>,
    /// The built-in search ran over budget once: use Z3 for the rest of the session.
    native_off: bool,
    /// A check ran over `core_steps` in Z3's SMT core: Z3's default solver for the rest of the
    /// session.
    z3_default: bool,
    /// [`CORE_STEPS`] (smaller in tests).
    core_steps: u32,
}

impl Session {
    /// A session with this per-check timeout (milliseconds; at least 1).
    pub fn new(timeout_ms: u32) -> Session {
        Session {
            timeout_ms: timeout_ms.max(1),
            step_limit: None,
            asserted: Vec::new(),
            dims: Dims::default(),
            seen: FxHashSet::default(),
            z3: None,
            native_off: false,
            z3_default: false,
            core_steps: CORE_STEPS,
        }
    }

    /// Change the per-check timeout.
    pub fn set_timeout(&mut self, timeout_ms: u32) {
        self.timeout_ms = timeout_ms.max(1);
        if let Some(z) = &mut self.z3 {
            z.timeout_ms = self.timeout_ms;
        }
    }

    /// Bound each later Z3 check by Z3's resource counter (`rlimit`, relative to the count at
    /// the check's start) instead of only by the wall clock: a check over the limit answers
    /// [`Outcome::Unknown`] with [`STEP_LIMIT_REASON`], at the same point in every run and on
    /// every machine. `None` removes the limit. The per-check timeout and the command's
    /// deadline still apply. (The built-in search is bounded by its own counted budget.)
    pub fn set_step_limit(&mut self, steps: Option<u32>) {
        self.step_limit = steps;
        if let Some(z) = &mut self.z3 {
            z.set_step_limit(steps);
        }
    }

    /// Assert `t`; `enc` gives the sorts of the variables it mentions.
    pub fn assert(&mut self, t: &T, enc: &dyn VarSorts) {
        self.note(t, enc);
        self.asserted.push(t.clone());
        if let Some(z) = &mut self.z3 {
            z.assert(t, &self.dims);
        }
    }

    /// Assert a term built here (blocking clauses); its variables are already known.
    fn assert_own(&mut self, t: T) {
        self.note_known(&t);
        self.asserted.push(t.clone());
        if let Some(z) = &mut self.z3 {
            z.assert(&t, &self.dims);
        }
    }

    /// The assertions in SMT-LIB 2 (creates the Z3 solver if there is none yet), or why Z3
    /// cannot be loaded.
    pub fn to_smt2(&mut self) -> Result<String, String> {
        self.z3_session()?.to_smt2()
    }

    /// Whether a Z3 context has been created (for tests and benchmarks of the start-up path).
    pub fn uses_z3(&self) -> bool {
        self.z3.is_some()
    }

    /// The Z3 session, made (and given every assertion so far) on first use; `Err` when Z3
    /// cannot be loaded.
    fn z3_session(&mut self) -> Result<&mut Z3Session, String> {
        if self.z3.is_none() {
            let kind = if self.z3_default {
                SolverKind::Default
            } else {
                SolverKind::Core
            };
            let mut z = Z3Session::new(self.timeout_ms, kind)?;
            z.set_step_limit(self.step_limit);
            for t in &self.asserted {
                z.assert(t, &self.dims);
            }
            self.z3 = Some(z);
        }
        self.z3.as_mut().ok_or_else(|| "no Z3 session".to_string())
    }

    /// Record the variables of `t` (and their domains from the encoder).
    fn note(&mut self, t: &T, enc: &dyn VarSorts) {
        let mut stack = vec![t.clone()];
        while let Some(t) = stack.pop() {
            if !self.seen.insert(Rc::as_ptr(&t) as usize) {
                continue;
            }
            match &*t {
                Term::Const(_) => {}
                Term::Bool(i) => {
                    self.dims.bools.insert(*i);
                }
                Term::Not(x) => stack.push(x.clone()),
                Term::And(xs) | Term::Or(xs) => stack.extend(xs.iter().cloned()),
                Term::ClassIn { slot, .. } => {
                    self.dims
                        .classes
                        .entry(*slot)
                        .or_insert_with(|| enc.class_count(*slot).max(1));
                }
                Term::Num { slot, .. } => {
                    self.dims.infinite = true;
                    self.dims
                        .scales
                        .entry(*slot)
                        .or_insert_with(|| enc.num_scale(*slot));
                }
                Term::Date { .. } | Term::Ip { .. } => self.dims.infinite = true,
                Term::CountGt { key, .. } => {
                    self.dims
                        .counts
                        .entry(*key)
                        .or_insert_with(|| enc.count_bound(*key));
                }
            }
        }
    }

    /// `note` for terms over variables already declared.
    fn note_known(&mut self, t: &T) {
        let mut stack = vec![t.clone()];
        while let Some(t) = stack.pop() {
            if !self.seen.insert(Rc::as_ptr(&t) as usize) {
                continue;
            }
            match &*t {
                Term::Bool(i) => {
                    self.dims.bools.insert(*i);
                }
                Term::Not(x) => stack.push(x.clone()),
                Term::And(xs) | Term::Or(xs) => stack.extend(xs.iter().cloned()),
                Term::ClassIn { slot, .. } => {
                    self.dims.classes.entry(*slot).or_insert(1);
                }
                Term::Num { .. } | Term::Date { .. } | Term::Ip { .. } => self.dims.infinite = true,
                Term::CountGt { key, .. } => {
                    self.dims.counts.entry(*key).or_insert(1);
                }
                Term::Const(_) => {}
            }
        }
    }

    /// Diagnostics: the smallest sub-term whose Z3 value under the current model differs from
    /// its value under `m` by `term::eval`. `None` when the last model came from the built-in
    /// search (which evaluates terms with `term::eval` itself).
    pub(crate) fn first_disagreement(
        &mut self,
        t: &T,
        m: &Model,
        enc: &dyn VarSorts,
    ) -> Option<String> {
        self.note(t, enc);
        let dims = self.dims.clone();
        let z = self.z3.as_mut()?;
        z.first_disagreement(t, m, &dims)
    }

    /// Decide the assertions so far: the built-in search when it can, else Z3 (bounded by the per-check timeout and the command's deadline).
    pub fn check(&mut self) -> Outcome {
        if crate::deadline::passed() {
            return Outcome::Unknown(
                "timeout (the --timeout for the whole command was reached)".into(),
            );
        }
        if self.z3.is_none() && !self.native_off && !self.dims.infinite {
            match native_check(&self.asserted, &self.dims) {
                Some(Some(m)) => return Outcome::Sat(m),
                Some(None) => return Outcome::Unsat,
                None => self.native_off = true,
            }
        }
        // in the core, its budget, unless the caller's step limit is smaller (its unknown is
        // then the caller's)
        let core = (!self.z3_default && self.step_limit.is_none_or(|n| n > self.core_steps))
            .then_some(self.core_steps);
        let mut out = self.z3_check(core);
        if core.is_some() && matches!(&out, Outcome::Unknown(r) if r == STEP_LIMIT_REASON) {
            // over CORE_STEPS (below the caller's step limit, if any): a long search, which
            // Z3's default solver runs from a fresh start with its preprocessing
            self.z3_default = true;
            self.z3 = None;
            out = self.z3_check(None);
        }
        match out {
            Outcome::Unknown(r) if r == "timeout" && crate::deadline::passed() => {
                Outcome::Unknown("timeout (the --timeout for the whole command was reached)".into())
            }
            out => out,
        }
    }

    /// One Z3 check under the per-check timeout and the command's deadline, and under `budget`
    /// steps in place of the caller's step limit when given (an unknown for those steps reads
    /// [`STEP_LIMIT_REASON`]).
    fn z3_check(&mut self, budget: Option<u32>) -> Outcome {
        let left = crate::deadline::remaining().map_or(u32::MAX, |d| {
            u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
        });
        let user = self.step_limit;
        let z = match self.z3_session() {
            Ok(z) => z,
            Err(e) => return Outcome::Unknown(e),
        };
        let per_check = z.timeout_ms;
        z.timeout_ms = per_check.min(left).max(1);
        if budget.is_some() {
            z.set_step_limit(budget);
        }
        let out = z.check();
        if budget.is_some() {
            z.set_step_limit(user);
        }
        z.timeout_ms = per_check;
        out
    }

    /// Forbid the class assignment of `slot` seen in `model`.
    pub(crate) fn block_class(&mut self, slot: usize, class: u32, enc: &dyn VarSorts) {
        self.block(&[(slot, class)], &[], enc);
    }

    /// Forbid the conjunction of the given literals (class choices and Booleans).
    pub fn block(&mut self, classes: &[(usize, u32)], bools: &[(usize, bool)], enc: &dyn VarSorts) {
        let mut lits: Vec<T> = Vec::new();
        for (slot, c) in classes {
            self.dims
                .classes
                .entry(*slot)
                .or_insert_with(|| enc.class_count(*slot).max(1));
            lits.push(Rc::new(Term::ClassIn {
                slot: *slot,
                classes: vec![*c],
            }));
        }
        for (i, val) in bools {
            self.dims.bools.insert(*i);
            let b = Rc::new(Term::Bool(*i));
            lits.push(if *val { b } else { Rc::new(Term::Not(b)) });
        }
        if !lits.is_empty() {
            self.assert_own(Rc::new(Term::Not(Rc::new(Term::And(lits)))));
        }
    }
}

/// A variable of the built-in search.
#[derive(Clone, Copy)]
enum Var {
    Bool(usize),
    /// slot, number of classes
    Class(usize, u32),
    /// key, largest count
    Count(usize, u32),
}

/// Exhaustive depth-first search for an assignment of Booleans, classes and counts that makes
/// every term true, pruned by three-valued evaluation of the terms under the partial
/// assignment (sound: a term that is false under a partial assignment is false under every
/// completion). `Some(Some(model))`: a model (every term true under it); `Some(None)`: none
/// exists; `None`: over budget (ask Z3).
fn native_check(terms: &[T], dims: &Dims) -> Option<Option<Model>> {
    let mut vars: Vec<Var> = Vec::new();
    vars.extend(dims.bools.iter().map(|&i| Var::Bool(i)));
    vars.extend(dims.classes.iter().map(|(&s, &n)| Var::Class(s, n.max(1))));
    vars.extend(dims.counts.iter().map(|(&k, &m)| Var::Count(k, m)));
    if vars.len() > NATIVE_VARS {
        return None;
    }
    let mut search = Search {
        terms,
        partial: Partial::default(),
        steps: 0,
    };
    let found = search.dfs(&vars)?;
    if !found {
        return Some(None);
    }
    let p = &search.partial;
    let mut m = Model {
        scales: dims.scales.clone(),
        ..Default::default()
    };
    for &i in &dims.bools {
        m.bools.insert(i, p.bools.get(&i).copied().unwrap_or(false));
    }
    for &s in dims.classes.keys() {
        m.classes.insert(s, p.classes.get(&s).copied().unwrap_or(0));
    }
    for &k in dims.counts.keys() {
        m.counts.insert(k, p.counts.get(&k).copied().unwrap_or(0));
    }
    // the search's own check, by the same evaluator the rest of the crate uses
    if terms.iter().all(|t| crate::symbolic::term::eval(t, &m)) {
        Some(Some(m))
    } else {
        None
    }
}

#[derive(Default)]
struct Partial {
    bools: FxHashMap<usize, bool>,
    classes: FxHashMap<usize, u32>,
    counts: FxHashMap<usize, u32>,
}

struct Search<'a> {
    terms: &'a [T],
    partial: Partial,
    steps: u64,
}

impl Search<'_> {
    /// `Some(true)`: the partial assignment extends to a model (kept in `partial`);
    /// `Some(false)`: it does not; `None`: over budget.
    fn dfs(&mut self, vars: &[Var]) -> Option<bool> {
        let mut all_true = true;
        for t in self.terms {
            match self.eval3(t)? {
                Some(false) => return Some(false),
                Some(true) => {}
                None => all_true = false,
            }
        }
        if all_true {
            return Some(true);
        }
        let Some((&v, rest)) = vars.split_first() else {
            // every variable assigned, yet a term undecided: cannot happen; let Z3 decide
            return None;
        };
        match v {
            Var::Bool(i) => {
                for val in [false, true] {
                    self.partial.bools.insert(i, val);
                    if self.dfs(rest)? {
                        return Some(true);
                    }
                }
                self.partial.bools.remove(&i);
            }
            Var::Class(s, n) => {
                for c in 0..n {
                    self.partial.classes.insert(s, c);
                    if self.dfs(rest)? {
                        return Some(true);
                    }
                }
                self.partial.classes.remove(&s);
            }
            Var::Count(k, max) => {
                for c in 0..=max {
                    self.partial.counts.insert(k, c);
                    if self.dfs(rest)? {
                        return Some(true);
                    }
                }
                self.partial.counts.remove(&k);
            }
        }
        Some(false)
    }

    /// Kleene three-valued value of `t` under the partial assignment (`None` inside: not yet
    /// determined); outer `None`: over budget.
    fn eval3(&mut self, t: &Term) -> Option<Option<bool>> {
        self.steps += 1;
        if self.steps > NATIVE_STEPS {
            return None;
        }
        Some(match t {
            Term::Const(b) => Some(*b),
            Term::Bool(i) => self.partial.bools.get(i).copied(),
            Term::Not(x) => self.eval3(x)?.map(|b| !b),
            Term::And(xs) => {
                let mut known = true;
                for x in xs {
                    match self.eval3(x)? {
                        Some(false) => return Some(Some(false)),
                        Some(true) => {}
                        None => known = false,
                    }
                }
                known.then_some(true)
            }
            Term::Or(xs) => {
                let mut known = true;
                for x in xs {
                    match self.eval3(x)? {
                        Some(true) => return Some(Some(true)),
                        Some(false) => {}
                        None => known = false,
                    }
                }
                known.then_some(false)
            }
            Term::ClassIn { slot, classes } => self
                .partial
                .classes
                .get(slot)
                .map(|c| classes.binary_search(c).is_ok()),
            Term::CountGt { key, n } => self.partial.counts.get(key).map(|c| c > n),
            // not in the finite fragment (`Dims::infinite` keeps such queries away)
            Term::Num { .. } | Term::Date { .. } | Term::Ip { .. } => return None,
        })
    }
}

/// A Z3 solver over the terms asserted so far (created only when a check needs it).
struct Z3Session {
    timeout_ms: u32,
    /// The `rlimit` set by `set_step_limit`: an unknown that used that many steps is the step limit.
    step_limit: Option<u32>,
    solver: Solver,
    /// The first error Z3 reported while terms were translated (then every check is unknown).
    failed: Option<String>,
    /// A term's address → its translation's index in `asts`. The translations live in a `Vec`,
    /// not in the map: dropping a `HashMap` releases its values in the order of its hasher,
    /// which is random per process, so the ASTs this session freed went back to the thread's
    /// Z3 context (which reuses them for the next session) in a different order in every run.
    /// The next session's AST ids, and with them Z3's search and models, then varied between
    /// runs, and so did the answers of `diff` (issue 13: widened or unknown on the SageMaker
    /// Studio policies). A `Vec` drops in creation order. Test:
    /// `z3_answers_do_not_depend_on_the_hasher`.
    memo: FxHashMap<usize, usize>,
    /// Translations, in creation order (see `memo`).
    asts: Vec<Ast>,
    bools: BTreeMap<usize, Ast>,
    classes: BTreeMap<usize, (Ast, u32)>,
    nums: BTreeMap<usize, (Ast, Ast)>,
    dates: BTreeMap<usize, (Ast, Ast)>,
    ips: BTreeMap<usize, (Ast, Ast, Ast, Ast)>,
    counts: BTreeMap<usize, Ast>,
    scales: BTreeMap<usize, u32>,
    /// Keep terms alive so pointer keys stay unique.
    keep: Vec<T>,
}

impl Z3Session {
    /// A session with a solver of `kind`: the core on this thread's Z3 context, the default
    /// solver on a fresh one (below); `Err` when Z3 cannot be loaded.
    fn new(timeout_ms: u32, kind: SolverKind) -> Result<Z3Session, String> {
        // No Z3 `timeout` parameter: Z3 4.8.12's timer can deadlock with short timeouts. A
        // watchdog thread interrupts the check instead (see `check`).
        Ok(Z3Session {
            timeout_ms: timeout_ms.max(1),
            step_limit: None,
            // The default solver gets a context of its own: Z3 gives the ids of released terms
            // to new ones, and its search follows term ids. On the generated 5,000-statement
            // pair (NEW→OLD) its proof took 26–30 s in the core's context and 16–22 s in a fresh
            // one, as before the core was tried first.
            solver: match kind {
                SolverKind::Core => Solver::new(kind)?,
                SolverKind::Default => Solver::new_in(Context::fresh()?, kind)?,
            },
            failed: None,
            memo: FxHashMap::default(),
            asts: Vec::new(),
            bools: BTreeMap::new(),
            classes: BTreeMap::new(),
            nums: BTreeMap::new(),
            dates: BTreeMap::new(),
            ips: BTreeMap::new(),
            counts: BTreeMap::new(),
            scales: BTreeMap::new(),
            keep: Vec::new(),
        })
    }

    /// Set (or with `None`, lift) the solver's `rlimit` parameter. Z3 4.8.12 applies it per
    /// check, relative to the context's resource count when the check starts
    /// (`Z3_solver_check`'s `scoped_rlimit`).
    fn set_step_limit(&mut self, steps: Option<u32>) {
        if steps.is_none() && self.step_limit.is_none() {
            // never limited: leave the solver's parameters as Z3 made them
            return;
        }
        // 0: no limit
        if let Err(e) = self.solver.set_rlimit(steps.unwrap_or(0)) {
            self.failed.get_or_insert(e);
        }
        self.step_limit = steps.filter(|&n| n > 0);
    }

    fn assert(&mut self, t: &T, dims: &Dims) {
        let b = self.tr(t, dims);
        self.assert_made(b);
    }

    /// Assert a translated term, or keep the error Z3 gave while making it (every later check
    /// then answers unknown).
    fn assert_made(&mut self, b: Result<Ast, String>) {
        match b {
            Ok(b) => self.solver.assert(&b),
            Err(e) => {
                self.failed.get_or_insert(e);
            }
        }
    }

    fn to_smt2(&self) -> Result<String, String> {
        self.solver.to_smt2()
    }

    /// The context the terms are made in (the solver's).
    fn ctx(&self) -> &Rc<Context> {
        self.solver.context()
    }

    fn bool_var(&mut self, i: usize) -> Result<Ast, String> {
        if let Some(v) = self.bools.get(&i) {
            return Ok(v.clone());
        }
        let v = self.ctx().bool_const(&format!("b{i}"))?;
        self.bools.insert(i, v.clone());
        Ok(v)
    }

    fn class_var(&mut self, slot: usize, dims: &Dims) -> Result<Ast, String> {
        if let Some((v, _)) = self.classes.get(&slot) {
            return Ok(v.clone());
        }
        let n = dims.classes.get(&slot).copied().unwrap_or(1).max(1);
        let v = self.ctx().int_const(&format!("class{slot}"))?;
        let lo = v.ge(&self.ctx().int(0)?);
        self.assert_made(lo);
        let hi = v.lt(&self.ctx().int(i64::from(n))?);
        self.assert_made(hi);
        self.classes.insert(slot, (v.clone(), n));
        Ok(v)
    }

    fn num_var(&mut self, slot: usize, dims: &Dims) -> Result<(Ast, Ast), String> {
        if let Some(v) = self.nums.get(&slot) {
            return Ok(v.clone());
        }
        self.scales
            .insert(slot, dims.scales.get(&slot).copied().unwrap_or(1));
        let v = (
            self.ctx().bool_const(&format!("isnum{slot}"))?,
            self.ctx().int_const(&format!("num{slot}"))?,
        );
        self.nums.insert(slot, v.clone());
        Ok(v)
    }

    fn date_var(&mut self, slot: usize) -> Result<(Ast, Ast), String> {
        if let Some(v) = self.dates.get(&slot) {
            return Ok(v.clone());
        }
        let v = (
            self.ctx().bool_const(&format!("isdate{slot}"))?,
            self.ctx().int_const(&format!("date{slot}"))?,
        );
        let lo = v.1.ge(&self.ctx().int(0)?);
        self.assert_made(lo);
        let hi = v.1.le(&self.ctx().int(MAX_DATE_MS)?);
        self.assert_made(hi);
        self.dates.insert(slot, v.clone());
        Ok(v)
    }

    fn ip_var(&mut self, slot: usize) -> Result<(Ast, Ast, Ast, Ast), String> {
        if let Some(v) = self.ips.get(&slot) {
            return Ok(v.clone());
        }
        let v = (
            self.ctx().bool_const(&format!("isip{slot}"))?,
            self.ctx().bool_const(&format!("isv6_{slot}"))?,
            self.ctx().bv_const(&format!("ip4_{slot}"), 32)?,
            self.ctx().bv_const(&format!("ip6_{slot}"), 128)?,
        );
        self.ips.insert(slot, v.clone());
        Ok(v)
    }

    fn count_var(&mut self, key: usize, dims: &Dims) -> Result<Ast, String> {
        if let Some(v) = self.counts.get(&key) {
            return Ok(v.clone());
        }
        let max = dims.counts.get(&key).copied().unwrap_or(1);
        let v = self.ctx().int_const(&format!("count{key}"))?;
        let lo = v.ge(&self.ctx().int(0)?);
        self.assert_made(lo);
        let hi = v.le(&self.ctx().int(i64::from(max))?);
        self.assert_made(hi);
        self.counts.insert(key, v.clone());
        Ok(v)
    }

    fn tr(&mut self, t: &T, dims: &Dims) -> Result<Ast, String> {
        let key = Rc::as_ptr(t) as usize;
        if let Some(b) = self.memo.get(&key).and_then(|&i| self.asts.get(i)) {
            return Ok(b.clone());
        }
        let ctx = self.ctx().clone();
        let b = match &**t {
            Term::Const(b) => ctx.bool_val(*b)?,
            Term::Bool(i) => self.bool_var(*i)?,
            Term::Not(x) => self.tr(x, dims)?.not()?,
            Term::And(xs) => {
                let v = xs
                    .iter()
                    .map(|x| self.tr(x, dims))
                    .collect::<Result<Vec<_>, _>>()?;
                ctx.and(&v)?
            }
            Term::Or(xs) => {
                let v = xs
                    .iter()
                    .map(|x| self.tr(x, dims))
                    .collect::<Result<Vec<_>, _>>()?;
                ctx.or(&v)?
            }
            Term::ClassIn { slot, classes } => {
                let v = self.class_var(*slot, dims)?;
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
                        parts.push(v.eq(&ctx.int(i64::from(lo))?)?);
                    } else {
                        parts.push(ctx.and(&[
                            v.ge(&ctx.int(i64::from(lo))?)?,
                            v.le(&ctx.int(i64::from(hi))?)?,
                        ])?);
                    }
                    i += 1;
                }
                ctx.or(&parts)?
            }
            Term::Num { slot, cmp, lit } => {
                let (isnum, v) = self.num_var(*slot, dims)?;
                let scale = self.scales.get(slot).copied().unwrap_or(1);
                match scaled(lit, scale) {
                    Some(l) => {
                        let c = compare(&v, *cmp, &ctx.int_wide(l)?)?;
                        ctx.and(&[isnum, c])?
                    }
                    None => ctx.bool_val(false)?,
                }
            }
            Term::Date { slot, cmp, lit } => {
                let (isdate, v) = self.date_var(*slot)?;
                let c = compare(&v, *cmp, &ctx.int(*lit)?)?;
                ctx.and(&[isdate, c])?
            }
            Term::Ip { slot, net } => {
                let (isip, is6, v4, v6) = self.ip_var(*slot)?;
                match net {
                    IpNet::V4 { addr, prefix } => {
                        let m = ctx.bv(u64::from(mask4(*prefix)), 32)?;
                        let n = ctx.bv(u64::from(*addr), 32)?;
                        ctx.and(&[isip, is6.not()?, v4.bvand(&m)?.eq(&n)?])?
                    }
                    IpNet::V6 { addr, prefix } => {
                        let m = bv128(&ctx, mask6(*prefix))?;
                        let n = bv128(&ctx, *addr)?;
                        ctx.and(&[isip, is6, v6.bvand(&m)?.eq(&n)?])?
                    }
                }
            }
            Term::CountGt { key, n } => {
                let v = self.count_var(*key, dims)?;
                v.gt(&ctx.int(i64::from(*n))?)?
            }
        };
        self.keep.push(t.clone());
        self.memo.insert(key, self.asts.len());
        self.asts.push(b.clone());
        Ok(b)
    }

    /// Diagnostics: the smallest sub-term whose Z3 value under the current model differs from
    /// its value under `m` by `term::eval`.
    fn first_disagreement(&mut self, t: &T, m: &Model, dims: &Dims) -> Option<String> {
        let z = self.solver.model()?;
        let zb = self.tr(t, dims).ok()?;
        let zv = z.eval(&zb).and_then(|b| b.as_bool())?;
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
            if let Some(d) = self.first_disagreement(&c, m, dims) {
                return Some(d);
            }
        }
        Some(format!("{t:?}: z3 {zv} term {tv}"))
    }

    fn check(&mut self) -> Outcome {
        if let Some(e) = &self.failed {
            return Outcome::Unknown(format!("Z3 rejected the query: {e}"));
        }
        let limit = std::time::Duration::from_millis(u64::from(self.timeout_ms));
        let before = if self.step_limit.is_some() {
            self.rlimit_count()
        } else {
            0
        };
        match self.solver.check_within(limit) {
            (SatResult::Unknown, true) => Outcome::Unknown("timeout".into()),
            (SatResult::Unsat, _) => Outcome::Unsat,
            (SatResult::Unknown, false) => {
                let reason = self
                    .solver
                    .reason_unknown()
                    .unwrap_or_else(|| "unknown".into());
                // Z3 words it "max. resource limit exceeded", or "unknown" when a tactic stopped
                let used = self.rlimit_count().wrapping_sub(before);
                if self
                    .step_limit
                    .is_some_and(|n| reason.contains("resource") || used >= n)
                {
                    Outcome::Unknown(STEP_LIMIT_REASON.into())
                } else {
                    Outcome::Unknown(reason)
                }
            }
            (SatResult::Sat, _) => match self.solver.model() {
                Some(m) => Outcome::Sat(self.read_model(&m)),
                None => Outcome::Unknown("the solver returned no model".into()),
            },
        }
    }

    /// The context's resource count so far (Z3's `rlimit count` statistic, modulo 2^32: take
    /// differences with `wrapping_sub`).
    fn rlimit_count(&self) -> u32 {
        self.solver.statistic("rlimit count").unwrap_or(0)
    }

    fn read_model(&self, m: &z3lib::Model) -> Model {
        let bool_of = |b: &Ast| m.eval(b).and_then(|v| v.as_bool()).unwrap_or(false);
        let mut out = Model {
            scales: self.scales.clone(),
            ..Default::default()
        };
        for (i, b) in &self.bools {
            out.bools.insert(*i, bool_of(b));
        }
        for (slot, (v, _)) in &self.classes {
            let c = m.eval(v).and_then(|v| v.as_i64()).unwrap_or(0);
            out.classes.insert(*slot, u32::try_from(c).unwrap_or(0));
        }
        for (slot, (isnum, v)) in &self.nums {
            let val = m.eval(v).and_then(|v| v.as_i128());
            out.nums
                .insert(*slot, if bool_of(isnum) { val } else { None });
        }
        for (slot, (isdate, v)) in &self.dates {
            let val = m.eval(v).and_then(|v| v.as_i64());
            out.dates
                .insert(*slot, if bool_of(isdate) { val } else { None });
        }
        for (slot, (isip, is6, v4, v6)) in &self.ips {
            let ip = if !bool_of(isip) {
                None
            } else if bool_of(is6) {
                bv_to_u128(m, v6).map(IpAddr::V6)
            } else {
                m.eval(v4)
                    .and_then(|v| v.as_u64())
                    .map(|x| IpAddr::V4(x as u32))
            };
            out.ips.insert(*slot, ip);
        }
        for (k, v) in &self.counts {
            let c = m.eval(v).and_then(|v| v.as_i64()).unwrap_or(0);
            out.counts.insert(*k, u32::try_from(c).unwrap_or(0));
        }
        out
    }
}

/// `v CMP l` (numbers and dates).
fn compare(v: &Ast, cmp: Cmp, l: &Ast) -> Result<Ast, String> {
    match cmp {
        Cmp::Eq => v.eq(l),
        Cmp::Lt => v.lt(l),
        Cmp::Le => v.le(l),
        Cmp::Gt => v.gt(l),
        Cmp::Ge => v.ge(l),
    }
}

fn bv128(ctx: &Rc<Context>, v: u128) -> Result<Ast, String> {
    let hi = ctx.bv((v >> 64) as u64, 64)?;
    let lo = ctx.bv(v as u64, 64)?;
    hi.concat(&lo)
}

fn bv_to_u128(m: &z3lib::Model, v: &Ast) -> Option<u128> {
    let hi = m.eval(&v.extract(127, 64).ok()?)?.as_u64()?;
    let lo = m.eval(&v.extract(63, 0).ok()?)?.as_u64()?;
    Some((u128::from(hi) << 64) | u128::from(lo))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbolic::term::eval;

    /// A deterministic pseudo-random term over 4 Booleans, two class slots of 3 classes and one
    /// count bounded by 2.
    fn random_term(seed: &mut u64, depth: u32) -> T {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let r = (*seed >> 33) as u32;
        let leaf = depth == 0 || r % 7 < 2;
        Rc::new(if leaf {
            match r % 4 {
                0 | 1 => Term::Bool((r / 4 % 4) as usize),
                2 => Term::ClassIn {
                    slot: (r / 4 % 2) as usize,
                    classes: (0..3).filter(|c| r >> (8 + c) & 1 == 1).collect(),
                },
                _ => Term::CountGt {
                    key: 0,
                    n: r / 4 % 3,
                },
            }
        } else {
            let kids = (0..(2 + r / 8 % 3))
                .map(|_| random_term(seed, depth - 1))
                .collect();
            match r % 3 {
                0 => Term::And(kids),
                1 => Term::Or(kids),
                _ => Term::Not(random_term(seed, depth - 1)),
            }
        })
    }

    fn session(terms: &[T]) -> Session {
        let mut s = Session::new(10_000);
        for t in terms {
            s.note_known(t);
            s.asserted.push(t.clone());
        }
        for slot in [0, 1] {
            if let Some(n) = s.dims.classes.get_mut(&slot) {
                *n = 3;
            }
        }
        if let Some(m) = s.dims.counts.get_mut(&0) {
            *m = 2;
        }
        s
    }

    /// The built-in search agrees with Z3 on satisfiability, and its models satisfy every
    /// assertion.
    #[test]
    fn native_search_agrees_with_z3() {
        let mut seed = 7u64;
        let (mut sat, mut unsat) = (0, 0);
        for _ in 0..400 {
            let terms: Vec<T> = (0..3).map(|_| random_term(&mut seed, 3)).collect();
            let mut native = session(&terms);
            let n = native.check();
            assert!(native.z3.is_none(), "small queries never need Z3");
            let mut z3 = session(&terms);
            let z = z3.z3_session().unwrap().check();
            match (&n, &z) {
                (Outcome::Sat(m), Outcome::Sat(_)) => {
                    assert!(terms.iter().all(|t| eval(t, m)), "{terms:?} {m:?}");
                    for (slot, c) in &m.classes {
                        assert!(*c < native.dims.classes[slot]);
                    }
                    sat += 1;
                }
                (Outcome::Unsat, Outcome::Unsat) => unsat += 1,
                _ => panic!("native and Z3 disagree on {terms:?}"),
            }
        }
        assert!(
            sat > 20 && unsat > 20,
            "both outcomes exercised: {sat} sat, {unsat} unsat"
        );
    }

    /// A deterministic pseudo-random term over 24 Booleans and 6 class slots of 8 classes.
    /// Twelve disjunctions of three wide random terms, satisfiable together (the step-limit
    /// tests' query).
    fn wide_disjunctions() -> Vec<T> {
        let mut seed = 5u64;
        (0..12)
            .map(|_| Rc::new(Term::Or((0..3).map(|_| wide_term(&mut seed, 5)).collect())))
            .collect()
    }

    fn wide_term(seed: &mut u64, depth: u32) -> T {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let r = (*seed >> 33) as u32;
        Rc::new(if depth == 0 || r % 5 == 0 {
            if r % 2 == 0 {
                Term::Bool((r / 2 % 24) as usize)
            } else {
                Term::ClassIn {
                    slot: (r / 2 % 6) as usize,
                    classes: (0..8).filter(|c| r >> (8 + c) & 1 == 1).collect(),
                }
            }
        } else {
            let kids = (0..(2 + r / 8 % 3))
                .map(|_| wide_term(seed, depth - 1))
                .collect();
            match r % 3 {
                0 => Term::And(kids),
                1 => Term::Or(kids),
                _ => Term::Not(wide_term(seed, depth - 1)),
            }
        })
    }

    /// Issue 13: the same sequence of sessions gives the same Z3 answers and text, whatever the
    /// hasher. Each run is a fresh thread: a fresh thread-local Z3 context, and fresh random
    /// keys for every `HashMap` created in it. A first session is solved by Z3 and dropped (its
    /// ASTs return to the context in the order the session releases them); a second one then
    /// enumerates models with blocking clauses, as `query::Prepared::solve` does. Before the
    /// fix the first session released its translations in its `HashMap`'s order, and the
    /// second session's models and SMT-LIB text differed between runs (so did `diff`'s answers
    /// on SageMaker Studio policies: widened or unknown).
    #[test]
    fn z3_answers_do_not_depend_on_the_hasher() {
        fn run() -> (Vec<String>, String) {
            let mut seed = 11u64;
            let mut log = Vec::new();
            for round in 0..3 {
                let terms: Vec<T> = (0..12)
                    .map(|_| Rc::new(Term::Or((0..3).map(|_| wide_term(&mut seed, 5)).collect())))
                    .collect();
                let mut s = session(&terms);
                for (slot, n) in s.dims.classes.iter_mut() {
                    *n = 8 + *slot as u32 % 3;
                }
                for _ in 0..8 {
                    let Outcome::Sat(m) = s.z3_session().unwrap().check() else {
                        log.push(format!("{round}: no model"));
                        break;
                    };
                    log.push(format!("{round}: {:?} {:?}", m.bools, m.classes));
                    let lits: Vec<T> = m
                        .classes
                        .iter()
                        .map(|(&slot, &c)| {
                            Rc::new(Term::ClassIn {
                                slot,
                                classes: vec![c],
                            })
                        })
                        .collect();
                    s.assert_own(Rc::new(Term::Not(Rc::new(Term::And(lits)))));
                }
                if round == 2 {
                    return (log, s.to_smt2().unwrap());
                }
            }
            (log, String::new())
        }
        let runs: Vec<(Vec<String>, String)> = (0..4)
            .map(|_| std::thread::spawn(run).join().unwrap_or_default())
            .collect();
        assert!(
            runs[0].1.contains("$x"),
            "the text names shared terms by id"
        );
        for r in &runs[1..] {
            assert_eq!(r.0, runs[0].0, "the models differ between identical runs");
            assert_eq!(r.1, runs[0].1, "the Z3 text differs between identical runs");
        }
    }

    /// Issue 13: a step limit (Z3's `rlimit`) stops a check by count: with one step the check
    /// answers unknown with [`STEP_LIMIT_REASON`] (in every run, whatever the timeout), a
    /// generous limit lets it finish, and lifting the limit restores the unlimited answer.
    #[test]
    fn step_limit_stops_z3_checks_by_count() {
        let terms = wide_disjunctions();
        let outcome = |steps: Option<u32>| {
            let mut s = session(&terms);
            s.set_timeout(600_000);
            s.set_step_limit(steps);
            let limited = s.z3_session().unwrap().check();
            s.set_step_limit(None);
            let after = s.z3_session().unwrap().check();
            (limited, after)
        };
        let (free, _) = outcome(None);
        assert!(matches!(free, Outcome::Sat(_)), "{free:?}");
        for _ in 0..2 {
            let (limited, after) = outcome(Some(1));
            assert!(
                matches!(&limited, Outcome::Unknown(r) if r == STEP_LIMIT_REASON),
                "{limited:?}"
            );
            assert!(matches!(after, Outcome::Sat(_)), "{after:?}");
        }
        let (generous, _) = outcome(Some(100_000_000));
        assert!(matches!(generous, Outcome::Sat(_)), "{generous:?}");
    }

    /// Issue 13: a check that runs over the core's step budget is asked again of Z3's default
    /// solver, which then answers every later check; the answers stay those of an unlimited
    /// check (a model that satisfies every assertion; unsat for a contradiction).
    #[test]
    fn a_long_core_check_moves_to_the_default_solver() {
        let terms = wide_disjunctions();
        let fresh = |core_steps: u32| {
            let mut s = session(&terms);
            s.set_timeout(600_000);
            s.native_off = true;
            s.core_steps = core_steps;
            s
        };
        // the generous default: no switch
        let mut s = fresh(CORE_STEPS);
        assert!(matches!(s.check(), Outcome::Sat(_)));
        assert!(!s.z3_default);
        // one step: the first check moves, and its model is a model
        let mut s = fresh(1);
        let Outcome::Sat(m) = s.check() else {
            panic!("expected a model after the switch");
        };
        assert!(s.z3_default);
        for t in &terms {
            assert!(crate::symbolic::term::eval(t, &m), "{t:?}");
        }
        // a later check runs in the default solver and sees every assertion
        s.assert_own(Rc::new(Term::Not(Rc::new(Term::And(terms.clone())))));
        assert!(matches!(s.check(), Outcome::Unsat));
        // a caller's smaller step limit is the caller's: its unknown, no switch
        let mut s = fresh(1_000);
        s.set_step_limit(Some(1));
        assert!(matches!(s.check(), Outcome::Unknown(r) if r == STEP_LIMIT_REASON));
        assert!(!s.z3_default);
    }

    #[test]
    fn blocking_clauses_are_honoured() {
        let mut s = session(&[Rc::new(Term::ClassIn {
            slot: 0,
            classes: vec![0, 1, 2],
        })]);
        let mut seen = Vec::new();
        while let Outcome::Sat(m) = s.check() {
            let c = m.classes[&0];
            assert!(!seen.contains(&c));
            seen.push(c);
            s.assert_own(Rc::new(Term::Not(Rc::new(Term::ClassIn {
                slot: 0,
                classes: vec![c],
            }))));
        }
        seen.sort_unstable();
        assert_eq!(seen, vec![0, 1, 2]);
    }
}
