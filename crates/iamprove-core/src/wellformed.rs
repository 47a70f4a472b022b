//! Well-formed requests: the resources an action the catalog knows can name.
//!
//! A symbolic request must be one AWS can send. For an action in the catalog, the resource is the
//! pseudo-resource `*` or an ARN of one of the ARN formats of the action's resource types
//! (IAM-SEMANTICS §7, "tie to action via an action → ARN-format table"). Without that, a `*`
//! that ends the region or account segment of a `Resource` pattern may run past colons and the
//! solver builds ARNs no service produces (`arn:aws:cloudformation:::stack/A/:stack/B/`).
//!
//! A format becomes a [`Mode::Format`] pattern: `${Partition}` is `aws` followed by a run
//! without `:` (every partition name starts with `aws`), `${Region}`, `${Account}` and every
//! other placeholder a run without `:`, except a placeholder that ends the format and is not an
//! identifier (`…Id`, `…ID`, `…Uuid`, `…UUID`): that one may hold colons (S3 object keys,
//! Lambda function names with a qualifier, paths). Region and account therefore never contain a
//! colon, which is exactly how AWS forms them; everything else is kept as wide as the catalog
//! allows (a conservative reading: more requests, never fewer).
//!
//! Actions outside the catalog keep the general resource (any string).

use crate::matching::{Mode, Tok};

/// The formats of a known action (lower-case `service:action`) as `Mode::Format` token lists;
/// `None` for an action the catalog does not know or whose formats cannot be written as
/// patterns (then the resource stays general). An action without resource types yields an
/// empty list: only `*`.
pub fn action_formats(lower_action: &str) -> Option<Vec<Vec<Tok>>> {
    // one service's lines, parsed on demand (no whole-catalog parse on a small diff)
    let (service, action) = crate::catalog::index::action_by_lowercase(lower_action)?;
    let mut out: Vec<Vec<Tok>> = Vec::new();
    for r in action.resource_types() {
        let rt = service.resource_type(r.name)?;
        if rt.arn_formats.is_empty() {
            return None;
        }
        for f in &rt.arn_formats {
            let toks = format_toks(f)?;
            if !out.contains(&toks) {
                out.push(toks);
            }
        }
    }
    Some(out)
}

/// One ARN format (`arn:${Partition}:s3:::${BucketName}/${ObjectName}`) as a `Mode::Format`
/// pattern; `None` when the format holds a literal `*` or `?`, an unterminated placeholder or
/// is not an ARN with six parts.
pub(crate) fn format_toks(format: &str) -> Option<Vec<Tok>> {
    if format.contains('*') || format.contains('?') || !format.starts_with("arn:") {
        return None;
    }
    let mut toks = Vec::new();
    let mut rest = format;
    // (token index, placeholder name) of the last placeholder, to widen it when it ends the format
    let mut last: Option<(usize, &str)> = None;
    while let Some(i) = rest.find("${") {
        toks.extend(rest[..i].chars().map(Tok::Lit));
        let after = &rest[i + 2..];
        let j = after.find('}')?;
        let name = &after[..j];
        if name == "Partition" {
            toks.extend("aws".chars().map(Tok::Lit));
        }
        // several placeholders in a row are one run
        if toks.last() != Some(&Tok::Run) {
            toks.push(Tok::Run);
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
    if toks.iter().filter(|t| **t == Tok::Lit(':')).count() < 5 {
        return None;
    }
    Some(toks)
}

/// A readable instance of a format: partition `aws`, region `us-east-1`, account `account`,
/// other placeholders `example`.
pub fn format_example(toks: &[Tok], account: &str) -> String {
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
            Tok::Run | Tok::One => match colons {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn examples_are_well_formed() {
        for a in [
            "kms:decrypt",
            "s3:getobject",
            "cloudformation:deletestack",
            "iam:passrole",
        ] {
            for f in action_formats(a).expect("known") {
                let e = format_example(&f, "111122223333");
                assert!(well_formed(a, &e), "{a}: {e}");
            }
        }
    }
}
