//! Well-formed requests: the resources an action the catalog knows can name.
//!
//! A symbolic request must be one AWS can send. For an action in the catalog, the resource is the
//! pseudo-resource `*` or an ARN of one of the ARN formats of the action's resource types
//! (IAM-SEMANTICS §7, "tie to action via an action → ARN-format table"). Without that, a `*`
//! that ends the region or account segment of a `Resource` pattern may run past colons and the
//! solver builds ARNs no service produces (`arn:aws:cloudformation:::stack/A/:stack/B/`).
//!
//! A format becomes [`Mode::Format`] patterns: `${Partition}` is `aws` followed by a run
//! without `:` (every partition name starts with `aws`); every placeholder but region and account
//! is a run without `:`, except a placeholder that ends the format and is not an identifier
//! (`…Id`, `…ID`, `…Uuid`, `…UUID`): that one may hold colons (S3 object keys, Lambda function
//! names with a qualifier, paths).
//!
//! Every other placeholder (a bucket, a key, a name, an ID) is never empty: AWS names and IDs
//! have at least one character, so `arn:aws:s3:::` (a bucket without a name) is not a request.
//! A path (`…Path` but not `…WithPath`) may be empty: an API's root resource is
//! `arn:aws:execute-api:…:api/stage/GET/` (the conservative reading for every path).
//! Its run starts with one character ([`Tok::OneChar`]), which is `:`-free unless the run may
//! hold colons (a trailing placeholder: an S3 object key may start with `:`). Several
//! placeholders in a row are one run, non-empty when one of them is. `${Partition}` (already
//! `aws…`), `${Region}` and the account placeholders below may be empty where they are.
//!
//! Region and account have the syntax AWS gives them, so that no finding names an ARN no service
//! produces (`arn:aws:iam::glue:role/x`, a region `Ab!`) and no change is reported widened only
//! on such ARNs:
//!
//! * a region segment `${Region}` is empty or a run of `[a-z0-9-]` ([`Tok::RegionRun`]): AWS
//!   region names (`us-east-1`, `us-gov-west-1`, `cn-north-1`), empty for global resources;
//! * an account segment that is one placeholder named `…Account` or `…AccountId` (`${Account}`,
//!   `${AccountId}`, `${ManagementAccountId}`, `${VpcOwnerAccount}`: every account placeholder
//!   of the catalog) is 12 ASCII digits ([`Tok::Digit`]), or `aws` (AWS-owned resources:
//!   `arn:aws:iam::aws:policy/…`, `arn:aws:eks::aws:cluster-access-policy/…`), or — in a
//!   *regional* format (its region segment is not empty) — the empty string: AWS-owned public
//!   resources of formats that still say `${Account}` (`arn:aws:ssm:us-east-1::document/AWS-…`,
//!   public SSM parameters and automation definitions, `arn:aws:resource-explorer-2:…::view/…`).
//!   A linear pattern cannot hold this alternation, so such a format becomes two or three
//!   patterns, one per account shape.
//!
//! The empty account of a *global* format (empty region: IAM, STS, Organizations, CloudFront, …)
//! is left out: AWS-owned global resources are written with `aws` (the managed-policy corpus
//! names `arn:aws:iam::aws:…` and `arn:aws:eks::aws:…`, and an empty account only in regional
//! ARNs, in global ARNs only where the format itself has no account: S3, Route 53). This is
//! the one place the rule is narrower than "as wide as the catalog allows"; it is part of the
//! listed well-formed assumption. Everything else is kept as wide as the catalog allows (a
//! conservative reading: more requests, never fewer). Literal accounts and regions of a format
//! (`aws`, `offering`, `us-west-2`) stay literal.
//!
//! The encoder uses the account shapes only where they can change an answer: when every
//! resource pattern of the query has literal or lone-`*` partition, service, region and account
//! parts ([`account_insensitive`]), one colon-free account per format ([`family`]) decides the same.
//!
//! Actions outside the catalog keep the general resource (any string).

use crate::matching::{Mode, Tok};

/// The formats of a known action (lower-case `service:action`) as `Mode::Format` token lists;
/// `None` for an action the catalog does not know or whose formats cannot be written as
/// patterns (then the resource stays general). An action without resource types yields an
/// empty list: only `*`.
pub fn action_formats(lower_action: &str) -> Option<Vec<Vec<Tok>>> {
    // the action's line and its service's resource types only (no parse of the service)
    let types = crate::catalog::index::action_arn_formats(lower_action)?;
    let mut out: Vec<Vec<Tok>> = Vec::new();
    for formats in types {
        if formats.is_empty() {
            return None;
        }
        for f in formats {
            for toks in format_toks(f)? {
                if !out.contains(&toks) {
                    out.push(toks);
                }
            }
        }
    }
    Some(out)
}

