//! OIDC providers whose subject grammar is known (`crates/iamprove-account/data/oidc-providers.json`: data, not code) and
//! the federated condition keys `validate` accepts.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const EMBEDDED: &str = include_str!("../../data/oidc-providers.json");

/// One field of a provider's subject grammar (`repo`, `ref`, `namespace`, …).
#[derive(Debug, Clone, Deserialize)]
pub struct Field {
    /// The field in words (`repository`).
    pub label: String,
    /// Characters a value of this field cannot contain.
    #[serde(default)]
    pub exclude: String,
    /// The field names the owner: another value admits someone else's workloads.
    #[serde(default)]
    pub scope: bool,
}

/// One shape of a provider's `sub` claim.
#[derive(Debug, Clone, Deserialize)]
pub struct Format {
    /// The shape, with `{field}` placeholders (`repo:{owner}/{repo}:ref:{ref}`).
    pub sub: String,
    /// A trailing `*` may stand for the rest of the subject from one of this format's fields on.
    #[serde(default)]
    pub generic: bool,
}

/// An OIDC provider whose subject grammar is known (one entry of the embedded table).
#[derive(Debug, Clone, Deserialize)]
pub struct Provider {
    /// A short identifier (`github`).
    pub id: String,
    /// The provider's name for people (`GitHub Actions`).
    pub name: String,
    /// Glob over the provider's `host[/path]` (the claim-key prefix).
    pub host: String,
    /// What a subject is called (`workflow`, `service account`).
    pub noun: String,
    /// The audience value the provider documents, if one.
    #[serde(default)]
    pub expected_aud: Option<String>,
    /// The claim that names the application (`aud`, or `app_id` for Facebook and Amazon).
    pub aud_key: String,
    /// Without a condition on the audience any application of the provider is admitted.
    #[serde(default)]
    pub aud_required: bool,
    /// The subject fields, by name.
    pub fields: BTreeMap<String, Field>,
    /// The shapes of the `sub` claim.
    pub formats: Vec<Format>,
}

#[derive(Debug, Deserialize)]
struct Table {
    providers: Vec<Provider>,
}

/// The embedded provider table (empty if it does not parse; a unit test guards that).
pub fn table() -> &'static [Provider] {
    static T: OnceLock<Vec<Provider>> = OnceLock::new();
    T.get_or_init(|| {
        serde_json::from_str::<Table>(EMBEDDED)
            .map(|t| t.providers)
            .unwrap_or_default()
    })
}

/// The provider whose host glob matches `host` (case-insensitive).
pub fn provider_for(host: &str) -> Option<&'static Provider> {
    let h = host.to_ascii_lowercase();
    table()
        .iter()
        .find(|p| crate::matching::glob(&p.host).is_match(&h))
}

/// The claim-key prefix of a `Federated` principal value: `HOST[/PATH]` of an
/// `oidc-provider/` ARN or the value itself (well-known hosts); `saml` for SAML providers.
pub fn claim_prefix(federated: &str) -> String {
    if federated.contains(":saml-provider/") {
        return "saml".into();
    }
    match federated.split_once(":oidc-provider/") {
        Some((_, host)) => host.to_ascii_lowercase(),
        None => federated.to_ascii_lowercase(),
    }
}

/// Whether a `Federated` principal names a SAML provider (else an OIDC one).
pub(crate) fn is_saml(federated: &str) -> bool {
    federated.contains(":saml-provider/")
}

/// One field of a subject pattern in provider terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldValue {
    /// The field's name.
    pub name: String,
    /// The field in words.
    pub label: String,
    /// The pattern text of the field (`*` when a trailing wildcard covers it).
    pub value: String,
    /// The field names the owner (see [`Field::scope`]).
    pub scope: bool,
}

impl FieldValue {
    /// Whether the pattern has a wildcard.
    pub(crate) fn is_wild(&self) -> bool {
        self.value.contains(['*', '?'])
    }
    /// The field in words: `any repository`, ``repository matching `a*` ``.
    pub fn show(&self) -> String {
        if self.value == "*" {
            format!("any {}", self.label)
        } else if self.is_wild() {
            format!("{} matching `{}`", self.label, self.value)
        } else {
            format!("{} `{}`", self.label, self.value)
        }
    }
}

enum Part<'a> {
    Lit(&'a str),
    Field(&'a str),
}

fn parts(format: &str) -> Vec<Part<'_>> {
    let mut out = Vec::new();
    let mut rest = format;
    while !rest.is_empty() {
        match rest.find('{') {
            Some(0) => match rest.find('}') {
                Some(end) => {
                    out.push(Part::Field(&rest[1..end]));
                    rest = &rest[end + 1..];
                }
                None => {
                    out.push(Part::Lit(rest));
                    rest = "";
                }
            },
            Some(i) => {
                out.push(Part::Lit(&rest[..i]));
                rest = &rest[i..];
            }
            None => {
                out.push(Part::Lit(rest));
                rest = "";
            }
        }
    }
    out
}

