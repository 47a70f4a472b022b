//! The verifier: each property over all requests is defined here once, as a formula whose
//! models are the property's counterexamples and as the evaluator check that replays them
//! (in the manner of Cedar's symbolic compiler, `verify_implies`, `verify_always_allows`, …).
//!
//! * [`Property::NoWidening`]: every request `gain` allows, `base` allows
//!   (counterexamples: `allowed(gain) ∧ ¬allowed(base)`);
//! * [`Property::Invariant`]: a `forbid` invariant (no request matching the pattern is allowed;
//!   `sts:GetCallerIdentity` needs no permission and is not counted) or a `require` invariant
//!   (every request matching the pattern is allowed) holds for one side.
//! * [`Property::Reach`]: one fixed principal's question over its effective policies ("is some
//!   request matching the pattern, within these bounds, allowed?" or "… denied?"), the account
//!   questions (`can`, `who-can`, account invariants) ask once per principal and world.
//!
//! [`verify`] answers once; a [`Verifier`] answers repeatedly (more counterexamples of other
//! kinds of action, with [`Verifier::exclude_action_class`]). Every counterexample is replayed
//! through the evaluator before it is returned; a model the evaluator rejects is refined away or
//! ends in `unknown`, or, when the encoding is exact, in [`Verification::Disagreement`].
//! Callers (`diff`, `check`) turn the outcome into their reports; they never build formulas.

use crate::eval::Decision;
use crate::eval::{Applies, Matcher};
use crate::model::{Policy, PrincipalEntry, Statement};
use crate::query::{allowed, allows, Frame, Prepared, QueryOptions, Side, Solved};
use crate::request::Request;
use crate::scenario::Scenario;
use crate::solver::Model;
use crate::symbolic::encode::{AtomKey, Encoder, ACTION_SLOT};
use crate::symbolic::term::{and, not, T};
use crate::verdict::{Disagreement, UnknownReason};

/// Whether an invariant forbids or requires what its pattern matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No request matching the pattern is allowed.
    Forbid,
    /// Every request matching the pattern is allowed.
    Require,
}

/// The requests an invariant is about: a statement-shaped pattern (its principal element left
/// out) and the principals the request must (not) be.
#[derive(Debug, Clone, Copy)]
pub struct RequestPattern<'a> {
    /// The pattern as a one-statement policy (only its first statement is used).
    pub pattern: &'a Policy,
    /// `Principal` entries the request must match (`None`: any principal).
    pub principal: Option<&'a [PrincipalEntry]>,
    /// `NotPrincipal` entries the request must not match.
    pub not_principal: &'a [PrincipalEntry],
}

impl RequestPattern<'_> {
    /// The pattern's statement (a pattern without one matches nothing).
    fn statement(&self) -> Option<&Statement> {
        self.pattern.statements.first()
    }

    /// Does the pattern match a concrete request (the evaluator's reading of the pattern's formula)?
    pub fn applies(&self, req: &Request) -> bool {
        let m = Matcher::new(req);
        let Some(s) = self.statement() else {
            return false;
        };
        if !matches!(m.applies(self.pattern, s), Applies::Yes(_)) {
            return false;
        }
        if let Some(entries) = self.principal {
            if crate::rules::principal_grant(entries, &req.principal).is_none() {
                return false;
            }
        }
        crate::rules::principal_grant(self.not_principal, &req.principal).is_none()
    }

    /// The pattern as a formula over the request variables.
    fn encode(&self, enc: &mut Encoder) -> T {
        let mut parts: Vec<T> = Vec::new();
        if let Some(s) = self.statement() {
            parts.push(enc.applies_no_principal(self.pattern, s));
        }
        if let Some(entries) = self.principal {
            parts.push(enc.principal_match(entries));
        }
        if !self.not_principal.is_empty() {
            let m = enc.principal_match(self.not_principal);
            parts.push(not(m));
        }
        and(parts)
    }

    /// Does the pattern's statement name `sts:GetCallerIdentity` (a forbid invariant then says
    /// in a note that it is not counted)?
    pub fn names_get_caller_identity(&self) -> bool {
        let gci = crate::rules::GET_CALLER_IDENTITY.to_lowercase();
        self.statement().is_some_and(|s| {
            let hit = s.action.patterns.iter().any(|p| p.matches_lower(&gci));
            hit != s.action.negated
        })
    }
}

