//! The concrete request: principal, action, resource, context.

use std::collections::BTreeMap;
use std::fmt;

/// Who makes the request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// An IAM user.
    User {
        /// The user's path (`/` by default).
        path: String,
        /// The user's name.
        name: String,
    },
    /// A session of a role. `path` is known when the principal was given as a role ARN.
    RoleSession {
        /// The role's name.
        role: String,
        /// The role's path, when known.
        path: Option<String>,
        /// The session name, when known.
        session: Option<String>,
    },
    /// An STS federated-user session (GetFederationToken).
    FederatedUser {
        /// The name given to GetFederationToken.
        name: String,
    },
    /// An account's root user.
    Root,
    /// A service principal (`ec2.amazonaws.com`).
    Service(String),
    /// An unauthenticated caller.
    Anonymous,
    /// A web-identity (OIDC) caller of `sts:AssumeRoleWithWebIdentity`, named by its provider:
    /// `provider` is the prefix of its claim keys (`HOST[/PATH]` of the provider ARN, or one of
    /// [`WEB_IDENTITY_HOSTS`]). Unsigned: no identity-side policies, no principal-derived keys.
    WebIdentity {
        /// The provider (`HOST[/PATH]`), the prefix of its claim keys.
        provider: String,
    },
    /// A SAML caller of `sts:AssumeRoleWithSAML`, named by its provider ARN.
    Saml {
        /// The provider ARN.
        name: String,
    },
}

/// Web-identity providers that have no provider ARN: `Principal: {"Federated": HOST}` (§2.1).
pub const WEB_IDENTITY_HOSTS: &[&str] = &[
    "accounts.google.com",
    "cognito-identity.amazonaws.com",
    "graph.facebook.com",
    "www.amazon.com",
];

/// The actions a web-identity caller can make (STS API reference: AssumeRoleWithWebIdentity;
/// session tags and source identity are authorised as separate actions on the same call).
pub const WEB_IDENTITY_ACTIONS: &[&str] = &[
    "sts:assumerolewithwebidentity",
    "sts:tagsession",
    "sts:setsourceidentity",
];

/// The actions a SAML caller can make.
pub const SAML_ACTIONS: &[&str] = &[
    "sts:assumerolewithsaml",
    "sts:tagsession",
    "sts:setsourceidentity",
];

/// A claim key of a web-identity token (`HOST[/PATH]:claim`, e.g.
/// `token.actions.githubusercontent.com:sub`): its provider prefix, lowercased. Service and
/// global keys (`s3:prefix`, `aws:RequestTag/k8s.io:x`) have no dot before their first colon.
pub fn claim_key_provider(key: &str) -> Option<String> {
    let (prefix, claim) = key.split_once(':')?;
    (prefix.contains('.') && !claim.is_empty()).then(|| prefix.to_lowercase())
}

