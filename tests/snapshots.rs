//! Snapshots of the reports of every command (text, JSON and SARIF) on the bundled examples and
//! the test data: the exact bytes a user sees, so a change of behaviour or wording shows up as a
//! reviewable diff of `tests/snapshots/*.snap` (issue 8, item 1).
//!
//! Each snapshot holds the command line, the exit status, stdout and stderr. The binary runs from
//! the repository root (paths in reports stay relative), with `NO_COLOR`. What changes from run to
//! run or machine to machine is redacted by the filters of [`settings`]: the location of
//! `shared/` (`[SHARED]`), temporary directories (`[TMP]`) and the "now" of baseline contexts
//! (`[NOW]`). JSON and SARIF are stored as printed (not re-serialised), so the snapshots also pin
//! field order and layout byte for byte.
//!
//! Update after a deliberate change (README.md, "Contributing"):
//! `INSTA_UPDATE=always cargo test --release --test tests snapshots::`, then review `git diff
//! tests/snapshots` (or `INSTA_UPDATE=new` and `cargo insta review`).

use crate::util::{run, run_in, run_text, shared, Run};
use std::path::Path;

/// `s` with every regular-expression metacharacter escaped.
fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The redactions shared by every snapshot, plus `[TMP]` for the given temporary directories.
fn settings(tmp: &[&Path]) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("snapshots");
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    for t in tmp {
        s.add_filter(&escape(&t.display().to_string()), "[TMP]");
    }
    s.add_filter(&escape(&shared().display().to_string()), "[SHARED]");
    // the crate version (SARIF's tool.driver, the man page): a release must not touch every snapshot
    let version = escape(env!("CARGO_PKG_VERSION"));
    s.add_filter(
        &format!(r#""(version|semanticVersion)": "{version}""#),
        r#""$1": "[VERSION]""#,
    );
    s.add_filter(&format!("iamprove {version}"), "iamprove [VERSION]");
    // `--version`'s Z3 line names the machine's library (or why none loads)
    s.add_filter(r"(?m)^Z3 .*$", "Z3 [LIBRARY]");
    // the baseline context of `why` (and replays) uses the current time
    s.add_filter(
        r#"("aws:(?:CurrentTime|TokenIssueTime|EpochTime)":\s*)"[^"]*""#,
        r#"$1"[NOW]""#,
    );
    s
}

/// The snapshot text of one run.
fn render(args: &[String], r: &Run) -> String {
    format!(
        "$ iamprove {}\nexit: {}\n----- stdout -----\n{}----- stderr -----\n{}",
        args.join(" "),
        r.code,
        r.stdout,
        r.stderr
    )
}

/// Run `iamprove ARGS` from the repository root and compare with snapshot `name`.
fn snap(name: &str, args: &[&str]) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    snap_owned(name, &args, &[]);
}

fn snap_owned(name: &str, args: &[String], tmp: &[&Path]) {
    let r = run(args);
    let text = render(args, &r);
    settings(tmp).bind(|| insta::assert_snapshot!(name, text));
}

/// One test per command line: `cases! { name: [args...], ... }`.
macro_rules! cases {
    ($($name:ident: [$($arg:expr),* $(,)?]),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                snap(stringify!($name), &[$($arg),*]);
            }
        )*
    };
}

const ACCOUNT: &str = "tests/data/account/chain.json";
const ALICE: &str = "arn:aws:iam::111111111111:user/alice";