/// Bounds of a [`Property::Reach`] question beyond its pattern (where the requests live, which
/// context keys are pinned or known absent), given twice: as a formula and as the evaluator-side
/// check a replayed request must pass. Both must describe the same set of requests.
pub trait Within {
    /// The bounds as a formula over the request variables (called after the policies and the
    /// pattern are encoded, so `enc.keys` holds every key they read).
    fn encode(&self, enc: &mut Encoder) -> T;
    /// Does a concrete request lie within the bounds?
    fn holds(&self, req: &Request) -> bool;
}

/// A property of policies over all requests.
#[derive(Clone, Copy)]
pub enum Property<'a> {
    /// Every request `gain` allows, `base` allows.
    NoWidening {
        /// The side that must allow at least as much.
        base: &'a Side,
        /// The side whose allowed requests must all be allowed by `base`.
        gain: &'a Side,
    },
    /// The invariant holds for `side`.
    Invariant {
        /// The policies checked.
        side: &'a Side,
        /// The requests the invariant is about.
        pattern: RequestPattern<'a>,
        /// Forbid or require.
        mode: Mode,
    },
    /// A fixed principal's question: is some request matching `pattern` and `within` allowed
    /// (`denied: false`), or some such request not allowed (`denied: true`)? Counterexamples are
    /// those requests. Unlike [`Property::Invariant`], the principal, the pinned context and the
    /// resource's account come from `frame`, and no action is left out.
    Reach {
        /// The principal's scenario as the evaluator decides it (replay).
        scenario: &'a Scenario,
        /// The scenario the solver is given: it must decide every request matching `pattern`
        /// as `scenario` does (e.g. `scenario` without statements that cannot match it).
        query: &'a Scenario,
        /// The fixed principal, pinned context values and resource account.
        frame: &'a Frame,
        /// The requests asked about.
        pattern: RequestPattern<'a>,
        /// Further bounds (formula and evaluator check).
        within: &'a dyn Within,
        /// Look for a denied matching request instead of an allowed one.
        denied: bool,
    },
}

