//! `firmware.known-vulnerabilities`: components affected by published advisories.

use provisor_engine::{Outcome, Severity};

use crate::checks::{Check, CheckMeta, Context, pass_if_clean};
use provisor_engine::FindingSink;

/// Matches every component the scan identified (package databases and version strings)
/// against the advisories imported with `provisor advisories import` (OSV format) and
/// given to the scan: each advisory that affects a component's version fails 5.2-3
/// (known vulnerabilities are to be rectified) and 5.3-8 (security updates are to be
/// timely), with the advisory's severity (from its CVSS v3 vector or its database's
/// rating) and the version that fixes it. Nothing is fetched at scan time; without an
/// advisory database the check says so instead of passing.
pub struct KnownVulnerabilities;

static META: CheckMeta = CheckMeta {
    id: "firmware.known-vulnerabilities",
    title: "components affected by known vulnerabilities",
    provisions: &["5.2-3", "5.3-8"],
};

impl Check for KnownVulnerabilities {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn conclude(&self, context: &Context<'_>, _inspected: usize, sink: &mut FindingSink) {
        let components: Vec<_> = sink
            .components()
            .iter()
            .filter_map(|component| Some((component.clone(), component.version.clone()?)))
            .collect();
        if components.is_empty() {
            return;
        }
        let Some(database) = context.advisories else {
            sink.add(
                META.id,
                META.provisions,
                Outcome::Info,
                Severity::Info,
                "components were not checked for known vulnerabilities (no advisories given)",
            )
            .detail("import advisories in OSV format with `provisor advisories import DIR` and scan with --advisories")
            .record();
            return;
        };
        let mut checked = 0;
        for (component, version) in &components {
            checked += 1;
            let asked = provisor_advisories::Component {
                name: &component.name,
                version,
                purl: component.purl.as_deref(),
                cpe: component.cpe.as_deref(),
                source: component.source_package.as_deref(),
            };
            for found in database.matches(asked) {
                let advisory = found.advisory;
                let location = component.locations.first().map_or("", String::as_str);
                sink.add(
                    META.id,
                    META.provisions,
                    Outcome::Fail,
                    Severity::from_rating(advisory.severity.as_deref()),
                    format!(
                        "{} {version} is affected by {}",
                        component.name, advisory.id
                    ),
                )
                .detail(format!("{}; {}", advisory.summary, found.fixed_text()))
                .at(location, None, "")
                .evidence(found.evidence(asked))
                .record();
            }
        }
        let title = format!(
            "no component is affected by a known vulnerability ({checked} components, {} advisories imported {})",
            database.advisories.len(),
            database.imported
        );
        if let Some(pass) = pass_if_clean(sink, &META, checked > 0, title) {
            pass.record();
        }
    }
}