/// Is this placeholder name, alone in the account segment, an account (`Account`, `AccountId`,
/// `ManagementAccountId`, `VpcOwnerAccount`)?
fn is_account_placeholder(name: &str) -> bool {
    name.ends_with("Account") || name.ends_with("AccountId")
}

/// Is this placeholder an S3-style bucket name (`BucketName`, `TableBucketName`: S3, S3 on
/// Outposts, S3 Express, S3 Vectors, S3 Tables)? Bucket names of every kind are letters,
/// digits, `.`, `-` and `_` (the wider, legacy us-east-1 rule; newer rules are subsets).
fn is_bucket_placeholder(name: &str) -> bool {
    name.ends_with("BucketName")
}

/// Is this placeholder a path that may be empty (`ApiSpecificResourcePath`: an API's root
/// resource is `…/GET/`; `BasePath`, `RequestPath`, `FolderPath`, `ResourcePath`, …)? A name
/// with a path (`RoleNameWithPath`) is not: the name is never empty.
fn may_be_empty_path(name: &str) -> bool {
    name.ends_with("Path") && !name.ends_with("WithPath")
}

/// One ARN format (`arn:${Partition}:s3:::${BucketName}/${ObjectName}`) as `Mode::Format`
/// patterns: one, or one per account shape when the account segment is an account placeholder
/// (12 digits, `aws`, and in a regional format the empty account); `None` when the format holds
/// a literal `*` or `?`, an unterminated placeholder or is not an ARN with six parts.
pub(crate) fn format_toks(format: &str) -> Option<Vec<Vec<Tok>>> {
    if format.contains('*') || format.contains('?') || !format.starts_with("arn:") {
        return None;
    }
    let mut toks = Vec::new();
    let mut rest = format;
    // (token index, placeholder name) of the last placeholder, to widen it when it ends the format
    let mut last: Option<(usize, &str)> = None;
    // the token indices of the runs that hold a placeholder AWS never leaves empty
    let mut non_empty: Vec<usize> = Vec::new();
    while let Some(i) = rest.find("${") {
        toks.extend(rest[..i].chars().map(Tok::Lit));
        let after = &rest[i + 2..];
        let j = after.find('}')?;
        let name = &after[..j];
        if name == "Partition" {
            toks.extend("aws".chars().map(Tok::Lit));
        }
        // an S3 bucket name (`${BucketName}`, `${TableBucketName}`): a non-empty run of
        // `[A-Za-z0-9._-]`, never `:` or `/`, even where it ends the format
        if is_bucket_placeholder(name) && toks.last() != Some(&Tok::Run) {
            toks.extend([Tok::BucketChar, Tok::BucketRun]);
            last = None;
            rest = &after[j + 1..];
            continue;
        }
        // several placeholders in a row are one run
        if toks.last() != Some(&Tok::Run) {
            toks.push(Tok::Run);
        }
        // names and IDs are never empty; a region (global resources), an account (AWS-owned
        // public resources) and a path may be, and the partition already starts with `aws`
        if !(name == "Partition"
            || name == "Region"
            || is_account_placeholder(name)
            || may_be_empty_path(name))
        {
            non_empty.push(toks.len() - 1);
        }
        last = Some((toks.len() - 1, name));
        rest = &after[j + 1..];
    }
    toks.extend(rest.chars().map(Tok::Lit));
    if let Some((i, name)) = last {
        let identifier = ["Id", "ID", "Uuid", "UUID"]
            .iter()
            .any(|s| name.ends_with(s));
        if i + 1 == toks.len() && !identifier {
            toks[i] = Tok::One;
        }
    }
    // a non-empty run is its first character and the rest of the run; the first character of a
    // run that may hold colons may be `:` too (an S3 object key `:a`)
    // (several placeholders in a row: one run, non-empty when one of them is)
    non_empty.dedup();
    for &i in non_empty.iter().rev() {
        let colon = toks[i] == Tok::One;
        toks.insert(i, Tok::OneChar { colon });
    }
    let [c3, c4, c5] = segment_colons(&toks)?;
    // placeholders hold no colon, so the format's segments are its text split at colons
    let segments: Vec<&str> = format.splitn(6, ':').collect();
    let (region, account) = (segments.get(3)?, segments.get(4)?);
    let placeholder = |seg: &str| {
        seg.strip_prefix("${")
            .and_then(|x| x.strip_suffix('}'))
            .filter(|n| !n.contains(['$', '{', '}']))
            .map(str::to_owned)
    };
    if *region == "${Region}" && c4 == c3 + 2 {
        toks[c3 + 1] = Tok::RegionRun;
    }
    match placeholder(account) {
        Some(name) if is_account_placeholder(&name) && c5 == c4 + 2 => {
            let (head, tail) = (&toks[..=c4], &toks[c5..]);
            let with = |mid: Vec<Tok>| [head, mid.as_slice(), tail].concat();
            let mut out = vec![
                with(vec![Tok::Digit; 12]),
                with(vec![Tok::Lit('a'), Tok::Lit('w'), Tok::Lit('s')]),
            ];
            // (not in S3: its regional resources, access points, jobs and Storage Lens, are
            // never AWS-owned, and `arn:aws:s3:::…` is a bucket)
            if !region.is_empty() && segments.get(2) != Some(&"s3") {
                out.push(with(Vec::new()));
            }
            Some(out)
        }
        _ => Some(vec![toks]),
    }
}

