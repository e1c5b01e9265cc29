//! The dashboard over real sockets: sign-in, cookies, CSRF, lock-out, and the pages an
//! administrator uses, driven with plain HTTP (the browser suite drives the same pages in
//! Chromium).

use std::time::Duration;

use pointerprint_formats::to_native;
use pointerprint_server::app::accounts::hash_password;
use pointerprint_server::startup::open_store;
use pointerprint_storage::AccountKind;
use pointerprint_synth::session;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::support::{TestApp, config, create_keys, enrolled, style};

pub const ADMIN: &str = "admin";
pub const PASSWORD: &str = "correct horse battery";

/// A server with API keys and one administrator account.
pub async fn spawn_with_admin(adjust: impl FnOnce(&mut pointerprint_server::Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let keys = create_keys(dir.path()).await;
    let mut config = config(dir.path());
    adjust(&mut config);
    let store = open_store(&config).await.unwrap();
    store
        .create_account(
            AccountKind::Admin,
            ADMIN,
            &hash_password(PASSWORD),
            store.now_ms(),
        )
        .await
        .unwrap();
    store.close().await;
    TestApp::start(dir, keys, config).await
}

/// A signed-in (or not) administrator's browser, cookies by hand so tests see them.
pub struct Admin<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    pub cookie: String,
    pub csrf: String,
    /// The page the last sign-in answered.
    pub last_page: String,
}

/// The `value` of the first `name="csrf"` input in a page.
fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

/// `name=value` of the Set-Cookie header for `name`, and the whole header.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<(String, String)> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| (v.split(';').next().unwrap().to_string(), v.to_string()))
}

impl<'a> Admin<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self::from_address(app, [127, 0, 0, 1])
    }

    /// A browser on another address (every 127.x.y.z reaches the server on 127.0.0.1).
    pub fn from_address(app: &'a TestApp, address: [u8; 4]) -> Self {
        Admin {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .local_address(std::net::IpAddr::from(address))
                .build()
                .unwrap(),
            cookie: String::new(),
            csrf: String::new(),
            last_page: String::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.base)
    }

    /// Signs in through the form; returns the sign-in response's status and Set-Cookie
    /// header of the session (if any).
    pub async fn sign_in(&mut self, user: &str, password: &str) -> (StatusCode, Option<String>) {
        let form = self
            .client
            .get(self.url("/dashboard/login"))
            .send()
            .await
            .unwrap();
        let (login_cookie, _) = set_cookie(&form, "pp_dashboard_login").expect("login cookie");
        let csrf = csrf_of(&form.text().await.unwrap());
        let body = serde_urlencoded::to_string([
            ("csrf", csrf.as_str()),
            ("username", user),
            ("password", password),
        ])
        .unwrap();
        let response = self
            .client
            .post(self.url("/dashboard/login"))
            .header(COOKIE, login_cookie)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let session = set_cookie(&response, "pp_dashboard");
        self.last_page = response.text().await.unwrap_or_default();
        if let Some((pair, _)) = &session {
            self.cookie = pair.clone();
            let (_, page) = self.get("/dashboard").await;
            self.csrf = csrf_of(&page);
        }
        (status, session.map(|(_, header)| header))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .client
            .get(self.url(path))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// Posts a form with the session's CSRF token (unless the fields give their own).
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut pairs: Vec<(&str, &str)> = fields.to_vec();
        if !fields.iter().any(|(k, _)| *k == "csrf") {
            pairs.push(("csrf", &self.csrf));
        }
        self.client
            .post(self.url(path))
            .header(COOKIE, &self.cookie)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&pairs).unwrap())
            .send()
            .await
            .unwrap()
    }
}