cases! {
    // eval
    eval_cross_account: ["eval", "examples/eval/cross-account.json"],
    eval_cross_account_json: ["eval", "examples/eval/cross-account.json", "--format", "json"],
    eval_github_oidc: ["eval", "examples/eval/github-oidc.json"],
    eval_github_oidc_json: ["eval", "examples/eval/github-oidc.json", "--format", "json"],
    eval_sarif_is_a_usage_error: ["eval", "examples/eval/cross-account.json", "--format", "sarif"],

    // validate
    validate_hazards: ["validate", "tests/data/sarif/hazards.json"],
    validate_hazards_json: ["validate", "tests/data/sarif/hazards.json", "--format", "json"],
    validate_hazards_sarif: ["validate", "tests/data/sarif/hazards.json", "--format", "sarif"],
    validate_errors: ["validate", "tests/data/sarif/grammar-error.json", "tests/data/sarif/broken.json"],
    validate_errors_json: ["validate", "tests/data/sarif/grammar-error.json", "tests/data/sarif/broken.json", "--format", "json"],
    validate_errors_sarif: ["validate", "tests/data/sarif/grammar-error.json", "tests/data/sarif/broken.json", "--format", "sarif"],
    validate_examples: ["validate", "examples/check/app-role-policy.json", "examples/check/bucket-policy.json", "examples/diff/old.json", "examples/diff/new.json"],

    // check
    check_spec: ["check", "examples/check/spec.json"],
    check_spec_json: ["check", "examples/check/spec.json", "--format", "json"],
    check_spec_sarif: ["check", "examples/check/spec.json", "--format", "sarif"],
    check_escalation: ["check", "examples/check/escalation-spec.json"],
    check_escalation_json: ["check", "examples/check/escalation-spec.json", "--format", "json"],
    check_escalation_sarif: ["check", "examples/check/escalation-spec.json", "--format", "sarif"],
    check_bucket: ["check", "examples/check/bucket-spec.json"],
    check_bucket_json: ["check", "examples/check/bucket-spec.json", "--format", "json"],
    check_bucket_sarif: ["check", "examples/check/bucket-spec.json", "--format", "sarif"],
    check_account: ["check", "examples/account/spec.json"],
    check_account_json: ["check", "examples/account/spec.json", "--format", "json"],
    check_account_sarif: ["check", "examples/account/spec.json", "--format", "sarif"],
    check_github_oidc_pinned: ["check", "specs/github-oidc-pinned.json"],
    check_github_oidc_pinned_json: ["check", "specs/github-oidc-pinned.json", "--format", "json"],
    check_account_patterns_iam_star: ["check", "tests/data/account/patterns/spec-iam-star.json"],

    // diff
    diff_examples: ["diff", "examples/diff/old.json", "examples/diff/new.json"],
    diff_examples_both: ["diff", "examples/diff/old.json", "examples/diff/new.json", "--direction", "both"],
    diff_examples_both_json: ["diff", "examples/diff/old.json", "examples/diff/new.json", "--direction", "both", "--format", "json"],
    diff_examples_both_sarif: ["diff", "examples/diff/old.json", "examples/diff/new.json", "--direction", "both", "--format", "sarif"],
    diff_examples_reverse: ["diff", "examples/diff/new.json", "examples/diff/old.json"],
    diff_trust: ["diff", "tests/data/trust/github-pinned.json", "tests/data/trust/github-org-wildcard.json"],
    diff_trust_json: ["diff", "tests/data/trust/github-pinned.json", "tests/data/trust/github-org-wildcard.json", "--format", "json"],

    // diff of infrastructure as code
    iac_terraform: ["diff", "--terraform-plan", "examples/iac/tfplan.json"],
    iac_terraform_json: ["diff", "--terraform-plan", "examples/iac/tfplan.json", "--format", "json"],
    iac_terraform_sarif: ["diff", "--terraform-plan", "examples/iac/tfplan.json", "--format", "sarif"],
    iac_terraform_both: ["diff", "--terraform-plan", "examples/iac/tfplan.json", "--direction", "both"],
    iac_terraform_data_plan: ["diff", "--terraform-plan", "tests/data/iac/terraform/plan.json"],
    iac_terraform_data_guardrails: ["diff", "--terraform-plan", "tests/data/iac/terraform/guardrails.json"],
    iac_terraform_data_attachments: ["diff", "--terraform-plan", "tests/data/iac/terraform/attachments.json"],
    iac_cloudformation: ["diff", "--cloudformation", "examples/iac/old.yaml", "examples/iac/new.yaml"],
    iac_cloudformation_json: ["diff", "--cloudformation", "examples/iac/old.yaml", "examples/iac/new.yaml", "--format", "json"],
    iac_cloudformation_sarif: ["diff", "--cloudformation", "examples/iac/old.yaml", "examples/iac/new.yaml", "--format", "sarif"],
    iac_cloudformation_data: ["diff", "--cloudformation", "tests/data/iac/cloudformation/old.yaml", "tests/data/iac/cloudformation/new.yaml", "--account-id", "111122223333", "--region", "eu-west-1"],

    // account-wide
    can_alice_create_user: ["can", ALICE, "iam:CreateUser", "*", "--account", ACCOUNT],
    can_alice_create_user_json: ["can", ALICE, "iam:CreateUser", "*", "--account", ACCOUNT, "--format", "json"],
    can_blocked_by_scp: ["can", ALICE, "iam:CreateUser", "*", "--account", ACCOUNT, "--org", "tests/data/account/org-deny-r4.json"],
    who_can_create_user: ["who-can", "iam:CreateUser", "--account", ACCOUNT],
    who_can_create_user_json: ["who-can", "iam:CreateUser", "--account", ACCOUNT, "--format", "json"],
    escalations_chain: ["escalations", "--account", ACCOUNT],
    escalations_chain_json: ["escalations", "--account", ACCOUNT, "--format", "json"],
    escalations_chain_sarif: ["escalations", "--account", ACCOUNT, "--format", "sarif"],

    // trust
    trust_examples: ["trust", "examples/trust/github-any-repo.json", "examples/trust/vendor-external-id.json", "examples/trust/eks-irsa.json", "examples/trust/github-main.json"],
    trust_examples_json: ["trust", "examples/trust/github-any-repo.json", "examples/trust/vendor-external-id.json", "examples/trust/eks-irsa.json", "examples/trust/github-main.json", "--format", "json"],
    trust_examples_sarif: ["trust", "examples/trust/github-any-repo.json", "examples/trust/vendor-external-id.json", "examples/trust/eks-irsa.json", "examples/trust/github-main.json", "--format", "sarif"],
    trust_hazards: ["trust", "tests/data/trust/public.json", "tests/data/trust/github-no-sub.json", "tests/data/trust/third-party-no-external-id.json", "tests/data/trust/service-unguarded.json", "tests/data/trust/saml-no-aud.json", "tests/data/trust/google.json"],
    trust_hazards_json: ["trust", "tests/data/trust/public.json", "tests/data/trust/github-no-sub.json", "tests/data/trust/third-party-no-external-id.json", "tests/data/trust/service-unguarded.json", "tests/data/trust/saml-no-aud.json", "tests/data/trust/google.json", "--format", "json"],
    trust_account: ["trust", "--account", ACCOUNT],

    // why (from a message; the event form needs the CloudTrail corpus: see below)
    why_message: ["why", "--account", "tests/data/activity/account-invictus.json", "--org", "tests/data/activity/org-sandbox.json", "--message", "User: arn:aws:sts::123837392027:assumed-role/stratus-red-team-leave-org-role/aws-go-sdk-1688990515440126480 is not authorized to perform: organizations:LeaveOrganization on resource: * because no identity-based policy allows the organizations:LeaveOrganization action"],
    why_message_json: ["why", "--account", "tests/data/activity/account-invictus.json", "--org", "tests/data/activity/org-sandbox.json", "--format", "json", "--message", "User: arn:aws:sts::123837392027:assumed-role/stratus-red-team-leave-org-role/aws-go-sdk-1688990515440126480 is not authorized to perform: organizations:LeaveOrganization on resource: * because no identity-based policy allows the organizations:LeaveOrganization action"],

    // the version line names the embedded managed-policy snapshot
    version: ["--version"],

    // input errors: exit 2 with a message naming the file and JSON path
    error_malformed_json: ["diff", "tests/data/sarif/broken.json", "examples/diff/new.json"],
    error_missing_file: ["check", "examples/check/no-such-spec.json"],
    error_account_bad_key: ["who-can", "iam:CreateUser", "--account", "tests/data/account/bad-key.json"],
}

