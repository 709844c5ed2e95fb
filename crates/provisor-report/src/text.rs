//! Small text helpers shared by the renderers: escaping for HTML, Markdown and CSV, and
//! the words used for applicability.

use provisor_engine::{Applicability, ProvisionResult};

/// Escapes text for HTML element content and attribute values.
pub(crate) fn html_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Escapes text for a Markdown table cell: pipes, newlines and markup characters.
pub(crate) fn markdown_cell(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '|' | '*' | '_' | '`' | '<' | '>' | '[' | ']' | '\\' => {
                escaped.push('\\');
                escaped.push(character);
            }
            '\n' => escaped.push_str("<br>"),
            '\r' => {}
            other => escaped.push(other),
        }
    }
    escaped
}

/// Quotes a CSV field when it needs it (RFC 4180).
pub(crate) fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// How a provision's applicability reads in a report.
pub(crate) fn applicability_words(result: &ProvisionResult<'_>) -> String {
    match &result.applicability {
        Applicability::Applies if result.provision.conditions.is_empty() => {
            "applies (unconditional)".to_owned()
        }
        Applicability::Applies => {
            let conditions = &result.provision.conditions;
            let verb = if conditions.len() == 1 {
                "holds"
            } else {
                "hold"
            };
            format!(
                "applies ({} {verb})",
                provisor_catalog::ConditionId::describe(conditions)
            )
        }
        Applicability::NotApplicable(id) => format!("not applicable ({} is false)", id.label()),
        Applicability::Undetermined(id) => format!("undetermined ({} unanswered)", id.label()),
    }
}