/// The token indices of the third, fourth and fifth literal colons of an ARN pattern (those
/// that bound its region and account segments); `None` with fewer than five.
fn segment_colons(toks: &[Tok]) -> Option<[usize; 3]> {
    let colons: Vec<usize> = toks
        .iter()
        .enumerate()
        .filter(|(_, t)| **t == Tok::Lit(':'))
        .map(|(i, _)| i)
        .take(5)
        .collect();
    match colons.as_slice() {
        &[_, _, c3, c4, c5] => Some([c3, c4, c5]),
        _ => None,
    }
}

/// The account and region syntax of catalog formats, applied to a resource shape a policy pairs
/// with an action (the encoder's loose reading of a `Resource` pattern, taken as one more format
/// when the catalog has none that covers it; called by `Encoder::declared_shapes`): a region segment that is one run without `:` (the
/// policy wrote `*` or `?`) becomes a region run, and an account segment that is one such run
/// becomes 12 digits, `aws` or — unless the shape's region segment is empty (a global
/// resource) — empty, as in a format.
/// A policy pattern is not a request: the requests it matches still have AWS's account and
/// region syntax. Literal or partly literal segments are left as written. A partition that is
/// one wildcard (`arn:*:…`, whose `*` a policy may let run past colons) becomes the format's
/// partition, `aws` and a run without `:`.
pub fn shape_variants(mut toks: Vec<Tok>) -> Vec<Vec<Tok>> {
    let arn = [Tok::Lit('a'), Tok::Lit('r'), Tok::Lit('n'), Tok::Lit(':')];
    if toks.starts_with(&arn)
        && matches!(toks.get(4), Some(Tok::Run | Tok::One))
        && toks.get(5) == Some(&Tok::Lit(':'))
    {
        toks.splice(
            4..5,
            [Tok::Lit('a'), Tok::Lit('w'), Tok::Lit('s'), Tok::Run],
        );
    }
    let Some([c3, c4, c5]) = segment_colons(&toks) else {
        return vec![toks];
    };
    if c4 == c3 + 2 && toks[c3 + 1] == Tok::Run {
        toks[c3 + 1] = Tok::RegionRun;
    }
    if c5 != c4 + 2 || toks[c4 + 1] != Tok::Run {
        return vec![toks];
    }
    let (head, tail) = (&toks[..=c4], &toks[c5..]);
    let with = |mid: &[Tok]| [head, mid, tail].concat();
    let mut out = vec![
        with(&[Tok::Digit; 12]),
        with(&[Tok::Lit('a'), Tok::Lit('w'), Tok::Lit('s')]),
    ];
    // as in a format: the empty account only where the region is not empty
    if c4 != c3 + 1 {
        out.push(with(&[]));
    }
    out
}

/// The catalog format a pattern of [`action_formats`] comes from, for counting formats: the
/// account segment read as one run without `:` (so the 12-digit, `aws` and empty variants of one
/// format are one family). In S3 the run is not empty, except in the bucket and object
/// formats (no region, no account): every other S3 format has an account placeholder without
/// the empty variant, and `arn:aws:s3:::accesspoint/x` is a bucket and a key, never an access
/// point. (Elsewhere the empty run stays: a global format's family may hold the empty account
/// its variants lack, which only adds requests.)
pub fn family(toks: &[Tok]) -> Vec<Tok> {
    let colons: Vec<usize> = toks
        .iter()
        .enumerate()
        .filter(|(_, t)| **t == Tok::Lit(':'))
        .map(|(i, _)| i)
        .take(5)
        .collect();
    match colons.as_slice() {
        &[_, c2, c3, c4, c5] => {
            let s3 = toks[c2 + 1..c3] == [Tok::Lit('s'), Tok::Lit('3')];
            let bucket = c4 == c3 + 1 && c5 == c4 + 1;
            let account: &[Tok] = if s3 && !bucket {
                &[Tok::OneChar { colon: false }, Tok::Run]
            } else {
                &[Tok::Run]
            };
            [&toks[..=c4], account, &toks[c5..]].concat()
        }
        _ => toks.to_vec(),
    }
}

