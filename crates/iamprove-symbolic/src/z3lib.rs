//! The part of Z3's C API that [`crate::solver`] uses, loaded from the shared library on first
//! use instead of linked into the executable.
//!
//! Why: most queries are decided by the solver module's built-in finite search and never create
//! a Z3 context, yet a dynamically linked `libz3` is loaded, relocated and initialised at every
//! process start: 1.2 ms of the 2.3 ms that a diff of two one-statement policies took (a C
//! program that only links `libz3` takes 1.55 ms against 0.35 ms without it). Loading it with
//! `dlopen` when a query first needs it moves that cost to the queries that use Z3.
//!
//! The library is `$IAMPROVE_LIBZ3` when that is set (a path; nothing else is tried), else the
//! first of `libz3.so.4` (Debian's `libz3-4`, Z3 4.8.12 here) and `libz3.so` that loads. When none loads, a query that needs Z3 answers
//! `unknown` with the reason; the rest of the tool works without it.
//!
//! This module is the only `unsafe` code of the workspace. The rules it keeps:
//! * every function pointer is looked up by its C name with the signature of Z3's `z3_api.h`
//!   (the same as the `z3-sys` crate's), and the library stays loaded for the whole process;
//! * contexts are made with `Z3_mk_context_rc` and no error handler (as the `z3` crate does):
//!   every object is reference-counted by its wrapper here ([`Ast`], [`Solver`], [`Model`]),
//!   every wrapper holds its context, and a null result becomes an `Err` with Z3's message;
//! * a context is used by one thread only (one per thread, like the `z3` crate's
//!   thread-local context), except for `Z3_interrupt`, which Z3 allows from any thread (the
//!   watchdog of [`Solver::check_within`]).
#![allow(unsafe_code)]

use libloading::Library;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::rc::Rc;
use std::sync::OnceLock;

type Raw = *mut c_void;

macro_rules! api {
    ($($name:ident: fn($($arg:ty),*) $(-> $ret:ty)?;)*) => {
        /// Function pointers into the loaded library.
        #[allow(non_snake_case)]
        struct Api {
            $($name: unsafe extern "C" fn($($arg),*) $(-> $ret)?,)*
            /// (kept loaded: the pointers above point into it)
            _lib: Library,
        }

        impl Api {
            #[allow(non_snake_case)]
            fn resolve(lib: Library) -> Result<Api, String> {
                // SAFETY: each symbol is read with the signature Z3's C header declares for it.
                $(let $name = unsafe {
                    *lib.get::<unsafe extern "C" fn($($arg),*) $(-> $ret)?>(
                        concat!(stringify!($name), "\0").as_bytes(),
                    )
                    .map_err(|e| e.to_string())?
                };)*
                Ok(Api { $($name,)* _lib: lib })
            }
        }
    };
}

