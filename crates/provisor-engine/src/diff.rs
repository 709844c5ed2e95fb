//! Comparing two assessments of the same device: which verdicts changed, regressions
//! (a verdict that got worse for conformance) first. Across editions, provisions are
//! matched by the newer edition's migration map (5.6-4 with 5.6-4A and 5.6-4B, 4-1
//! with 5.0-1), so a renumbered row is not a change.

use crate::assessment::Verdict;

/// One provision whose verdict changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The provision (in the newer assessment's numbering when both have it).
    pub provision: String,
    /// Its id in the first assessment compared, when that differs (`5.6-4` for
    /// `5.6-4A`).
    pub previous: Option<String>,
    /// Its status letter (`M`, `R`).
    pub status: String,
    /// The verdict before; `None` when the provision did not exist then.
    pub before: Option<Verdict>,
    /// The verdict after; `None` when it no longer exists.
    pub after: Option<Verdict>,
}

impl Change {
    /// A verdict that got worse for conformance (pass → fail or open, …).
    pub fn is_regression(&self) -> bool {
        match (self.before, self.after) {
            (Some(before), Some(after)) => after.rank() < before.rank(),
            _ => false,
        }
    }
}

/// The changes between two assessments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// Regressions first, then the other changes, each in catalog order.
    pub changes: Vec<Change>,
    /// Conformance before and after.
    pub conformant: (bool, bool),
}

impl Diff {
    /// Whether any verdict regressed.
    pub fn has_regression(&self) -> bool {
        self.changes.iter().any(Change::is_regression)
    }
}

/// Compares verdict lists `(provision id, status letter, verdict)` in catalog order,
/// of assessments of the same edition.
pub fn diff(
    before: &[(String, String, Verdict)],
    after: &[(String, String, Verdict)],
    conformant: (bool, bool),
) -> Diff {
    diff_editions(before, "", after, "", conformant)
}

/// Compares verdict lists of assessments of editions `before_edition` and
/// `after_edition` (ids of embedded editions, or the same text for one edition): rows
/// are matched by id in one edition, and by the migration map when one edition migrates
/// from the other.
pub fn diff_editions(
    before: &[(String, String, Verdict)],
    before_edition: &str,
    after: &[(String, String, Verdict)],
    after_edition: &str,
    conformant: (bool, bool),
) -> Diff {
    let pairs = pairs(before, before_edition, after, after_edition);
    let verdict_of = |list: &[(String, String, Verdict)], id: &str| {
        list.iter()
            .find(|(other, _, _)| other == id)
            .map(|(_, status, verdict)| (status.clone(), *verdict))
    };
    let mut changes = Vec::new();
    for (old, new) in &pairs {
        let was = old.as_deref().and_then(|id| verdict_of(before, id));
        let is = new.as_deref().and_then(|id| verdict_of(after, id));
        if let (Some((_, was)), Some((_, is))) = (&was, &is)
            && was == is
        {
            continue;
        }
        let provision = new.clone().or_else(|| old.clone()).unwrap_or_default();
        let status = is
            .as_ref()
            .or(was.as_ref())
            .map(|(status, _)| status.clone())
            .unwrap_or_default();
        changes.push(Change {
            previous: old
                .clone()
                .filter(|old| Some(old) != new.as_ref() && new.is_some()),
            provision,
            status,
            before: was.map(|(_, verdict)| verdict),
            after: is.map(|(_, verdict)| verdict),
        });
    }
    // Stable: catalog order within each group.
    changes.sort_by_key(|change| !change.is_regression());
    Diff {
        changes,
        conformant,
    }
}

/// Which row of the first list goes with which of the second: in the newer edition's
/// order, then the older edition's rows nothing continues.
fn pairs(
    before: &[(String, String, Verdict)],
    before_edition: &str,
    after: &[(String, String, Verdict)],
    after_edition: &str,
) -> Vec<(Option<String>, Option<String>)> {
    let catalog = |id: &str| provisor_catalog::edition(id);
    let migrates = |newer: &str, older: &str| {
        catalog(newer)
            .and_then(|catalog| catalog.migration.as_ref())
            .is_some_and(|migration| migration.from == older)
    };
    if before_edition != after_edition && migrates(before_edition, after_edition) {
        // Comparing back to the older edition: the same pairs, the sides swapped.
        return pairs(after, after_edition, before, before_edition)
            .into_iter()
            .map(|(first, second)| (second, first))
            .collect();
    }
    let mut matched: Vec<(Option<String>, Option<String>)> = Vec::new();
    let newer = catalog(after_edition)
        .filter(|_| before_edition != after_edition && migrates(after_edition, before_edition));
    for (id, _, _) in after {
        let old = match newer {
            Some(newer) => newer
                .provision(id)
                .and_then(|provision| provision.previous.clone())
                .filter(|previous| before.iter().any(|(old, _, _)| old == previous)),
            None => before
                .iter()
                .any(|(old, _, _)| old == id)
                .then(|| id.clone()),
        };
        matched.push((old, Some(id.clone())));
    }
    for (id, _, _) in before {
        if !matched.iter().any(|(old, _)| old.as_deref() == Some(id)) {
            matched.push((Some(id.clone()), None));
        }
    }
    matched
}
