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