/// Can this `Resource` pattern tell one account from another only by naming it literally? True
/// when each of its partition, service, region and account parts (the text between its first
/// five colons) is literal or exactly `*`. Then the exact account shapes of
/// [`action_formats`] change no answer: a request with a malformed account is decided by every
/// such pattern as the same request with a 12-digit account that no pattern names (a literal part
/// equals a whole segment; a `*` part absorbs it; parts after the fifth colon only ever align with
/// the resource part). Callers may then use [`family`] (any colon-free account), which keeps the
/// partition smaller; it only adds requests, so a proof stays a proof.
pub fn account_insensitive(toks: &[Tok]) -> bool {
    let mut part: Vec<Tok> = Vec::new();
    let mut colons = 0;
    let ok = |p: &[Tok]| p == [Tok::Run] || p.iter().all(|t| matches!(t, Tok::Lit(_)));
    for t in toks {
        if colons >= 5 {
            break;
        }
        if *t == Tok::Lit(':') {
            if colons >= 1 && !ok(&part) {
                return false;
            }
            colons += 1;
            part.clear();
        } else {
            part.push(*t);
        }
    }
    colons >= 5 || colons == 0 || ok(&part)
}

/// A readable instance of a format: partition `aws`, region `us-east-1`, account `account`
/// (when it is 12 ASCII digits, else `111122223333`), other placeholders `example`.
pub fn format_example(toks: &[Tok], account: &str) -> String {
    let account = if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
        account
    } else {
        "111122223333"
    };
    let mut out = String::new();
    let mut colons = 0;
    for t in toks {
        match t {
            Tok::Lit(c) => {
                if *c == ':' {
                    colons += 1;
                }
                out.push(*c);
            }
            // the account's 12 digits are written once, at the first
            Tok::Digit => {
                if !out.ends_with(|c: char| c.is_ascii_digit()) {
                    out.push_str(account);
                }
            }
            // the first character of a placeholder: the run after it writes the example
            Tok::OneChar { .. } | Tok::BucketChar => {}
            Tok::BucketRun => out.push_str("example"),
            Tok::Run | Tok::One | Tok::RegionRun => match colons {
                1 => {} // `aws` already written
                3 => out.push_str("us-east-1"),
                4 => out.push_str(account),
                _ => out.push_str("example"),
            },
        }
    }
    out
}

/// Does `resource` have a form `action` can name (`*`, or one of its ARN formats)? Unknown
/// actions accept every resource.
pub fn well_formed(lower_action: &str, resource: &str) -> bool {
    match action_formats(lower_action) {
        None => true,
        Some(fs) => {
            resource == "*"
                || fs
                    .iter()
                    .any(|f| crate::matching::compile(f, Mode::Format).is_match(resource))
        }
    }
}

/// Does `resource` name what `action` can act on: [`well_formed`], and an S3 bucket ARN
/// [`s3_arn_well_formed`]?
pub fn resource_well_formed(lower_action: &str, resource: &str) -> bool {
    well_formed(lower_action, resource) && s3_arn_well_formed(resource)
}

/// Every S3 ARN without region and account (`arn:aws…:s3:::REST`, whatever the action) names a
/// bucket: `REST` is a bucket name (letters, digits, `.`, `-`, `_`; never `:` or `/`) alone or
/// followed by `/` and an object key. The `Mode::Format` pattern of such ARNs; see
/// [`s3_arns`] for the well-formed ones.
pub fn s3_arn_prefix() -> Vec<Tok> {
    let mut t = crate::matching::tokens("arn:aws", false);
    t.push(Tok::Run);
    t.extend(crate::matching::tokens(":s3:::", false));
    t.push(Tok::One);
    t
}

/// The well-formed S3 ARNs of [`s3_arn_prefix`] as `Mode::Format` patterns: a bucket, or a
/// bucket, `/` and any key.
pub fn s3_arns() -> Vec<Vec<Tok>> {
    let mut bucket = crate::matching::tokens("arn:aws", false);
    bucket.push(Tok::Run);
    bucket.extend(crate::matching::tokens(":s3:::", false));
    bucket.extend([Tok::BucketChar, Tok::BucketRun]);
    let mut object = bucket.clone();
    object.extend([Tok::Lit('/'), Tok::One]);
    vec![bucket, object]
}