pub fn location(response: &reqwest::Response) -> &str {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_gives_a_strict_session_cookie_and_sign_out_ends_it() {
    let app = spawn_with_admin(|_| {}).await;
    let mut admin = Admin::new(&app);
    // Nothing without a session: pages send to the sign-in form.
    for path in [
        "/dashboard",
        "/dashboard/log",
        "/dashboard/users",
        "/dashboard/settings",
        "/dashboard/log.csv",
        "/dashboard/live",
    ] {
        let response = admin.client.get(admin.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), "/dashboard/login");
    }
    let (status, cookie) = admin.sign_in(ADMIN, "wrong password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(cookie.is_none());

    let (status, cookie) = admin.sign_in(ADMIN, PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = cookie.unwrap();
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/dashboard",
        "Max-Age=43200",
    ] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let (status, page) = admin.get("/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Overview") && page.contains(ADMIN));

    // Sign-out needs the form's token, then ends the session for good.
    let refused = admin.post("/dashboard/logout", &[("csrf", "forged")]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(admin.get("/dashboard").await.0, StatusCode::OK);
    // A live feed open at sign-out ends with the session.
    let mut feed = admin
        .client
        .get(admin.url("/dashboard/live"))
        .header(COOKIE, &admin.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    let out = admin.post("/dashboard/logout", &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let (_, cleared) = set_cookie(&out, "pp_dashboard").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while feed.chunk().await.unwrap().is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the live feed outlived its session");
    // The old cookie, replayed, no longer works.
    let (status, _) = admin.get("/dashboard/users").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_are_secure_over_https_or_when_configured() {
    let app = spawn_with_admin(|_| {}).await;
    let client = reqwest::Client::new();
    let response = client
        .get(format!("{}/dashboard/login", app.base))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    let (_, header) = set_cookie(&response, "pp_dashboard_login").unwrap();
    assert!(header.contains("; Secure"), "{header}");

    let app = spawn_with_admin(|c| c.secure_cookies = true).await;
    let mut admin = Admin::new(&app);
    let (_, cookie) = admin.sign_in(ADMIN, PASSWORD).await;
    assert!(cookie.unwrap().contains("; Secure"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_their_csrf_token_change_nothing() {
    let app = spawn_with_admin(|_| {}).await;
    let mut admin = Admin::new(&app);
    admin.sign_in(ADMIN, PASSWORD).await;
    let change = [
        ("policy", "fixed"),
        ("value", "0.9"),
        ("overrides", ""),
        ("demo_policy", "target_far 0.05"),
        ("min_actions", "5"),
        ("lockout_trust", "30"),
        ("retention_days", "90"),
        ("action", "save"),
    ];
    for token in ["", "0000", &admin.csrf.to_uppercase()] {
        let mut fields = change.to_vec();
        fields.push(("csrf", token));
        let response = admin.post("/dashboard/settings", &fields).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "token {token:?}");
    }
    // Another administrator session's token is not this one's.
    let mut other = Admin::new(&app);
    other.sign_in(ADMIN, PASSWORD).await;
    assert_ne!(other.csrf, admin.csrf);
    let mut fields = change.to_vec();
    fields.push(("csrf", &other.csrf));
    assert_eq!(
        admin.post("/dashboard/settings", &fields).await.status(),
        StatusCode::FORBIDDEN
    );
    let (_, settings) = app.get("/v1/settings", &app.keys.secret).await;
    assert_eq!(settings["threshold"], json!({"target_far": 0.01}));

    // Sign-in itself: no double-submit cookie, no sign-in.
    let response = admin
        .client
        .post(admin.url("/dashboard/login"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("csrf=x&username={ADMIN}&password={PASSWORD}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&response, "pp_dashboard").is_none());

    // With the token the same form works.
    let response = admin.post("/dashboard/settings", &change).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, settings) = app.get("/v1/settings", &app.keys.secret).await;
    assert_eq!(settings["threshold"], json!({"fixed": 0.9}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_slow_their_source_down_not_the_account() {
    let app = spawn_with_admin(|_| {}).await;
    // Someone fails five times in the administrator's name...
    let mut attacker = Admin::new(&app);
    let mut pages = Vec::new();
    for user in [ADMIN, ADMIN, "nobody", ADMIN, "nobody"] {
        let (status, session) = attacker.sign_in(user, "guess").await;
        assert_eq!((status, session), (StatusCode::UNAUTHORIZED, None));
        pages.push(attacker.last_page.clone());
    }
    // ...and the answers never told whether the name exists.
    for page in &pages {
        assert!(page.contains("Wrong user name or password."), "{page}");
    }
    // Their address must now wait, even with the right password.
    let (status, session) = attacker.sign_in(ADMIN, PASSWORD).await;
    assert_eq!((status, session), (StatusCode::UNAUTHORIZED, None));
    assert!(
        attacker
            .last_page
            .contains("Too many failed sign-ins from your address"),
        "{}",
        attacker.last_page
    );
    // The administrator, elsewhere, is not locked out.
    let mut owner = Admin::from_address(&app, [127, 0, 0, 2]);
    let (status, session) = owner.sign_in(ADMIN, PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(session.is_some());
}

/// Reads server-sent events until one whose JSON satisfies `wanted`.
async fn next_event(
    feed: &mut reqwest::Response,
    buffer: &mut String,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            while let Some(end) = buffer.find("\n\n") {
                let message: String = buffer.drain(..end + 2).collect();
                for line in message.lines() {
                    if let Some(data) = line.strip_prefix("data: ") {
                        let value: Value = serde_json::from_str(data).unwrap();
                        if wanted(&value) {
                            return value;
                        }
                    }
                }
            }
            let chunk = feed.chunk().await.unwrap().expect("feed open");
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .expect("the event within 10 s")
}

/// Sends a session of `actor`'s as `user`'s session `check-SEED` and verifies it.
async fn verify(app: &TestApp, user: &str, actor: u64, seed: u64) -> (u16, Value) {
    let rec = session(&style(actor), seed, 40);
    let session_id = format!("check-{seed}");
    app.send_session(user, &session_id, &rec, 500).await;
    app.post(
        "/v1/verify",
        &app.keys.secret,
        &json!({"user_id": user, "session_id": session_id}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_reach_the_log_and_feed_and_settings_and_keys_take_effect() {
    // 50 decisions of one user in a row: more than the default verify limit allows.
    let app = spawn_with_admin(|c| c.verify_per_user_per_minute = 0).await;
    enrolled(&app, 2).await;
    let mut admin = Admin::new(&app);
    admin.sign_in(ADMIN, PASSWORD).await;

    // The live feed is open before the decision is made.
    let mut feed = admin
        .client
        .get(admin.url("/dashboard/live"))
        .header(COOKIE, &admin.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    assert!(
        feed.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut buffer = String::new();

    let (status, verdict) = verify(&app, "user1", 0, 501).await;
    assert_eq!(status, 200, "{verdict}");
    assert_eq!(verdict["decision"], "reject");
    let event = next_event(&mut feed, &mut buffer, |e| e["session_id"] == "check-501").await;
    assert_eq!(event["type"], "decision");
    assert_eq!(event["user_id"], "user1");
    assert_eq!(event["decision"], "reject");

    // A continuous session that a stranger takes over is locked, and the feed says so.
    let url = format!(
        "{}/v1/sessions/takeover/stream?key={}",
        app.base.replace("http", "ws"),
        app.keys.ingest
    );
    let (_socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    app.send_session("user0", "takeover", &session(&style(1), 4343, 60), 100)
        .await;
    let lock = next_event(&mut feed, &mut buffer, |e| e["type"] == "lock").await;
    assert_eq!(
        (lock["user_id"].as_str(), lock["session_id"].as_str()),
        (Some("user0"), Some("takeover"))
    );
    assert!(lock["trust"].as_f64().unwrap() < 30.0, "{lock}");

    // The log shows it, filters find it or leave it out, the CSV has it.
    let (_, log) = admin.get("/dashboard/log").await;
    assert!(log.contains("check-501") && log.contains("user1"));
    let (_, accepted) = admin.get("/dashboard/log?decision=accept").await;
    assert!(!accepted.contains("check-501"));
    let (_, user0) = admin.get("/dashboard/log?user=user0").await;
    assert!(!user0.contains("check-501"));
    let (_, rejected) = admin.get("/dashboard/log?user=user1&decision=reject").await;
    assert!(rejected.contains("check-501") && rejected.contains("of 1, newest first"));
    let (_, future) = admin.get("/dashboard/log?from=2999-01-01T00:00").await;
    assert!(!future.contains("check-501") && future.contains("No decision matches"));
    let (status, bad) = admin.get("/dashboard/log?from=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(bad.contains("yesterday"));
    let (status, csv) = admin.get("/dashboard/log.csv?user=user1").await;
    assert_eq!(status, StatusCode::OK);
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("time_utc,id,user_id,session_id,decision")
    );
    let row = lines.next().unwrap();
    assert!(row.contains(",user1,check-501,reject,"), "{row}");
    assert_eq!(lines.next(), None);

    // A preview says what a fixed threshold of 0 would have done, and saves nothing.
    let mut fields = vec![
        ("policy", "fixed"),
        ("value", "0"),
        ("overrides", ""),
        ("demo_policy", "target_far 0.05"),
        ("min_actions", "5"),
        ("lockout_trust", "30"),
        ("retention_days", "90"),
        ("preview_n", "50"),
        ("action", "preview"),
    ];
    let preview = admin.post("/dashboard/settings", &fields).await;
    assert_eq!(preview.status(), StatusCode::OK);
    let preview = preview.text().await.unwrap();
    assert!(
        preview.contains("<strong id=\"preview-changed\">1</strong> of 1"),
        "{preview}"
    );
    let (_, settings) = app.get("/v1/settings", &app.keys.secret).await;
    assert_eq!(settings["threshold"], json!({"target_far": 0.01}));

    // Saved, the same impostor is now accepted: the next verify uses it.
    fields.pop();
    fields.push(("action", "save"));
    let saved = admin.post("/dashboard/settings", &fields).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (_, verdict) = verify(&app, "user1", 0, 502).await;
    assert_eq!(verdict["decision"], "accept");
    assert_eq!(verdict["threshold"], 0.0);
    // A per-user override wins over it.
    fields[2] = ("overrides", "user1 fixed 1");
    assert_eq!(fields[3].0, "demo_policy");
    admin.post("/dashboard/settings", &fields).await;
    let (_, verdict) = verify(&app, "user1", 0, 503).await;
    assert_eq!(verdict["decision"], "reject");
    assert_eq!(verdict["threshold"], 1.0);
    // A bad value is explained and changes nothing.
    fields[1] = ("value", "1.5");
    let refused = admin.post("/dashboard/settings", &fields).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("[0, 1]"));

    // A key made on the dashboard works until it is revoked there.
    let created = admin
        .post(
            "/dashboard/keys",
            &[("name", "ci robot"), ("role", "secret")],
        )
        .await
        .text()
        .await
        .unwrap();
    let at = created.find("id=\"new-key-value\">").unwrap() + 19;
    let key = &created[at..at + created[at..].find('<').unwrap()];
    assert!(key.starts_with("pp_secret_"), "{key}");
    assert_eq!(app.get("/v1/users", key).await.0, 200);
    let (_, keys) = app.get("/v1/keys", &app.keys.admin).await;
    let id = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "ci robot")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let id_text = id.to_string();
    let revoked = admin
        .post(
            &format!("/dashboard/keys/{id}/revoke"),
            &[("confirm", id_text.as_str())],
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    let (status, reply) = app.get("/v1/users", key).await;
    assert_eq!(status, 401);
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );

    // The user page draws the model and the timeline; the replay gets the events.
    let (status, page) = admin.get("/dashboard/users/user1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.matches("<svg").count(), 2, "histogram and timeline");
    assert!(page.contains("enrol-1-0"));
    let (status, trajectory) = admin.get("/dashboard/sessions/enrol-1-0/trajectory").await;
    assert_eq!(status, StatusCode::OK);
    let trajectory: Value = serde_json::from_str(&trajectory).unwrap();
    assert!(trajectory["events"].as_array().unwrap().len() > 100);
    let (status, _) = admin.get("/dashboard/sessions/nope/trajectory").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The log comes a page of 50 at a time.
    let short = session(&style(0), 600, 8);
    let events = serde_json::to_value(to_native(&short).events).unwrap();
    for _ in 0..50 {
        let body = json!({"user_id": "user0", "events": events});
        assert_eq!(app.post("/v1/verify", &app.keys.secret, &body).await.0, 200);
    }
    let (_, first) = admin.get("/dashboard/log").await;
    assert!(first.contains("Decisions 1–50 of 53"), "{first}");
    assert_eq!(first.matches("<tr data-id=").count(), 50);
    assert!(
        first.contains("href=\"/dashboard/log?user=&#38;decision=&#38;from=&#38;to=&#38;page=1\"")
    );
    let (_, second) = admin.get("/dashboard/log?page=1").await;
    assert!(second.contains("Decisions 51–53 of 53") && second.contains("check-501"));
    assert_eq!(second.matches("<tr data-id=").count(), 3);

    // Reset starts enrolment over and keeps the log; retrain queues a job; erase removes
    // the user everywhere.
    let reset = admin
        .post("/dashboard/users/user1/reset", &[("confirm", "user1")])
        .await;
    assert_eq!(location(&reset), "/dashboard/users/user1?done=reset");
    let (_, user1) = app.get("/v1/users/user1", &app.keys.secret).await;
    assert_eq!(
        (user1["enrolled"].as_bool(), user1["events"].as_u64()),
        (Some(false), Some(0))
    );
    let (_, log) = app
        .get("/v1/decisions?user_id=user1", &app.keys.secret)
        .await;
    assert_eq!(log["decisions"].as_array().unwrap().len(), 3);
    let (status, _) = verify(&app, "user1", 1, 504).await;
    assert_eq!(status, 409, "no model after a reset");
    // The backend confirms the session, so there is something to train on.
    app.api(&app.keys.secret)
        .session_feedback("check-504", pointerprint_client::Label::Genuine)
        .await
        .unwrap();
    let retrain = admin.post("/dashboard/users/user1/train", &[]).await;
    assert_eq!(location(&retrain), "/dashboard/users/user1?done=train");
    assert_eq!(
        app.get("/v1/users/user1", &app.keys.secret).await.1["enrolled"],
        false
    );
    let erase = admin
        .post("/dashboard/users/user0/erase", &[("confirm", "user0")])
        .await;
    assert_eq!(location(&erase), "/dashboard/users?done=erased");
    assert_eq!(app.get("/v1/users/user0", &app.keys.secret).await.0, 404);
}
