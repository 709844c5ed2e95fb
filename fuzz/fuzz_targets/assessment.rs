//! Fuzz target: the assessment-file parser (lab sections included), then (when it
//! parses) the whole judgement and every text renderer, the test plan, the JUnit and
//! OSCAL documents, the regime views and the PSTI statement, and the migration into the
//! next edition with the file it writes read back. Any panic is a bug. The PDF is left out: typesetting is too slow for
//! fuzzing speed, and its input is the same data the other renderers show.
#![no_main]

use libfuzzer_sys::fuzz_target;
use provisor_engine::Files;

struct NoFiles;

impl Files for NoFiles {
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        Err(format!("{path}: not available while fuzzing"))
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = provisor_engine::parse(text, "fuzz.toml") else {
        return;
    };
    if let Some(next) = provisor_catalog::editions()
        .iter()
        .find(|edition| edition.migration.as_ref().is_some_and(|m| m.from == file.catalog.id))
        && let Ok(migrated) = provisor_engine::migrate(&file, next)
    {
        let _ = provisor_report::migration_report(&migrated, &file, "fuzz-next.toml");
        if let Ok(text) = provisor_report::migrated_assessment(&migrated, &file, "2026-06-30") {
            // What migrate writes must parse.
            provisor_engine::parse(&text, "fuzz-next.toml").expect("the migrated file parses");
        }
    }
    let as_of = provisor_engine::Date::parse("2026-06-30");
    if let Ok(assessment) = provisor_engine::load_as_of(&file, &NoFiles, as_of) {
        let context = provisor_report::Context {
            tool_version: "fuzz".into(),
            generated_at: "2026-01-01T00:00:00Z".into(),
            source: "fuzz.toml".into(),
        };
        let _ = provisor_report::html(&assessment, &context);
        let _ = provisor_report::markdown(&assessment, &context);
        let _ = provisor_report::sarif(&assessment, &context);
        let _ = provisor_report::ics_csv(&assessment);
        let _ = provisor_report::check_table(&assessment);
        let _ = provisor_report::junit(&assessment, &context);
        let _ = provisor_report::oscal_ssp(&assessment, &context);
        let _ = provisor_report::oscal_ap(&assessment, &context);
        let _ = provisor_report::oscal_ar(&assessment, &context);
        let _ = provisor_report::json(&assessment, &context);
        let items = provisor_engine::plan(&assessment);
        let _ = provisor_report::plan_table(&assessment, &items);
        let _ = provisor_report::plan_csv(&items);
        let _ = provisor_report::triage_stubs(&assessment);
        let _ = provisor_report::psti_statement(&assessment, &context);
        for view in provisor_engine::regime_views(&assessment) {
            let _ = provisor_report::regime_table(&view);
        }
    }
});