api! {
    Z3_get_full_version: fn() -> *const c_char;
    Z3_mk_config: fn() -> Raw;
    Z3_del_config: fn(Raw);
    Z3_mk_context_rc: fn(Raw) -> Raw;
    Z3_del_context: fn(Raw);
    Z3_set_error_handler: fn(Raw, Raw);
    Z3_get_error_code: fn(Raw) -> c_int;
    Z3_get_error_msg: fn(Raw, c_int) -> *const c_char;
    Z3_interrupt: fn(Raw);
    Z3_inc_ref: fn(Raw, Raw);
    Z3_dec_ref: fn(Raw, Raw);
    Z3_mk_string_symbol: fn(Raw, *const c_char) -> Raw;
    Z3_mk_bool_sort: fn(Raw) -> Raw;
    Z3_mk_int_sort: fn(Raw) -> Raw;
    Z3_mk_bv_sort: fn(Raw, c_uint) -> Raw;
    Z3_mk_const: fn(Raw, Raw, Raw) -> Raw;
    Z3_mk_true: fn(Raw) -> Raw;
    Z3_mk_false: fn(Raw) -> Raw;
    Z3_mk_not: fn(Raw, Raw) -> Raw;
    Z3_mk_and: fn(Raw, c_uint, *const Raw) -> Raw;
    Z3_mk_or: fn(Raw, c_uint, *const Raw) -> Raw;
    Z3_mk_eq: fn(Raw, Raw, Raw) -> Raw;
    Z3_mk_lt: fn(Raw, Raw, Raw) -> Raw;
    Z3_mk_le: fn(Raw, Raw, Raw) -> Raw;
    Z3_mk_gt: fn(Raw, Raw, Raw) -> Raw;
    Z3_mk_ge: fn(Raw, Raw, Raw) -> Raw;
    Z3_mk_int64: fn(Raw, i64, Raw) -> Raw;
    Z3_mk_unsigned_int64: fn(Raw, u64, Raw) -> Raw;
    Z3_mk_numeral: fn(Raw, *const c_char, Raw) -> Raw;
    Z3_mk_bvand: fn(Raw, Raw, Raw) -> Raw;
    Z3_mk_concat: fn(Raw, Raw, Raw) -> Raw;
    Z3_mk_extract: fn(Raw, c_uint, c_uint, Raw) -> Raw;
    Z3_get_bool_value: fn(Raw, Raw) -> c_int;
    Z3_get_numeral_int64: fn(Raw, Raw, *mut i64) -> bool;
    Z3_get_numeral_uint64: fn(Raw, Raw, *mut u64) -> bool;
    Z3_get_numeral_string: fn(Raw, Raw) -> *const c_char;
    Z3_mk_simple_solver: fn(Raw) -> Raw;
    Z3_mk_solver: fn(Raw) -> Raw;
    Z3_solver_inc_ref: fn(Raw, Raw);
    Z3_solver_dec_ref: fn(Raw, Raw);
    Z3_solver_assert: fn(Raw, Raw, Raw);
    Z3_solver_check: fn(Raw, Raw) -> c_int;
    Z3_solver_get_model: fn(Raw, Raw) -> Raw;
    Z3_solver_get_reason_unknown: fn(Raw, Raw) -> *const c_char;
    Z3_solver_set_params: fn(Raw, Raw, Raw);
    Z3_solver_get_assertions: fn(Raw, Raw) -> Raw;
    Z3_ast_vector_inc_ref: fn(Raw, Raw);
    Z3_ast_vector_dec_ref: fn(Raw, Raw);
    Z3_ast_vector_size: fn(Raw, Raw) -> c_uint;
    Z3_ast_vector_get: fn(Raw, Raw, c_uint) -> Raw;
    Z3_benchmark_to_smtlib_string: fn(
        Raw, *const c_char, *const c_char, *const c_char, *const c_char, c_uint, *const Raw, Raw
    ) -> *const c_char;
    Z3_solver_get_statistics: fn(Raw, Raw) -> Raw;
    Z3_stats_inc_ref: fn(Raw, Raw);
    Z3_stats_dec_ref: fn(Raw, Raw);
    Z3_stats_size: fn(Raw, Raw) -> c_uint;
    Z3_stats_get_key: fn(Raw, Raw, c_uint) -> *const c_char;
    Z3_stats_is_uint: fn(Raw, Raw, c_uint) -> bool;
    Z3_stats_get_uint_value: fn(Raw, Raw, c_uint) -> c_uint;
    Z3_mk_params: fn(Raw) -> Raw;
    Z3_params_inc_ref: fn(Raw, Raw);
    Z3_params_dec_ref: fn(Raw, Raw);
    Z3_params_set_uint: fn(Raw, Raw, Raw, c_uint);
    Z3_model_inc_ref: fn(Raw, Raw);
    Z3_model_dec_ref: fn(Raw, Raw);
    Z3_model_eval: fn(Raw, Raw, Raw, bool, *mut Raw) -> bool;
}

// SAFETY: function pointers and a loaded library; Z3's functions take their context explicitly.
unsafe impl Send for Api {}
unsafe impl Sync for Api {}

