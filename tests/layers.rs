//! The front end owns presentation (issue 8): commands return reports, `src/cli/` prints them.
//! No module outside `src/cli/` may import `crate::cli` (that was a cycle through every command).

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn only_the_front_end_imports_cli() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let offenders: Vec<String> = files
        .iter()
        .filter(|p| !p.starts_with(src.join("cli")) && !p.ends_with("main.rs"))
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .any(|l| !l.trim_start().starts_with("//") && l.contains("crate::cli"))
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(files.len() > 20, "src not found");
    assert!(
        offenders.is_empty(),
        "modules outside src/cli/ import crate::cli: {offenders:?}"
    );
}
