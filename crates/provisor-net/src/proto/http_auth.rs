//! Logging in to web pages two more ways than HTTP basic authentication: digest
//! authentication (RFC 7616: MD5 or SHA-256, with or without `-sess`, `qop=auth` or
//! none; RTSP uses it too) and HTML login forms (a `<form>` with one password field, read leniently from
//! the page: its action, method, user and password fields and hidden fields).

use md5::Md5;
use sha2::{Digest, Sha256};

/// A digest challenge (`WWW-Authenticate: Digest …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    realm: String,
    nonce: String,
    opaque: Option<String>,
    algorithm: String,
    qop: bool,
}

/// The `name=value` parameters of an authentication header, values unquoted.
fn parameters(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(equals) = rest.find('=') {
        let name = rest[..equals]
            .trim_matches(|c: char| c == ',' || c.is_whitespace())
            .to_ascii_lowercase();
        rest = &rest[equals + 1..];
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            let value = &quoted[..end];
            rest = quoted.get(end + 1..).unwrap_or("");
            value
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let value = rest[..end].trim();
            rest = &rest[end..];
            value
        };
        found.push((name, value.to_owned()));
    }
    found
}

impl Challenge {
    /// Reads a `WWW-Authenticate` value; `None` unless it is a digest challenge with an
    /// algorithm provisor can answer.
    pub fn parse(header: &str) -> Option<Challenge> {
        let (scheme, rest) = header.trim().split_once(char::is_whitespace)?;
        if !scheme.eq_ignore_ascii_case("digest") {
            return None;
        }
        let parameters = parameters(rest);
        let get = |name: &str| {
            parameters
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        };
        let algorithm = get("algorithm").unwrap_or_else(|| "MD5".into());
        if !matches!(
            algorithm.to_ascii_uppercase().as_str(),
            "MD5" | "MD5-SESS" | "SHA-256" | "SHA-256-SESS"
        ) {
            return None;
        }
        let qop = match get("qop") {
            Some(offered) => {
                if !offered.split(',').any(|qop| qop.trim() == "auth") {
                    return None;
                }
                true
            }
            None => false,
        };
        Some(Challenge {
            realm: get("realm")?,
            nonce: get("nonce")?,
            opaque: get("opaque"),
            algorithm,
            qop,
        })
    }

    fn hash(&self, text: &str) -> String {
        let bytes: Vec<u8> = if self.algorithm.to_ascii_uppercase().starts_with("SHA-256") {
            Sha256::digest(text.as_bytes()).to_vec()
        } else {
            Md5::digest(text.as_bytes()).to_vec()
        };
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// The `Authorization` header value answering the challenge for `method uri`
    /// (`GET` for HTTP, `DESCRIBE` for RTSP).
    pub fn answer(
        &self,
        method: &str,
        uri: &str,
        (user, password): (&str, &str),
        cnonce: &str,
    ) -> String {
        let mut secret = self.hash(&format!("{user}:{}:{password}", self.realm));
        if self.algorithm.to_ascii_uppercase().ends_with("-SESS") {
            secret = self.hash(&format!("{secret}:{}:{cnonce}", self.nonce));
        }
        let request = self.hash(&format!("{method}:{uri}"));
        let count = "00000001";
        let response = if self.qop {
            self.hash(&format!(
                "{secret}:{}:{count}:{cnonce}:auth:{request}",
                self.nonce
            ))
        } else {
            self.hash(&format!("{secret}:{}:{request}", self.nonce))
        };
        let mut header = format!(
            "Digest username=\"{user}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", algorithm={}, response=\"{response}\"",
            self.realm, self.nonce, self.algorithm
        );
        if self.qop {
            header.push_str(&format!(", qop=auth, nc={count}, cnonce=\"{cnonce}\""));
        }
        if let Some(opaque) = &self.opaque {
            header.push_str(&format!(", opaque=\"{opaque}\""));
        }
        header
    }
}

/// A login form found on a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// Where it is sent: a path on the same site.
    pub action: String,
    /// Sent with POST (otherwise GET, the query in the URL).
    pub post: bool,
    /// The user name field, when the form has one.
    pub user_field: Option<String>,
    /// The password field.
    pub password_field: String,
    /// Hidden fields, sent as they are.
    pub hidden: Vec<(String, String)>,
}