/// The environment variable naming the Z3 library to load.
pub const LIBZ3_VAR: &str = "IAMPROVE_LIBZ3";

/// How the reason begins when no Z3 library could be loaded (callers recognise it by this).
pub const MISSING: &str = "the SMT solver Z3 could not be loaded";

fn candidates() -> Vec<std::ffi::OsString> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os(LIBZ3_VAR).filter(|p| !p.is_empty()) {
        // the user's choice alone: no silent fallback to another Z3
        out.push(p);
        return out;
    }
    if cfg!(target_os = "macos") {
        out.push("libz3.dylib".into());
    } else {
        out.push("libz3.so.4".into());
        out.push("libz3.so".into());
    }
    out
}

fn api() -> Result<&'static Api, String> {
    static API: OnceLock<Result<Api, String>> = OnceLock::new();
    API.get_or_init(|| {
        let mut tried = Vec::new();
        for name in candidates() {
            // SAFETY: loading Z3 runs its static initialisers, which have no preconditions.
            match unsafe { Library::new(&name) } {
                Ok(lib) => {
                    return Api::resolve(lib).map_err(|e| {
                        format!("{} is not a usable Z3 library: {e}", name.to_string_lossy())
                    })
                }
                Err(e) => tried.push(e.to_string()),
            }
        }
        Err(format!(
            "{MISSING} ({}); install it (Debian: libz3-4) or set {LIBZ3_VAR} to the path of libz3",
            tried.join("; ")
        ))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// Z3's full version string, or why Z3 cannot be loaded.
pub fn version() -> Result<String, String> {
    let a = api()?;
    // SAFETY: returns a static string.
    Ok(unsafe { text((a.Z3_get_full_version)()) }.unwrap_or_default())
}

/// A C string Z3 owns, copied (`None` for null).
///
/// # Safety
/// `p` is null or a valid NUL-terminated string.
unsafe fn text(p: *const c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        // SAFETY: by the caller.
        Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }
}

/// A Z3 context (reference-counted objects, no error handler).
pub struct Context {
    api: &'static Api,
    raw: Raw,
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: every object of the context holds an `Rc` of it, so none outlives this.
        unsafe { (self.api.Z3_del_context)(self.raw) }
    }
}

thread_local! {
    static CONTEXT: RefCell<Option<Rc<Context>>> = const { RefCell::new(None) };
}

impl Context {
    /// This thread's context, made on first use (the `z3` crate's default configuration).
    pub fn thread_local() -> Result<Rc<Context>, String> {
        if let Some(c) = CONTEXT.with(|c| c.borrow().clone()) {
            return Ok(c);
        }
        let c = Context::fresh()?;
        CONTEXT.with(|slot| *slot.borrow_mut() = Some(c.clone()));
        Ok(c)
    }

    /// A new context of its own (the `z3` crate's default configuration), deleted with its last
    /// object.
    pub fn fresh() -> Result<Rc<Context>, String> {
        let api = api()?;
        // SAFETY: a fresh configuration, used once and deleted.
        let raw = unsafe {
            let cfg = (api.Z3_mk_config)();
            if cfg.is_null() {
                return Err("Z3 could not make a configuration".into());
            }
            let raw = (api.Z3_mk_context_rc)(cfg);
            (api.Z3_del_config)(cfg);
            raw
        };
        if raw.is_null() {
            return Err("Z3 could not make a context".into());
        }
        // SAFETY: a live context; null turns the default handler (which exits) off.
        unsafe { (api.Z3_set_error_handler)(raw, std::ptr::null_mut()) };
        Ok(Rc::new(Context { api, raw }))
    }

    /// Z3's message for the last error of this context.
    fn error(&self) -> String {
        // SAFETY: a live context; the message is a static string.
        unsafe {
            let code = (self.api.Z3_get_error_code)(self.raw);
            text((self.api.Z3_get_error_msg)(self.raw, code))
                .unwrap_or_else(|| format!("Z3 error {code}"))
        }
    }