/// What a proof relies on when the values of [`s3_arns`] and [`context_value_formats`] are
/// required (for every action, with or without the catalog's formats).
pub const WELL_FORMED_VALUES_ASSUMPTION: &str = "well-formed values: an S3 ARN without region and account (`arn:aws:s3:::…`) names a bucket of letters, digits, `.`, `-` and `_` (never `:` or `/`), alone or before `/` and a key, for every action; `aws:PrincipalAccount`, `aws:ResourceAccount`, `aws:SourceAccount` and `aws:SourceOwner` are 12 digits (`aws:PrincipalAccount` also `anonymous`), `aws:PrincipalArn` is an IAM or STS ARN without a region whose account is 12 digits, and `aws:SourceArn` is an ARN whose partition starts with `aws`, whose region is empty or a run of `a-z`, `0-9` and `-`, and whose account is 12 digits, `aws` or empty";

/// Is `resource`, when it is an S3 ARN without region and account, one of [`s3_arns`]?
/// (Every other resource passes.)
pub fn s3_arn_well_formed(resource: &str) -> bool {
    !crate::matching::compile(&s3_arn_prefix(), Mode::Format).is_match(resource)
        || s3_arns()
            .iter()
            .any(|f| crate::matching::compile(f, Mode::Format).is_match(resource))
}

/// Context keys whose value is an account ID (lower case): 12 ASCII digits whenever present
/// (`aws:PrincipalAccount` is also `anonymous` for an anonymous caller).
pub const ACCOUNT_KEYS: &[&str] = &[
    "aws:principalaccount",
    "aws:resourceaccount",
    "aws:sourceaccount",
    "aws:sourceowner",
];

/// Context keys whose value is an ARN (lower case): the ARN of a principal or of the resource
/// a service acts for.
pub const ARN_KEYS: &[&str] = &["aws:principalarn", "aws:sourcearn"];

/// The values AWS gives a context key, as `Mode::Format` patterns, for the keys of
/// [`ACCOUNT_KEYS`] (12 digits; `anonymous` too for `aws:PrincipalAccount` when `anonymous` may
/// call) and [`ARN_KEYS`] (an ARN whose partition starts with `aws`, whose region is empty or a
/// run of `[a-z0-9-]` and whose account is 12 digits, `aws` or empty: the syntax of catalog
/// formats, with the empty account allowed in global ARNs too, since an S3 bucket is a source
/// ARN without one; `aws:PrincipalArn` is always an IAM or STS ARN without a region, in a
/// 12-digit account: a user, role, root or federated user, absent for service principals and
/// anonymous callers); `None` for every other key.
pub fn context_value_formats(lower_key: &str, anonymous: bool) -> Option<Vec<Vec<Tok>>> {
    if ACCOUNT_KEYS.contains(&lower_key) {
        let mut out = vec![vec![Tok::Digit; 12]];
        if anonymous && lower_key == "aws:principalaccount" {
            out.push(crate::matching::tokens("anonymous", false));
        }
        return Some(out);
    }
    if !ARN_KEYS.contains(&lower_key) {
        return None;
    }
    if lower_key == "aws:principalarn" {
        // an IAM user, role or root, or an STS federated user or session: global, in an account
        return Some(
            ["iam", "sts"]
                .into_iter()
                .map(|svc| {
                    let mut t = crate::matching::tokens("arn:aws", false);
                    t.push(Tok::Run);
                    t.extend(crate::matching::tokens(&format!(":{svc}::"), false));
                    t.extend([Tok::Digit; 12]);
                    t.extend([Tok::Lit(':'), Tok::One]);
                    t
                })
                .collect(),
        );
    }
    let mut head = crate::matching::tokens("arn:aws", false);
    head.extend([
        Tok::Run,
        Tok::Lit(':'),
        Tok::Run,
        Tok::Lit(':'),
        Tok::RegionRun,
    ]);
    head.push(Tok::Lit(':'));
    let accounts: [Vec<Tok>; 3] = [
        vec![Tok::Digit; 12],
        crate::matching::tokens("aws", false),
        Vec::new(),
    ];
    Some(
        accounts
            .into_iter()
            .map(|a| [head.clone(), a, vec![Tok::Lit(':'), Tok::One]].concat())
            .collect(),
    )
}

