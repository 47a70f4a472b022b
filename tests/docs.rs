//! The ```` ```console ```` sessions of README.md and docs/*.md run as tests (trycmd), so the
//! documentation shows what the binary prints (issue 8, item 9).
//!
//! Each `$ iamprove ...` line runs the built binary from the repository root with `NO_COLOR`;
//! the lines after it are its stdout and stderr; `? N` right after the command is the expected
//! exit status (default 0); `...` on its own line stands for any lines and `[..]` for the rest
//! of a line; a session ends with an empty line (trycmd drops the last newline). There is no
//! shell: no pipes, globs, `$?` or redirection. Sessions that cannot run here (other tools, files
//! outside the repository) are fenced as ```` ```text ```` instead.
//!
//! trycmd also reads a fence without a language as a session, so a docs page is tested only
//! when it has a ```` ```console ```` block; such a page must give every other block a language.
//!
//! Update after a deliberate change (README.md, "Contributing"): `TRYCMD=overwrite cargo test
//! --release --test tests docs::`, then review `git diff README.md docs/`.

use std::path::PathBuf;

/// README.md and every docs/*.md page with a ```` ```console ```` block, relative to the root.
fn pages() -> Vec<PathBuf> {
    let root = crate::util::root();
    let mut pages = vec![PathBuf::from("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .any(|l| l.trim_start().starts_with("```console"))
        })
        .map(|p| p.strip_prefix(root).unwrap().to_path_buf())
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

#[test]
fn readme_and_docs_console_sessions() {
    let cases = trycmd::TestCases::new();
    cases
        .register_bin(
            "iamprove",
            std::path::Path::new(env!("CARGO_BIN_EXE_iamprove")),
        )
        .env("NO_COLOR", "1");
    for page in pages() {
        cases.case(page);
    }
}
