//! `diff --git-base` on real temporary repositories, catalog warnings of `validate`, and the
//! terminal habits: `--quiet`, no colour when piped, completions and the man page.

use crate::util::{iamprove, write};
use predicates::prelude::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const GET_OBJECT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const GET_ANY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}"#;
const DESCRIBE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeInstances","Resource":"*"}]}"#;
const LIST_USERS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}"#;
const LIST_ROLES: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}]}"#;

fn git(dir: &Path, args: &[&str]) {
    let st = Command::new("git")
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
    assert!(
        st.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&st.stderr)
    );
}

/// A repository with one commit holding `files`.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    for (name, text) in files {
        if let Some(parent) = Path::new(name).parent() {
            std::fs::create_dir_all(dir.path().join(parent)).unwrap();
        }
        write(dir.path(), name, text);
    }
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    dir
}

fn git_diff_json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = iamprove()
        .current_dir(dir)
        .args(["diff", "--git-base"])
        .args(args)
        .args(["--format", "json"])
        .env_remove("GIT_DIR")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), v)
}

fn file<'a>(v: &'a Value, path: &str) -> &'a Value {
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in {v:#}"))
}

#[test]
fn git_base_reports_each_changed_policy_file() {
    let dir = repo(&[
        ("policies/a.json", GET_OBJECT),
        ("policies/b.json", GET_ANY),
        ("gone.json", LIST_USERS),
        ("package.json", r#"{"name":"x"}"#),
        ("old-name.json", LIST_ROLES),
    ]);
    let d = dir.path();
    // widened (committed), narrowed (unstaged), deleted, added (untracked), renamed, other JSON
    write(d, "policies/a.json", GET_ANY);
    git(d, &["commit", "-q", "-am", "widen a"]);
    write(d, "policies/b.json", GET_OBJECT);
    git(d, &["rm", "-q", "gone.json"]);
    write(d, "new.json", DESCRIBE);
    git(d, &["mv", "old-name.json", "policies/renamed.json"]);
    write(d, "package.json", r#"{"name":"y"}"#);
    write(d, "notes.txt", "not JSON at all");

    let (code, v) = git_diff_json(d, &["HEAD~1"]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["verdict"], "widened");
    assert_eq!(v["base"], "HEAD~1");
    let a = file(&v, "policies/a.json");
    assert_eq!(a["status"], "modified");
    assert_eq!(a["verdict"], "widened");
    assert!(a["findings"][0]["request"]["action"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .starts_with("s3:get"));
    let b = file(&v, "policies/b.json");
    assert_eq!(
        (b["status"].as_str(), b["verdict"].as_str()),
        (Some("modified"), Some("no_widening"))
    );
    assert_eq!(b["findings"].as_array().unwrap().len(), 0);
    let gone = file(&v, "gone.json");
    assert_eq!(
        (gone["status"].as_str(), gone["verdict"].as_str()),
        (Some("deleted"), Some("no_widening"))
    );
    // a new file widens from nothing
    let new = file(&v, "new.json");
    assert_eq!(
        (new["status"].as_str(), new["verdict"].as_str()),
        (Some("added"), Some("widened"))
    );
    assert_eq!(
        new["findings"][0]["request"]["action"],
        "ec2:DescribeInstances"
    );
    let ren = file(&v, "policies/renamed.json");
    assert_eq!(
        (ren["status"].as_str(), ren["verdict"].as_str()),
        (Some("renamed"), Some("no_widening"))
    );
    assert_eq!(ren["old_path"], "old-name.json");
    assert_eq!(v["skipped"], serde_json::json!(["package.json"]));
    assert_eq!(v["files"].as_array().unwrap().len(), 5);

    // narrowing of deleted and narrowed files with --direction both
    let (_, v) = git_diff_json(d, &["HEAD~1", "--direction", "both"]);
    assert_eq!(file(&v, "gone.json")["narrowing"], "narrowed");
    assert_eq!(file(&v, "policies/b.json")["narrowing"], "narrowed");
    assert_eq!(
        file(&v, "policies/renamed.json")["narrowing"],
        "no_narrowing"
    );

    // paths restrict the search; text output names verdicts and the skipped count
    let (code, v) = git_diff_json(d, &["HEAD", "policies/b.json", "gone.json"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["verdict"], "no_widening");
    assert_eq!(v["files"].as_array().unwrap().len(), 2);
    iamprove()
        .current_dir(d)
        .args(["diff", "--git-base", "HEAD~1"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "widened      modified  policies/a.json",
        ))
        .stdout(predicate::str::contains(
            "renamed   old-name.json -> policies/renamed.json",
        ))
        .stdout(predicate::str::contains("1 other JSON file(s) skipped"))
        .stdout(predicate::str::contains("verdict: widened"))
        .stdout(predicate::str::contains("\x1b[").not());
}

#[test]
fn git_base_without_changes_is_no_widening() {
    let dir = repo(&[("p.json", GET_OBJECT)]);
    let (code, v) = git_diff_json(dir.path(), &["HEAD"]);
    assert_eq!(code, 0);
    assert_eq!(v["verdict"], "no_widening");
    assert_eq!(v["files"], serde_json::json!([]));
    iamprove()
        .current_dir(dir.path())
        .args(["diff", "--git-base", "HEAD"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "no policy files changed since HEAD",
        ));
}

#[test]
fn git_base_errors_exit_2() {
    let dir = repo(&[("p.json", GET_OBJECT)]);
    iamprove()
        .current_dir(dir.path())
        .args(["diff", "--git-base", "no-such-branch"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown git revision `no-such-branch`",
        ));
    iamprove()
        .current_dir(dir.path())
        .args(["diff", "--git-base", "--upload-pack=x"])
        .assert()
        .code(2);
    // a broken policy: located error, exit 2, the other files still reported
    write(
        dir.path(),
        "p.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#,
    );
    write(dir.path(), "q.json", GET_ANY);
    let (code, v) = git_diff_json(dir.path(), &["HEAD"]);
    assert_eq!(code, 2);
    assert_eq!(file(&v, "p.json")["verdict"], "error");
    assert!(file(&v, "p.json")["errors"][0]
        .as_str()
        .unwrap()
        .contains("invalid JSON"));
    assert_eq!(file(&v, "q.json")["verdict"], "widened");
    // a policy that no longer parses as one
    write(
        dir.path(),
        "p.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"s3:GetObject","Resource":"*"}]}"#,
    );
    let (code, v) = git_diff_json(dir.path(), &["HEAD", "p.json"]);
    assert_eq!(code, 2);
    assert!(
        file(&v, "p.json")["errors"][0]
            .as_str()
            .unwrap()
            .contains("Statement[0].Effect"),
        "{v:#}"
    );

    let not_repo = tempfile::tempdir().unwrap();
    iamprove()
        .current_dir(not_repo.path())
        .env("GIT_CEILING_DIRECTORIES", not_repo.path().parent().unwrap())
        .args(["diff", "--git-base", "HEAD"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a git repository"));
    // without --git-base, OLD and NEW are required
    iamprove().args(["diff", "a.json"]).assert().code(2);
}

#[test]
fn git_base_compares_scenarios_with_their_files_at_the_base() {
    let scenario = r#"{"request":{"principal":"arn:aws:iam::111122223333:user/bob","action":"s3:GetObject","resource":"arn:aws:s3:::b/k"},"identity_policies":["pol/id.json"]}"#;
    let dir = repo(&[
        ("sc/scenario.json", scenario),
        ("sc/pol/id.json", GET_OBJECT),
    ]);
    let d = dir.path();
    // the scenario now refers to a wider policy file (a new file); the old one is unchanged
    write(d, "sc/pol/wide.json", GET_ANY);
    write(
        d,
        "sc/scenario.json",
        &scenario.replace("pol/id.json", "pol/wide.json"),
    );
    let (code, v) = git_diff_json(d, &["HEAD", "sc/scenario.json"]);
    assert_eq!(code, 1, "{v:#}");
    let s = file(&v, "sc/scenario.json");
    assert_eq!(s["verdict"], "widened");
    assert_eq!(
        s["findings"][0]["request"]["principal"],
        "arn:aws:iam::111122223333:user/bob"
    );
    // the old scenario reads its policy files as they were at the base: widen the referenced
    // file in the working tree and touch the scenario (same reference): widened
    std::fs::remove_file(d.join("sc/pol/wide.json")).unwrap();
    write(d, "sc/pol/id.json", GET_ANY);
    write(
        d,
        "sc/scenario.json",
        &scenario.replace(
            r#""identity_policies""#,
            r#""management_account":"999988887777","identity_policies""#,
        ),
    );
    let (code, v) = git_diff_json(d, &["HEAD"]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(file(&v, "sc/pol/id.json")["verdict"], "widened");
    let s = file(&v, "sc/scenario.json");
    assert_eq!(s["verdict"], "widened", "{v:#}");
    assert_eq!(
        s["findings"][0]["granted_by"][0]["policy"], "sc/pol/id.json",
        "repository paths: {s:#}"
    );
    // the narrowing side names the base version
    write(d, "sc/pol/id.json", DESCRIBE);
    let (_, v) = git_diff_json(d, &["HEAD", "sc/scenario.json", "--direction", "both"]);
    let s = file(&v, "sc/scenario.json");
    assert_eq!(s["narrowing"], "narrowed", "{v:#}");
    let narrowed = s["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "narrowed")
        .unwrap();
    assert_eq!(
        narrowed["granted_by"][0]["policy"], "HEAD:sc/pol/id.json",
        "{s:#}"
    );
}

#[test]
fn validate_warns_about_what_the_catalog_does_not_know() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "p.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObjekt","s3:Frobnicate*","nosuchsvc:Get*","nosuchsvc:Put*","s3:GetObject","ec2:Describe*"],"Resource":"*","Condition":{"StringEquals":{"aws:SourceVpcc":"vpc-1","s3:prefix":"a","aws:ResourceTag/team":"x"}}}]}"#,
    );
    let out = iamprove()
        .arg("validate")
        .arg(&f)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "warnings only");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    let has = |code: &str, text: &str| codes.iter().any(|(c, m)| *c == code && m.contains(text));
    assert!(
        has(
            "unknown-action",
            "`s3:GetObjekt`; did you mean `s3:GetObject`?"
        ),
        "{codes:?}"
    );
    assert!(
        has("action-matches-nothing", "`s3:Frobnicate*`"),
        "{codes:?}"
    );
    assert!(has("unknown-service", "`nosuchsvc`"), "{codes:?}");
    assert_eq!(
        codes
            .iter()
            .filter(|(c, _)| *c == "unknown-service")
            .count(),
        1,
        "once per statement and service: {codes:?}"
    );
    assert!(
        has("unknown-condition-key", "`aws:SourceVpcc`"),
        "{codes:?}"
    );
    assert_eq!(
        codes.len(),
        4,
        "known actions, patterns and keys are not reported: {codes:?}"
    );
    let date = iamprove::catalog::Catalog::get().data_date().to_owned();
    assert!(!date.is_empty());
    assert!(codes.iter().all(|(_, m)| m.contains(&date)), "{codes:?}");
    assert_eq!(v["findings"][0]["path"], "Statement[0].Action");
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "Statement[0].Condition.StringEquals.aws:SourceVpcc"));
}

