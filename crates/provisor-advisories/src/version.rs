//! Version ordering as the ecosystems define it: Debian's (dpkg's `verrevcmp`, used for
//! Debian, Ubuntu, OpenWrt, Alpine and the version strings of upstream C projects,
//! which it orders sensibly: `1.1.1w` after `1.1.1t`, `2022.83` before `2024.84`) and
//! semantic versioning (a pre-release before its release).

use std::cmp::Ordering;

/// Compares two versions of the given ecosystem's scheme.
pub fn compare(scheme: Scheme, left: &str, right: &str) -> Ordering {
    match scheme {
        Scheme::Semver => semver(left, right),
        Scheme::Dpkg => dpkg(left, right),
    }
}

/// How versions are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// dpkg's ordering (epoch, upstream version, revision).
    Dpkg,
    /// Semantic versioning 2.0.
    Semver,
}

/// dpkg's comparison: `[epoch:]upstream[-revision]`.
pub fn dpkg(left: &str, right: &str) -> Ordering {
    let split = |version: &str| {
        let (epoch, rest) = match version.split_once(':') {
            Some((epoch, rest)) if epoch.chars().all(|c| c.is_ascii_digit()) => {
                (epoch.parse::<u64>().unwrap_or(0), rest)
            }
            _ => (0, version),
        };
        let (upstream, revision) = rest.rsplit_once('-').unwrap_or((rest, ""));
        (epoch, upstream.to_owned(), revision.to_owned())
    };
    let (left, right) = (split(left), split(right));
    left.0
        .cmp(&right.0)
        .then_with(|| verrevcmp(&left.1, &right.1))
        .then_with(|| verrevcmp(&left.2, &right.2))
}

/// The weight of a character in dpkg's non-digit comparison: `~` before the end of the
/// string, which is before letters, which are before everything else.
fn order(character: Option<u8>) -> i32 {
    match character {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

fn verrevcmp(left: &str, right: &str) -> Ordering {
    let (left, right) = (left.as_bytes(), right.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < left.len() || j < right.len() {
        // The non-digit prefixes.
        while (i < left.len() && !left[i].is_ascii_digit())
            || (j < right.len() && !right[j].is_ascii_digit())
        {
            let a = order(left.get(i).copied().filter(|c| !c.is_ascii_digit()));
            let b = order(right.get(j).copied().filter(|c| !c.is_ascii_digit()));
            if a != b {
                return a.cmp(&b);
            }
            if i < left.len() && !left[i].is_ascii_digit() {
                i += 1;
            }
            if j < right.len() && !right[j].is_ascii_digit() {
                j += 1;
            }
        }
        // The numbers, compared by value without overflowing.
        while left.get(i) == Some(&b'0') {
            i += 1;
        }
        while right.get(j) == Some(&b'0') {
            j += 1;
        }
        let start = (i, j);
        while i < left.len() && left[i].is_ascii_digit() {
            i += 1;
        }
        while j < right.len() && right[j].is_ascii_digit() {
            j += 1;
        }
        let (a, b) = (&left[start.0..i], &right[start.1..j]);
        let by_value = a.len().cmp(&b.len()).then_with(|| a.cmp(b));
        if by_value != Ordering::Equal {
            return by_value;
        }
    }
    Ordering::Equal
}

/// Semantic versioning: numeric core, then a pre-release sorts before the release.
pub fn semver(left: &str, right: &str) -> Ordering {
    let parse = |version: &str| {
        let version = version.trim_start_matches('v');
        let version = version.split('+').next().unwrap_or(version);
        let (core, pre) = match version.split_once('-') {
            Some((core, pre)) => (core.to_owned(), Some(pre.to_owned())),
            None => (version.to_owned(), None),
        };
        (core, pre)
    };
    let (left, right) = (parse(left), parse(right));
    verrevcmp(&left.0, &right.0).then_with(|| match (&left.1, &right.1) {
        (None, None) => Ordering::Equal,
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some(a), Some(b)) => verrevcmp(a, b),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    #[test]
    fn dpkg_orders_as_dpkg_does() {
        // Pairs checked with `dpkg --compare-versions`.
        for (left, right, expected) in [
            ("1.0", "1.0", Equal),
            ("1.0", "1.1", Less),
            ("1:1.0", "2.0", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.0-1", "1.0-2", Less),
            ("1.35.0-4+deb12u1", "1.35.0-4", Greater),
            ("1.1.1w", "1.1.1t", Greater),
            ("2022.83", "2024.84", Less),
            ("3.0.20-1~deb12u2", "3.0.20-1", Less),
            ("5.10.110", "5.10.99", Greater),
            ("1.0a", "1.0", Greater),
            ("000123", "123", Equal),
            ("99999999999999999999999", "1", Greater),
        ] {
            assert_eq!(dpkg(left, right), expected, "{left} vs {right}");
        }
    }

    #[test]
    fn semver_puts_pre_releases_first() {
        assert_eq!(semver("1.0.0-rc.1", "1.0.0"), Less);
        assert_eq!(semver("2.0.16", "2.0.11"), Greater);
        assert_eq!(semver("v1.2.3", "1.2.3"), Equal);
        assert_eq!(semver("1.2.3+build", "1.2.3"), Equal);
    }
}
