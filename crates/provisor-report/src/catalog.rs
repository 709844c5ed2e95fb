//! Renderers of the catalog for `provisor catalog`: a terminal table, the catalog JSON
//! contract, Markdown, and the detail of one provision.

use std::fmt::Write;

use anstyle::Style;
use provisor_catalog::{Catalog, Provision};
use serde_json::json;

use crate::text::headline;

/// The table of every provision, grouped by category.
pub fn catalog_table(catalog: &Catalog) -> String {
    let bold = Style::new().bold();
    let mut out = format!("{bold}{}{bold:#}\n", catalog.title);
    for category in &catalog.categories {
        let _ = writeln!(out, "\n{bold}{} {}{bold:#}", category.id, category.title);
        for provision in catalog.provisions_in(&category.id) {
            let _ = writeln!(
                out,
                "  {:<7} {:<13} {}",
                provision.id,
                provision.status_label(),
                headline(&provision.shown_text(), 96)
            );
        }
    }
    let _ = writeln!(out, "\n{bold}Conditions{bold:#}");
    for condition in &catalog.conditions {
        let _ = writeln!(out, "  {:>2}) {}", condition.id, condition.text);
    }
    out
}

/// The catalog JSON contract.
pub fn catalog_json(catalog: &Catalog) -> String {
    let value = json!({
        "edition": catalog.id,
        "title": catalog.title,
        "test_specification": catalog.test_specification,
        "conditions": catalog.conditions,
        "relations": catalog.relations,
        "categories": catalog.categories,
        "ixit": catalog.ixit,
        "provisions": catalog.provisions,
    });
    crate::text::pretty_json(&value)
}

/// The catalog as Markdown.
pub fn catalog_markdown(catalog: &Catalog) -> String {
    let mut out = format!("# {}\n", catalog.title);
    for category in &catalog.categories {
        let _ = writeln!(out, "\n## {} {}\n", category.id, category.title);
        let _ = writeln!(
            out,
            "| Provision | Status | Table B.1 | Text | Test cases |\n|---|---|---|---|---|"
        );
        for provision in catalog.provisions_in(&category.id) {
            let cases: Vec<String> = provision
                .test_cases
                .iter()
                .map(|case| format!("{} ({})", case.display_id(), case.kind.as_str()))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                provision.id,
                provision.status_label(),
                provision.table_b1.as_deref().unwrap_or("—"),
                crate::text::markdown_cell(&provision.shown_text()),
                cases.join(", ")
            );
        }
    }
    let _ = writeln!(out, "\n## Conditions\n");
    let _ = writeln!(out, "| # | Condition | Question |\n|---|---|---|");
    for condition in &catalog.conditions {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            condition.id,
            crate::text::markdown_cell(&condition.text),
            crate::text::markdown_cell(&condition.question)
        );
    }
    out
}

/// Everything about one provision.
pub fn provision_detail(catalog: &Catalog, provision: &Provision) -> String {
    let bold = Style::new().bold();
    let mut out = String::new();
    let category = catalog
        .category(&provision.category)
        .map_or(String::new(), |category| {
            format!("{} {}", category.id, category.title)
        });
    let _ = writeln!(
        out,
        "{bold}Provision {}{bold:#}  ({category})",
        provision.id
    );
    let _ = writeln!(out, "\n{}\n", provision.shown_text());
    let _ = writeln!(out, "Status       {}", provision.status_label());
    let _ = writeln!(
        out,
        "Table B.1    {}",
        provision.table_b1.as_deref().unwrap_or("(no row)")
    );
    if provision.derived.is_some() {
        let _ = writeln!(
            out,
            "Derived      from the verdicts of the recommendations; never stated"
        );
    }
    for id in &provision.conditions {
        if let Some(condition) = catalog.condition(id.as_str()) {
            let noun = if condition.id.number().is_some() {
                "Condition"
            } else {
                "Feature  "
            };
            let _ = writeln!(out, "{noun}    {}) {}", condition.id, condition.text);
            let _ = writeln!(out, "             {}", condition.question);
        }
    }
    for case in &provision.test_cases {
        let _ = writeln!(
            out,
            "Test case    {} ({})",
            case.display_id(),
            case.kind.as_str()
        );
    }
    for table in &provision.ixit {
        let title = catalog
            .ixit_table(table)
            .map_or("", |table| table.title.as_str());
        let _ = writeln!(out, "IXIT         {table} {title}");
    }
    out
}