    /// Take ownership of a fresh AST (one reference), or Z3's error for null.
    fn own(self: &Rc<Self>, raw: Raw) -> Result<Ast, String> {
        if raw.is_null() {
            return Err(self.error());
        }
        // SAFETY: a live AST of this context.
        unsafe { (self.api.Z3_inc_ref)(self.raw, raw) };
        Ok(Ast {
            ctx: self.clone(),
            raw,
        })
    }

    fn constant(self: &Rc<Self>, name: &str, sort: Ast) -> Result<Ast, String> {
        let name = CString::new(name).map_err(|e| e.to_string())?;
        // SAFETY: live context and sort; the name outlives the call.
        let r = unsafe {
            let sym = (self.api.Z3_mk_string_symbol)(self.raw, name.as_ptr());
            (self.api.Z3_mk_const)(self.raw, sym, sort.raw)
        };
        self.own(r)
    }

    /// A fresh Boolean constant.
    pub fn bool_const(self: &Rc<Self>, name: &str) -> Result<Ast, String> {
        // SAFETY: a live context.
        let s = self.own(unsafe { (self.api.Z3_mk_bool_sort)(self.raw) })?;
        self.constant(name, s)
    }

    /// The integer sort.
    fn int_sort(self: &Rc<Self>) -> Result<Ast, String> {
        // SAFETY: a live context.
        self.own(unsafe { (self.api.Z3_mk_int_sort)(self.raw) })
    }

    /// A fresh integer constant.
    pub fn int_const(self: &Rc<Self>, name: &str) -> Result<Ast, String> {
        self.constant(name, self.int_sort()?)
    }

    /// A fresh bit-vector constant of `bits` bits.
    pub fn bv_const(self: &Rc<Self>, name: &str, bits: u32) -> Result<Ast, String> {
        // SAFETY: a live context.
        let s = self.own(unsafe { (self.api.Z3_mk_bv_sort)(self.raw, bits) })?;
        self.constant(name, s)
    }

    /// `true` or `false`.
    pub fn bool_val(self: &Rc<Self>, b: bool) -> Result<Ast, String> {
        // SAFETY: a live context.
        let r = unsafe {
            if b {
                (self.api.Z3_mk_true)(self.raw)
            } else {
                (self.api.Z3_mk_false)(self.raw)
            }
        };
        self.own(r)
    }

    /// An integer literal.
    pub fn int(self: &Rc<Self>, v: i64) -> Result<Ast, String> {
        let s = self.int_sort()?;
        // SAFETY: live context and sort.
        self.own(unsafe { (self.api.Z3_mk_int64)(self.raw, v, s.raw) })
    }

    /// An integer literal beyond 64 bits (by its decimal text, as the `z3` crate does).
    pub fn int_wide(self: &Rc<Self>, v: i128) -> Result<Ast, String> {
        let text = CString::new(v.to_string()).map_err(|e| e.to_string())?;
        let s = self.int_sort()?;
        // SAFETY: live context and sort; the text outlives the call.
        self.own(unsafe { (self.api.Z3_mk_numeral)(self.raw, text.as_ptr(), s.raw) })
    }

    /// A bit-vector literal of `bits` bits.
    pub fn bv(self: &Rc<Self>, v: u64, bits: u32) -> Result<Ast, String> {
        // SAFETY: a live context.
        let s = self.own(unsafe { (self.api.Z3_mk_bv_sort)(self.raw, bits) })?;
        // SAFETY: live context and sort.
        self.own(unsafe { (self.api.Z3_mk_unsigned_int64)(self.raw, v, s.raw) })
    }

    /// The conjunction (`true` when empty).
    pub fn and(self: &Rc<Self>, xs: &[Ast]) -> Result<Ast, String> {
        self.nary(self.api.Z3_mk_and, xs)
    }

