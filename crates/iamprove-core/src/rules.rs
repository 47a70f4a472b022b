//! The rules both sides share: which principals a `Principal` entry names and how strongly
//! (§2.3, §4.3), what `NotPrincipal` excludes (§2.4), which requests the resource's own policy
//! must allow (§4.4 STRICT), where RCPs apply, the action that needs no permission, and how a
//! condition is decided on a request context (§3).
//!
//! The concrete evaluator ([`crate::eval`]) calls these functions on a request; the symbolic
//! encoder (`symbolic::encode`) calls them on each principal it enumerates and mirrors the
//! string tests (`role_sts`, `strict_resource`) with patterns over the symbolic request. No
//! solver here: this module belongs to the core.

use crate::literal::{parse_date, parse_ip, Decimal};
use crate::matching::{compile_kind, Kind};
use crate::model::{Cmp, CondValues, Condition, PrincipalEntry, SetOp, StrMatch, Template};
use crate::request::{Context, CtxValue, Principal, PrincipalKind};
use serde::Serialize;

/// How a resource-policy entry matched the principal (§4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Grant {
    /// The entry names the principal itself (or `*`).
    Direct,
    /// The entry names the role whose session makes the request.
    Role,
    /// The entry names the principal's account: its identity side must allow too.
    Account,
    /// The entry names the calling service principal.
    Service,
}

/// Services whose resources RCPs govern (conservative: RCPs are applied only where AWS documents
/// support; elsewhere they cannot be relied on to deny).
pub const RCP_SERVICES: &[&str] = &[
    "s3",
    "sts",
    "kms",
    "sqs",
    "secretsmanager",
    "dynamodb",
    "ecr",
    "aoss",
    "cognito-identity",
    "logs",
];

/// The strongest grant class with which `entries` name the principal (§2.3, §4.3).
pub fn principal_grant(entries: &[PrincipalEntry], p: &Principal) -> Option<Grant> {
    entries.iter().filter_map(|e| entry_grant(e, p)).min()
}

/// The grant class with which one principal entry names `p`, if it does (§2.3, §4.3).
pub fn entry_grant(e: &PrincipalEntry, p: &Principal) -> Option<Grant> {
    match e {
        PrincipalEntry::Any => Some(Grant::Direct),
        PrincipalEntry::Account { partition, account } => {
            // signed principals of the account; not a federated caller whose provider lives there
            let signed = !matches!(p.kind, PrincipalKind::Anonymous | PrincipalKind::Service(_))
                && !p.is_federated_caller();
            (signed && &p.account == account && &p.partition == partition).then_some(Grant::Account)
        }
        PrincipalEntry::Arn(arn) => match &p.kind {
            PrincipalKind::User { .. } => {
                (p.principal_arn().as_deref() == Some(arn.as_str())).then_some(Grant::Direct)
            }
            PrincipalKind::RoleSession { role, path, .. } => {
                if p.session_arn().as_deref() == Some(arn.as_str()) {
                    return Some(Grant::Direct);
                }
                role_arn_matches(arn, &p.partition, &p.account, role, path.as_deref())
                    .then_some(Grant::Role)
            }
            PrincipalKind::FederatedUser { .. } => {
                (p.principal_arn().as_deref() == Some(arn.as_str())).then_some(Grant::Direct)
            }
            _ => None,
        },
        PrincipalEntry::Service(s) => match &p.kind {
            PrincipalKind::Service(name) if name == s => Some(Grant::Service),
            _ => None,
        },
        // a federated caller is named by its provider (ARN, or host for the providers without one)
        PrincipalEntry::Federated(f) => {
            (p.is_federated_caller() && p.raw == *f).then_some(Grant::Direct)
        }
        PrincipalEntry::UniqueId(_) | PrincipalEntry::CanonicalUser(_) => None,
    }
}

/// A role ARN entry names the session's role: same partition, account and name; the path must
/// agree when the principal's path is known (sessions carry no path: §2.3).
fn role_arn_matches(
    arn: &str,
    partition: &str,
    account: &str,
    role: &str,
    path: Option<&str>,
) -> bool {
    let prefix = format!("arn:{partition}:iam::{account}:role");
    let Some(rest) = arn.strip_prefix(&prefix) else {
        return false;
    };
    let Some(i) = rest.rfind('/') else {
        return false;
    };
    let (epath, name) = (&rest[..=i], &rest[i + 1..]);
    name == role && path.is_none_or(|p| p == epath)
}

/// NotPrincipal excludes the principal only when every form AWS may test is listed (§2.4):
/// the account, and for users the user ARN, for role sessions the role ARN and the session ARN.
/// `"*"` excludes everyone; a service is excluded by its own entry.
pub fn not_principal_excludes(entries: &[PrincipalEntry], p: &Principal) -> bool {
    if entries.contains(&PrincipalEntry::Any) {
        return true;
    }
    let has = |g: Grant| entries.iter().any(|e| entry_grant(e, p) == Some(g));
    let direct_exact =
        |arn: Option<String>| arn.is_some_and(|a| entries.contains(&PrincipalEntry::Arn(a)));
    match &p.kind {
        PrincipalKind::Anonymous => false,
        PrincipalKind::Service(_) => has(Grant::Service),
        PrincipalKind::Root => has(Grant::Account),
        PrincipalKind::User { .. } | PrincipalKind::FederatedUser { .. } => {
            has(Grant::Account) && direct_exact(p.principal_arn())
        }
        PrincipalKind::RoleSession { .. } => {
            has(Grant::Account) && has(Grant::Role) && direct_exact(p.session_arn())
        }
        PrincipalKind::WebIdentity { .. } | PrincipalKind::Saml { .. } => has(Grant::Direct),
    }
}

