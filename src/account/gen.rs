//! Synthetic accounts for benchmarks (`iamprove gen-account`, hidden).
pub fn generate(_n: usize, _seed: u64) -> serde_json::Value {
    serde_json::json!({})
}