/// The real CloudTrail records of the invictus data set, as arguments (sorted).
fn invictus() -> Vec<String> {
    let dir = shared().join("corpora/cloudtrail/real/invictus-ir__aws_dataset/CloudTrail");
    crate::util::json_files(&dir)
        .iter()
        .map(|p| p.display().to_string())
        .collect()
}

const BENJAMIN: &str = "arn:aws:iam::123837392027:user/benjamin";

fn generate_case(name: &str, format: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("benjamin.json");
    let mut args: Vec<String> = vec![
        "generate".into(),
        "--principal".into(),
        BENJAMIN.into(),
        "--output".into(),
        out.display().to_string(),
        "--format".into(),
        format.into(),
        "--cloudtrail".into(),
    ];
    args.extend(invictus());
    let r = run(&args);
    let policy = std::fs::read_to_string(&out).unwrap_or_default();
    // the file list is long and its location machine-specific: the snapshot names the directory
    let shown: Vec<String> = args
        .iter()
        .take_while(|a| *a != "--cloudtrail")
        .cloned()
        .chain([
            "--cloudtrail".into(),
            "[SHARED]/corpora/cloudtrail/real/invictus-ir__aws_dataset/CloudTrail/*.json".into(),
        ])
        .collect();
    let text = format!("{}----- written policy -----\n{policy}", render(&shown, &r));
    settings(&[dir.path()]).bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn generate_benjamin() {
    generate_case("generate_benjamin", "text");
}

#[test]
fn generate_benjamin_json() {
    generate_case("generate_benjamin_json", "json");
}

fn tighten_case(name: &str, format: &str) {
    let dir = tempfile::tempdir().unwrap();
    let admin = crate::util::write(
        dir.path(),
        "admin.json",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"Admin","Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    );
    let out = dir.path().join("benjamin-tight.json");
    let mut args: Vec<String> = vec![
        "tighten".into(),
        admin.display().to_string(),
        "--principal".into(),
        BENJAMIN.into(),
        "--output".into(),
        out.display().to_string(),
        "--format".into(),
        format.into(),
        "--cloudtrail".into(),
    ];
    args.extend(invictus());
    let r = run(&args);
    let policy = std::fs::read_to_string(&out).unwrap_or_default();
    let shown: Vec<String> = args
        .iter()
        .take_while(|a| *a != "--cloudtrail")
        .cloned()
        .chain([
            "--cloudtrail".into(),
            "[SHARED]/corpora/cloudtrail/real/invictus-ir__aws_dataset/CloudTrail/*.json".into(),
        ])
        .collect();
    let text = format!("{}----- written policy -----\n{policy}", render(&shown, &r));
    settings(&[dir.path()]).bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn tighten_admin_benjamin() {
    tighten_case("tighten_admin_benjamin", "text");
}

#[test]
fn tighten_admin_benjamin_json() {
    tighten_case("tighten_admin_benjamin_json", "json");
}

#[test]
fn tighten_last_accessed() {
    let dir = tempfile::tempdir().unwrap();
    let old = crate::util::write(
        dir.path(),
        "old.json",
        r#"{"Version":"2012-10-17","Statement":[
          {"Sid":"Broad","Effect":"Allow","Action":["s3:*","ec2:*","dynamodb:*"],"Resource":"*"},
          {"Sid":"Unused","Effect":"Allow","Action":"sqs:*","Resource":"*"}]}"#,
    );
    let la = crate::util::write(
        dir.path(),
        "la.json",
        r#"{"JobStatus":"COMPLETED","JobType":"ACTION_LEVEL","ServicesLastAccessed":[
          {"ServiceName":"Amazon S3","ServiceNamespace":"s3","LastAuthenticated":"2024-01-01T00:00:00Z","TotalAuthenticatedEntities":1,
           "TrackedActionsLastAccessed":[{"ActionName":"GetObject","LastAccessedTime":"2024-01-01T00:00:00Z"},{"ActionName":"PutObject"}]},
          {"ServiceName":"Amazon EC2","ServiceNamespace":"ec2","LastAuthenticated":"2024-01-01T00:00:00Z","TotalAuthenticatedEntities":1},
          {"ServiceName":"Amazon DynamoDB","ServiceNamespace":"dynamodb","TotalAuthenticatedEntities":0},
          {"ServiceName":"Amazon SQS","ServiceNamespace":"sqs","TotalAuthenticatedEntities":0}]}"#,
    );
    for (name, format) in [
        ("tighten_last_accessed", "text"),
        ("tighten_last_accessed_json", "json"),
    ] {
        let args: Vec<String> = vec![
            "tighten".into(),
            old.display().to_string(),
            "--last-accessed".into(),
            la.display().to_string(),
            "--format".into(),
            format.into(),
        ];
        snap_owned(name, &args, &[dir.path()]);
    }
}

