//! The typed policy model. Everything here is validated: patterns are tokenised, literals parsed,
//! condition keys lowercased. Produced by [`crate::parse`], consumed by the evaluator and the encoder.

use crate::literal::{Decimal, IpNet};
use std::fmt;

/// Which kind of policy a document is; decides which elements are legal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyType {
    /// Identity, permissions-boundary and session policies.
    Identity,
    /// Resource-based policy (bucket, queue, key, ...), also VPC endpoint policies.
    Resource,
    /// Role trust policy.
    Trust,
    /// Service control policy (AWS Organizations).
    Scp,
    /// Resource control policy (AWS Organizations).
    Rcp,
}

impl PolicyType {
    /// The type as written on the command line and in scenario files (`identity`, `scp`, …).
    pub fn name(self) -> &'static str {
        match self {
            PolicyType::Identity => "identity",
            PolicyType::Resource => "resource",
            PolicyType::Trust => "trust",
            PolicyType::Scp => "scp",
            PolicyType::Rcp => "rcp",
        }
    }
    /// The type named by `--type` (inverse of [`PolicyType::name`]).
    pub fn parse(s: &str) -> Option<PolicyType> {
        Some(match s {
            "identity" => PolicyType::Identity,
            "resource" => PolicyType::Resource,
            "trust" => PolicyType::Trust,
            "scp" => PolicyType::Scp,
            "rcp" => PolicyType::Rcp,
            _ => return None,
        })
    }
    /// Whether the type's statements carry a `Principal` element.
    pub(crate) fn takes_principal(self) -> bool {
        matches!(
            self,
            PolicyType::Resource | PolicyType::Trust | PolicyType::Rcp
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
/// A parsed policy document.
pub struct Policy {
    /// Where the policy came from (file name or scenario path), for reports.
    pub name: String,
    /// The policy's type (it decides which elements are required).
    pub kind: PolicyType,
    /// The `Version` element (`2012-10-17` enables policy variables).
    pub version: Option<String>,
    /// The `Id` element.
    pub id: Option<String>,
    /// The statements, in document order.
    pub statements: Vec<Statement>,
}

impl Policy {
    /// Policy variables are substituted only under Version 2012-10-17.
    pub fn vars_enabled(&self) -> bool {
        self.version.as_deref() == Some("2012-10-17")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
/// A statement's `Effect`.
pub enum Effect {
    /// `"Allow"`.
    Allow,
    /// `"Deny"`.
    Deny,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
/// One statement of a policy.
pub struct Statement {
    /// Position in the policy's statement list.
    pub index: usize,
    /// JSON path of the statement (`Statement[2]` or `Statement`).
    pub path: String,
    /// The `Sid` element.
    pub sid: Option<String>,
    /// Allow or Deny.
    pub effect: Effect,
    /// `Principal` or `NotPrincipal`, if present.
    pub principal: Option<PrincipalElem>,
    /// `Action` or `NotAction`.
    pub action: ActionElem,
    /// `None` only where the element is absent and allowed to be (trust policies).
    pub resource: Option<ResourceElem>,
    /// The conditions, all of which must hold.
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq)]
/// A `Principal` or `NotPrincipal` element.
pub struct PrincipalElem {
    /// `NotPrincipal`.
    pub negated: bool,
    /// The principals it names.
    pub entries: Vec<PrincipalEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
/// One principal named by a `Principal` element.
pub enum PrincipalEntry {
    /// `"*"` or `{"AWS": "*"}`.
    Any,
    /// An account ID or `arn:PARTITION:iam::ACCOUNT:root`.
    Account {
        /// Partition of the account (`aws`, `aws-cn`, …).
        partition: String,
        /// The 12-digit account ID.
        account: String,
    },
    /// An exact IAM user, role, assumed-role session or federated-user ARN.
    Arn(String),
    /// A unique ID (`AIDA…`, `AROA…`) left behind by a deleted entity: matches nothing.
    UniqueId(String),
    /// A service principal (`ec2.amazonaws.com`).
    Service(String),
    /// A `Federated` entry: an OIDC or SAML provider ARN, or a web-identity host.
    Federated(String),
    /// A canonical user ID (S3 only).
    CanonicalUser(String),
}

#[derive(Debug, Clone, PartialEq)]
/// An `Action` or `NotAction` element.
pub struct ActionElem {
    /// `NotAction`.
    pub negated: bool,
    /// The action patterns.
    pub patterns: Vec<ActionPattern>,
}

impl ActionElem {
    /// May the two elements match a common action? Exact for two `Action` elements
    /// ([`crate::matching::globs_intersect`] on the lowercased globs: the evaluator matches
    /// lowercased action names); `NotAction` on either side counts as "may".
    pub fn may_overlap(&self, other: &ActionElem) -> bool {
        if self.negated || other.negated {
            return true;
        }
        self.patterns.iter().any(|p| {
            other
                .patterns
                .iter()
                .any(|q| crate::matching::globs_intersect(&p.toks, &q.toks))
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
/// One action pattern (`s3:Get*`).
pub struct ActionPattern {
    /// As written.
    pub raw: String,
    /// Lowercased glob.
    pub lower: String,
    /// Tokens of the lowercased glob.
    pub toks: Vec<crate::matching::Tok>,
    /// `toks` compiled once (case-sensitive `Plain`: match lower-cased action names).
    pub pattern: crate::automata::Pattern,
    /// The first character when it is a literal ASCII one: most actions a statement is tested
    /// against differ there, and comparing one byte here is cheaper than reaching the pattern.
    first: Option<u8>,
}

impl ActionPattern {
    /// An action pattern from its text as written (`s3:Get*`).
    pub fn new(raw: &str) -> ActionPattern {
        let lower = raw.to_lowercase();
        let toks = crate::matching::tokens(&lower, true);
        let pattern = crate::matching::compile(&toks, crate::matching::Mode::Plain);
        let first = match toks.first() {
            Some(crate::matching::Tok::Lit(c)) if c.is_ascii() => Some(*c as u8),
            _ => None,
        };
        ActionPattern {
            raw: raw.to_owned(),
            lower,
            toks,
            pattern,
            first,
        }
    }

    /// Whether the pattern matches an action name already in lower case.
    #[inline]
    pub fn matches_lower(&self, action_lower: &str) -> bool {
        match self.first {
            Some(b) if action_lower.as_bytes().first() != Some(&b) => false,
            _ => self.pattern.is_match(action_lower),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
/// A `Resource` or `NotResource` element.
pub struct ResourceElem {
    /// `NotResource`.
    pub negated: bool,
    /// The resource patterns.
    pub patterns: Vec<Template>,
}

/// A string pattern that may contain wildcards and policy variables.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Template {
    /// As written.
    pub raw: String,
    /// Literal text, wildcards and variables, in order.
    pub pieces: Vec<Piece>,
    /// Pre-tokenised form when the template has no variables (empty otherwise).
    pub toks: Vec<crate::matching::Tok>,
    /// `toks` compiled once for the template's use ([`crate::matching::Kind`]) when the template
    /// has no variables; `None` otherwise (resolve, then `crate::matching::compile_kind`).
    pub compiled: Option<crate::automata::Pattern>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
/// One piece of a [`Template`].
pub enum Piece {
    /// Literal text (after `${*}`, `${?}`, `${$}` escapes were resolved).
    Lit(String),
    /// `*` as a wildcard.
    Star,
    /// `?` as a wildcard.
    Quest,
    /// `${key}` or `${key, 'default'}`; key lowercased.
    Var {
        /// The variable's key (`aws:username`).
        key: String,
        /// The default after the comma, if any.
        default: Option<String>,
    },
}

impl Template {
    /// Whether the template contains policy variables.
    pub fn has_vars(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Var { .. }))
    }
    /// The keys of the policy variables it contains.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var { key, .. } => Some(key.as_str()),
            _ => None,
        })
    }
    /// Tokens with variables resolved by `lookup` (substituted text is literal). `None` when a
    /// variable has neither a value nor a default: such a pattern matches nothing.
    pub fn resolve(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Vec<crate::matching::Tok>> {
        use crate::matching::Tok;
        let mut out = Vec::new();
        for p in &self.pieces {
            match p {
                Piece::Lit(s) => out.extend(s.chars().map(Tok::Lit)),
                Piece::Star => out.push(Tok::Run),
                Piece::Quest => out.push(Tok::One),
                Piece::Var { key, default } => {
                    let v = lookup(key).or_else(|| default.clone())?;
                    out.extend(v.chars().map(Tok::Lit));
                }
            }
        }
        Some(out)
    }

    /// The `Resource` element `*`.
    pub fn star_resource() -> Template {
        let toks = crate::matching::tokens("*", true);
        let compiled = Some(crate::matching::compile_kind(
            &toks,
            crate::matching::Kind::Resource,
        ));
        Template {
            raw: "*".into(),
            pieces: vec![Piece::Star],
            toks,
            compiled,
        }
    }

    /// Whether the template is exactly `*`.
    pub fn is_star(&self) -> bool {
        self.pieces == [Piece::Star]
    }
}

#[derive(Debug, Clone, PartialEq)]
/// One condition: operator, key and values.
pub struct Condition {
    /// The operator (with set qualifier and `IfExists`).
    pub op: Operator,
    /// Lowercased key name.
    pub key: String,
    /// Key as written.
    pub key_raw: String,
    /// The values, parsed for the operator's family.
    pub values: CondValues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
/// A set qualifier of a condition operator.
pub enum SetOp {
    /// Every value of the request's key must match.
    ForAllValues,
    /// Some value of the request's key must match.
    ForAnyValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
/// A condition operator as written, split into its parts.
pub struct Operator {
    /// As written (`ForAnyValue:StringLikeIfExists`).
    pub raw: String,
    /// `ForAllValues:` or `ForAnyValue:`, if present.
    pub set: Option<SetOp>,
    /// The operator without qualifier and suffix.
    pub base: BaseOp,
    /// `…IfExists`: a missing key passes.
    pub if_exists: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
/// A condition operator without set qualifier or `IfExists`.
#[allow(missing_docs)] // the variants are IAM's condition operators, named as in policies
pub enum BaseOp {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
/// A family of condition operators: the type their values are compared as.
#[allow(missing_docs)] // one variant per operator family of IAM-SEMANTICS §3
pub enum Family {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

/// Comparison of a numeric or date request value against a policy literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cmp {
    /// Equal.
    Eq,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
}

impl BaseOp {
    /// Every operator, in declaration order.
    pub(crate) const ALL: [BaseOp; 27] = [
        BaseOp::StringEquals,
        BaseOp::StringNotEquals,
        BaseOp::StringEqualsIgnoreCase,
        BaseOp::StringNotEqualsIgnoreCase,
        BaseOp::StringLike,
        BaseOp::StringNotLike,
        BaseOp::NumericEquals,
        BaseOp::NumericNotEquals,
        BaseOp::NumericLessThan,
        BaseOp::NumericLessThanEquals,
        BaseOp::NumericGreaterThan,
        BaseOp::NumericGreaterThanEquals,
        BaseOp::DateEquals,
        BaseOp::DateNotEquals,
        BaseOp::DateLessThan,
        BaseOp::DateLessThanEquals,
        BaseOp::DateGreaterThan,
        BaseOp::DateGreaterThanEquals,
        BaseOp::Bool,
        BaseOp::BinaryEquals,
        BaseOp::IpAddress,
        BaseOp::NotIpAddress,
        BaseOp::ArnEquals,
        BaseOp::ArnLike,
        BaseOp::ArnNotEquals,
        BaseOp::ArnNotLike,
        BaseOp::Null,
    ];

    /// The operator's name as written in policies.
    pub fn name(self) -> &'static str {
        match self {
            BaseOp::StringEquals => "StringEquals",
            BaseOp::StringNotEquals => "StringNotEquals",
            BaseOp::StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            BaseOp::StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            BaseOp::StringLike => "StringLike",
            BaseOp::StringNotLike => "StringNotLike",
            BaseOp::NumericEquals => "NumericEquals",
            BaseOp::NumericNotEquals => "NumericNotEquals",
            BaseOp::NumericLessThan => "NumericLessThan",
            BaseOp::NumericLessThanEquals => "NumericLessThanEquals",
            BaseOp::NumericGreaterThan => "NumericGreaterThan",
            BaseOp::NumericGreaterThanEquals => "NumericGreaterThanEquals",
            BaseOp::DateEquals => "DateEquals",
            BaseOp::DateNotEquals => "DateNotEquals",
            BaseOp::DateLessThan => "DateLessThan",
            BaseOp::DateLessThanEquals => "DateLessThanEquals",
            BaseOp::DateGreaterThan => "DateGreaterThan",
            BaseOp::DateGreaterThanEquals => "DateGreaterThanEquals",
            BaseOp::Bool => "Bool",
            BaseOp::BinaryEquals => "BinaryEquals",
            BaseOp::IpAddress => "IpAddress",
            BaseOp::NotIpAddress => "NotIpAddress",
            BaseOp::ArnEquals => "ArnEquals",
            BaseOp::ArnLike => "ArnLike",
            BaseOp::ArnNotEquals => "ArnNotEquals",
            BaseOp::ArnNotLike => "ArnNotLike",
            BaseOp::Null => "Null",
        }
    }

    /// The operator with this name (exact case), if any.
    pub(crate) fn from_name(s: &str) -> Option<BaseOp> {
        BaseOp::ALL.iter().copied().find(|op| op.name() == s)
    }

    /// Negated operators are true when the key is absent and need every value to mismatch.
    pub fn negated(self) -> bool {
        matches!(
            self,
            BaseOp::StringNotEquals
                | BaseOp::StringNotEqualsIgnoreCase
                | BaseOp::StringNotLike
                | BaseOp::NumericNotEquals
                | BaseOp::DateNotEquals
                | BaseOp::NotIpAddress
                | BaseOp::ArnNotEquals
                | BaseOp::ArnNotLike
        )
    }

    /// The operator's family.
    pub fn family(self) -> Family {
        use BaseOp::*;
        match self {
            StringEquals
            | StringNotEquals
            | StringEqualsIgnoreCase
            | StringNotEqualsIgnoreCase
            | StringLike
            | StringNotLike => Family::String,
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => Family::Numeric,
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => Family::Date,
            Bool => Family::Bool,
            BinaryEquals => Family::Binary,
            IpAddress | NotIpAddress => Family::Ip,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => Family::Arn,
            Null => Family::Null,
        }
    }

    /// For numeric and date operators: the positive comparison (`NotEquals` → `Eq`, negated).
    pub fn cmp(self) -> Option<Cmp> {
        use BaseOp::*;
        Some(match self {
            NumericEquals | NumericNotEquals | DateEquals | DateNotEquals => Cmp::Eq,
            NumericLessThan | DateLessThan => Cmp::Lt,
            NumericLessThanEquals | DateLessThanEquals => Cmp::Le,
            NumericGreaterThan | DateGreaterThan => Cmp::Gt,
            NumericGreaterThanEquals | DateGreaterThanEquals => Cmp::Ge,
            _ => return None,
        })
    }

    /// How string-like values compare.
    pub fn string_match(self) -> Option<StrMatch> {
        use BaseOp::*;
        Some(match self {
            StringEquals | StringNotEquals => StrMatch::Exact,
            StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => StrMatch::IgnoreCase,
            StringLike | StringNotLike => StrMatch::Like,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => StrMatch::Arn,
            BinaryEquals => StrMatch::Exact,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
/// How a string operator compares.
pub enum StrMatch {
    /// Case-sensitive equality; `*`/`?` literal.
    Exact,
    /// Equality ignoring case.
    IgnoreCase,
    /// Case-sensitive glob.
    Like,
    /// ARN six-part glob.
    Arn,
}

impl From<StrMatch> for crate::matching::Kind {
    fn from(how: StrMatch) -> Self {
        use crate::matching::Kind;
        match how {
            StrMatch::Exact => Kind::Exact,
            StrMatch::IgnoreCase => Kind::IgnoreCase,
            StrMatch::Like => Kind::Like,
            StrMatch::Arn => Kind::Arn,
        }
    }
}

/// Condition values, typed by operator family and parsed once.
#[derive(Debug, Clone, PartialEq)]
pub enum CondValues {
    /// String and ARN operators (templates: `*`/`?` are wildcards only for Like and Arn operators).
    Str(Vec<Template>),
    /// Exact decimals.
    Num(Vec<Decimal>),
    /// Epoch milliseconds.
    Date(Vec<i64>),
    /// `true`/`false`.
    Bool(Vec<bool>),
    /// Base64 text, compared exactly.
    Binary(Vec<String>),
    /// IP networks (a single address is a /32 or /128).
    Ip(Vec<IpNet>),
    /// `true`: key must be absent; `false`: key must be present.
    Null(Vec<bool>),
}

impl CondValues {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            CondValues::Str(v) => v.len(),
            CondValues::Num(v) => v.len(),
            CondValues::Date(v) => v.len(),
            CondValues::Bool(v) => v.len(),
            CondValues::Binary(v) => v.len(),
            CondValues::Ip(v) => v.len(),
            CondValues::Null(v) => v.len(),
        }
    }
    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Keys whose request value is a set (§3.6). Others are multivalued when a set qualifier or a
/// list value in the request makes them so.
pub(crate) const MULTIVALUED_KEYS: &[&str] = &[
    "aws:tagkeys",
    "aws:calledvia",
    "aws:principalorgpaths",
    "aws:principalservicenameslist",
    "aws:resourceorgpaths",
    "aws:sourceorgpaths",
];

/// Can a request carry several values for `key` (lower case)? The keys above, and every key the
/// action catalog types `ArrayOf…` (`dynamodb:Attributes`, `ec2:ResourceTag`-style arrays, ...).
/// Used by the encoder (value slots) and by witness builders; the evaluator needs no list: it
/// decides every operator value by value, whatever the request carries (§3.6).
pub fn is_multivalued_key(key: &str) -> bool {
    MULTIVALUED_KEYS.contains(&key) || crate::catalog::index::condition_key_is_multivalued(key)
}

/// A statement as JSON, close to how it was written (for reports).
pub fn statement_json(s: &Statement) -> serde_json::Value {
    use serde_json::{json, Map, Value};
    let mut o = Map::new();
    if let Some(sid) = &s.sid {
        o.insert("Sid".into(), json!(sid));
    }
    o.insert("Effect".into(), json!(s.effect.to_string()));
    if let Some(p) = &s.principal {
        let entries: Vec<String> = p
            .entries
            .iter()
            .map(|e| match e {
                PrincipalEntry::Any => "*".to_owned(),
                PrincipalEntry::Account { account, .. } => account.clone(),
                PrincipalEntry::Arn(a)
                | PrincipalEntry::UniqueId(a)
                | PrincipalEntry::Service(a)
                | PrincipalEntry::Federated(a)
                | PrincipalEntry::CanonicalUser(a) => a.clone(),
            })
            .collect();
        o.insert(
            if p.negated {
                "NotPrincipal"
            } else {
                "Principal"
            }
            .into(),
            json!(entries),
        );
    }
    let acts: Vec<&str> = s.action.patterns.iter().map(|a| a.raw.as_str()).collect();
    o.insert(
        if s.action.negated {
            "NotAction"
        } else {
            "Action"
        }
        .into(),
        json!(acts),
    );
    if let Some(r) = &s.resource {
        let rs: Vec<&str> = r.patterns.iter().map(|t| t.raw.as_str()).collect();
        o.insert(
            if r.negated { "NotResource" } else { "Resource" }.into(),
            json!(rs),
        );
    }
    if !s.conditions.is_empty() {
        let mut c: Map<String, Value> = Map::new();
        for cond in &s.conditions {
            let vals: Vec<String> = match &cond.values {
                CondValues::Str(v) => v.iter().map(|t| t.raw.clone()).collect(),
                CondValues::Num(v) => v.iter().map(ToString::to_string).collect(),
                CondValues::Date(v) => v.iter().map(|d| crate::literal::format_date(*d)).collect(),
                CondValues::Bool(v) | CondValues::Null(v) => {
                    v.iter().map(ToString::to_string).collect()
                }
                CondValues::Binary(v) => v.clone(),
                CondValues::Ip(v) => v.iter().map(ToString::to_string).collect(),
            };
            let entry = c
                .entry(cond.op.raw.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = entry {
                m.insert(cond.key_raw.clone(), json!(vals));
            }
        }
        o.insert("Condition".into(), Value::Object(c));
    }
    Value::Object(o)
}

/// A scenario: a request plus the policy sets that decide it (DESIGN.md "Scenario format").
/// The evaluator takes it; `scenario.rs` loads it from files.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The request, when the scenario has one (`eval` requires it).
    pub request: Option<crate::request::Request>,
    /// The principal's identity-based policies.
    pub identity_policies: Vec<Policy>,
    /// The permissions boundary, if any.
    pub permissions_boundary: Option<Policy>,
    /// Session policies, if any.
    pub session_policies: Vec<Policy>,
    /// SCPs per organization level, root first.
    pub scps: Vec<Vec<Policy>>,
    /// RCPs per organization level, root first.
    pub rcps: Vec<Vec<Policy>>,
    /// The resource's policy (a role's trust policy for `sts:` actions on a role).
    pub resource_policy: Option<Policy>,
    /// The VPC endpoint policy, if the request goes through one.
    pub vpc_endpoint_policy: Option<Policy>,
    /// Principals of this account skip SCPs; its resources skip RCPs.
    pub management_account: Option<String>,
}

impl Scenario {
    /// A scenario with no policies and no request.
    pub fn empty() -> Scenario {
        Scenario {
            request: None,
            identity_policies: Vec::new(),
            permissions_boundary: None,
            session_policies: Vec::new(),
            scps: Vec::new(),
            rcps: Vec::new(),
            resource_policy: None,
            vpc_endpoint_policy: None,
            management_account: None,
        }
    }

    /// Every policy with the set it belongs to.
    pub fn all_policies(&self) -> Vec<&Policy> {
        let mut v: Vec<&Policy> = self.identity_policies.iter().collect();
        v.extend(self.permissions_boundary.iter());
        v.extend(self.session_policies.iter());
        v.extend(self.scps.iter().flatten());
        v.extend(self.rcps.iter().flatten());
        v.extend(self.resource_policy.iter());
        v.extend(self.vpc_endpoint_policy.iter());
        v
    }
}
