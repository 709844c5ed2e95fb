//! Comparing two assessments of the same device: which verdicts changed, regressions
//! (a verdict that got worse for conformance) first.

use crate::assessment::Verdict;

/// One provision whose verdict changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The provision.
    pub provision: String,
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

/// Compares verdict lists `(provision id, status letter, verdict)` in catalog order.
pub fn diff(
    before: &[(String, String, Verdict)],
    after: &[(String, String, Verdict)],
    conformant: (bool, bool),
) -> Diff {
    let mut changes = Vec::new();
    for (id, status, verdict) in after {
        let old = before.iter().find(|(old_id, _, _)| old_id == id);
        match old {
            Some((_, _, old_verdict)) if old_verdict == verdict => {}
            _ => changes.push(Change {
                provision: id.clone(),
                status: status.clone(),
                before: old.map(|(_, _, verdict)| *verdict),
                after: Some(*verdict),
            }),
        }
    }
    for (id, status, verdict) in before {
        if !after.iter().any(|(new_id, _, _)| new_id == id) {
            changes.push(Change {
                provision: id.clone(),
                status: status.clone(),
                before: Some(*verdict),
                after: None,
            });
        }
    }
    // Stable: catalog order within each group.
    changes.sort_by_key(|change| !change.is_regression());
    Diff {
        changes,
        conformant,
    }
}