    /// The disjunction (`false` when empty).
    pub fn or(self: &Rc<Self>, xs: &[Ast]) -> Result<Ast, String> {
        self.nary(self.api.Z3_mk_or, xs)
    }

    /// `make` (`Z3_mk_and`, `Z3_mk_or`) over `xs`.
    fn nary(
        self: &Rc<Self>,
        make: unsafe extern "C" fn(Raw, c_uint, *const Raw) -> Raw,
        xs: &[Ast],
    ) -> Result<Ast, String> {
        let raws: Vec<Raw> = xs.iter().map(|x| x.raw).collect();
        let n = c_uint::try_from(raws.len()).map_err(|e| e.to_string())?;
        // SAFETY: `make` is one of this library's n-ary constructors; live ASTs of this
        // context, `n` of them.
        self.own(unsafe { make(self.raw, n, raws.as_ptr()) })
    }
}

/// A Z3 term (one counted reference).
pub struct Ast {
    ctx: Rc<Context>,
    raw: Raw,
}

impl Clone for Ast {
    fn clone(&self) -> Ast {
        // SAFETY: a live AST of a live context.
        unsafe { (self.ctx.api.Z3_inc_ref)(self.ctx.raw, self.raw) };
        Ast {
            ctx: self.ctx.clone(),
            raw: self.raw,
        }
    }
}

impl Drop for Ast {
    fn drop(&mut self) {
        // SAFETY: this wrapper's reference, taken when it was made.
        unsafe { (self.ctx.api.Z3_dec_ref)(self.ctx.raw, self.raw) }
    }
}

macro_rules! binary {
    ($($(#[$doc:meta])* $name:ident => $f:ident;)*) => {
        impl Ast {
            $($(#[$doc])*
            pub fn $name(&self, other: &Ast) -> Result<Ast, String> {
                // SAFETY: live ASTs of one context.
                let r = unsafe { (self.ctx.api.$f)(self.ctx.raw, self.raw, other.raw) };
                self.ctx.own(r)
            })*
        }
    };
}

binary! {
    /// `self = other`
    eq => Z3_mk_eq;
    /// `self < other`
    lt => Z3_mk_lt;
    /// `self ≤ other`
    le => Z3_mk_le;
    /// `self > other`
    gt => Z3_mk_gt;
    /// `self ≥ other`
    ge => Z3_mk_ge;
    /// bitwise and
    bvand => Z3_mk_bvand;
    /// `self` followed by `other` (bit-vectors)
    concat => Z3_mk_concat;
}

impl Ast {
    /// Negation.
    pub fn not(&self) -> Result<Ast, String> {
        // SAFETY: a live AST.
        let r = unsafe { (self.ctx.api.Z3_mk_not)(self.ctx.raw, self.raw) };
        self.ctx.own(r)
    }

    /// Bits `high` down to `low` of a bit-vector.
    pub fn extract(&self, high: u32, low: u32) -> Result<Ast, String> {
        // SAFETY: a live AST.
        let r = unsafe { (self.ctx.api.Z3_mk_extract)(self.ctx.raw, high, low, self.raw) };
        self.ctx.own(r)
    }

    /// The value of a Boolean literal.
    pub fn as_bool(&self) -> Option<bool> {
        // SAFETY: a live AST.
        match unsafe { (self.ctx.api.Z3_get_bool_value)(self.ctx.raw, self.raw) } {
            1 => Some(true),
            -1 => Some(false),
            _ => None,
        }
    }

    /// The value of an integer or bit-vector literal that fits in an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        let mut v = 0i64;
        // SAFETY: a live AST; `v` is written only on success.
        unsafe { (self.ctx.api.Z3_get_numeral_int64)(self.ctx.raw, self.raw, &mut v) }.then_some(v)
    }

    /// The value of an integer or bit-vector literal that fits in a `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        let mut v = 0u64;
        // SAFETY: a live AST; `v` is written only on success.
        unsafe { (self.ctx.api.Z3_get_numeral_uint64)(self.ctx.raw, self.raw, &mut v) }.then_some(v)
    }

    /// The value of an integer literal that fits in an `i128`.
    pub fn as_i128(&self) -> Option<i128> {
        // SAFETY: a live AST; the string is copied before the next call.
        unsafe { text((self.ctx.api.Z3_get_numeral_string)(self.ctx.raw, self.raw)) }?
            .parse()
            .ok()
    }
}

/// A Z3 solver of this thread's context.
pub struct Solver {
    ctx: Rc<Context>,
    raw: Raw,
}

impl Drop for Solver {
    fn drop(&mut self) {
        // SAFETY: the reference taken in `new`.
        unsafe { (self.ctx.api.Z3_solver_dec_ref)(self.ctx.raw, self.raw) }
    }
}

/// The context handle lent to the watchdog thread of [`Solver::check_within`].
struct Interrupter {
    api: &'static Api,
    raw: Raw,
}

// SAFETY: `Z3_interrupt` is the one call Z3 allows from another thread, and `check_within`
// joins the thread that holds this before it returns (the context outlives it).
unsafe impl Send for Interrupter {}

/// Which of Z3's solvers [`Solver::new`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolverKind {
    /// The incremental SMT core alone (`Z3_mk_simple_solver`, the `smt` tactic).
    Core,
    /// Z3's default solver (`Z3_mk_solver`, the `z3` crate's `Solver::new`): a first check by a
    /// non-incremental tactic pipeline chosen for the formula, later checks by the SMT core.
    Default,
}

