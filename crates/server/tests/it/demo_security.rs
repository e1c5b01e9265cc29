//! The demo site in a hostile browser world: its pages cannot be framed or run injected
//! script, other sites' pages cannot post to it or open its WebSockets, and its cookie is
//! Secure over HTTPS.

use serde_json::json;

use crate::demo::{DemoClient, PASSWORD, demo_app, open_session};
use crate::support::TestApp;

/// Registers `name` from a page of `origin` (behind an HTTPS proxy if `forwarded_https`).
async fn register(
    app: &TestApp,
    origin: &str,
    name: &str,
    forwarded_https: bool,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}/demo/api/register", app.base))
        .header("origin", origin)
        .json(&json!({"username": name, "password": PASSWORD}));
    if forwarded_https {
        request = request.header("x-forwarded-proto", "https");
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_pages_forbid_framing_and_foreign_origins() {
    let app = demo_app().await;
    for page in ["/demo/", "/demo/enrol", "/demo/login", "/demo/session"] {
        let response = app
            .client
            .get(format!("{}{page}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{page}: {csp}");
        assert!(csp.contains("script-src 'self' 'sha256-"), "{page}: {csp}");
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
        assert_eq!(headers["x-frame-options"], "DENY", "{page}");
    }

    // A post from another site's page is refused, whatever it carries.
    let response = register(&app, "http://evil.example", "eve", false).await;
    assert_eq!(response.status(), 403);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "foreign_origin");

    // The demo's own pages post fine; the cookie is Secure over HTTPS only.
    let own = app.base.as_str();
    let plain = register(&app, own, "plainhttp", false).await;
    assert_eq!(plain.status(), 200);
    let cookie = plain.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(!cookie.contains("Secure"), "{cookie}");
    let https = register(&app, own, "overhttps", true).await;
    assert_eq!(https.status(), 200);
    let cookie = https.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    // The refused post created nothing: the name is still free.
    assert_eq!(register(&app, own, "eve", false).await.status(), 200);

    // A WebSocket opened by another site's page is refused before it opens.
    let token = cookie.split(';').next().unwrap().to_string();
    let mut client = DemoClient::new(&app);
    client.cookie = Some(token.clone());
    let session = open_session(&mut client, "continuous").await;
    let url = format!(
        "{}/demo/api/stream/{}",
        app.base.replace("http://", "ws://"),
        session
    );
    let open = |origin: &str| {
        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                url.as_str(),
            )
            .unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        request
            .headers_mut()
            .insert("cookie", token.parse().unwrap());
        tokio_tungstenite::connect_async(request)
    };
    match open("http://evil.example").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403);
        }
        other => panic!("a foreign page opened the stream: {:?}", other.map(|_| ())),
    }
    assert!(open(own).await.is_ok(), "the demo's own page opens it");
}