/// A `SAML:*` key (`SAML:aud`, `SAML:sub`, ...).
pub fn is_saml_key(key: &str) -> bool {
    key.len() > 5 && key[..5].eq_ignore_ascii_case("saml:")
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
/// A principal: who signs the request (parsed from an ARN, an account ID, a service or provider name).
pub struct Principal {
    /// As written in the request.
    pub raw: String,
    /// Partition (`aws` unless the ARN names another).
    pub partition: String,
    /// Empty for services and anonymous callers.
    pub account: String,
    /// What kind of principal, with its names.
    pub kind: PrincipalKind,
}

impl Principal {
    /// Parse the request principal. Accepts IAM user, role, root, assumed-role session and
    /// federated-user ARNs, a 12-digit account ID (its root), a service principal name,
    /// `anonymous` (or `*`), and federated callers: an OIDC or SAML provider ARN or one of the
    /// web-identity hosts without an ARN ([`WEB_IDENTITY_HOSTS`]).
    pub fn parse(s: &str) -> Result<Principal, String> {
        let raw = s.to_owned();
        if WEB_IDENTITY_HOSTS.contains(&s) {
            return Ok(Principal {
                raw,
                partition: "aws".into(),
                account: String::new(),
                kind: PrincipalKind::WebIdentity { provider: s.into() },
            });
        }
        if s == "anonymous" || s == "*" {
            return Ok(Principal {
                raw,
                partition: "aws".into(),
                account: String::new(),
                kind: PrincipalKind::Anonymous,
            });
        }
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Principal {
                raw,
                partition: "aws".into(),
                account: s.into(),
                kind: PrincipalKind::Root,
            });
        }
        if !s.starts_with("arn:") {
            if s.contains('.') && !s.contains(char::is_whitespace) {
                return Ok(Principal {
                    raw,
                    partition: "aws".into(),
                    account: String::new(),
                    kind: PrincipalKind::Service(s.into()),
                });
            }
            return Err(format!("unsupported principal `{s}`: expected an IAM or STS ARN, an account ID, a service principal or `anonymous`"));
        }
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        let bad = || {
            format!("unsupported principal ARN `{s}`: expected arn:PARTITION:iam::ACCOUNT:user/..., role/..., root, oidc-provider/HOST, saml-provider/NAME, or arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION or federated-user/NAME")
        };
        if parts.len() != 6 || parts[1].is_empty() || parts[4].is_empty() {
            return Err(bad());
        }
        let (partition, svc, account, res) =
            (parts[1].to_owned(), parts[2], parts[4].to_owned(), parts[5]);
        let kind = match svc {
            "iam" if res == "root" => PrincipalKind::Root,
            "iam" if res.starts_with("user/") => {
                let (path, name) = split_path(&res[4..]);
                PrincipalKind::User { path, name }
            }
            "iam" if res.starts_with("role/") => {
                let (path, name) = split_path(&res[4..]);
                PrincipalKind::RoleSession {
                    role: name,
                    path: Some(path),
                    session: None,
                }
            }
            "sts" if res.starts_with("assumed-role/") => {
                let rest = &res["assumed-role/".len()..];
                match rest.split_once('/') {
                    Some((role, session)) if !role.is_empty() && !session.is_empty() => {
                        PrincipalKind::RoleSession {
                            role: role.into(),
                            path: None,
                            session: Some(session.into()),
                        }
                    }
                    _ => return Err(bad()),
                }
            }
            "sts" if res.starts_with("federated-user/") => PrincipalKind::FederatedUser {
                name: res["federated-user/".len()..].into(),
            },
            "iam" if res.len() > "oidc-provider/".len() && res.starts_with("oidc-provider/") => {
                PrincipalKind::WebIdentity {
                    provider: res["oidc-provider/".len()..].into(),
                }
            }
            "iam" if res.len() > "saml-provider/".len() && res.starts_with("saml-provider/") => {
                PrincipalKind::Saml {
                    name: res["saml-provider/".len()..].into(),
                }
            }
            _ => return Err(bad()),
        };
        if matches!(&kind, PrincipalKind::User { name, .. } | PrincipalKind::RoleSession { role: name, .. } if name.is_empty())
        {
            return Err(bad());
        }
        Ok(Principal {
            raw,
            partition,
            account,
            kind,
        })
    }

    /// `aws:PrincipalArn`: the role ARN (with path, `/` when unknown) for sessions.
    pub fn principal_arn(&self) -> Option<String> {
        let (p, a) = (&self.partition, &self.account);
        Some(match &self.kind {
            PrincipalKind::User { path, name } => format!("arn:{p}:iam::{a}:user{path}{name}"),
            PrincipalKind::RoleSession { role, path, .. } => {
                format!(
                    "arn:{p}:iam::{a}:role{}{role}",
                    path.as_deref().unwrap_or("/")
                )
            }
            PrincipalKind::FederatedUser { name } => {
                format!("arn:{p}:sts::{a}:federated-user/{name}")
            }
            PrincipalKind::Root => format!("arn:{p}:iam::{a}:root"),
            PrincipalKind::Service(_)
            | PrincipalKind::Anonymous
            | PrincipalKind::WebIdentity { .. }
            | PrincipalKind::Saml { .. } => return None,
        })
    }

    /// A web-identity or SAML caller (unsigned; only a trust policy can admit it).
    pub fn is_federated_caller(&self) -> bool {
        matches!(
            self.kind,
            PrincipalKind::WebIdentity { .. } | PrincipalKind::Saml { .. }
        )
    }

    /// For federated callers: may it make `action` (lowercase comparison)?
    pub fn federated_action_ok(&self, action: &str) -> bool {
        let a = action.to_lowercase();
        match self.kind {
            PrincipalKind::WebIdentity { .. } => WEB_IDENTITY_ACTIONS.contains(&a.as_str()),
            PrincipalKind::Saml { .. } => SAML_ACTIONS.contains(&a.as_str()),
            _ => true,
        }
    }

    /// The exact session ARN of a role session, when the session name is known.
    pub fn session_arn(&self) -> Option<String> {
        match &self.kind {
            PrincipalKind::RoleSession {
                role,
                session: Some(s),
                ..
            } => Some(format!(
                "arn:{}:sts::{}:assumed-role/{role}/{s}",
                self.partition, self.account
            )),
            _ => None,
        }
    }

    /// A role session or an STS federated-user session.
    pub fn is_session(&self) -> bool {
        matches!(
            self.kind,
            PrincipalKind::RoleSession { .. } | PrincipalKind::FederatedUser { .. }
        )
    }

    /// Service-linked roles (name `AWSServiceRoleFor…` or path `/aws-service-role/`).
    pub fn is_service_linked_role(&self) -> bool {
        match &self.kind {
            PrincipalKind::RoleSession { role, path, .. } => {
                role.starts_with("AWSServiceRoleFor")
                    || path
                        .as_deref()
                        .is_some_and(|p| p.starts_with("/aws-service-role/"))
            }
            _ => false,
        }
    }

    /// The value of `aws:PrincipalType` (`User`, `AssumedRole`, …), if AWS sends one.
    pub fn type_name(&self) -> Option<&'static str> {
        Some(match self.kind {
            PrincipalKind::User { .. } => "User",
            PrincipalKind::RoleSession { .. } => "AssumedRole",
            PrincipalKind::FederatedUser { .. } => "FederatedUser",
            PrincipalKind::Root => "Account",
            PrincipalKind::Anonymous => "Anonymous",
            PrincipalKind::Service(_)
            | PrincipalKind::WebIdentity { .. }
            | PrincipalKind::Saml { .. } => return None,
        })
    }

    /// Context keys that follow from the principal (a value given in the request context wins).
    /// Federated callers (unsigned `AssumeRoleWith*` calls) derive none: their claims are given
    /// in the context, and AWS does not document principal keys for them.
    pub fn derived_keys(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.is_federated_caller() {
            return out;
        }
        if let Some(arn) = self.principal_arn() {
            out.push(("aws:principalarn", arn));
        }
        match &self.kind {
            PrincipalKind::Anonymous => {
                out.push(("aws:principalaccount", "anonymous".into()));
                out.push(("aws:userid", "anonymous".into()));
            }
            PrincipalKind::Service(name) => {
                out.push(("aws:principalisawsservice", "true".into()));
                out.push(("aws:principalservicename", name.clone()));
            }
            _ => {
                out.push(("aws:principalaccount", self.account.clone()));
                out.push(("aws:principalisawsservice", "false".into()));
            }
        }
        if let Some(t) = self.type_name() {
            out.push(("aws:principaltype", t.into()));
        }
        match &self.kind {
            PrincipalKind::User { name, .. } => out.push(("aws:username", name.clone())),
            PrincipalKind::Root => out.push(("aws:userid", self.account.clone())),
            PrincipalKind::FederatedUser { name } => {
                out.push(("aws:userid", format!("{}:{name}", self.account)))
            }
            _ => {}
        }
        out
    }
}