/// The answer of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SatResult {
    /// satisfiable
    Sat,
    /// unsatisfiable
    Unsat,
    /// unknown (see [`Solver::reason_unknown`])
    Unknown,
}

impl Solver {
    /// A new solver of this thread's context, of the given kind.
    pub fn new(kind: SolverKind) -> Result<Solver, String> {
        Solver::new_in(Context::thread_local()?, kind)
    }

    /// A new solver of the given context and kind.
    pub fn new_in(ctx: Rc<Context>, kind: SolverKind) -> Result<Solver, String> {
        // SAFETY: a live context.
        let raw = unsafe {
            match kind {
                SolverKind::Core => (ctx.api.Z3_mk_simple_solver)(ctx.raw),
                SolverKind::Default => (ctx.api.Z3_mk_solver)(ctx.raw),
            }
        };
        if raw.is_null() {
            return Err(ctx.error());
        }
        // SAFETY: a live solver.
        unsafe { (ctx.api.Z3_solver_inc_ref)(ctx.raw, raw) };
        Ok(Solver { ctx, raw })
    }

    /// The context terms of this solver are made in.
    pub fn context(&self) -> &Rc<Context> {
        &self.ctx
    }

    /// Assert a Boolean term.
    pub fn assert(&self, t: &Ast) {
        // SAFETY: live solver and term of one context.
        unsafe { (self.ctx.api.Z3_solver_assert)(self.ctx.raw, self.raw, t.raw) }
    }

    /// Decide the assertions, interrupted after `limit` by a watchdog thread (Z3 4.8.12's own
    /// `timeout` parameter can deadlock with short timeouts). Also returns whether the
    /// watchdog fired.
    pub fn check_within(&self, limit: std::time::Duration) -> (SatResult, bool) {
        let stop = Interrupter {
            api: self.ctx.api,
            raw: self.ctx.raw,
        };
        let (done, wait) = std::sync::mpsc::channel::<()>();
        let r = std::thread::scope(|s| {
            let watchdog = s.spawn(move || {
                // (the whole handle moves: its fields alone are not `Send`)
                let stop = stop;
                let fired = wait.recv_timeout(limit).is_err();
                if fired {
                    // SAFETY: see `Interrupter`.
                    unsafe { (stop.api.Z3_interrupt)(stop.raw) }
                }
                fired
            });
            // SAFETY: a live solver.
            let r = unsafe { (self.ctx.api.Z3_solver_check)(self.ctx.raw, self.raw) };
            let _ = done.send(());
            (r, watchdog.join().unwrap_or(false))
        });
        let answer = match r.0 {
            1 => SatResult::Sat,
            -1 => SatResult::Unsat,
            _ => SatResult::Unknown,
        };
        (answer, r.1)
    }

