//! What the browser-facing pages share for their safety: whether a request came over
//! HTTPS (for `Secure` cookies), whether a browser request comes from a page of this
//! service (`Origin`), and a Content-Security-Policy that allows a page's own inline
//! scripts by their hashes and nothing else inline.

use axum::http::{HeaderMap, header};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::app::AppState;

/// Whether cookies get the Secure attribute: configured, or the request came over HTTPS
/// (directly or through a proxy that says so).
pub fn over_https(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

/// Whether a request's `Origin` (sent by browsers with every cross-origin request, every
/// POST and every WebSocket) is this service's own: its host and port are the request's
/// `Host`. A request without `Origin` is not a browser's page and passes.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest);
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// The page's inline scripts (`<script>` without `src`), as CSP source hashes.
fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script>") {
        let body = &rest[start + "<script>".len()..];
        let Some(end) = body.find("</script>") else {
            break;
        };
        let digest = Sha256::digest(&body.as_bytes()[..end]);
        let encoded = base64::engine::general_purpose::STANDARD.encode(digest);
        hashes.push(format!("'sha256-{encoded}'"));
        rest = &body[end..];
    }
    hashes
}

/// The Content-Security-Policy of a page: its resources from this service only, its own
/// inline scripts (by hash) and no others, no framing, forms posted here only.
pub fn content_security_policy(html: &str) -> String {
    let scripts = inline_script_hashes(html).join(" ");
    format!(
        "default-src 'self'; script-src 'self' {scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn origins_match_the_host_they_were_sent_to() {
        let headers = |origin: Option<&'static str>| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
            if let Some(o) = origin {
                h.insert(header::ORIGIN, HeaderValue::from_static(o));
            }
            h
        };
        assert!(same_origin(&headers(None)));
        assert!(same_origin(&headers(Some("http://127.0.0.1:8080"))));
        assert!(!same_origin(&headers(Some("http://evil.example"))));
        assert!(!same_origin(&headers(Some("http://127.0.0.1:8081"))));
        assert!(!same_origin(&headers(Some("null"))));
    }

    #[test]
    fn inline_scripts_are_allowed_by_their_hash_only() {
        let csp =
            content_security_policy("<p><script src=\"/a.js\"></script><script>go();</script>");
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"go();"));
        assert!(csp.contains(&format!("'sha256-{expected}'")), "{csp}");
        assert_eq!(csp.matches("sha256-").count(), 1, "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