/// Is `value` a value AWS gives the context key `lower_key` ([`context_value_formats`];
/// `true` for keys it does not describe)?
pub fn well_formed_context_value(lower_key: &str, value: &str) -> bool {
    match context_value_formats(lower_key, true) {
        None => true,
        Some(fs) => fs
            .iter()
            .any(|f| crate::matching::compile(f, Mode::Format).is_match(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_principal_arn_is_an_iam_or_sts_arn_in_an_account() {
        for ok in [
            "arn:aws:iam::123456789012:role/x",
            "arn:aws:iam::123456789012:user/a/b",
            "arn:aws:iam::123456789012:root",
            "arn:aws-cn:sts::123456789012:federated-user/f",
        ] {
            assert!(well_formed_context_value("aws:principalarn", ok), "{ok}");
        }
        for bad in [
            "arn:aws:iam::aws:role/x",
            "arn:aws:iam:::role/x",
            "arn:aws:iam:us-east-1:123456789012:role/x",
            "arn:aws:s3:::bucket",
            "arn:aws:iam::12345678901:role/x",
        ] {
            assert!(!well_formed_context_value("aws:principalarn", bad), "{bad}");
        }
        // a source ARN keeps the wider syntax (an S3 bucket has no account)
        assert!(well_formed_context_value(
            "aws:sourcearn",
            "arn:aws:s3:::bucket"
        ));
    }

    #[test]
    fn cloudformation_stack_ids_hold_no_colon() {
        let fs = action_formats("cloudformation:deletestack").expect("known action");
        assert!(!fs.is_empty());
        assert!(well_formed(
            "cloudformation:deletestack",
            "arn:aws:cloudformation:us-east-1:111122223333:stack/B/1234"
        ));
        assert!(!well_formed(
            "cloudformation:deletestack",
            "arn:aws:cloudformation:::stack/A/:stack/B/"
        ));
        assert!(!well_formed(
            "cloudformation:deletestack",
            "arn:aws:cloudformation:us-east-1:111122223333:stack/B/x:stack/A/y"
        ));
        assert!(well_formed("cloudformation:deletestack", "*"));
    }

    #[test]
    fn object_keys_may_hold_colons_and_unknown_actions_are_free() {
        assert!(well_formed("s3:getobject", "arn:aws:s3:::bucket/a:b/c"));
        assert!(!well_formed("s3:getobject", "arn:aws:s3:::bucket"));
        assert!(well_formed("s3:notanaction", "anything at all"));
        assert!(well_formed("sts:getcalleridentity", "*"));
        assert!(!well_formed(
            "sts:getcalleridentity",
            "arn:aws:iam::111122223333:role/x"
        ));
    }

    #[test]
    fn accounts_and_regions_have_aws_syntax() {
        // a global format: 12 digits or `aws`
        let role = format_toks("arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}")
            .expect("a format");
        assert_eq!(role.len(), 2);
        // a regional one: the empty account too; the region is a class run
        let doc = format_toks("arn:${Partition}:ssm:${Region}:${Account}:document/${DocumentName}")
            .expect("a format");
        assert_eq!(doc.len(), 3);
        assert!(doc.iter().all(|f| f.contains(&Tok::RegionRun)));
        // literal accounts stay literal; `${AccountId}` is an account
        assert_eq!(
            format_toks("arn:${Partition}:mediaconnect:${Region}:offering:${OfferingId}")
                .map(|v| v.len()),
            Some(1)
        );
        assert_eq!(
            format_toks(
                "arn:${Partition}:chime:${Region}:${AccountId}:app-instance/${AppInstanceId}"
            )
            .map(|v| v.len()),
            Some(3)
        );
        let m = |a: &str, r: &str| well_formed(a, r);
        assert!(m("iam:passrole", "arn:aws:iam::123456789012:role/x"));
        assert!(m("iam:passrole", "arn:aws:iam::aws:role/x"));
        assert!(!m("iam:passrole", "arn:aws:iam:::role/x"));
        assert!(!m("iam:passrole", "arn:aws:iam::12345678901:role/x"));
        assert!(!m("iam:passrole", "arn:aws:iam::glue:role/x"));
        assert!(m(
            "ssm:sendcommand",
            "arn:aws:ssm:us-east-1::document/AWS-X"
        ));
        assert!(m("ssm:sendcommand", "arn:aws:ssm::123456789012:document/d"));
        assert!(!m(
            "ssm:sendcommand",
            "arn:aws:ssm:US-EAST-1:123456789012:document/d"
        ));
        assert!(!m(
            "ssm:sendcommand",
            "arn:aws:ssm:Ab!:123456789012:document/d"
        ));
    }

    #[test]
    fn policy_shapes_get_the_syntax_of_requests() {
        // (the encoder's loose reading: `*` before the fifth colon a run without `:`, at the
        // partition and after the fifth colon any run)
        let shape = crate::matching::tokens("arn:?:rg:*:*:group/x?", true);
        let v = shape_variants(shape);
        assert_eq!(v.len(), 3);
        let m = |r: &str| {
            v.iter()
                .any(|f| crate::matching::compile(f, Mode::Format).is_match(r))
        };
        assert!(m("arn:aws:rg:us-east-1:123456789012:group/xa:b"));
        assert!(m("arn:aws-cn:rg::aws:group/x"));
        assert!(m("arn:aws:rg:eu-west-1::group/x"));
        assert!(!m("arn:aws:rg:ec2:events:group/x"));
        assert!(!m("arn:aws:x:y:rg:us-east-1:123456789012:group/x"));
        // a global shape: no empty account
        let global = shape_variants(crate::matching::tokens("arn:aws:iam::*:role/x", true));
        assert_eq!(global.len(), 2);
        // partly literal segments stay as written
        let lit = crate::matching::tokens("arn:aws:rg:us-?:12?:group/x", true);
        assert_eq!(shape_variants(lit.clone()), vec![lit]);
    }

    /// Bucket names are letters, digits, `.`, `-` and `_`: never `:` or `/`, never empty, even
    /// where the name ends the format; object keys still may hold both. S3's other resources
    /// always name an account, so `arn:aws:s3:::…` is a bucket (or an object) only.
    #[test]
    fn bucket_names_hold_no_colon_or_slash() {
        for r in [
            "arn:aws:s3:::a:b",
            "arn:aws:s3:::a/b",
            "arn:aws:s3:::glue:::catalog/",
            "arn:aws:s3:::",
        ] {
            assert!(!well_formed("s3:getbucketpolicy", r), "{r}");
        }
        assert!(well_formed(
            "s3:getbucketpolicy",
            "arn:aws:s3:::My_Legacy.bucket-1"
        ));
        assert!(!well_formed(
            "s3:getbucketpolicy",
            "arn:aws:s3:::accesspoint/x"
        ));
        assert!(well_formed(
            "s3:getbucketpolicy",
            "arn:aws:s3:us-east-1:111122223333:accesspoint/x"
        ));
        assert!(well_formed("s3:getobject", "arn:aws:s3:::b/a:b/c"));
        assert!(!well_formed("s3:getobject", "arn:aws:s3:::a:b/c"));
        // the rule for every action, and its patterns
        assert!(s3_arn_well_formed("arn:aws:s3:::b"));
        assert!(s3_arn_well_formed("arn:aws:s3:::b/k:x/"));
        assert!(s3_arn_well_formed("arn:aws:sqs:us-east-1:111122223333:q"));
        assert!(!s3_arn_well_formed("arn:aws:s3:::glue:::catalog/"));
        assert!(!s3_arn_well_formed("arn:aws-cn:s3:::a:b"));
        assert!(!s3_arn_well_formed("arn:aws:s3:::"));
        // the family of an S3 format with an account holds no empty account
        for f in action_formats("s3:getbucketpolicy").expect("known") {
            let fam = crate::matching::compile(&family(&f), Mode::Format);
            assert!(!fam.is_match("arn:aws:s3:::accesspoint/x"), "{f:?}");
        }
    }

    #[test]
    fn context_values_have_aws_syntax() {
        let ok = |k: &str, v: &str| well_formed_context_value(k, v);
        assert!(ok("aws:sourceaccount", "111122223333"));
        assert!(!ok("aws:sourceaccount", "example"));
        assert!(!ok("aws:resourceaccount", "11112222333"));
        assert!(ok("aws:principalaccount", "anonymous"));
        assert!(ok("aws:sourcearn", "arn:aws:sns:us-east-1:111122223333:t"));
        assert!(ok("aws:sourcearn", "arn:aws:s3:::bucket"));
        assert!(ok("aws:principalarn", "arn:aws:iam::111122223333:role/r"));
        assert!(!ok("aws:sourcearn", "arn:aws:sns:us-east-1:example:t"));
        assert!(!ok("aws:sourcearn", "arn:aws:sns:US-EAST-1:111122223333:t"));
        assert!(!ok("aws:sourcearn", "example"));
        assert!(ok("aws:username", "example"));
        assert!(context_value_formats("aws:principalaccount", false).is_some_and(|f| f.len() == 1));
    }

    #[test]
    fn account_variants_are_one_family() {
        let v = format_toks("arn:${Partition}:ssm:${Region}:${Account}:document/${DocumentName}")
            .expect("a format");
        assert!(v.iter().all(|f| family(f) == family(&v[0])));
        assert_ne!(
            family(&v[0]),
            family(
                &format_toks("arn:${Partition}:ssm:${Region}:${Account}:parameter/${P}")
                    .expect("a format")[0]
            )
        );
    }

    #[test]
    fn which_patterns_tell_accounts_apart() {
        let ins = |p: &str| account_insensitive(&crate::matching::tokens(p, true));
        assert!(ins("arn:aws:iam::*:role/x?"));
        assert!(ins("arn:aws:iam::123456789012:role/*"));
        assert!(ins("arn:*:iam:*:*:role/x"));
        assert!(ins("arn:aws:iam::*"));
        assert!(ins("*"));
        assert!(!ins("arn:aws:iam::????????????:role/x"));
        assert!(!ins("arn:aws:iam::1*:role/x"));
        assert!(!ins("arn:aws:iam::12*"));
        assert!(!ins("arn:aws:sqs:us-*:*:q"));
        assert!(!ins("arn:a*:iam::*:role/x"));
    }

    #[test]
    fn examples_are_well_formed() {
        for a in [
            "kms:decrypt",
            "s3:getobject",
            "cloudformation:deletestack",
            "iam:passrole",
            "ssm:sendcommand",
        ] {
            for f in action_formats(a).expect("known") {
                let e = format_example(&f, "111122223333");
                assert!(well_formed(a, &e), "{a}: {e}");
                // no placeholder text is left, and a 12-digit account is written once
                assert!(!e.contains("1111222233331"), "{e}");
            }
        }
    }

    /// Names, IDs and keys are never empty (a bucket ARN `arn:aws:s3:::` is no ARN); an object
    /// key may still start with `:`; several placeholders in a row are non-empty as a whole.
    #[test]
    fn placeholders_other_than_region_and_account_are_not_empty() {
        assert!(!well_formed("s3:getbucketpolicy", "arn:aws:s3:::"));
        assert!(well_formed("s3:getbucketpolicy", "arn:aws:s3:::b"));
        assert!(!well_formed("s3:getobject", "arn:aws:s3:::b/"));
        assert!(!well_formed("s3:getobject", "arn:aws:s3:::/k"));
        assert!(well_formed("s3:getobject", "arn:aws:s3:::b/:k"));
        assert!(well_formed("s3:getobject", "arn:aws:s3:::b/k"));
        assert!(!well_formed(
            "kms:decrypt",
            "arn:aws:kms:us-east-1:111122223333:key/"
        ));
        // a path may be empty: an API's root resource
        assert!(well_formed(
            "execute-api:invoke",
            "arn:aws:execute-api:us-east-1:111122223333:a1/prod/GET/"
        ));
        assert!(!well_formed(
            "execute-api:invoke",
            "arn:aws:execute-api:us-east-1:111122223333:a1//GET/"
        ));
        assert!(!well_formed(
            "iam:passrole",
            "arn:aws:iam::111122223333:role/"
        ));
        // region and account may still be empty where they were
        assert!(well_formed("iam:passrole", "arn:aws:iam::aws:role/r"));
        assert!(well_formed("s3:getobject", "arn:aws:s3:::b/k"));
        let run = |f: &str| {
            let fs = format_toks(f).expect("a format");
            move |r: &str| {
                fs.iter()
                    .any(|t| crate::matching::compile(t, Mode::Format).is_match(r))
            }
        };
        let m = run("arn:${Partition}:svc:${Region}:${Account}:t/${AId}${BId}/z");
        assert!(m("arn:aws:svc:us-east-1:111122223333:t/a/z"));
        assert!(!m("arn:aws:svc:us-east-1:111122223333:t//z"));
        assert!(!m("arn:aws:svc:us-east-1:111122223333:t/a:b/z"));
        let m = run("arn:${Partition}:svc:${Region}:${Account}:t/${A}${B}");
        assert!(m("arn:aws:svc:us-east-1:111122223333:t/:"));
        assert!(!m("arn:aws:svc:us-east-1:111122223333:t/"));
        // a region and an account placeholder in a row with a name: the name makes it non-empty
        let m = run("arn:${Partition}:svc:${Region}:${Account}:t/${Region}${Name}/z");
        assert!(m("arn:aws:svc:us-east-1:111122223333:t/x/z"));
        assert!(!m("arn:aws:svc:us-east-1:111122223333:t//z"));
    }
}
