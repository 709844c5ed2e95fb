//! `provisor init`: write a new assessment file, either the commented template or, with
//! `--interactive`, by asking the condition questions one at a time (skipping those that
//! earlier answers already decide, and showing which provisions each answer switches on
//! or off).

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use provisor_catalog::{Catalog, ConditionId};
use provisor_engine::{Applicability, ConditionAnswer, Device, Input, evaluate};

use crate::cli::InitArgs;
use crate::{Failure, Outcome, io};

/// Re-asks after this many unintelligible answers, then leaves the condition open.
const MAX_ATTEMPTS: usize = 5;

pub fn run(args: InitArgs) -> Result<Outcome, Failure> {
    let catalog = super::edition(&args.edition)?;
    if args.path.exists() && !args.force {
        return Err(Failure::Invalid(format!(
            "{} already exists\n  = help: choose another path, or pass --force to replace it",
            args.path.display()
        )));
    }
    let (device, answers) = if args.interactive {
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        let mut output = std::io::stdout();
        interview(catalog, &mut input, &mut output)?
    } else {
        (Device::default(), BTreeMap::new())
    };
    let text = provisor_report::assessment_template(catalog, &device, &answers);
    io::write_atomically(&args.path, text.as_bytes())?;
    eprintln!(
        "wrote {}; fill in the statements, then run `provisor check {}`",
        args.path.display(),
        args.path.display()
    );
    Ok(Outcome::Success)
}

/// Applicability of every provision under some answers.
fn applicability_under(
    catalog: &'static Catalog,
    declared: &BTreeMap<ConditionId, ConditionAnswer>,
) -> Option<(Vec<Applicability>, BTreeMap<ConditionId, ConditionAnswer>)> {
    let mut input = Input::new(catalog);
    input.answers = declared.clone();
    let assessment = evaluate(&input).ok()?;
    let answers = assessment
        .conditions
        .iter()
        .filter_map(|state| {
            state
                .answer
                .clone()
                .map(|answer| (state.condition.id.clone(), answer))
        })
        .collect();
    Some((
        assessment
            .provisions
            .iter()
            .map(|result| result.applicability.clone())
            .collect(),
        answers,
    ))
}

fn ask(
    input: &mut impl BufRead,
    output: &mut impl Write,
    prompt: &str,
) -> Result<Option<String>, Failure> {
    write!(output, "{prompt}")?;
    output.flush()?;
    let mut line = String::new();
    // Bounded: one line of at most 4 KiB is enough for any answer.
    let read = <&mut _ as std::io::Read>::take(&mut *input, 4096).read_line(&mut line)?;
    if read == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim().to_owned()))
}

fn capitalized(text: &str) -> String {
    let mut characters = text.chars();
    characters.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(characters).collect()
    })
}

