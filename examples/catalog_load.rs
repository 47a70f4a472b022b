//! Measures how long loading the embedded action catalog takes:
//! `cargo run --release --example catalog_load`.
//!
//! The first `Catalog::get()` is what a CLI command pays (cold: the data's pages and
//! the heap are touched for the first time); the repeated parses show the CPU cost
//! alone.
use iamprove::catalog::Catalog;
use std::time::{Duration, Instant};

fn main() {
    let start = Instant::now();
    let catalog = Catalog::get();
    let first = start.elapsed();

    let start = Instant::now();
    let known = catalog.condition_key_known("aws:ResourceTag/team");
    let keys = start.elapsed();

    let start = Instant::now();
    let matched = catalog.matching_actions("iam:*accesskey*").len();
    let glob = start.elapsed();

    let start = Instant::now();
    let everything = catalog.matching_actions("*").len();
    let star = start.elapsed();

    let mut warm = Duration::MAX;
    for _ in 0..20 {
        let start = Instant::now();
        let parsed = Catalog::parse(Catalog::embedded_text());
        warm = warm.min(start.elapsed());
        drop(parsed);
    }

    println!(
        "{} ({} bytes): {} services, {} actions\n\
         first Catalog::get(): {first:?}\n\
         warm parse (best of 20): {warm:?}\n\
         condition-key index on first use: {keys:?} (aws:ResourceTag/team known: {known})\n\
         matching_actions(\"iam:*accesskey*\"): {glob:?} ({matched} actions)\n\
         matching_actions(\"*\"): {star:?} ({everything} actions)",
        catalog.source(),
        Catalog::embedded_text().len(),
        catalog.services().count(),
        catalog.action_count(),
    );
}