/// Match a subject pattern's text against a format: each field takes text without its excluded
/// characters; in a generic format a final `*` may cover the rest of the format.
fn match_format(
    p: &Provider,
    parts: &[Part],
    text: &str,
    generic: bool,
    acc: &mut Vec<FieldValue>,
) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return text.is_empty();
    };
    let field_value = |name: &str, v: &str| {
        let f = p.fields.get(name);
        FieldValue {
            name: name.to_owned(),
            label: f.map_or_else(|| name.to_owned(), |f| f.label.clone()),
            value: v.to_owned(),
            scope: f.is_some_and(|f| f.scope),
        }
    };
    match first {
        Part::Lit(l) => text
            .strip_prefix(l)
            .is_some_and(|t| match_format(p, rest, t, generic, acc)),
        Part::Field(name) => {
            let exclude = p
                .fields
                .get(*name)
                .map(|f| f.exclude.as_str())
                .unwrap_or("");
            let bad = |c: char| exclude.contains(c);
            // every split point whose head avoids the excluded characters, shortest first
            let mut ends: Vec<usize> = text.char_indices().map(|(i, _)| i).skip(1).collect();
            ends.push(text.len());
            for end in ends {
                let head = &text[..end];
                if head.contains(bad) {
                    break;
                }
                let mut trial = acc.clone();
                trial.push(field_value(name, head));
                if match_format(p, rest, &text[end..], generic, &mut trial) {
                    *acc = trial;
                    return true;
                }
            }
            // a trailing `*` that covers this field and everything after it
            if generic && text.ends_with('*') && !text[..text.len() - 1].contains(bad) {
                acc.push(field_value(name, text));
                for later in rest {
                    if let Part::Field(n) = later {
                        acc.push(field_value(n, "*"));
                    }
                }
                return true;
            }
            false
        }
    }
}

/// A subject pattern in the provider's terms: the first format it fits, with each field's value.
pub fn describe_sub(p: &Provider, pattern: &str) -> Option<Vec<FieldValue>> {
    for f in &p.formats {
        let ps = parts(&f.sub);
        let mut acc = Vec::new();
        if match_format(p, &ps, pattern, f.generic, &mut acc) {
            return Some(acc);
        }
    }
    None
}

/// SAML condition keys AWS documents (IAM User Guide, "Available keys for SAML-based federation").
const SAML_KEYS: &[&str] = &[
    "saml:aud",
    "saml:commonname",
    "saml:cn",
    "saml:doc",
    "saml:edupersonaffiliation",
    "saml:edupersonassurance",
    "saml:edupersonentitlement",
    "saml:edupersonnickname",
    "saml:edupersonorgdn",
    "saml:edupersonorgunitdn",
    "saml:edupersonprimaryaffiliation",
    "saml:edupersonprimaryorgunitdn",
    "saml:edupersonprincipalname",
    "saml:edupersonscopedaffiliation",
    "saml:edupersontargetedid",
    "saml:eduorghomepageuri",
    "saml:eduorgidentityauthnpolicyuri",
    "saml:eduorglegalname",
    "saml:eduorgsuperioruri",
    "saml:eduorgwhitepagesuri",
    "saml:givenname",
    "saml:iss",
    "saml:mail",
    "saml:name",
    "saml:namequalifier",
    "saml:organizationstatus",
    "saml:primarygroupsid",
    "saml:sub",
    "saml:sub_type",
    "saml:surname",
    "saml:uid",
    "saml:x500uniqueidentifier",
];

/// Claims AWS exposes as `HOST:claim` keys for web identity federation.
const OIDC_CLAIMS: &[&str] = &[
    "sub", "aud", "amr", "azp", "oaud", "email", "app_id", "user_id", "id",
];

/// Is `key` (lower case) a federated condition key: a documented `SAML:` key, or `HOST:claim`
/// for a documented claim of a known provider or of any provider host (`oidc.eks.REGION.
/// amazonaws.com/id/ID:sub`).
pub fn federated_key_known(key: &str) -> bool {
    if SAML_KEYS.contains(&key) {
        return true;
    }
    let Some((host, claim)) = key.rsplit_once(':') else {
        return false;
    };
    if !OIDC_CLAIMS.contains(&claim) {
        return false;
    }
    // a host name (with an optional path), not a service prefix like `aws` or `s3`
    provider_for(host).is_some()
        || (host.contains('.')
            && !host.contains(':')
            && host
                .split('/')
                .next()
                .is_some_and(|h| h.split('.').count() >= 2 && !h.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses() {
        assert!(table().len() >= 8);
        assert_eq!(
            provider_for("token.actions.githubusercontent.com").map(|p| p.id.as_str()),
            Some("github-actions")
        );
        assert_eq!(
            provider_for("oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123").map(|p| p.id.as_str()),
            Some("eks")
        );
    }

    fn show(p: &str, sub: &str) -> Vec<String> {
        let prov = table().iter().find(|x| x.id == p).unwrap();
        describe_sub(prov, sub)
            .unwrap_or_default()
            .iter()
            .map(FieldValue::show)
            .collect()
    }

    #[test]
    fn github_subjects() {
        assert_eq!(
            show("github-actions", "repo:my-org/app:ref:refs/heads/main"),
            ["owner `my-org`", "repository `app`", "branch `main`"]
        );
        assert_eq!(
            show("github-actions", "repo:my-org/*"),
            [
                "owner `my-org`",
                "any repository",
                "any ref, environment or pull request"
            ]
        );
        assert_eq!(
            show("github-actions", "repo:*"),
            [
                "any owner",
                "any repository",
                "any ref, environment or pull request"
            ]
        );
        assert_eq!(
            show("github-actions", "repo:my-org/app:environment:prod"),
            ["owner `my-org`", "repository `app`", "environment `prod`"]
        );
        assert_eq!(
            show("github-actions", "repo:my-org/app:pull_request"),
            ["owner `my-org`", "repository `app`"]
        );
        assert_eq!(
            show("eks", "system:serviceaccount:default:*"),
            ["namespace `default`", "any service account"]
        );
    }

    #[test]
    fn federated_keys() {
        assert!(federated_key_known(
            "token.actions.githubusercontent.com:sub"
        ));
        assert!(federated_key_known(
            "oidc.eks.us-east-1.amazonaws.com/id/ABC123:sub"
        ));
        assert!(federated_key_known("saml:aud"));
        assert!(federated_key_known("accounts.google.com:aud"));
        assert!(!federated_key_known("aws:sub"));
        assert!(!federated_key_known("s3:aud"));
    }
}
