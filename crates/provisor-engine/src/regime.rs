//! A regulatory regime's view of an assessment: for each requirement of the law, the
//! verdicts of the provisions that meet it, and whether it is met. An assessment of the
//! edition the law cites is read directly; one of a later edition through that edition's
//! migration map, and its view is indicative, since the law cites the earlier edition.

use provisor_catalog::{Regime, Requirement};

use crate::assessment::{Assessment, Verdict};

/// Where one requirement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequirementStatus {
    /// Every provision that meets it passes or does not apply.
    Met,
    /// A provision that meets it fails or is not fulfilled.
    NotMet,
    /// A provision that meets it is still open.
    Open,
}

impl RequirementStatus {
    /// `met`, `not-met`, `open`.
    pub fn as_str(self) -> &'static str {
        match self {
            RequirementStatus::Met => "met",
            RequirementStatus::NotMet => "not-met",
            RequirementStatus::Open => "open",
        }
    }

    /// `MET`, `NOT MET`, `OPEN`.
    pub fn label(self) -> &'static str {
        match self {
            RequirementStatus::Met => "MET",
            RequirementStatus::NotMet => "NOT MET",
            RequirementStatus::Open => "OPEN",
        }
    }
}

/// One provision of the assessment that bears on a requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bearing {
    /// The provision in the assessment's edition (`5.1-1`).
    pub provision: String,
    /// The provision the law names, when it differs.
    pub cited: Option<String>,
    /// Its verdict in the assessment.
    pub verdict: Verdict,
}

/// One requirement and where it stands.
#[derive(Debug, Clone)]
pub struct RequirementView<'r> {
    /// The requirement.
    pub requirement: &'r Requirement,
    /// The provisions that meet it, with their verdicts.
    pub bearings: Vec<Bearing>,
    /// Where it stands.
    pub status: RequirementStatus,
}

/// A regime's view of an assessment.
#[derive(Debug, Clone)]
pub struct RegimeView<'r> {
    /// The regime.
    pub regime: &'r Regime,
    /// The assessment is of another edition than the one the law cites.
    pub indicative: bool,
    /// Each requirement, in the law's order.
    pub requirements: Vec<RequirementView<'r>>,
}

impl RegimeView<'_> {
    /// Whether every requirement is met.
    pub fn met(&self) -> bool {
        self.requirements
            .iter()
            .all(|view| view.status == RequirementStatus::Met)
    }

    /// Why the view is indicative, in words (`None` when it is not).
    pub fn caveat(&self) -> Option<String> {
        self.indicative.then(|| {
            format!(
                "indicative only: the regulations cite {}, and this assessment is of another edition, read through its provisions that continue the cited ones",
                provisor_catalog::edition(&self.regime.edition)
                    .map_or(self.regime.edition.as_str(), |edition| edition.short_title.as_str())
            )
        })
    }
}

/// The regime's view of the assessment; `None` when the assessment's edition neither is
/// the regime's nor migrates from it.
pub fn regime_view<'r>(assessment: &Assessment<'_>, regime: &'r Regime) -> Option<RegimeView<'r>> {
    let catalog = assessment.catalog;
    let indicative = catalog.id != regime.edition;
    if indicative
        && catalog
            .migration
            .as_ref()
            .is_none_or(|migration| migration.from != regime.edition)
    {
        return None;
    }
    let requirements = regime
        .requirements
        .iter()
        .map(|requirement| {
            let mut bearings = Vec::new();
            for cited in &requirement.provisions {
                for result in assessment.provisions.iter().filter(|result| {
                    if indicative {
                        result.provision.previous.as_deref() == Some(cited.as_str())
                    } else {
                        &result.provision.id == cited
                    }
                }) {
                    bearings.push(Bearing {
                        provision: result.provision.id.clone(),
                        cited: (result.provision.id != *cited).then(|| cited.clone()),
                        verdict: result.verdict,
                    });
                }
            }
            let status = if bearings.is_empty() {
                RequirementStatus::Open
            } else if bearings
                .iter()
                .any(|b| matches!(b.verdict, Verdict::Fail | Verdict::NotFulfilled))
            {
                RequirementStatus::NotMet
            } else if bearings.iter().any(|b| b.verdict == Verdict::Open) {
                RequirementStatus::Open
            } else {
                RequirementStatus::Met
            };
            RequirementView {
                requirement,
                bearings,
                status,
            }
        })
        .collect();
    Some(RegimeView {
        regime,
        indicative,
        requirements,
    })
}

/// The view of every embedded regime that can read the assessment.
pub fn regime_views(assessment: &Assessment<'_>) -> Vec<RegimeView<'static>> {
    provisor_catalog::regimes()
        .iter()
        .filter_map(|regime| regime_view(assessment, regime))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ConditionAnswer;
    use crate::statement::{Statement, Support};
    use crate::verdict::{Input, evaluate};
    use provisor_catalog::ConditionId;

    fn psti() -> &'static Regime {
        provisor_catalog::regime("uk-psti").unwrap()
    }

    fn statuses(input: &Input<'_>) -> (bool, Vec<(String, RequirementStatus)>) {
        let assessment = evaluate(input).unwrap();
        let view = regime_view(&assessment, psti()).unwrap();
        let statuses = view
            .requirements
            .iter()
            .map(|r| (r.requirement.id.clone(), r.status))
            .collect();
        (view.indicative, statuses)
    }

    fn answer(input: &mut Input<'_>, id: &str, value: bool) {
        input
            .answers
            .insert(ConditionId::new(id), ConditionAnswer::declared(value));
    }

    fn state(input: &mut Input<'_>, id: &str, support: Support) {
        input
            .statements
            .insert(id.to_owned(), Statement::new(support, "because"));
    }

    #[test]
    fn the_v2_view_reads_the_cited_provisions() {
        let v2 = provisor_catalog::edition("en303645-v2.1.1").unwrap();
        let mut input = Input::new(v2);
        answer(&mut input, "1", true);
        answer(&mut input, "2", false);
        state(&mut input, "5.1-1", Support::Yes);
        state(&mut input, "5.2-1", Support::No);
        let (indicative, statuses) = statuses(&input);
        assert!(!indicative);
        let expected = [
            // 5.1-2 does not apply: "where relevant".
            ("passwords", RequirementStatus::Met),
            ("reporting", RequirementStatus::NotMet),
            ("support-period", RequirementStatus::Open),
        ]
        .map(|(id, status)| (id.to_owned(), status));
        assert_eq!(statuses, expected);
    }

    #[test]
    fn a_v3_view_is_indicative_and_reads_the_continuing_provisions() {
        let v3 = provisor_catalog::edition("en303645-v3.1.3").unwrap();
        let mut input = Input::new(v3);
        answer(&mut input, "a", true);
        answer(&mut input, "b", true);
        state(&mut input, "5.1-1", Support::Yes);
        state(&mut input, "5.1-2", Support::Yes);
        state(&mut input, "5.2-1", Support::Yes);
        state(&mut input, "5.3-13", Support::Yes);
        let assessment = evaluate(&input).unwrap();
        let view = regime_view(&assessment, psti()).unwrap();
        assert!(view.indicative && view.met());
        assert!(view.caveat().unwrap().contains("EN 303 645 V2.1.1"));
    }
}