/// The first sentence of a text, shortened to `limit` characters.
pub(crate) fn headline(text: &str, limit: usize) -> String {
    let sentence = text
        .split(". ")
        .next()
        .unwrap_or(text)
        .trim_end_matches('.');
    if sentence.chars().count() <= limit {
        sentence.to_owned()
    } else {
        let cut: String = sentence.chars().take(limit.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

/// The short reason shown beside a verdict: the first reason.
pub(crate) fn first_reason(result: &ProvisionResult<'_>) -> String {
    result.reasons.first().cloned().unwrap_or_default()
}

/// `Acme SmartCam C200, firmware 3.2.1`.
pub(crate) fn device_line(device: &provisor_engine::Device) -> String {
    let mut line = device.display_name();
    if let Some(firmware) = &device.firmware_version {
        line.push_str(&format!(", firmware {firmware}"));
    }
    line
}

/// Where the provisions' texts come from, when not all are the standard's own
/// sentences or a wording file gave some.
fn texts_words(assessment: &provisor_engine::Assessment<'_>) -> Option<String> {
    let catalog = assessment.catalog;
    let sources: Vec<provisor_catalog::TextSource> = catalog
        .provisions
        .iter()
        .map(|provision| assessment.text_of(provision).1)
        .collect();
    let count = |wanted: provisor_catalog::TextSource| {
        sources.iter().filter(|&&source| source == wanted).count()
    };
    let (summaries, previous) = (
        count(provisor_catalog::TextSource::Summary),
        count(provisor_catalog::TextSource::PreviousEdition),
    );
    let mut parts = Vec::new();
    if let Some(wording) = &assessment.wording {
        parts.push(format!(
            "{} from the wording file {} (SHA-256 {})",
            count(provisor_catalog::TextSource::Wording),
            wording.file,
            wording.sha256
        ));
    }
    if previous > 0 {
        parts.push(format!(
            "{previous} marked [V2.1.1 wording], believed unchanged"
        ));
    }
    if summaries > 0 {
        parts.push(format!(
            "{summaries} marked [summary]: provisor's summaries, not the standard's words"
        ));
    }
    if parts.is_empty() {
        return None;
    }
    let mut words = parts.join("; ");
    if summaries + previous > 0 {
        words.push_str(&format!(
            ". provisor does not hold the wording of {}: give it in a wording file (wording = \"FILE\" in the assessment, or --wording FILE)",
            catalog.short_title
        ));
    }
    Some(words)
}

/// A statement's detail as reports show it: a statement `provisor migrate` carried and
/// nobody confirmed yet says so first.
pub(crate) fn statement_detail(statement: &provisor_engine::Statement) -> String {
    match &statement.carried {
        Some(from) if statement.detail.is_empty() => format!("[carried from {from}, confirm]"),
        Some(from) => format!("[carried from {from}, confirm] {}", statement.detail),
        None => statement.detail.clone(),
    }
}

/// The identification rows every report opens with; absent values are left out.
pub(crate) fn identification(
    assessment: &provisor_engine::Assessment<'_>,
    context: &crate::Context,
) -> Vec<(&'static str, String)> {
    let device = &assessment.device;
    let catalog = assessment.catalog;
    [
        ("Manufacturer", device.manufacturer.clone()),
        ("Model", device.model.clone()),
        ("Hardware version", device.hardware_version.clone()),
        ("Firmware version", device.firmware_version.clone()),
        ("Firmware SHA-256", device.firmware_sha256.clone()),
        (
            "Scanned image SHA-256",
            assessment
                .scans
                .iter()
                .filter(|scan| scan.target.kind == "firmware")
                .filter_map(|scan| scan.target.sha256.clone())
                .find(|hash| device.firmware_sha256.as_ref() != Some(hash)),
        ),
        ("Description", device.description.clone()),
        (
            "Report",
            assessment
                .review
                .as_ref()
                .map(|review| format!("{} revision {}", review.report_id, review.revision)),
        ),
        ("Assessment", Some(assessment.kind.label().to_owned())),
        ("Edition", Some(catalog.title.clone())),
        (
            "Test specification",
            Some(catalog.test_specification.clone()),
        ),
        ("Provision texts", texts_words(assessment)),
        ("Assessment file", Some(context.source.clone())),
        ("Tool", Some(format!("provisor {}", context.tool_version))),
        ("Date", Some(context.generated_at.clone())),
    ]
    .into_iter()
    .filter_map(|(label, value)| value.map(|value| (label, value)))
    .collect()
}

/// A condition's answer and where it came from, in words: (`yes`, `declared: note`).
pub(crate) fn answer_words(state: &provisor_engine::ConditionState<'_>) -> (&'static str, String) {
    match &state.answer {
        Some(answer) => (
            if answer.answer { "yes" } else { "no" },
            match crate::document::answer_origin(answer) {
                Some(origin) => format!("{}: {origin}", answer.source.label()),
                None => answer.source.label().to_owned(),
            },
        ),
        None => ("unanswered", String::new()),
    }
}

/// Pretty JSON with a final newline, as every JSON output of provisor is written.
pub(crate) fn pretty_json(value: &impl serde::Serialize) -> String {
    // Serializing types made of strings, numbers, maps and sequences cannot fail.
    let mut text = serde_json::to_string_pretty(value).expect("output types serialize");
    text.push('\n');
    text
}

/// The decision in one sentence, as every report and the server's page say it: a device
/// conforms when no mandatory provision fails and nothing, mandatory or recommended, is
/// open.
pub fn decision_words(conformant: bool, mandatory_fail: usize, open: (usize, usize)) -> String {
    if conformant {
        return "Every mandatory provision passes or does not apply, and nothing is open."
            .to_owned();
    }
    let (mandatory, recommended) = open;
    let fail = match mandatory_fail {
        1 => "1 mandatory provision fails".to_owned(),
        count => format!("{count} mandatory provisions fail"),
    };
    let open_words = match mandatory + recommended {
        0 => "none is open".to_owned(),
        1 if mandatory == 1 => "1 mandatory provision is open".to_owned(),
        1 => "1 recommended provision is open".to_owned(),
        count => format!(
            "{count} provisions are open ({mandatory} mandatory, {recommended} recommended)"
        ),
    };
    format!("{fail}; {open_words}.")
}

#[cfg(test)]
mod tests {
    use super::decision_words;

    #[test]
    fn the_decision_counts_what_is_open_of_both_statuses() {
        assert_eq!(
            decision_words(true, 0, (0, 0)),
            "Every mandatory provision passes or does not apply, and nothing is open."
        );
        // Only a recommendation open: not conformant, and the sentence says why.
        assert_eq!(
            decision_words(false, 0, (0, 1)),
            "0 mandatory provisions fail; 1 recommended provision is open."
        );
        assert_eq!(
            decision_words(false, 1, (0, 0)),
            "1 mandatory provision fails; none is open."
        );
        assert_eq!(
            decision_words(false, 2, (1, 2)),
            "2 mandatory provisions fail; 3 provisions are open (1 mandatory, 2 recommended)."
        );
    }
}