/// An identity policy alone granting on a KMS key: the proof states its assumption (README, "What a
/// proof assumes") in text, JSON and SARIF.
#[test]
fn diff_kms_assumption() {
    let dir = tempfile::tempdir().unwrap();
    let old = crate::util::write(
        dir.path(),
        "old.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
    );
    let new = crate::util::write(
        dir.path(),
        "new.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
          {"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:111122223333:key/*"}]}"#,
    );
    for (name, format) in [
        ("diff_kms_assumption", "text"),
        ("diff_kms_assumption_json", "json"),
        ("diff_kms_assumption_sarif", "sarif"),
    ] {
        let args: Vec<String> = vec![
            "diff".into(),
            old.display().to_string(),
            new.display().to_string(),
            "--format".into(),
            format.into(),
        ];
        snap_owned(name, &args, &[dir.path()]);
    }
}

#[test]
fn why_event() {
    let f = shared().join("corpora/cloudtrail/real/invictus-ir__aws_dataset/CloudTrail/218007301253_CloudTrail_us-east-1_20230710T1200Z_iLj9fb7yyUG9X4Bf.json");
    for (name, format) in [("why_event", "text"), ("why_event_json", "json")] {
        let args: Vec<String> = vec![
            "why".into(),
            "--account".into(),
            "tests/data/activity/account-invictus.json".into(),
            "--org".into(),
            "tests/data/activity/org-rcp-gap.json".into(),
            "--event".into(),
            f.display().to_string(),
            "--format".into(),
            format.into(),
        ];
        snap_owned(name, &args, &[]);
    }
}