impl Property<'_> {
    /// The sides whose policies the query reads.
    fn sides(&self) -> Vec<&Side> {
        match self {
            Property::NoWidening { base, gain } => vec![*base, *gain],
            Property::Invariant { side, .. } => vec![*side],
            Property::Reach { .. } => Vec::new(),
        }
    }

    /// The frame of the query: the sides' ([`Frame::of`]), or the one a [`Property::Reach`] gives.
    fn frame(&self) -> Frame {
        match self {
            Property::Reach { frame, .. } => Frame {
                identity_only: frame.identity_only,
                principal: frame.principal.clone(),
                context: frame.context.clone(),
                resource_account: frame.resource_account.clone(),
            },
            _ => Frame::of(&self.sides()),
        }
    }

    /// The statements the encoder must know about (policies and pattern).
    fn statements(&self) -> Vec<&Statement> {
        match self {
            Property::NoWidening { base, gain } => {
                let mut s = base.statements();
                s.extend(gain.statements());
                s
            }
            Property::Invariant { side, pattern, .. } => {
                let mut s = side.statements();
                s.extend(pattern.pattern.statements.iter());
                s
            }
            Property::Reach { query, pattern, .. } => {
                let mut s: Vec<&Statement> = query
                    .all_policies()
                    .into_iter()
                    .flat_map(|p| p.statements.iter())
                    .collect();
                s.extend(pattern.pattern.statements.iter());
                s
            }
        }
    }

    /// The formula whose models are counterexamples of the property.
    fn counterexample_formula(&self, enc: &mut Encoder) -> T {
        match self {
            Property::NoWidening { base, gain } => {
                let b = allowed(enc, base);
                let g = allowed(enc, gain);
                and([g, not(b)])
            }
            Property::Invariant {
                side,
                pattern,
                mode,
            } => {
                let a = allowed(enc, side);
                let pat = pattern.encode(enc);
                match mode {
                    // sts:GetCallerIdentity needs no permission and no policy can deny it: it is
                    // not something a policy grants, so it never violates a forbid invariant
                    Mode::Forbid => {
                        let gci = enc.pred_of(
                            ACTION_SLOT,
                            vec![AtomKey::literal(
                                &crate::rules::GET_CALLER_IDENTITY.to_lowercase(),
                            )],
                        );
                        and([a, pat, not(gci)])
                    }
                    Mode::Require => and([not(a), pat]),
                }
            }
            Property::Reach {
                query,
                pattern,
                within,
                denied,
                ..
            } => {
                let a = enc.allowed_scenario(query);
                let a = if *denied { not(a) } else { a };
                let pat = pattern.encode(enc);
                let bounds = within.encode(enc);
                and([a, pat, bounds])
            }
        }
    }

    /// Is `req` a counterexample according to the evaluator (the specification)?
    pub(crate) fn is_counterexample(&self, req: &Request) -> bool {
        match self {
            Property::NoWidening { base, gain } => !allows(base, req) && allows(gain, req),
            Property::Invariant {
                side,
                pattern,
                mode,
            } => {
                !(*mode == Mode::Forbid && crate::rules::needs_no_permission(&req.action))
                    && pattern.applies(req)
                    && match mode {
                        Mode::Forbid => allows(side, req),
                        Mode::Require => !allows(side, req),
                    }
            }
            Property::Reach {
                scenario,
                pattern,
                within,
                denied,
                ..
            } => {
                within.holds(req)
                    && pattern.applies(req)
                    && (crate::eval::evaluate(scenario, req).decision == Decision::Allow) != *denied
            }
        }
    }
}

/// The answer to one question about a property.
#[allow(clippy::large_enum_variant)] // one per question; the large variant is the common answer
pub enum Verification {
    /// No counterexample exists (under the verifier's assumptions, if any): a proof.
    Proved,
    /// A counterexample, replayed through the evaluator.
    Counterexample {
        /// The request.
        request: Request,
        /// The solver's model it was built from (its classes describe the request's kind).
        model: Model,
    },
    /// No answer within the limits (the verdict is `unknown`, with this reason).
    Unknown(String),
    /// The encoder and the evaluator disagree: an internal error, never a verdict.
    Disagreement(Disagreement),
}

impl Verification {
    fn from_solved(s: Solved) -> Verification {
        match s {
            Solved::None => Verification::Proved,
            Solved::Found { request, model } => Verification::Counterexample { request, model },
            Solved::Unknown(UnknownReason::Limit(r)) => Verification::Unknown(r),
            Solved::Unknown(UnknownReason::Internal(d)) => Verification::Disagreement(d),
        }
    }
}

/// A prepared question about one property; ask it with [`Verifier::ask`].
pub struct Verifier<'a> {
    property: Property<'a>,
    prepared: Prepared,
}