/// The attributes of a tag (`<input type="password" name=pw>`), names lower-cased.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = tag.trim_start_matches('<');
    // Skip the tag name.
    rest = rest.trim_start_matches(|c: char| !c.is_whitespace() && c != '>');
    loop {
        rest = rest.trim_start();
        let end = rest
            .find(|c: char| c == '=' || c == '>' || c.is_whitespace())
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        let name = rest[..end].trim_end_matches('/').to_ascii_lowercase();
        rest = rest[end..].trim_start();
        let value = if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (value, tail) = match after.chars().next() {
                Some(quote @ ('"' | '\'')) => {
                    let inner = &after[1..];
                    let close = inner.find(quote).unwrap_or(inner.len());
                    (&inner[..close], inner.get(close + 1..).unwrap_or(""))
                }
                _ => {
                    let close = after
                        .find(|c: char| c.is_whitespace() || c == '>')
                        .unwrap_or(after.len());
                    (&after[..close], &after[close..])
                }
            };
            rest = tail;
            value.to_owned()
        } else {
            String::new()
        };
        found.push((name, value));
    }
    found
}

/// The tags named `name` (`<input …>`) in `html` (`lowered` is it in lower case), each
/// as its text.
fn tags<'a>(html: &'a str, lowered: &str, name: &str) -> Vec<&'a str> {
    let opening = format!("<{name}");
    lowered
        .match_indices(&opening)
        .filter(|(at, _)| {
            lowered[at + opening.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_whitespace() || c == '>')
        })
        .filter_map(|(at, _)| {
            let end = lowered[at..].find('>')?;
            html.get(at..=at + end)
        })
        .collect()
}

/// Whether a page holds a password field (a login form shown again after a refusal).
pub fn has_password_field(body: &[u8]) -> bool {
    let html = String::from_utf8_lossy(body);
    let lowered = html.to_ascii_lowercase();
    tags(&html, &lowered, "input")
        .into_iter()
        .any(|tag| field_type(&attributes(tag)) == "password")
}

fn field_type(attributes: &[(String, String)]) -> String {
    attributes
        .iter()
        .find(|(name, _)| name == "type")
        .map_or_else(
            || "text".to_owned(),
            |(_, value)| value.to_ascii_lowercase(),
        )
}

/// The first login form of a page at `page` (a form with exactly one password field).
pub fn login_form(body: &[u8], page: &str) -> Option<Form> {
    let html = String::from_utf8_lossy(body);
    let lowered = html.to_ascii_lowercase();
    let mut forms = lowered.match_indices("<form").map(|(at, _)| at).peekable();
    while let Some(start) = forms.next() {
        let end = lowered[start..]
            .find("</form")
            .map_or(html.len(), |at| start + at)
            .min(forms.peek().copied().unwrap_or(html.len()));
        let (form_html, form_lowered) = (&html[start..end], &lowered[start..end]);
        let Some(&form_tag) = tags(form_html, form_lowered, "form").first() else {
            continue;
        };
        let form_attributes = attributes(form_tag);
        let get = |name: &str| {
            form_attributes
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        };
        let mut user_field = None;
        let mut password_fields = Vec::new();
        let mut hidden = Vec::new();
        for tag in tags(form_html, form_lowered, "input") {
            let attributes = attributes(tag);
            let Some(name) = attributes
                .iter()
                .find(|(key, _)| key == "name")
                .map(|(_, value)| value.clone())
                .filter(|name| !name.is_empty())
            else {
                continue;
            };
            let value = attributes
                .iter()
                .find(|(key, _)| key == "value")
                .map(|(_, value)| value.clone())
                .unwrap_or_default();
            match field_type(&attributes).as_str() {
                "password" => password_fields.push(name),
                "text" | "email" | "tel" if user_field.is_none() => user_field = Some(name),
                "hidden" => hidden.push((name, value)),
                _ => {}
            }
        }
        if password_fields.len() != 1 {
            continue;
        }
        let action = get("action").filter(|action| !action.is_empty());
        let action = match action {
            None => page.to_owned(),
            Some(action) if action.contains("://") || action.starts_with("//") => continue,
            Some(action) if action.starts_with('/') => action,
            Some(action) => {
                let directory = &page[..page.rfind('/').map_or(0, |at| at + 1)];
                format!("/{}{}", directory.trim_start_matches('/'), action)
            }
        };
        return Some(Form {
            action,
            post: get("method").is_some_and(|method| method.eq_ignore_ascii_case("post")),
            user_field,
            password_field: password_fields.remove(0),
            hidden,
        });
    }
    None
}

