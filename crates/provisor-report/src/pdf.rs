//! The PDF report, typeset in-process by Typst: `pdf.typ` is the layout, and the data
//! it shows is handed to it as `data.json`, written here from the assessment, so no
//! text a user wrote is ever read as Typst markup. The fonts are Typst's own (embedded
//! in the binary by typst-assets); nothing is read from the disk or the network.

use std::sync::OnceLock;

use serde::Serialize;
use serde_json::{Value, json};
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

use provisor_engine::{Applicability, Assessment, Kind, Outcome, Verdict};

use crate::Context;
use crate::text::{applicability_words, device_line, identification};

/// The layout of the report.
const TEMPLATE: &str = include_str!("pdf.typ");

/// Why a PDF could not be made: a bug in the layout, since the data cannot break it.
#[derive(Debug, thiserror::Error)]
#[error("the PDF report could not be typeset: {0}")]
pub struct PdfError(String);

/// The fonts, parsed once per process.
struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        let fonts: Vec<Font> = typst_assets::fonts()
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        Fonts {
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
        }
    })
}

fn library() -> &'static LazyHash<Library> {
    static LIBRARY: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIBRARY.get_or_init(|| LazyHash::new(Library::default()))
}

fn file_id(path: &str) -> FileId {
    RootedPath::new(
        VirtualRoot::Project,
        VirtualPath::new(path).expect("a fixed, valid path"),
    )
    .intern()
}

/// The world the report is typeset in: the layout, its data, the embedded fonts.
struct ReportWorld {
    main: Source,
    data: Bytes,
    data_id: FileId,
    today: Option<Datetime>,
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &fonts().book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            Ok(self.data.clone())
        } else if id == self.main.id() {
            Ok(Bytes::from_string(self.main.text().to_owned()))
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        fonts().fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        self.today
    }
}

/// `2026-01-01T00:00:00Z` as a Typst date and time.
fn datetime_of(rfc3339: &str) -> Option<Datetime> {
    let number = |range: std::ops::Range<usize>| rfc3339.get(range)?.parse::<u16>().ok();
    Datetime::from_ymd_hms(
        i32::from(number(0..4)?),
        number(5..7)? as u8,
        number(8..10)? as u8,
        number(11..13)? as u8,
        number(14..16)? as u8,
        number(17..19)? as u8,
    )
}

#[derive(Serialize)]
struct Counts {
    pass: usize,
    fail: usize,
    open: usize,
    #[serde(rename = "not-fulfilled")]
    not_fulfilled: usize,
    #[serde(rename = "not-applicable")]
    not_applicable: usize,
}

impl Counts {
    fn of(summary: &provisor_engine::StatusSummary) -> Self {
        Counts {
            pass: summary.pass,
            fail: summary.fail,
            open: summary.open,
            not_fulfilled: summary.not_fulfilled,
            not_applicable: summary.not_applicable,
        }
    }
}

