//! Every answer the router tests receive is held to the OpenAPI document the server
//! serves: a success must be a documented status of a documented operation and its
//! JSON body must match the operation's schema; an error must be a problem document
//! matching `Problem`. So the document cannot drift from the handlers unnoticed, and
//! every scenario of the suite doubles as a conformance test of its answers.

use std::cell::RefCell;
use std::collections::HashMap;

use axum::http::{HeaderMap, Method, StatusCode, header};
use serde_json::Value;

const DOCUMENT_URL: &str = "urn:provisor:openapi";

struct Contract {
    document: Value,
    compiler: boon::Compiler,
    schemas: boon::Schemas,
    compiled: HashMap<String, boon::SchemaIndex>,
}

impl Contract {
    fn new() -> Contract {
        let document = serde_json::to_value(provisor_server::openapi()).unwrap();
        let mut compiler = boon::Compiler::new();
        compiler.set_default_draft(boon::Draft::V2020_12);
        compiler
            .add_resource(DOCUMENT_URL, document.clone())
            .unwrap();
        Contract {
            document,
            compiler,
            schemas: boon::Schemas::new(),
            compiled: HashMap::new(),
        }
    }
}

thread_local! {
    // boon's compiler is not `Send`: each test thread keeps its own.
    static CONTRACT: RefCell<Contract> = RefCell::new(Contract::new());
}

/// The document's path template that `path` matches, the one with the most literal
/// segments when several do (`/api/v1/session` before `/api/v1/{x}`).
fn template_of<'a>(document: &'a Value, path: &str) -> Option<&'a str> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut best: Option<(&str, usize)> = None;
    for template in document["paths"].as_object()?.keys() {
        let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
        let mut literal = 0;
        let mut matched = true;
        for (index, part) in parts.iter().enumerate() {
            let is_parameter = part.starts_with('{') && part.ends_with('}');
            // A trailing `{path}` takes the rest of the path (axum's `{*path}`).
            if is_parameter && *part == "{path}" && index == parts.len() - 1 {
                matched = segments.len() >= parts.len();
                break;
            }
            match segments.get(index) {
                Some(segment) if is_parameter && !segment.is_empty() => {}
                Some(segment) if segment == part => literal += 1,
                _ => {
                    matched = false;
                    break;
                }
            }
            if index == parts.len() - 1 && segments.len() != parts.len() {
                matched = false;
            }
        }
        if matched && best.is_none_or(|(_, most)| literal > most) {
            best = Some((template.as_str(), literal));
        }
    }
    best.map(|(template, _)| template)
}

/// A JSON pointer's token, escaped, and made safe for a URL fragment.
fn token(text: &str) -> String {
    text.replace('~', "~0")
        .replace('/', "~1")
        .replace('%', "%25")
        .replace('{', "%7B")
        .replace('}', "%7D")
        .replace(' ', "%20")
}

fn validate(contract: &mut Contract, pointer: &str, body: &Value, what: &str) {
    let index = match contract.compiled.get(pointer) {
        Some(index) => *index,
        None => {
            let index = contract
                .compiler
                .compile(&format!("{DOCUMENT_URL}#{pointer}"), &mut contract.schemas)
                .unwrap_or_else(|error| panic!("{what}: the schema at {pointer}: {error:#}"));
            contract.compiled.insert(pointer.to_owned(), index);
            index
        }
    };
    if let Err(error) = contract.schemas.validate(body, index) {
        panic!(
            "{what}: the answer does not match the OpenAPI document ({pointer}): {error:#}\n{body:#}"
        );
    }
}

/// Holds one answer to the document; panics with what differs.
pub fn check(method: &Method, uri: &str, status: StatusCode, headers: &HeaderMap, body: &[u8]) {
    CONTRACT.with(|contract| {
        check_with(
            &mut contract.borrow_mut(),
            method,
            uri,
            status,
            headers,
            body,
        )
    });
}

fn check_with(
    contract: &mut Contract,
    method: &Method,
    uri: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) {
    let path = uri.split('?').next().unwrap_or(uri);
    if !path.starts_with("/api/v1/") || path == "/api/v1/openapi.json" {
        return;
    }
    let what = format!("{method} {uri} answered {status}");
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if status.is_client_error() || status.is_server_error() {
        assert_eq!(
            content_type, "application/problem+json",
            "{what}: an error must be a problem document"
        );
        let problem: Value = serde_json::from_slice(body)
            .unwrap_or_else(|error| panic!("{what}: the problem document is not JSON: {error}"));
        validate(contract, "/components/schemas/Problem", &problem, &what);
        return;
    }
    let document = contract.document.clone();
    let template = template_of(&document, path)
        .unwrap_or_else(|| panic!("{what}: no path of the OpenAPI document matches"));
    let operation = &document["paths"][template][method.as_str().to_lowercase()];
    assert!(
        operation.is_object(),
        "{what}: the OpenAPI document has no {method} operation at {template}"
    );
    let code = status.as_u16().to_string();
    let response = &operation["responses"][&code];
    assert!(
        response.is_object(),
        "{what}: status {code} is not documented for {method} {template} (documented: {:?})",
        operation["responses"]
            .as_object()
            .map(|responses| responses.keys().collect::<Vec<_>>())
    );
    let Some(content) = response["content"].as_object() else {
        assert!(
            body.is_empty(),
            "{what}: the document promises no body, but {} bytes came",
            body.len()
        );
        return;
    };
    let media = content_type.split(';').next().unwrap_or("").trim();
    assert!(
        content.contains_key(media) || content.keys().any(|key| key == "*/*"),
        "{what}: {media:?} is not a documented media type ({:?})",
        content.keys().collect::<Vec<_>>()
    );
    if media == "application/json" {
        let json: Value = serde_json::from_slice(body)
            .unwrap_or_else(|error| panic!("{what}: the body is not JSON: {error}"));
        let pointer = format!(
            "/paths/{}/{}/responses/{code}/content/{}/schema",
            token(template),
            method.as_str().to_lowercase(),
            token(media)
        );
        validate(contract, &pointer, &json, &what);
    }
}