/// `git` in `dir`, with a fixed identity and no signing.
fn git(dir: &Path, args: &[&str]) {
    let st = std::process::Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .unwrap();
    assert!(st.status.success(), "git {args:?}: {st:?}");
}

#[test]
fn gitdiff() {
    let root = crate::util::root();
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("policies")).unwrap();
    crate::util::write(d, "policies/app.json", &read("examples/diff/old.json"));
    crate::util::write(d, "policies/old.json", &read("examples/diff/old.json"));
    crate::util::write(d, "notes.json", r#"{"not": "a policy"}"#);
    git(d, &["init", "-q"]);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "base"]);
    crate::util::write(d, "policies/app.json", &read("examples/diff/new.json"));
    crate::util::write(
        d,
        "policies/bucket.json",
        &read("examples/check/bucket-policy.json"),
    );
    crate::util::write(d, "notes.json", r#"{"still": "not a policy"}"#);
    git(d, &["rm", "-q", "policies/old.json"]);
    for (name, extra) in [
        ("gitdiff", &[][..]),
        ("gitdiff_both", &["--direction", "both"][..]),
        ("gitdiff_json", &["--format", "json"][..]),
        ("gitdiff_sarif", &["--format", "sarif"][..]),
    ] {
        let mut args = vec!["diff", "--git-base", "HEAD"];
        args.extend_from_slice(extra);
        let r = run_in(d, &args);
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let text = render(&args, &r);
        settings(&[d]).bind(|| insta::assert_snapshot!(name, text));
    }
}

/// The first lines of the generated completions and man page (their bodies follow clap's
/// definitions, which other tests cover; the headers pin names, sections and the version line).
#[test]
fn completions_and_man_headers() {
    let head = |args: &[&str], n: usize| {
        let (stdout, code) = run_text(args);
        assert_eq!(code, 0);
        let lines: Vec<&str> = stdout.lines().take(n).collect();
        format!(
            "$ iamprove {} | head -{n}\n{}\n",
            args.join(" "),
            lines.join("\n")
        )
    };
    let mut text = String::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        text += &head(&["completions", shell], 3);
    }
    text += &head(&["man"], 20);
    settings(&[]).bind(|| insta::assert_snapshot!("completions_and_man_headers", text));

    let dir = tempfile::tempdir().unwrap();
    let r = run(&["man", "--dir", &dir.path().display().to_string()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    // the pages the written iamprove.1 and `iamprove man` (stdout) refer to, to compare with the
    // pages written (all three lists are equal, `iamprove-help.1` included)
    let refs = |page: &str| {
        let mut refs: Vec<String> = page
            .replace("\\-", "-")
            .split(|c: char| c.is_whitespace())
            .filter(|w| w.starts_with("iamprove-") && w.ends_with("(1)"))
            .map(|w| w.replace("(1)", ".1"))
            .collect();
        refs.sort();
        refs.dedup();
        refs.join("\n")
    };
    let written = refs(&std::fs::read_to_string(dir.path().join("iamprove.1")).unwrap_or_default());
    let printed = refs(&run_text(&["man"]).0);
    // every page referred to is written, and the written top page is the printed one
    assert_eq!(written, printed);
    for page in printed.lines() {
        assert!(pages.iter().any(|p| p == page), "{page} is not written");
    }
    let text = format!(
        "$ iamprove man --dir DIR\nexit: {}\n----- stdout -----\n{}----- stderr -----\n{}----- DIR -----\n{}\n----- referred to by DIR/iamprove.1 -----\n{written}\n----- referred to by `iamprove man` -----\n{printed}\n",
        r.code,
        r.stdout,
        r.stderr,
        pages.join("\n"),
    );
    settings(&[dir.path()]).bind(|| insta::assert_snapshot!("man_dir", text));
}