    /// Why the last check answered unknown.
    pub fn reason_unknown(&self) -> Option<String> {
        // SAFETY: a live solver; the string is copied.
        unsafe {
            text((self.ctx.api.Z3_solver_get_reason_unknown)(
                self.ctx.raw,
                self.raw,
            ))
        }
    }

    /// The model of the last satisfiable check.
    pub fn model(&self) -> Option<Model> {
        // SAFETY: a live solver.
        let raw = unsafe { (self.ctx.api.Z3_solver_get_model)(self.ctx.raw, self.raw) };
        if raw.is_null() {
            return None;
        }
        // SAFETY: a live model.
        unsafe { (self.ctx.api.Z3_model_inc_ref)(self.ctx.raw, raw) };
        Some(Model {
            ctx: self.ctx.clone(),
            raw,
        })
    }

    /// Set the `rlimit` parameter (0: none).
    pub fn set_rlimit(&self, steps: u32) -> Result<(), String> {
        let a = self.ctx.api;
        let c = self.ctx.raw;
        // SAFETY: live context and solver; the parameter set is released after use.
        unsafe {
            let p = (a.Z3_mk_params)(c);
            if p.is_null() {
                return Err(self.ctx.error());
            }
            (a.Z3_params_inc_ref)(c, p);
            let key = (a.Z3_mk_string_symbol)(c, c"rlimit".as_ptr());
            (a.Z3_params_set_uint)(c, p, key, steps);
            (a.Z3_solver_set_params)(c, self.raw, p);
            (a.Z3_params_dec_ref)(c, p);
        }
        Ok(())
    }

    /// The value of the unsigned statistic `key` (`rlimit count`, say), if there is one.
    pub fn statistic(&self, key: &str) -> Option<u32> {
        let a = self.ctx.api;
        let c = self.ctx.raw;
        // SAFETY: live context and solver; the statistics are released after use.
        unsafe {
            let st = (a.Z3_solver_get_statistics)(c, self.raw);
            if st.is_null() {
                return None;
            }
            (a.Z3_stats_inc_ref)(c, st);
            let mut out = None;
            for i in 0..(a.Z3_stats_size)(c, st) {
                if text((a.Z3_stats_get_key)(c, st, i)).as_deref() == Some(key)
                    && (a.Z3_stats_is_uint)(c, st, i)
                {
                    out = Some((a.Z3_stats_get_uint_value)(c, st, i));
                    break;
                }
            }
            (a.Z3_stats_dec_ref)(c, st);
            out
        }
    }

    /// The assertions as an SMT-LIB 2 benchmark (as the `z3` crate's `Solver::to_smt2`: the
    /// last assertion is the formula, the others its assumptions; shared terms named by `let`).
    pub fn to_smt2(&self) -> Result<String, String> {
        let a = self.ctx.api;
        let c = self.ctx.raw;
        // SAFETY: live context and solver; the vector's ASTs are held by their wrappers while
        // the text is made, and the vector is released after use.
        unsafe {
            let v = (a.Z3_solver_get_assertions)(c, self.raw);
            if v.is_null() {
                return Err(self.ctx.error());
            }
            (a.Z3_ast_vector_inc_ref)(c, v);
            let mut all = Vec::new();
            for i in 0..(a.Z3_ast_vector_size)(c, v) {
                match self.ctx.own((a.Z3_ast_vector_get)(c, v, i)) {
                    Ok(t) => all.push(t),
                    Err(e) => {
                        (a.Z3_ast_vector_dec_ref)(c, v);
                        return Err(e);
                    }
                }
            }
            (a.Z3_ast_vector_dec_ref)(c, v);
            let formula = match all.pop() {
                Some(f) => f,
                None => self.ctx.bool_val(true)?,
            };
            let raws: Vec<Raw> = all.iter().map(|t| t.raw).collect();
            let n = c_uint::try_from(raws.len()).map_err(|e| e.to_string())?;
            let p = (a.Z3_benchmark_to_smtlib_string)(
                c,
                c"benchmark generated from rust API".as_ptr(),
                c"".as_ptr(),
                c"unknown".as_ptr(),
                c"".as_ptr(),
                n,
                raws.as_ptr(),
                formula.raw,
            );
            text(p).ok_or_else(|| self.ctx.error())
        }
    }
}