/// Must the resource's own policy allow (§4.4 STRICT)? A role for the `sts:` actions its trust
/// policy governs (AssumeRole*, TagSession, SetSourceIdentity, SetContext), and KMS keys.
pub fn strict_resource(action: &str, resource: &str) -> bool {
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    role_sts(action, resource)
        || (parts.len() == 6
            && parts[0] == "arn"
            && parts[2] == "kms"
            && parts[5].starts_with("key/"))
}

/// A role ARN (`arn:PARTITION:iam::ACCOUNT:role/...`): the only resource of a federated
/// caller's request.
pub fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[5].starts_with("role/")
}

/// An `sts:` action on a role: what the role's trust policy decides (mirrors
/// `Encoder::role_sts`).
pub fn role_sts(action: &str, resource: &str) -> bool {
    action.len() > 4 && action[..4].eq_ignore_ascii_case("sts:") && is_role_arn(resource)
}

/// `sts:GetCallerIdentity` needs no permission, and no policy can deny it (STS API reference):
/// every signed caller is allowed, whatever the policies say.
pub fn needs_no_permission(action: &str) -> bool {
    action.eq_ignore_ascii_case(GET_CALLER_IDENTITY)
}

/// The one action every signed or unsigned caller may always make.
pub const GET_CALLER_IDENTITY: &str = "sts:GetCallerIdentity";

// ---------------------------------------------------------------------------------------------
// Conditions (§3)

/// §3: one condition against a request context; policy variables in its values resolve from
/// the context's single-valued keys (the executable specification the encoder mirrors, and
/// what it uses for keys whose values are fixed).
pub fn condition(context: &Context, c: &Condition, vars: bool) -> bool {
    let entry = context.get(&c.key);
    let values: &[String] = entry.map(|e| e.values.as_slice()).unwrap_or(&[]);
    if let CondValues::Null(ps) = &c.values {
        // §3.5: an empty value or an empty set counts as null
        let absent = values.iter().all(String::is_empty);
        return ps.contains(&absent);
    }
    let negated = c.op.base.negated();
    // m(r): the base operator on one request value against the whole policy list
    let m = |r: &str| -> bool {
        let any = any_cmp(context, c, r, vars);
        if negated {
            !any
        } else {
            any
        }
    };
    match c.op.set {
        Some(SetOp::ForAllValues) => values.iter().all(|r| m(r)),
        Some(SetOp::ForAnyValue) => {
            if values.is_empty() && c.op.if_exists {
                return true;
            }
            values.iter().any(|r| m(r))
        }
        None => {
            if values.is_empty() {
                return c.op.if_exists || negated;
            }
            // multivalued under a plain operator [UNV]: ForAnyValue for positive operators,
            // ForAllValues of mismatch for negated ones
            if negated {
                values.iter().all(|r| m(r))
            } else {
                values.iter().any(|r| m(r))
            }
        }
    }
}

/// ∃p ∈ P: cmp(r, p)
fn any_cmp(context: &Context, c: &Condition, r: &str, vars: bool) -> bool {
    match &c.values {
        CondValues::Str(ps) => {
            let how = c.op.base.string_match().unwrap_or(StrMatch::Exact);
            ps.iter()
                .any(|p| template_match(context, p, vars, how.into(), r))
        }
        CondValues::Binary(ps) => ps.iter().any(|p| p == r),
        CondValues::Num(ps) => match Decimal::parse(r) {
            Some(v) => ps.iter().any(|p| cmp_holds(c.op.base.cmp(), v.cmp(p))),
            None => false,
        },
        CondValues::Date(ps) => match parse_date(r) {
            Some(v) => ps.iter().any(|p| cmp_holds(c.op.base.cmp(), v.cmp(p))),
            None => false,
        },
        CondValues::Bool(ps) => {
            let is_true = r.eq_ignore_ascii_case("true");
            ps.contains(&is_true)
        }
        CondValues::Ip(ps) => match parse_ip(r) {
            Some(ip) => ps.iter().any(|n| n.contains(ip)),
            None => false,
        },
        CondValues::Null(_) => false,
    }
}

/// A template against a value: its pattern compiled at parse time, or (with policy
/// variables) resolved from the context and compiled for `kind`.
pub(crate) fn template_match(
    context: &Context,
    t: &Template,
    vars: bool,
    kind: Kind,
    value: &str,
) -> bool {
    match &t.compiled {
        Some(p) => p.is_match(value),
        // has variables (only reachable with vars enabled)
        None => {
            vars && t
                .resolve(&|k| lookup(context, k))
                .is_some_and(|toks| compile_kind(&toks, kind).is_match(value))
        }
    }
}

fn lookup(context: &Context, key: &str) -> Option<String> {
    match context.get(key) {
        Some(CtxValue { values, .. }) if values.len() == 1 => Some(values[0].clone()),
        _ => None,
    }
}

fn cmp_holds(cmp: Option<Cmp>, ord: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match cmp {
        Some(Cmp::Eq) => ord == Equal,
        Some(Cmp::Lt) => ord == Less,
        Some(Cmp::Le) => ord != Greater,
        Some(Cmp::Gt) => ord == Greater,
        Some(Cmp::Ge) => ord != Less,
        None => false,
    }
}