/// `application/x-www-form-urlencoded` for one value.
fn encode(value: &str) -> String {
    encode_bytes(value.as_bytes())
}

/// `application/x-www-form-urlencoded` for bytes that may not be text.
fn encode_bytes(value: &[u8]) -> String {
    let mut encoded = String::new();
    for &byte in value {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                encoded.push(byte as char)
            }
            b' ' => encoded.push('+'),
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

impl Form {
    /// The form with `value` in its user and password fields (and its hidden fields as
    /// they are), urlencoded: for sending malformed input.
    pub fn fill_bytes(&self, value: &[u8]) -> String {
        let mut fields: Vec<String> = Vec::new();
        if let Some(field) = &self.user_field {
            fields.push(format!("{}={}", encode(field), encode_bytes(value)));
        }
        fields.push(format!(
            "{}={}",
            encode(&self.password_field),
            encode_bytes(value)
        ));
        for (name, hidden) in &self.hidden {
            fields.push(format!("{}={}", encode(name), encode(hidden)));
        }
        fields.join("&")
    }

    /// The form filled in with `user` and `password`, urlencoded.
    pub fn fill(&self, user: &str, password: &str) -> String {
        let mut fields: Vec<(&str, &str)> = Vec::new();
        if let Some(field) = &self.user_field {
            fields.push((field, user));
        }
        fields.push((&self.password_field, password));
        for (name, value) in &self.hidden {
            fields.push((name, value));
        }
        fields
            .iter()
            .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_challenge_is_answered_as_rfc_7616_shows() {
        // RFC 7616 3.9.1: the MD5 and SHA-256 examples.
        for (algorithm, response) in [
            ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
            (
                "SHA-256",
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
        ] {
            let challenge = Challenge::parse(&format!(
                r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={algorithm}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#
            ))
            .unwrap();
            let answer = challenge.answer(
                "GET",
                "/dir/index.html",
                ("Mufasa", "Circle of Life"),
                "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            );
            assert!(
                answer.contains(&format!("response=\"{response}\"")),
                "{algorithm}: {answer}"
            );
        }
        assert_eq!(Challenge::parse("Basic realm=\"x\""), None);
        assert_eq!(
            Challenge::parse("Digest realm=\"x\", nonce=\"n\", algorithm=SHA-512-256"),
            None
        );
        assert_eq!(Challenge::parse("Digest"), None);
    }

    #[test]
    fn login_forms_are_read_leniently() {
        let page = br#"<html><form action="/search"><input name=q></form>
            <FORM Method=POST action='login.cgi'>
              <input type=text name=username> <input type="password" name="pw">
              <input type="hidden" name="token" value="a b&c"><input type=submit value=Go>
            </FORM>"#;
        let form = login_form(page, "/cgi-bin/index.html").unwrap();
        assert_eq!(form.action, "/cgi-bin/login.cgi");
        assert!(form.post);
        assert_eq!(form.user_field.as_deref(), Some("username"));
        assert_eq!(form.password_field, "pw");
        assert_eq!(
            form.fill("root", "x y"),
            "username=root&pw=x+y&token=a+b%26c"
        );
        assert!(has_password_field(page));
        assert!(!has_password_field(b"<input type=text name=pw>"));
        // No password field, two, or a form sent elsewhere: not a login form here.
        assert_eq!(login_form(b"<form><input name=q></form>", "/"), None);
        assert_eq!(
            login_form(
                b"<form><input type=password name=a><input type=password name=b></form>",
                "/"
            ),
            None
        );
        assert_eq!(
            login_form(
                b"<form action=https://idp.example/login><input type=password name=p></form>",
                "/"
            ),
            None
        );
        // Truncated markup neither panics nor invents a form.
        assert_eq!(login_form(b"<form action=\"", "/"), None);
        assert_eq!(
            login_form(b"<form><input type=password name=\"p", "/"),
            None
        );
    }
}