fn split_path(res: &str) -> (String, String) {
    // res starts with '/' (after "user" or "role")
    match res.rfind('/') {
        Some(i) => (res[..=i].to_owned(), res[i + 1..].to_owned()),
        None => ("/".into(), res.to_owned()),
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// A context value: one value, or a set (a list in the request makes a key multivalued).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtxValue {
    /// Key as written.
    pub key: String,
    /// The values as written.
    pub values: Vec<String>,
    /// Whether the key is multivalued (given as a list).
    pub multi: bool,
}

/// Context keyed by lowercased key name.
pub type Context = BTreeMap<String, CtxValue>;

#[derive(Debug, Clone, PartialEq)]
/// One request: principal, action, resource and context.
pub struct Request {
    /// Who makes it.
    pub principal: Principal,
    /// The action (`s3:GetObject`).
    pub action: String,
    /// The resource ARN (or `*`).
    pub resource: String,
    /// The account that owns the resource.
    pub resource_account: String,
    /// Explicit context plus keys derived from the principal.
    pub context: Context,
}

impl Request {
    /// A request; the context gets the keys derived from the principal (explicit values win) and the resource account defaults to the ARN's account, else the principal's.
    pub fn new(
        principal: Principal,
        action: &str,
        resource: &str,
        resource_account: Option<&str>,
        explicit: Context,
    ) -> Request {
        let resource_account = match resource_account {
            Some(a) => a.to_owned(),
            None => resource_account_of(resource).unwrap_or_else(|| principal.account.clone()),
        };
        let mut context = explicit;
        for (k, v) in principal.derived_keys() {
            context.entry(k.to_owned()).or_insert_with(|| CtxValue {
                key: k.to_owned(),
                values: vec![v],
                multi: false,
            });
        }
        Request {
            principal,
            action: action.to_owned(),
            resource: resource.to_owned(),
            resource_account,
            context,
        }
    }

    /// Whether principal and resource are in the same account.
    pub fn same_account(&self) -> bool {
        !self.principal.account.is_empty() && self.principal.account == self.resource_account
    }
}

/// The account segment of an ARN, when it has one.
pub fn resource_account_of(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    (parts.len() == 6 && parts[0] == "arn" && !parts[4].is_empty()).then(|| parts[4].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_forms() {
        let p = Principal::parse("arn:aws:iam::111122223333:user/dev/Bob").unwrap();
        assert_eq!(
            p.kind,
            PrincipalKind::User {
                path: "/dev/".into(),
                name: "Bob".into()
            }
        );
        assert_eq!(
            p.principal_arn().unwrap(),
            "arn:aws:iam::111122223333:user/dev/Bob"
        );
        let s = Principal::parse("arn:aws:sts::111122223333:assumed-role/app/s1").unwrap();
        assert_eq!(
            s.principal_arn().unwrap(),
            "arn:aws:iam::111122223333:role/app"
        );
        assert_eq!(
            s.session_arn().unwrap(),
            "arn:aws:sts::111122223333:assumed-role/app/s1"
        );
        let r = Principal::parse("arn:aws:iam::111122223333:role/svc/app").unwrap();
        assert_eq!(
            r.principal_arn().unwrap(),
            "arn:aws:iam::111122223333:role/svc/app"
        );
        assert!(
            Principal::parse("lambda.amazonaws.com").unwrap().kind
                == PrincipalKind::Service("lambda.amazonaws.com".into())
        );
        assert_eq!(
            Principal::parse("anonymous").unwrap().kind,
            PrincipalKind::Anonymous
        );
        assert!(Principal::parse("bob").is_err());
        assert!(Principal::parse("arn:aws:s3:::bucket").is_err());
    }

    #[test]
    fn resource_account_defaults() {
        let p = Principal::parse("arn:aws:iam::111122223333:user/a").unwrap();
        let r = Request::new(
            p.clone(),
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            None,
            Context::new(),
        );
        assert_eq!(r.resource_account, "111122223333");
        let r = Request::new(
            p,
            "sqs:SendMessage",
            "arn:aws:sqs:us-east-1:444455556666:q",
            None,
            Context::new(),
        );
        assert_eq!(r.resource_account, "444455556666");
        assert!(!r.same_account());
        assert_eq!(r.context["aws:username"].values, vec!["a".to_string()]);
    }
}