#[test]
fn quiet_prints_nothing_but_errors() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "p.json", GET_ANY);
    let g = write(dir.path(), "q.json", GET_OBJECT);
    iamprove()
        .args(["-q", "diff"])
        .arg(&g)
        .arg(&f)
        .assert()
        .code(1)
        .stdout("")
        .stderr("");
    iamprove()
        .args(["diff", "--quiet"])
        .arg(&f)
        .arg(&g)
        .assert()
        .code(0)
        .stdout("");
    iamprove()
        .args(["validate", "-q"])
        .arg(&f)
        .assert()
        .code(0)
        .stdout("");
    let bad = write(dir.path(), "bad.json", "{");
    iamprove()
        .args(["diff", "-q"])
        .arg(&bad)
        .arg(&g)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("invalid JSON"));
}

#[test]
fn no_colour_when_piped() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "p.json", GET_ANY);
    let g = write(dir.path(), "q.json", GET_OBJECT);
    iamprove()
        .arg("diff")
        .arg(&g)
        .arg(&f)
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("widened: NEW allows"))
        .stdout(predicate::str::contains("\x1b[").not());
}

#[test]
fn completions_and_man_page_name_the_subcommands() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = iamprove().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        for sub in [
            "eval",
            "validate",
            "check",
            "diff",
            "who-can",
            "escalations",
        ] {
            assert!(text.contains(sub), "{shell} completions lack {sub}");
        }
        assert!(
            text.contains("git-base"),
            "{shell} completions lack --git-base"
        );
    }
    iamprove().args(["completions", "tcsh"]).assert().code(2);
    let out = iamprove().arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(".ie") || text.contains(".TH iamprove"),
        "roff: {}",
        &text[..text.len().min(200)]
    );
    for sub in [
        "eval",
        "validate",
        "check",
        "diff",
        "who\\-can",
        "escalations",
    ] {
        assert!(text.contains(sub), "man page lacks {sub}");
    }
    // hidden helpers stay out of the help
    iamprove()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("completions").not());
}
