//! `provisor catalog`: the standard as a table, JSON or Markdown, or one provision,
//! with the official wording of a wording file when one is given.

use crate::cli::{CatalogArgs, CatalogFormat};
use crate::{Failure, Outcome, io};

pub fn run(args: CatalogArgs) -> Result<Outcome, Failure> {
    let embedded = super::edition(&args.edition)?;
    let worded = match &args.wording {
        Some(path) => Some(embedded.with_texts(&io::read_wording(path, embedded)?.texts)),
        None => None,
    };
    let catalog = worded.as_ref().unwrap_or(embedded);
    let text = match (args.action.as_deref(), &args.id) {
        (None | Some("list"), None) => match args.format {
            CatalogFormat::Table => provisor_report::catalog_table(catalog),
            CatalogFormat::Json => provisor_report::catalog_json(catalog),
            CatalogFormat::Md => provisor_report::catalog_markdown(catalog),
        },
        (Some("show"), Some(id)) => {
            let provision = catalog.provision(id).ok_or_else(|| {
                let help = match catalog.voided(id) {
                    Some(voided) => format!(
                        "{id} is voided in this edition; its successors are {}",
                        voided.successors.join(" and ")
                    ),
                    None => format!(
                        "provision ids are written as the standard does, {} … {}",
                        catalog.provisions.first().map_or("", |p| p.id.as_str()),
                        catalog.provisions.last().map_or("", |p| p.id.as_str())
                    ),
                };
                Failure::Invalid(format!(
                    "unknown provision \"{id}\" in {}\n  = help: {help}",
                    catalog.id
                ))
            })?;
            match args.format {
                CatalogFormat::Json => {
                    let mut text = serde_json::to_string_pretty(provision)
                        .map_err(|error| Failure::Internal(error.into()))?;
                    text.push('\n');
                    text
                }
                _ => provisor_report::provision_detail(catalog, provision),
            }
        }
        (Some("show"), None) => {
            return Err(Failure::Invalid(
                "`provisor catalog show` needs a provision id, e.g. `provisor catalog show 5.1-1`"
                    .into(),
            ));
        }
        (None | Some("list"), Some(_)) => {
            return Err(Failure::Invalid(
                "`provisor catalog list` takes no id; use `provisor catalog show ID`".into(),
            ));
        }
        (Some(other), _) => {
            return Err(Failure::Invalid(format!(
                "unknown catalog action \"{other}\"; use `list` or `show ID`"
            )));
        }
    };
    io::print(&text)?;
    Ok(Outcome::Success)
}
