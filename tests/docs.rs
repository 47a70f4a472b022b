//! The ```` ```console ```` sessions of README.md and docs/*.md run as tests (trycmd), so the
//! documentation shows what the binary prints (issue 8, item 9).
//!
//! Each `$ iamprove ...` line runs the built binary from the repository root with `NO_COLOR`;
//! the lines after it are its stdout and stderr; `? N` right after the command is the expected
//! exit status (default 0); `...` on its own line stands for any lines and `[..]` for the rest
//! of a line. There is no shell: no pipes, globs, `$?` or redirection. Sessions that cannot run
//! here (other tools, files outside the repository) are fenced as ```` ```text ```` instead.
//!
//! Update after a deliberate change (README.md, "Contributing"): `TRYCMD=overwrite cargo test
//! --release --test tests docs::`, then review `git diff README.md docs/`.

#[test]
fn readme_and_docs_console_sessions() {
    trycmd::TestCases::new()
        .register_bin(
            "iamprove",
            std::path::Path::new(env!("CARGO_BIN_EXE_iamprove")),
        )
        .env("NO_COLOR", "1")
        .case("README.md")
        .case("docs/*.md");
}
