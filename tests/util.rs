//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

/// The project's `shared/` folder: `CARGO_MANIFEST_DIR/../shared` (CI: the repo is cloned next to
/// it) or `CARGO_MANIFEST_DIR/../../shared` (a worktree under `/work/wt/`).
pub fn shared_dir() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    [root.join("../shared"), root.join("../../shared")]
        .into_iter()
        .find(|p| p.join("corpora").is_dir())
}

/// `shared/`, or a loud failure: the corpus tests must not pass vacuously.
pub fn shared() -> PathBuf {
    shared_dir().unwrap_or_else(|| {
        panic!(
            "shared/ not found next to {} or one level up",
            env!("CARGO_MANIFEST_DIR")
        )
    })
}

pub fn managed_dir() -> PathBuf {
    shared().join("corpora/aws-managed-policies/current")
}

/// Every `.json` file under `dir`, sorted, recursively.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot read {}: {e}", d.display()))
        {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The `iamprove` binary under test.
pub fn iamprove() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("iamprove").unwrap()
}

/// Write `text` to `dir/name` and return the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The repository root (`CARGO_MANIFEST_DIR`). [`run`] starts the binary here, so the paths in
/// reports are the relative ones a user typing the command from the root would see.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One finished run of the binary: exit status (-1 when killed by a signal), stdout and stderr.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `iamprove ARGS` from `dir` with `NO_COLOR` set; any exit status is returned, not asserted.
pub fn run_in<S: AsRef<std::ffi::OsStr>>(dir: &Path, args: &[S]) -> Run {
    let out = iamprove()
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Run `iamprove ARGS` from the repository root (see [`run_in`]).
pub fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    run_in(root(), args)
}

/// Stdout and exit status of `iamprove ARGS` run from the repository root.
pub fn run_text<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (String, i32) {
    let r = run(args);
    (r.stdout, r.code)
}

/// Stdout parsed as JSON, and the exit status; a loud failure (with stderr) when it is not JSON.
pub fn run_json<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (serde_json::Value, i32) {
    let r = run(args);
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", r.stdout, r.stderr));
    (v, r.code)
}
