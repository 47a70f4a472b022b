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

/// Reports are typed (issue 8): no code in `src/` reads a diff finding or a `why` result back
/// by JSON key (`f["summary"]`, `b["layer"]`, ...); printers and IaC use the struct fields.
/// Keys inside a finding's `request` (the open scenario format) may still be read.
#[test]
fn no_report_is_read_back_by_key() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let keys = [
        "[\"summary\"]",
        "[\"granted_by\"]",
        "[\"old_decision\"]",
        "[\"new_decision\"]",
        "[\"newly_allowed_by\"]",
        "[\"no_longer_denied_by\"]",
        "[\"blocking\"]",
        "[\"near_misses\"]",
        "[\"decision_after\"]",
        "[\"disagreements\"]",
        "[\"layer\"]",
        "[\"kind\"]",
    ];
    let mut offenders = Vec::new();
    for p in &files {
        let text = std::fs::read_to_string(p).unwrap();
        // in-file unit tests may inspect the JSON form
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (i, l) in code.lines().enumerate() {
            if !l.trim_start().starts_with("//") && keys.iter().any(|k| l.contains(k)) {
                offenders.push(format!("{}:{}: {}", p.display(), i + 1, l.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "reports read back by key: {offenders:#?}"
    );
}
