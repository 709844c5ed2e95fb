//! The pages of a web interface a visitor reaches without logging in, fetched once per
//! web port before the checks run and shared by them: the index, the pages it links to
//! and those they link to (within the device, a few levels deep), then the usual admin,
//! login and status paths of IoT devices (`data/http-paths.toml`) and the configuration
//! endpoints of `data/http-endpoints.toml`. Every request is one GET with the answer
//! deadline; the crawl is bounded in pages, depth, bytes and time, so a site that links
//! to itself forever or drips its answers costs only its budget.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::proto::http::{self, Response};
use crate::target::Target;

/// Pages fetched at most per site (linked and usual paths together).
pub const MAX_PAGES: usize = 48;
/// Pages fetched at most by following links, before the usual paths are tried.
const MAX_LINKED: usize = 28;
/// Link levels below the index followed at most.
pub const MAX_DEPTH: usize = 3;
/// Body bytes kept at most per site.
pub const MAX_BYTES: usize = 2 << 20;

/// One page as a visitor without credentials gets it.
#[derive(Debug, Clone)]
pub struct Page {
    /// The path requested.
    pub path: String,
    /// How it was found: `index`, `linked from /`, or what a usual path is.
    pub found: String,
    /// The response, its body bounded by [`http::BODY_LIMIT`].
    pub response: Response,
}

/// The pages of one web port.
#[derive(Debug, Clone)]
pub struct Site {
    /// The port.
    pub port: u16,
    /// Through TLS.
    pub tls: bool,
    /// The pages fetched, the index first.
    pub pages: Vec<Page>,
}

impl Site {
    /// The service name of its findings.
    pub fn service(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }

    /// The pages served without authentication (status 200).
    pub fn open_pages(&self) -> impl Iterator<Item = &Page> {
        self.pages.iter().filter(|page| page.response.status == 200)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Paths {
    path: Vec<UsualPath>,
}

/// A path many devices serve.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsualPath {
    /// The path.
    pub path: String,
    /// What it is on the devices that serve it.
    pub what: String,
}

/// The usual admin, login and status paths.
pub fn usual_paths() -> &'static [UsualPath] {
    static PATHS: OnceLock<Paths> = OnceLock::new();
    &PATHS
        .get_or_init(|| {
            toml::from_str(include_str!("../data/http-paths.toml"))
                .expect("data/http-paths.toml is valid (tested)")
        })
        .path
}

/// Fetches the pages of the site on `port`, within `budget` in all; `extra` are more
/// paths to try after the usual ones (path, what it is).
pub async fn crawl(
    target: &Target,
    port: u16,
    tls: bool,
    deadline: Duration,
    budget: Duration,
    extra: &[(String, String)],
) -> Site {
    let started = Instant::now();
    let mut site = Site {
        port,
        tls,
        pages: Vec::new(),
    };
    let mut bytes = 0usize;
    let mut queue: std::collections::VecDeque<(String, String, usize)> =
        std::collections::VecDeque::from([("/".to_owned(), "index".to_owned(), 0)]);
    let mut seen: Vec<String> = vec!["/".to_owned()];
    let mut usual_queued = false;
    while site.pages.len() < MAX_PAGES && bytes < MAX_BYTES {
        let Some(left) = budget.checked_sub(started.elapsed()) else {
            break;
        };
        if queue.is_empty() || (!usual_queued && site.pages.len() >= MAX_LINKED) {
            if usual_queued {
                break;
            }
            usual_queued = true;
            let usual = usual_paths()
                .iter()
                .map(|usual| (usual.path.clone(), usual.what.clone()))
                .chain(extra.iter().cloned());
            for (path, what) in usual {
                if !seen.contains(&path) {
                    seen.push(path.clone());
                    queue.push_back((path, what, MAX_DEPTH));
                }
            }
            continue;
        }
        let Some((path, found, depth)) = queue.pop_front() else {
            break;
        };
        let Some(response) = http::get(target, port, tls, &path, "", deadline.min(left)).await
        else {
            continue;
        };
        bytes += response.body.len();
        if response.status == 200 && depth < MAX_DEPTH {
            for link in http::links(&response.body, MAX_PAGES) {
                let link = resolve(&link);
                if !seen.contains(&link) && !is_static_asset(&link) {
                    seen.push(link.clone());
                    queue.push_back((link, format!("linked from {path}"), depth + 1));
                }
            }
        }
        site.pages.push(Page {
            path,
            found,
            response,
        });
    }
    site
}

/// A link as a path to request: `http::links` gives paths from the site's root; doubled
/// slashes are folded and the length bounded.
fn resolve(link: &str) -> String {
    let mut path = link.replace("/./", "/");
    while path.contains("//") {
        path = path.replace("//", "/");
    }
    path.chars().take(512).collect()
}

/// Stylesheets, scripts, images and fonts say nothing a check reads.
fn is_static_asset(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path).to_ascii_lowercase();
    [
        ".css", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".woff", ".woff2", ".ttf", ".eot",
        ".mp4", ".webm", ".map",
    ]
    .iter()
    .any(|extension| path.ends_with(extension))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_paths_are_paths_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for usual in usual_paths() {
            assert!(usual.path.starts_with('/'), "{}", usual.path);
            assert!(seen.insert(&usual.path), "{} twice", usual.path);
            assert!(!usual.what.is_empty());
        }
        assert!(usual_paths().len() >= 20);
    }

    #[test]
    fn assets_are_not_fetched() {
        assert!(is_static_asset("/css/main.css?v=3"));
        assert!(is_static_asset("/img/logo.PNG"));
        assert!(!is_static_asset("/status.html"));
        assert!(!is_static_asset("/cgi-bin/info.cgi"));
    }
}
