//! Snapshots of `emrstack plan --format markdown`, the pull-request comment,
//! for every example stack and the hand-built scenarios.

use emrstack::render::markdown;

use crate::render_scenarios as scenarios;

scenarios::plan_snapshots!(markdown::plan);

#[test]
fn every_change_has_a_table_row_and_a_details_block() {
    for (name, plan) in scenarios::all() {
        let text = markdown::plan(&plan);
        for change in plan.actionable() {
            let row = format!("| `{}` |", change.address);
            let details = format!("<summary><code>{}</code>", change.address);
            assert!(text.contains(&row), "{name}: no row for {}", change.address);
            assert!(text.contains(&details), "{name}: no details for {}", change.address);
        }
        assert_eq!(
            text.matches("<details>").count(),
            text.matches("</details>").count(),
            "{name}"
        );
        assert_eq!(text.matches("```").count() % 2, 0, "{name}: unbalanced fences");
    }
}