/// Asks the device identification and the condition questions, in the edition's
/// questionnaire order (general questions before the specific ones they imply).
fn interview(
    catalog: &'static Catalog,
    input: &mut impl BufRead,
    output: &mut impl Write,
) -> Result<(Device, BTreeMap<ConditionId, ConditionAnswer>), Failure> {
    writeln!(
        output,
        "provisor init: {} questions decide which of the {} provisions of {} apply.\nAnswer y (yes), n (no) or s (skip: leave it open). Press Enter to skip a device field.\n",
        catalog.conditions.len(),
        catalog.provisions.len(),
        catalog.short_title
    )?;
    let mut device = Device::default();
    let mut ended = false;
    for (field, prompt) in [
        (&mut device.manufacturer, "Manufacturer: "),
        (&mut device.model, "Model: "),
        (&mut device.firmware_version, "Firmware version: "),
    ] {
        match ask(input, output, prompt)? {
            None => {
                ended = true;
                break;
            }
            Some(text) if !text.is_empty() => *field = Some(text),
            Some(_) => {}
        }
    }

    let mut declared: BTreeMap<ConditionId, ConditionAnswer> = BTreeMap::new();
    let (mut applicability, mut in_force) =
        applicability_under(catalog, &declared).expect("no answers are consistent");
    let total = catalog.conditions.len();
    for (position, condition) in catalog.questionnaire().into_iter().enumerate() {
        if ended {
            break;
        }
        if let Some(answer) = in_force.get(&condition.id) {
            if let provisor_engine::AnswerSource::Implied { from, .. } = &answer.source {
                writeln!(
                    output,
                    "\n[{}/{total}] {}: {} — already decided: {}, because of {}",
                    position + 1,
                    condition.id,
                    condition.wording(),
                    if answer.answer { "yes" } else { "no" },
                    from.label()
                )?;
            }
            continue;
        }
        writeln!(
            output,
            "\n[{}/{total}] {}: {}\n  {}",
            position + 1,
            capitalized(&condition.label()),
            condition.wording(),
            condition.question
        )?;
        let mut value = None;
        for _ in 0..MAX_ATTEMPTS {
            match ask(input, output, "  [y/n/s] ")? {
                None => {
                    ended = true;
                    break;
                }
                Some(text) => match text.to_lowercase().as_str() {
                    "y" | "yes" => {
                        value = Some(true);
                        break;
                    }
                    "n" | "no" => {
                        value = Some(false);
                        break;
                    }
                    "s" | "skip" | "" => break,
                    _ => writeln!(output, "  please answer y, n or s")?,
                },
            }
        }
        let Some(value) = value else {
            continue;
        };
        let mut trial = declared.clone();
        trial.insert(condition.id.clone(), ConditionAnswer::declared(value));
        let Some((after, after_in_force)) = applicability_under(catalog, &trial) else {
            writeln!(
                output,
                "  that answer contradicts an earlier one; {} is left open",
                condition.label()
            )?;
            continue;
        };
        let mut on = Vec::new();
        let mut off = Vec::new();
        for (index, (old, new)) in applicability.iter().zip(&after).enumerate() {
            if old != new {
                let id = catalog.provisions[index].id.as_str();
                match new {
                    Applicability::Applies => on.push(id),
                    Applicability::NotApplicable(_) => off.push(id),
                    Applicability::Undetermined(_) => {}
                }
            }
        }
        if !on.is_empty() {
            writeln!(output, "  → applies now: {}", on.join(", "))?;
        }
        if !off.is_empty() {
            writeln!(output, "  → not applicable now: {}", off.join(", "))?;
        }
        declared = trial;
        applicability = after;
        in_force = after_in_force;
    }
    let open = catalog
        .conditions
        .iter()
        .filter(|condition| !in_force.contains_key(&condition.id))
        .count();
    let noun = if catalog.features().next().is_some() {
        "conditions and features"
    } else {
        "conditions"
    };
    writeln!(
        output,
        "\n{} {noun} answered or decided, {open} left open.",
        total - open
    )?;
    Ok((device, in_force))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implied_conditions_are_not_asked() {
        let catalog = provisor_catalog::edition("en303645-v2.1.1").unwrap();
        // Device fields, then: 1 yes, 2 yes, 3 no, 4 no (5 follows), 6 skip, then EOF.
        let script = "Acme\nCam\n1.0\ny\ny\nn\nn\ns\n";
        let mut output = Vec::new();
        let (device, answers) = interview(catalog, &mut script.as_bytes(), &mut output).unwrap();
        let output = String::from_utf8(output).unwrap();
        assert_eq!(device.model.as_deref(), Some("Cam"));
        assert!(answers[&ConditionId::new("5")].answer);
        assert!(
            output.contains("already decided: yes, because of condition 4"),
            "{output}"
        );
        assert!(!output.contains("Condition 5:"));
        assert!(output.contains("→ applies now: 5.1-1"));
        assert!(!answers.contains_key(&ConditionId::new("6")));
    }
}