impl<'a> Verifier<'a> {
    /// Encode the property's counterexamples and load the solver. `Err` is the reason the query
    /// could not be prepared (a limit: the verdict is `unknown`).
    pub fn new(property: Property<'a>, opts: &QueryOptions) -> Result<Verifier<'a>, String> {
        let frame = property.frame();
        // a widening between identity policies: the solver gets only the statements that can
        // take part in one (`crate::slice`); counterexamples are replayed against the full sides
        let sliced = match property {
            Property::NoWidening { base, gain } if opts.slice => {
                crate::slice::widening_slice(base, gain)
            }
            _ => None,
        };
        let query = match &sliced {
            Some((base, gain)) => Property::NoWidening { base, gain },
            None => property,
        };
        let stmts = query.statements();
        let prepared = Prepared::new(frame, &stmts, opts, Vec::new(), |enc| {
            query.counterexample_formula(enc)
        })?;
        Ok(Verifier { property, prepared })
    }

    /// The next counterexample (replayed), or a proof that there is none left, or why not.
    pub fn ask(&mut self) -> Verification {
        let property = self.property;
        let confirm = move |r: &Request| property.is_counterexample(r);
        Verification::from_solved(self.prepared.solve(&confirm))
    }

    /// Look for later counterexamples only among other kinds of action than `model`'s. `false`
    /// when the query does not depend on the action (no other kind exists): stop asking.
    pub fn exclude_action_class(&mut self, model: &Model) -> bool {
        match model.classes.get(&ACTION_SLOT) {
            Some(&c) if self.prepared.enc.class_count(ACTION_SLOT) > 1 => {
                self.prepared
                    .session
                    .block_class(ACTION_SLOT, c, &self.prepared.enc);
                true
            }
            _ => false,
        }
    }

    /// Solver timeout for later questions, in milliseconds.
    pub fn set_timeout(&mut self, timeout_ms: u32) {
        self.prepared.session.set_timeout(timeout_ms);
    }

    /// Z3 resource limit per check for later questions (`None`: none); see
    /// [`crate::solver::Session::set_step_limit`].
    pub fn set_step_limit(&mut self, steps: Option<u32>) {
        self.prepared.session.set_step_limit(steps);
    }

    /// The prepared query (encoder, for describing counterexamples in its terms).
    pub fn prepared(&self) -> &Prepared {
        &self.prepared
    }

    /// Notes of the encoding (what was modelled how).
    pub fn notes(&self) -> &[String] {
        &self.prepared.enc.notes
    }

    /// What a proof relies on beyond the inputs (no silent narrowing).
    pub fn assumptions(&self) -> &[String] {
        &self.prepared.enc.assumptions
    }
}

/// Ask once: is `property` proved, or what is a (replayed) counterexample?
pub fn verify(property: Property<'_>, opts: &QueryOptions) -> Verification {
    match Verifier::new(property, opts) {
        Ok(mut v) => v.ask(),
        Err(e) => Verification::Unknown(e),
    }
}

/// Does every request `gain` allows, `base` allow (`allowed(gain) ∧ ¬allowed(base)` unsatisfiable)?
pub fn verify_no_widening(base: &Side, gain: &Side, opts: &QueryOptions) -> Verification {
    verify(Property::NoWidening { base, gain }, opts)
}

/// Does the invariant (`mode` over `pattern`) hold for `side`?
pub fn verify_invariant(
    side: &Side,
    pattern: RequestPattern<'_>,
    mode: Mode,
    opts: &QueryOptions,
) -> Verification {
    verify(
        Property::Invariant {
            side,
            pattern,
            mode,
        },
        opts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PolicyType;

    fn policy(kind: PolicyType, stmt: &str) -> Policy {
        let text = format!(r#"{{"Version": "2012-10-17", "Statement": [{stmt}]}}"#);
        crate::parse::parse_policy_text(&text, kind, "p").unwrap()
    }

    fn identity(stmt: &str) -> Side {
        Side::Identity(vec![policy(PolicyType::Identity, stmt)])
    }

    #[test]
    fn no_widening_is_proved_or_has_a_replayed_counterexample() {
        let narrow = identity(r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}"#);
        let wide = identity(r#"{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}"#);
        let opts = QueryOptions::default();
        assert!(matches!(
            verify_no_widening(&wide, &narrow, &opts),
            Verification::Proved
        ));
        match verify_no_widening(&narrow, &wide, &opts) {
            Verification::Counterexample { request, .. } => {
                assert!(request.action.to_lowercase().starts_with("s3:get"));
                assert!(!request.action.eq_ignore_ascii_case("s3:GetObject"));
                assert!(allows(&wide, &request) && !allows(&narrow, &request));
            }
            _ => panic!("expected a counterexample"),
        }
    }

    #[test]
    fn invariants_forbid_and_require() {
        let side = identity(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}"#);
        let pat = |action: &str| {
            policy(
                PolicyType::Identity,
                &format!(r#"{{"Effect": "Allow", "Action": "{action}", "Resource": "*"}}"#),
            )
        };
        let opts = QueryOptions::default();
        let ask = |p: &Policy, mode| {
            let pattern = RequestPattern {
                pattern: p,
                principal: None,
                not_principal: &[],
            };
            verify_invariant(&side, pattern, mode, &opts)
        };
        let iam = pat("iam:*");
        let s3 = pat("s3:DeleteObject");
        let gci = pat("sts:GetCallerIdentity");
        assert!(matches!(ask(&iam, Mode::Forbid), Verification::Proved));
        assert!(matches!(ask(&s3, Mode::Require), Verification::Proved));
        // needs no permission: never counted against a forbid invariant
        assert!(matches!(ask(&gci, Mode::Forbid), Verification::Proved));
        match ask(&s3, Mode::Forbid) {
            Verification::Counterexample { request, .. } => {
                assert!(request.action.eq_ignore_ascii_case("s3:DeleteObject"))
            }
            _ => panic!("expected a counterexample"),
        }
        match ask(&iam, Mode::Require) {
            Verification::Counterexample { request, .. } => {
                assert!(request.action.to_lowercase().starts_with("iam:"));
                assert!(!allows(&side, &request));
            }
            _ => panic!("expected a counterexample"),
        }
    }

    /// Bounds for `Reach` tests: the resource must (not) be one ARN.
    struct OnlyResource(&'static str, bool);

    impl Within for OnlyResource {
        fn encode(&self, enc: &mut Encoder) -> T {
            let t = enc.pred_of(
                crate::symbolic::encode::RESOURCE_SLOT,
                vec![AtomKey::literal(self.0)],
            );
            if self.1 {
                t
            } else {
                not(t)
            }
        }
        fn holds(&self, req: &Request) -> bool {
            (req.resource == self.0) == self.1
        }
    }

    #[test]
    fn reach_finds_replayed_requests_of_a_fixed_principal_within_bounds() {
        let mut sc = Scenario::empty();
        sc.identity_policies = vec![policy(
            PolicyType::Identity,
            r#"{"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"}"#,
        )];
        let principal =
            crate::request::Principal::parse("arn:aws:iam::111122223333:user/u").unwrap();
        let frame = Frame {
            identity_only: false,
            principal: Some(principal),
            context: crate::request::Context::new(),
            resource_account: None,
        };
        let pat = policy(
            PolicyType::Identity,
            r#"{"Effect": "Allow", "Action": "s3:Delete*", "Resource": "*"}"#,
        );
        let opts = QueryOptions::default();
        let ask = |within: &dyn Within, denied: bool| {
            verify(
                Property::Reach {
                    scenario: &sc,
                    query: &sc,
                    frame: &frame,
                    pattern: RequestPattern {
                        pattern: &pat,
                        principal: None,
                        not_principal: &[],
                    },
                    within,
                    denied,
                },
                &opts,
            )
        };
        let key = OnlyResource("arn:aws:s3:::b/k", true);
        match ask(&key, false) {
            Verification::Counterexample { request, .. } => {
                assert_eq!(request.resource, "arn:aws:s3:::b/k");
                assert!(request.action.eq_ignore_ascii_case("s3:DeleteObject"));
                assert_eq!(request.principal.raw, "arn:aws:iam::111122223333:user/u");
            }
            _ => panic!("expected an allowed request on the key"),
        }
        // another bucket: nothing allowed, a proof
        let other = OnlyResource("arn:aws:s3:::c/k", true);
        assert!(matches!(ask(&other, false), Verification::Proved));
        // denied matching requests exist (s3:DeleteBucket, another resource), replayed
        match ask(&OnlyResource("arn:aws:s3:::b/k", false), true) {
            Verification::Counterexample { request, .. } => {
                assert_ne!(request.resource, "arn:aws:s3:::b/k");
                assert!(request.action.to_lowercase().starts_with("s3:delete"));
                assert_ne!(
                    crate::eval::evaluate(&sc, &request).decision,
                    Decision::Allow
                );
            }
            _ => panic!("expected a denied request"),
        }
    }
}