/// The data the layout shows.
fn data(assessment: &Assessment<'_>, context: &Context) -> Value {
    let catalog = assessment.catalog;
    let review = assessment.review.as_ref();
    let lab = assessment.kind == Kind::Lab;
    let report_line = match review {
        Some(review) => format!("Report {} · revision {}", review.report_id, review.revision),
        None => format!("Draft report · {}", catalog.short_title),
    };
    let decision_words = crate::text::decision_words(
        assessment.conformant,
        assessment.summary.mandatory.fail,
        (
            assessment.summary.mandatory.open,
            assessment.summary.recommended.open,
        ),
    );
    let document_control: Vec<(String, String)> = vec![
        (
            "Report".into(),
            review.map_or_else(
                || "draft (no review recorded)".into(),
                |review| review.report_id.clone(),
            ),
        ),
        (
            "Revision".into(),
            review.map_or_else(|| "-".into(), |review| review.revision.to_string()),
        ),
        ("Assessment".into(), assessment.kind.label().into()),
        ("Issued".into(), context.generated_at.clone()),
        (
            "Made by".into(),
            format!("provisor {}", context.tool_version),
        ),
    ];
    let identification: Vec<(String, String)> = identification(assessment, context)
        .into_iter()
        .map(|(label, value)| (label.to_owned(), value))
        .collect();
    let features = catalog.features().count();
    let conditions = if features > 0 {
        format!(
            "{} conditions and {features} features",
            catalog.conditions.len() - features
        )
    } else {
        format!("{} conditions", catalog.conditions.len())
    };
    let mut scope = vec![format!(
        "The item tested is the device identified above, assessed against {} ({} provisions, {conditions}), {}.",
        catalog.title,
        catalog.provisions.len(),
        if lab {
            format!("by the test cases of {}", catalog.test_specification)
        } else {
            "as the manufacturer's self-assessment".to_owned()
        }
    )];
    scope.push(
        "Applicability follows from the manufacturer's answers to the conditions; the manufacturer's Implementation Conformance Statement (ICS) gives the support and detail of each provision.".into(),
    );
    if assessment.scans.is_empty() {
        scope.push("No automated examination of the device is attached.".into());
    } else {
        let scans: Vec<String> = assessment
            .scans
            .iter()
            .map(|scan| {
                format!(
                    "{} ({}, {} findings)",
                    scan.file, scan.target.kind, scan.findings
                )
            })
            .collect();
        scope.push(format!(
            "The device was examined by automated checks whose findings corroborate or contradict the statements: {}.",
            scans.join("; ")
        ));
    }
    if lab {
        scope.push("Conceptual test cases review the ICS and the IXIT documentation; functional test cases examine the device or its published resources. Verdicts that automated checks propose count only once an assessor confirms them.".into());
    }

    let failures: Vec<Value> = assessment
        .provisions
        .iter()
        .filter(|result| result.provision.is_mandatory() && result.verdict == Verdict::Fail)
        .map(|result| {
            json!({
                "id": result.provision.id,
                "text": crate::text::headline(&assessment.shown_text(result.provision), 160),
                "why": result.reasons.join("; "),
            })
        })
        .collect();
    let open_items: Vec<Value> = assessment
        .provisions
        .iter()
        .filter(|result| result.verdict == Verdict::Open)
        .map(|result| {
            json!({"id": result.provision.id, "why": crate::lab::left_to_do(result).join("; ")})
        })
        .collect();

    let categories: Vec<Value> = catalog
        .categories
        .iter()
        .map(|category| {
            let provisions: Vec<Value> = assessment
                .provisions
                .iter()
                .filter(|result| result.provision.category == category.id)
                .map(|result| {
                    let applies = result.applicability == Applicability::Applies;
                    let tests: Vec<Value> = if applies {
                        result
                            .tests
                            .iter()
                            .map(|test| {
                                json!({
                                    "state": test.state.as_str(),
                                    "label": test.state.label(),
                                    "line": crate::lab::test_line(assessment, test),
                                })
                            })
                            .collect()
                    } else {
                        Vec::new()
                    };
                    let findings: Vec<Value> = result
                        .findings
                        .iter()
                        .map(|&index| (index, &assessment.findings[index]))
                        .filter(|(_, finding)| finding.outcome != Outcome::Info)
                        .map(|(index, finding)| {
                            let acceptance = assessment
                                .acceptance_of(index)
                                .filter(|_| finding.outcome == Outcome::Fail);
                            json!({
                                "outcome": finding.outcome.as_str(),
                                "title": finding.title,
                                "check": finding.check,
                                "location": finding.location.to_string(),
                                "accepted": acceptance.is_some(),
                                "acceptance": acceptance.map_or(String::new(), |state| format!(
                                    "{} by {}: {}",
                                    state.acceptance.kind.label(),
                                    state.acceptance.by,
                                    state.acceptance.reason
                                )),
                            })
                        })
                        .collect();
                    // The statement's words show beside it; the reasons that repeat them
                    // and the corroborations (listed as findings) are left out.
                    let reasons: Vec<&str> = crate::lab::left_to_do(result)
                        .into_iter()
                        .filter(|reason| {
                            // Test cases and findings are listed under the reasons.
                            !reason.starts_with("finding ")
                                && !reason.starts_with("run test case ")
                                && !reason.starts_with("confirm the proposed ")
                                && !reason.contains(" was inconclusive")
                        })
                        .collect();
                    json!({
                        "id": result.provision.id,
                        "status": result.provision.status_label(),
                        "text": assessment.shown_text(result.provision),
                        "applicability": applicability_words(result),
                        "support": result.statement.as_ref().map(|statement| statement.support.as_str()),
                        "detail": result.statement.as_ref().map_or_else(String::new, crate::text::statement_detail),
                        "verdict": result.verdict.as_str(),
                        "contradiction": result.contradiction,
                        "reasons": reasons,
                        "tests": tests,
                        "findings": findings,
                    })
                })
                .collect();
            json!({"id": category.id, "title": category.title, "provisions": provisions})
        })
        .collect();

    let mut evidence = Vec::new();
    for (position, scan) in assessment.scans.iter().enumerate() {
        evidence.push(json!({
            "number": crate::lab::evidence_number(position),
            "path": format!("scan {} ({}, {})", scan.file, scan.tool, scan.target.kind),
            "sha256": scan.sha256,
            "cited": "all provisions",
        }));
    }
    for (position, file) in assessment.evidence.iter().enumerate() {
        evidence.push(json!({
            "number": crate::lab::evidence_number(assessment.scans.len() + position),
            "path": file.path,
            "sha256": file.sha256.clone().unwrap_or_else(|| "web page (not hashed)".into()),
            "cited": crate::lab::cited_by(file),
        }));
    }

    let ixit: Vec<Value> = assessment
        .ixit
        .iter()
        .map(|entry| {
            json!({
                "table": entry.table,
                "name": entry.name(),
                "fields": entry
                    .fields
                    .iter()
                    .filter(|(name, _)| name.as_str() != "id")
                    .map(|(name, value)| format!("{name}: {value}"))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    let ixit_gaps: Vec<Value> = if crate::lab::shows_ixit(assessment) {
        crate::lab::ixit_gaps(assessment)
            .into_iter()
            .map(|(table, provisions)| {
                json!({
                    "table": table,
                    "title": catalog.ixit_table(&table).map_or(String::new(), |table| format!("({})", table.title)),
                    "provisions": provisions.join(", "),
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let acceptances: Vec<Value> = assessment
        .acceptances
        .iter()
        .map(|state| {
            let acceptance = &state.acceptance;
            json!({
                "covers": acceptance.selector.to_string(),
                "kind": acceptance.kind.label(),
                "reason": acceptance.reason,
                "by": acceptance.by,
                "until": crate::lab::until_words(state),
            })
        })
        .collect();
    let findings: Vec<Value> = assessment
        .findings
        .iter()
        .filter(|finding| finding.outcome != Outcome::Info)
        .map(|finding| {
            json!({
                "outcome": finding.outcome.as_str(),
                "severity": finding.severity.as_str(),
                "check": finding.check,
                "title": finding.title,
                "location": finding.location.to_string(),
            })
        })
        .collect();
    let signoff: Vec<(String, String)> = match review {
        Some(review) => vec![
            (
                "Report".into(),
                format!("{} revision {}", review.report_id, review.revision),
            ),
            ("Assessor".into(), review.assessor.clone()),
            (
                "Reviewer".into(),
                review
                    .reviewer
                    .clone()
                    .unwrap_or_else(|| "not reviewed yet".into()),
            ),
            (
                "Decision".into(),
                review
                    .decision
                    .map_or_else(|| "none yet".into(), |decision| decision.to_string()),
            ),
            (
                "Date".into(),
                review
                    .date
                    .map_or_else(|| "-".into(), |date| date.to_string()),
            ),
        ],
        None => vec![(
            "Review".into(),
            "No review is recorded: this is a draft.".into(),
        )],
    };
    let test_counts: Vec<(String, usize)> = if lab {
        crate::lab::test_counts(assessment)
            .into_iter()
            .map(|(label, count)| (label.to_owned(), count))
            .collect()
    } else {
        Vec::new()
    };

    json!({
        "title": format!("{} — {}", device_line(&assessment.device), catalog.short_title),
        "author": review.map_or_else(|| "provisor".to_owned(), |review| review.assessor.clone()),
        "kicker": if lab { "Conformance assessment report" } else { "Self-assessment report" },
        "device_line": device_line(&assessment.device),
        "edition_title": catalog.title,
        "report_line": report_line,
        "footer_line": format!("{} · {} · provisor {}", catalog.short_title, context.generated_at, context.tool_version),
        "conformant": assessment.conformant,
        "decision_words": decision_words,
        "document_control": document_control,
        "identification": identification,
        "scope": scope,
        "rules": crate::lab::rules(assessment),
        "regimes": crate::regime::pdf_data(assessment),
        "summary": {
            "mandatory": Counts::of(&assessment.summary.mandatory),
            "recommended": Counts::of(&assessment.summary.recommended),
            "mandatory_total": assessment.summary.mandatory.total(),
            "recommended_total": assessment.summary.recommended.total(),
        },
        "test_counts": test_counts,
        "failures": failures,
        "open": open_items,
        "categories": categories,
        "ixit": ixit,
        "ixit_gaps": ixit_gaps,
        "acceptances": acceptances,
        "findings": findings,
        "evidence": evidence,
        "signoff": signoff,
        "assessor": review.map_or_else(String::new, |review| review.assessor.clone()),
        "reviewer": review.and_then(|review| review.reviewer.clone()).unwrap_or_default(),
        "item_statement": "The results relate only to the item tested, identified above by its model, versions and firmware image hash.",
        "warnings": assessment.warnings.iter().map(|warning| warning.message.clone()).collect::<Vec<_>>(),
    })
}

/// The PDF report of an assessment.
pub fn pdf(assessment: &Assessment<'_>, context: &Context) -> Result<Vec<u8>, PdfError> {
    let data = serde_json::to_vec(&data(assessment, context))
        .map_err(|error| PdfError(error.to_string()))?;
    let today = datetime_of(&context.generated_at);
    let world = ReportWorld {
        main: Source::new(file_id("/report.typ"), TEMPLATE.to_owned()),
        data: Bytes::new(data),
        data_id: file_id("/data.json"),
        today,
    };
    let compiled = typst::compile::<PagedDocument>(&world).output;
    // Typst memoizes across compilations; a report is made once, so what it cached is
    // dropped at once and a long-running process does not grow with every report.
    typst::comemo::evict(0);
    let document: PagedDocument = compiled.map_err(|errors| {
        PdfError(
            errors
                .iter()
                .map(|error| error.message.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let options = typst_pdf::PdfOptions {
        ident: Smart::Custom(format!(
            "provisor/{}/{}",
            assessment.catalog.id,
            device_line(&assessment.device)
        )),
        timestamp: today.map(typst_pdf::Timestamp::new_utc),
        ..typst_pdf::PdfOptions::default()
    };
    typst_pdf::pdf(&document, &options).map_err(|errors| {
        PdfError(
            errors
                .iter()
                .map(|error| error.message.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })
}