/// A model of a satisfiable check.
pub struct Model {
    ctx: Rc<Context>,
    raw: Raw,
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: the reference taken in `Solver::model`.
        unsafe { (self.ctx.api.Z3_model_dec_ref)(self.ctx.raw, self.raw) }
    }
}

impl Model {
    /// The value of `t` in the model, completed where the model is silent.
    pub fn eval(&self, t: &Ast) -> Option<Ast> {
        let mut out: Raw = std::ptr::null_mut();
        // SAFETY: live model and term of one context; `out` is written on success.
        let ok =
            unsafe { (self.ctx.api.Z3_model_eval)(self.ctx.raw, self.raw, t.raw, true, &mut out) };
        if ok {
            self.ctx.own(out).ok()
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: std::time::Duration = std::time::Duration::from_secs(600);

    #[test]
    fn terms_checks_and_models_round_trip() {
        let s = Solver::new(SolverKind::Core).unwrap();
        let c = s.context().clone();
        let b = c.bool_const("b").unwrap();
        let x = c.int_const("x").unwrap();
        let big = c.int_wide(i128::from(i64::MAX) * 4).unwrap();
        let v = c.bv_const("v", 128).unwrap();
        let hi = c.bv(0xdead, 64).unwrap();
        let lo = c.bv(7, 64).unwrap();
        s.assert(&b.not().unwrap());
        s.assert(
            &c.and(&[
                x.gt(&big).unwrap(),
                x.lt(&c.int_wide(i128::from(i64::MAX) * 4 + 2).unwrap())
                    .unwrap(),
            ])
            .unwrap(),
        );
        s.assert(&v.eq(&hi.concat(&lo).unwrap()).unwrap());
        assert_eq!(s.check_within(LONG).0, SatResult::Sat);
        let m = s.model().unwrap();
        assert_eq!(m.eval(&b).and_then(|t| t.as_bool()), Some(false));
        assert_eq!(
            m.eval(&x).and_then(|t| t.as_i128()),
            Some(i128::from(i64::MAX) * 4 + 1)
        );
        assert_eq!(
            m.eval(&v.extract(127, 64).unwrap())
                .and_then(|t| t.as_u64()),
            Some(0xdead)
        );
        assert_eq!(
            m.eval(&v.extract(63, 0).unwrap()).and_then(|t| t.as_i64()),
            Some(7)
        );
        s.assert(&c.or(&[]).unwrap());
        assert_eq!(s.check_within(LONG).0, SatResult::Unsat);
        assert!(s.to_smt2().unwrap().contains("(declare-fun x () Int)"));
        assert!(s.statistic("rlimit count").is_some());
    }

    #[test]
    fn z3_errors_are_errors_not_aborts() {
        let c = Context::thread_local().unwrap();
        let b = c.bool_const("b").unwrap();
        let x = c.int_const("x").unwrap();
        // a sort mismatch: Z3 reports it, and the wrapper returns it
        let e = b.eq(&x).err().unwrap();
        assert!(!e.is_empty(), "{e}");
        // the context stays usable
        assert!(c.bool_val(true).is_ok());
    }

    #[test]
    fn the_library_names_its_version() {
        assert!(version().unwrap().contains('.'));
    }
}
