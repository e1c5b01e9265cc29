//! The bad-input suite: every endpoint that takes input, sent what it must refuse (wrong
//! types, huge numbers, NaN-ish strings, missing fields, oversized bodies, bad UTF-8, bad ids,
//! impossible screens...). Each case must get its 4xx with an error code, store nothing (the
//! store is compared before and after), and leave the server answering `/healthz`.
//!
//! To add a case, add a row to [`cases`]: a name, the request, the status and the code.

use pointerprint_server::startup::open_store;
use pointerprint_storage::{AccountKind, DecisionQuery, Store};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use serde_json::{Value, json};

use crate::dashboard::{ADMIN, Admin, PASSWORD, spawn_with_admin};
use crate::demo::{DemoClient, open_session};
use crate::support::TestApp;

/// Who sends a request.
#[derive(Clone, Copy, Debug)]
enum Who {
    Nobody,
    Ingest,
    Secret,
    Admin,
    /// The demo's signed-in account (its cookie).
    DemoAccount,
    /// The dashboard's signed-in administrator (cookie; forms get the CSRF token).
    Dashboard,
}

/// What a request carries.
enum Body {
    None,
    Json(Value),
    /// Bytes as they are, sent as JSON.
    Raw(Vec<u8>),
    /// A dashboard form (the session's CSRF token is added unless the fields give one).
    Form(Vec<(&'static str, String)>),
    /// Bytes as they are, sent as a form.
    RawForm(Vec<u8>),
}

/// One request the service must refuse.
struct Case {
    name: &'static str,
    method: Method,
    path: String,
    who: Who,
    body: Body,
    status: u16,
    /// The JSON error's `code`; for the dashboard's pages, a phrase of the page's message.
    code: &'static str,
}

fn case(
    name: &'static str,
    method: Method,
    path: impl Into<String>,
    who: Who,
    body: Body,
    status: u16,
    code: &'static str,
) -> Case {
    Case {
        name,
        method,
        path: path.into(),
        who,
        body,
        status,
        code,
    }
}

fn mv(t: f64, x: f64, y: f64) -> Value {
    json!({"type": "move", "t": t, "x": x, "y": y})
}

/// A batch for `/v1/events` with `events`, changed by `tweak`.
fn batch(events: Value, tweak: impl FnOnce(&mut Value)) -> Body {
    let mut body = json!({"user_id": "known", "session_id": "s-new", "seq": 0, "events": events});
    tweak(&mut body);
    Body::Json(body)
}

fn screen(width: Value, height: Value, ratio: Value) -> Value {
    json!({"width": width, "height": height, "device_pixel_ratio": ratio})
}

/// A verify request for the stored user, changed by `tweak`.
fn verify(tweak: impl FnOnce(&mut Value)) -> Body {
    let mut body = json!({"user_id": "known", "events": [mv(1.0, 10.0, 10.0)]});
    tweak(&mut body);
    Body::Json(body)
}

/// Arrays nested deeper than any parser should follow.
fn deeply_nested() -> Vec<u8> {
    let mut s = "[".repeat(100_000);
    s.push_str(&"]".repeat(100_000));
    s.into_bytes()
}

/// Valid JSON but for one byte that is not UTF-8, inside a string.
fn bad_utf8(json: &str) -> Vec<u8> {
    let mut bytes = json.as_bytes().to_vec();
    let at = bytes.iter().position(|&b| b == b'@').expect("a marker");
    bytes[at] = 0xFF;
    bytes
}

fn cases(max_body: usize) -> Vec<Case> {
    use Method as M;
    use Who::*;
    let ok = || json!([mv(1.0, 10.0, 10.0), mv(9.0, 12.0, 11.0)]);
    let oversized = || vec![b' '; max_body + 1024];
    let events = "/v1/events";
    let save = "/save-mouse-data?user_id=known&session_id=ext-1";
    vec![
        // ---- POST /v1/events ----
        case("time as a word", M::POST, events, Ingest, batch(json!([{"type": "move", "t": "soon", "x": 1, "y": 2}]), |_| {}), 400, "invalid_json"),
        case("negative time", M::POST, events, Ingest, batch(json!([mv(-5.0, 1.0, 2.0)]), |_| {}), 400, "invalid_json"),
        case("time beyond f64", M::POST, events, Ingest, Body::Raw(br#"{"user_id":"known","session_id":"s","seq":0,"events":[{"type":"move","t":1e400,"x":1,"y":2}]}"#.to_vec()), 400, "invalid_json"),
        case("unknown event type", M::POST, events, Ingest, batch(json!([{"type": "teleport", "t": 1, "x": 1, "y": 2}]), |_| {}), 400, "invalid_json"),
        case("x as \"NaN\"", M::POST, events, Ingest, batch(json!([{"type": "move", "t": 1, "x": "NaN", "y": 2}]), |_| {}), 400, "invalid_json"),
        case("y as \"Infinity\"", M::POST, events, Ingest, batch(json!([{"type": "move", "t": 1, "x": 1, "y": "Infinity"}]), |_| {}), 400, "invalid_json"),
        case("x as null", M::POST, events, Ingest, batch(json!([{"type": "move", "t": 1, "x": null, "y": 2}]), |_| {}), 400, "invalid_json"),
        case("missing y", M::POST, events, Ingest, batch(json!([{"type": "move", "t": 1, "x": 1}]), |_| {}), 400, "invalid_json"),
        case("huge x", M::POST, events, Ingest, batch(json!([mv(1.0, 1e300, 2.0)]), |_| {}), 400, "invalid_event"),
        case("wheel delta as \"NaN\"", M::POST, events, Ingest, batch(json!([{"type": "wheel", "t": 1, "x": 1, "y": 2, "dx": 0, "dy": "NaN"}]), |_| {}), 400, "invalid_json"),
        case("time going backwards", M::POST, events, Ingest, batch(json!([mv(9.0, 1.0, 2.0), mv(1.0, 1.0, 2.0)]), |_| {}), 400, "invalid_event"),
        case("negative seq", M::POST, events, Ingest, batch(ok(), |b| b["seq"] = json!(-1)), 400, "invalid_json"),
        case("seq beyond u32", M::POST, events, Ingest, batch(ok(), |b| b["seq"] = json!(4_294_967_296u64)), 400, "invalid_json"),
        case("fractional seq", M::POST, events, Ingest, batch(ok(), |b| b["seq"] = json!(1.5)), 400, "invalid_json"),
        case("seq as a string", M::POST, events, Ingest, batch(ok(), |b| b["seq"] = json!("0")), 400, "invalid_json"),
        case("missing user_id", M::POST, events, Ingest, batch(ok(), |b| { b.as_object_mut().unwrap().remove("user_id"); }), 400, "missing_field"),
        case("missing events", M::POST, events, Ingest, batch(ok(), |b| { b.as_object_mut().unwrap().remove("events"); }), 400, "invalid_json"),
        case("events as an object", M::POST, events, Ingest, batch(json!({"0": mv(1.0, 1.0, 1.0)}), |_| {}), 400, "invalid_json"),
        case("an unknown field", M::POST, events, Ingest, batch(ok(), |b| b["admin"] = json!(true)), 400, "invalid_json"),
        case("user_id as a number", M::POST, events, Ingest, batch(ok(), |b| b["user_id"] = json!(7)), 400, "invalid_json"),
        case("user_id too long", M::POST, events, Ingest, batch(ok(), |b| b["user_id"] = json!("x".repeat(129))), 400, "invalid_id"),
        case("user_id with a control character", M::POST, events, Ingest, batch(ok(), |b| b["user_id"] = json!("a\u{7}b")), 400, "invalid_id"),
        case("user_id with a newline", M::POST, events, Ingest, batch(ok(), |b| b["user_id"] = json!("alice\n")), 400, "invalid_id"),
        case("empty session_id", M::POST, events, Ingest, batch(ok(), |b| b["session_id"] = json!("")), 400, "invalid_id"),
        case("no events", M::POST, events, Ingest, batch(json!([]), |_| {}), 400, "empty_batch"),
        case("too many events", M::POST, events, Ingest, batch(json!(vec![mv(1.0, 1.0, 1.0); 1001]), |_| {}), 413, "too_many_events"),
        case("screen of zero", M::POST, events, Ingest, batch(ok(), |b| b["screen"] = screen(json!(0), json!(0), json!(1))), 400, "invalid_screen"),
        case("negative screen", M::POST, events, Ingest, batch(ok(), |b| b["screen"] = screen(json!(-1920), json!(1080), json!(1))), 400, "invalid_screen"),
        case("screen of 1e-300", M::POST, events, Ingest, batch(ok(), |b| b["screen"] = screen(json!(1e-300), json!(1e-300), json!(1))), 400, "invalid_screen"),
        case("screen of 1e-5", M::POST, events, Ingest, batch(ok(), |b| b["screen"] = screen(json!(1e-5), json!(1e-5), json!(1))), 400, "invalid_screen"),
        case("screen of 1e9", M::POST, events, Ingest, batch(ok(), |b| b["screen"] = screen(json!(1e9), json!(1080), json!(1))), 400, "invalid_screen"),
        case("pixel ratio of 0", M::POST, events, Ingest, batch(ok(), |b| b["screen"] = screen(json!(1920), json!(1080), json!(0))), 400, "invalid_screen"),
        case("screen width as a word", M::POST, events, Ingest, batch(ok(), |b| b["screen"] = screen(json!("wide"), json!(1080), json!(1))), 400, "invalid_json"),
        case("truncated JSON", M::POST, events, Ingest, Body::Raw(b"{\"user_id\": ".to_vec()), 400, "invalid_json"),
        case("JSON null", M::POST, events, Ingest, Body::Raw(b"null".to_vec()), 400, "invalid_json"),
        case("deeply nested arrays", M::POST, events, Ingest, Body::Raw(deeply_nested()), 400, "invalid_json"),
        case("bad UTF-8 in an id", M::POST, events, Ingest, Body::Raw(bad_utf8(r#"{"user_id":"kn@wn","session_id":"s","seq":0,"events":[{"type":"move","t":1,"x":1,"y":2}]}"#)), 400, "invalid_json"),
        case("oversized body", M::POST, events, Ingest, Body::Raw(oversized()), 413, "body_too_large"),
        case("no key", M::POST, events, Nobody, batch(ok(), |_| {}), 401, "unauthorized"),

        // ---- POST /save-mouse-data (the original extension) ----
        case("extension: an object, not an array", M::POST, save, Ingest, Body::Json(json!({"eventType": "mousemove"})), 400, "invalid_json"),
        case("extension: unknown eventType", M::POST, save, Ingest, Body::Json(json!([{"eventType": "hover", "x": 1, "y": 2, "timestamp": 1}])), 400, "invalid_json"),
        case("extension: timestamp as a word", M::POST, save, Ingest, Body::Json(json!([{"eventType": "mousemove", "x": 1, "y": 2, "timestamp": "now"}])), 400, "invalid_json"),
        case("extension: no events", M::POST, save, Ingest, Body::Json(json!([])), 400, "empty_batch"),
        case("extension: huge x", M::POST, save, Ingest, Body::Json(json!([{"eventType": "mousemove", "x": 1e300, "y": 2, "timestamp": 1}])), 400, "invalid_event"),
        case("extension: bad UTF-8", M::POST, save, Ingest, Body::Raw(bad_utf8(r#"[{"eventType":"mousem@ve","x":1,"y":2,"timestamp":1}]"#)), 400, "invalid_json"),
        case("extension: user_id with a control character", M::POST, "/save-mouse-data?user_id=a%07b&session_id=ext-1", Ingest, Body::Json(json!([{"eventType": "mousemove", "x": 1, "y": 2, "timestamp": 1}])), 400, "invalid_id"),
        case("extension: no user_id", M::POST, "/save-mouse-data?session_id=ext-1", Ingest, Body::Json(json!([{"eventType": "mousemove", "x": 1, "y": 2, "timestamp": 1}])), 400, "missing_field"),
        case("extension: oversized body", M::POST, save, Ingest, Body::Raw(oversized()), 413, "body_too_large"),

        // ---- POST /v1/verify ----
        case("verify: missing user_id", M::POST, "/v1/verify", Secret, verify(|b| { b.as_object_mut().unwrap().remove("user_id"); }), 400, "invalid_json"),
        case("verify: user_id with a control character", M::POST, "/v1/verify", Secret, verify(|b| b["user_id"] = json!("kno\u{0}wn")), 400, "invalid_id"),
        case("verify: events as a string", M::POST, "/v1/verify", Secret, verify(|b| b["events"] = json!("many")), 400, "invalid_json"),
        case("verify: x as \"NaN\"", M::POST, "/v1/verify", Secret, verify(|b| b["events"] = json!([{"type": "move", "t": 1, "x": "NaN", "y": 2}])), 400, "invalid_json"),
        case("verify: huge x", M::POST, "/v1/verify", Secret, verify(|b| b["events"] = json!([mv(1.0, 1e300, 2.0)])), 400, "invalid_event"),
        case("verify: time going backwards", M::POST, "/v1/verify", Secret, verify(|b| b["events"] = json!([mv(9.0, 1.0, 2.0), mv(1.0, 1.0, 2.0)])), 400, "invalid_event"),
        case("verify: screen of 1e-5", M::POST, "/v1/verify", Secret, verify(|b| b["screen"] = screen(json!(1e-5), json!(1e-5), json!(1))), 400, "invalid_screen"),
        case("verify: screen of zero", M::POST, "/v1/verify", Secret, verify(|b| b["screen"] = screen(json!(0), json!(0), json!(1))), 400, "invalid_screen"),
        case("verify: an unknown field", M::POST, "/v1/verify", Secret, verify(|b| b["force"] = json!("accept")), 400, "invalid_json"),
        case("verify: an unknown session", M::POST, "/v1/verify", Secret, Body::Json(json!({"user_id": "known", "session_id": "nope"})), 404, "not_found"),
        case("verify: another user's session", M::POST, "/v1/verify", Secret, Body::Json(json!({"user_id": "other", "session_id": "known-1"})), 400, "session_user_mismatch"),
        case("verify: a user without a model", M::POST, "/v1/verify", Secret, verify(|_| {}), 409, "not_enrolled"),
        case("verify: bad UTF-8", M::POST, "/v1/verify", Secret, Body::Raw(bad_utf8(r#"{"user_id":"kn@wn","events":[]}"#)), 400, "invalid_json"),
        case("verify: oversized body", M::POST, "/v1/verify", Secret, Body::Raw(oversized()), 413, "body_too_large"),
        case("verify: the ingest key", M::POST, "/v1/verify", Ingest, verify(|_| {}), 403, "forbidden"),

        // ---- /v1/users ----
        case("users: id with a control character", M::GET, "/v1/users/a%07b", Secret, Body::None, 400, "invalid_id"),
        case("users: id too long", M::DELETE, format!("/v1/users/{}", "x".repeat(129)), Secret, Body::None, 400, "invalid_id"),
        case("users: train an id with a control character", M::POST, "/v1/users/a%0Ab/train", Secret, Body::Json(json!({})), 400, "invalid_id"),
        case("users: reset with the ingest key", M::POST, "/v1/users/known/reset", Ingest, Body::Json(json!({})), 403, "forbidden"),
        case("users: erase with the ingest key", M::DELETE, "/v1/users/known", Ingest, Body::None, 403, "forbidden"),

        // ---- GET /v1/decisions ----
        case("decisions: limit as a word", M::GET, "/v1/decisions?limit=many", Secret, Body::None, 400, "invalid_query"),
        case("decisions: negative limit", M::GET, "/v1/decisions?limit=-1", Secret, Body::None, 400, "invalid_query"),
        case("decisions: limit beyond u32", M::GET, "/v1/decisions?limit=99999999999999999999999", Secret, Body::None, 400, "invalid_query"),
        case("decisions: limit as a fraction", M::GET, "/v1/decisions?limit=1.5", Secret, Body::None, 400, "invalid_query"),

        // ---- PUT /v1/settings ----
        case("settings: min_actions of 0", M::PUT, "/v1/settings", Admin, Body::Json(json!({"threshold": {"target_far": 0.01}, "min_actions": 0})), 400, "invalid_settings"),
        case("settings: an unknown field", M::PUT, "/v1/settings", Admin, Body::Json(json!({"policy": {"target_far": 0.01}})), 400, "invalid_json"),
        case("settings: min_actions as a word", M::PUT, "/v1/settings", Admin, Body::Json(json!({"min_actions": "five"})), 400, "invalid_json"),
        case("settings: an array", M::PUT, "/v1/settings", Admin, Body::Json(json!([])), 400, "invalid_json"),
        case("settings: a number beyond f64", M::PUT, "/v1/settings", Admin, Body::Raw(br#"{"lockout_trust": 1e999}"#.to_vec()), 400, "invalid_json"),
        case("settings: the secret key", M::PUT, "/v1/settings", Secret, Body::Json(json!({})), 403, "forbidden"),

        // ---- /v1/keys ----
        case("keys: unknown role", M::POST, "/v1/keys", Admin, Body::Json(json!({"name": "x", "role": "root"})), 400, "invalid_json"),
        case("keys: missing role", M::POST, "/v1/keys", Admin, Body::Json(json!({"name": "x"})), 400, "invalid_json"),
        case("keys: name as a number", M::POST, "/v1/keys", Admin, Body::Json(json!({"name": 5, "role": "ingest"})), 400, "invalid_json"),
        case("keys: revoke a word", M::DELETE, "/v1/keys/abc", Admin, Body::None, 400, "invalid_path"),
        case("keys: revoke beyond i64", M::DELETE, "/v1/keys/99999999999999999999", Admin, Body::None, 400, "invalid_path"),
        case("keys: revoke an unknown key", M::DELETE, "/v1/keys/424242", Admin, Body::None, 404, "not_found"),

        // ---- the demo's JSON endpoints ----
        case("demo: username too short", M::POST, "/demo/api/register", Nobody, Body::Json(json!({"username": "b", "password": PASSWORD})), 400, "invalid_username"),
        case("demo: username with a space", M::POST, "/demo/api/register", Nobody, Body::Json(json!({"username": "bob smith", "password": PASSWORD})), 400, "invalid_username"),
        case("demo: weak password", M::POST, "/demo/api/register", Nobody, Body::Json(json!({"username": "zed", "password": "pw"})), 400, "weak_password"),
        case("demo: missing password", M::POST, "/demo/api/register", Nobody, Body::Json(json!({"username": "zed"})), 400, "invalid_json"),
        case("demo: username as a number", M::POST, "/demo/api/register", Nobody, Body::Json(json!({"username": 12345, "password": PASSWORD})), 400, "invalid_json"),
        case("demo: bad UTF-8 username", M::POST, "/demo/api/register", Nobody, Body::Raw(bad_utf8(r#"{"username":"z@d","password":"correct horse battery"}"#)), 400, "invalid_json"),
        case("demo: sign-in with x as \"NaN\"", M::POST, "/demo/api/login", Nobody, Body::Json(json!({"username": "dora", "password": PASSWORD, "events": [{"type": "move", "t": 1, "x": "NaN", "y": 2}]})), 400, "invalid_json"),
        case("demo: sign-in with huge x", M::POST, "/demo/api/login", Nobody, Body::Json(json!({"username": "dora", "password": PASSWORD, "events": [mv(1.0, 1e300, 2.0)]})), 400, "invalid_event"),
        case("demo: sign-in with an unknown field", M::POST, "/demo/api/login", Nobody, Body::Json(json!({"username": "dora", "password": PASSWORD, "otp": 1})), 400, "invalid_json"),
        case("demo: events without a sign-in", M::POST, "/demo/api/events", Nobody, Body::Json(json!({"session_id": "demo-dora-1", "seq": 0, "events": [mv(1.0, 1.0, 1.0)]})), 401, "not_signed_in"),
        case("demo: no events", M::POST, "/demo/api/events", DemoAccount, Body::Json(json!({"session_id": "demo-dora-1", "seq": 0, "events": []})), 400, "empty_batch"),
        case("demo: time going backwards", M::POST, "/demo/api/events", DemoAccount, Body::Json(json!({"session_id": "demo-dora-1", "seq": 0, "events": [mv(9.0, 1.0, 2.0), mv(1.0, 1.0, 2.0)]})), 400, "invalid_event"),
        case("demo: seq as a word", M::POST, "/demo/api/events", DemoAccount, Body::Json(json!({"session_id": "demo-dora-1", "seq": "first", "events": [mv(1.0, 1.0, 1.0)]})), 400, "invalid_json"),
        case("demo: oversized body", M::POST, "/demo/api/events", DemoAccount, Body::Raw(oversized()), 413, "body_too_large"),

        // ---- the dashboard's forms ----
        case("dashboard: min_actions as a word", M::POST, "/dashboard/settings", Dashboard, Body::Form(vec![("policy", "target_far".into()), ("value", "0.01".into()), ("min_actions", "many".into()), ("lockout_trust", "30".into()), ("retention_days", "0".into()), ("demo_policy", "target_far 0.05".into())]), 400, "is not a whole number"),
        case("dashboard: a policy value of NaN", M::POST, "/dashboard/settings", Dashboard, Body::Form(vec![("policy", "fixed".into()), ("value", "NaN".into()), ("min_actions", "5".into()), ("lockout_trust", "30".into()), ("retention_days", "0".into()), ("demo_policy", "target_far 0.05".into())]), 400, "must be in [0, 1], got NaN"),
        case("dashboard: a key of an unknown role", M::POST, "/dashboard/keys", Dashboard, Body::Form(vec![("name", "x".into()), ("role", "root".into())]), 400, "unknown role &#39;root&#39;"),
        case("dashboard: a form without its CSRF token", M::POST, "/dashboard/keys", Dashboard, Body::Form(vec![("csrf", String::new()), ("name", "x".into()), ("role", "ingest".into())]), 403, "security token is missing"),
        case("dashboard: revoke a key by a word", M::POST, "/dashboard/keys/abc/revoke", Dashboard, Body::Form(vec![]), 400, "Cannot parse `abc`"),
        case("dashboard: a form that is not a form", M::POST, "/dashboard/keys", Dashboard, Body::RawForm(b"%%%%=&&==\xFF".to_vec()), 400, "unknown role &#39;&#39;"),
        case("dashboard: erase an id with a control character", M::POST, "/dashboard/users/a%07b/erase", Dashboard, Body::Form(vec![]), 400, "must be ASCII letters, digits"),
    ]
}

/// Everything a refused request must not change, read through the store.
async fn stored(store: &Store) -> String {
    format!(
        "users {:?}\ndecisions {:?}\nkeys {:?}\nsettings {:?}\naccounts {:?} {:?}",
        store.users().await.unwrap(),
        store
            .count_decisions(&DecisionQuery::default())
            .await
            .unwrap(),
        store.list_keys().await.unwrap(),
        store.settings().await.unwrap(),
        store.accounts(AccountKind::Demo).await.unwrap(),
        store.accounts(AccountKind::Admin).await.unwrap(),
    )
}

/// The state the cases run against: a user with a stored session, a signed-in demo account
/// and a signed-in administrator.
struct World<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    demo_cookie: String,
    /// The session the demo opened for dora: it stands for `demo-dora-1` in the cases.
    demo_session: String,
    admin: Admin<'a>,
}

impl World<'_> {
    async fn send(&self, c: &Case) -> reqwest::Response {
        let mut request = self
            .http
            .request(c.method.clone(), format!("{}{}", self.app.base, c.path));
        let keys = &self.app.keys;
        match c.who {
            Who::Nobody => {}
            Who::Ingest => {
                request = request.header(AUTHORIZATION, format!("Bearer {}", keys.ingest))
            }
            Who::Secret => {
                request = request.header(AUTHORIZATION, format!("Bearer {}", keys.secret))
            }
            Who::Admin => request = request.header(AUTHORIZATION, format!("Bearer {}", keys.admin)),
            Who::DemoAccount => request = request.header(COOKIE, &self.demo_cookie),
            Who::Dashboard => request = request.header(COOKIE, &self.admin.cookie),
        }
        request = match &c.body {
            Body::None => request,
            Body::Json(value) if matches!(c.who, Who::DemoAccount) => {
                let body = value.to_string().replace("demo-dora-1", &self.demo_session);
                request.header(CONTENT_TYPE, "application/json").body(body)
            }
            Body::Json(value) => request.json(value),
            Body::Raw(bytes) => request
                .header(CONTENT_TYPE, "application/json")
                .body(bytes.clone()),
            Body::Form(fields) => {
                let mut pairs: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                if !fields.iter().any(|(k, _)| *k == "csrf") {
                    pairs.push(("csrf", &self.admin.csrf));
                }
                request
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(serde_urlencoded::to_string(&pairs).unwrap())
            }
            Body::RawForm(bytes) => {
                let mut bytes = bytes.clone();
                bytes.extend_from_slice(format!("&csrf={}", self.admin.csrf).as_bytes());
                request
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(bytes)
            }
        };
        request.send().await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_refuses_bad_input_stores_nothing_and_keeps_serving() {
    let app = spawn_with_admin(|c| c.demo = true).await;
    // A user with a stored session, so that requests about it get past "not found".
    let rec = pointerprint_synth::session(&crate::support::style(0), 1, 20);
    app.send_session("known", "known-1", &rec, 500).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let registered = http
        .post(format!("{}/demo/api/register", app.base))
        .json(&json!({"username": "dora", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 200);
    let demo_cookie = registered.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let mut dora = DemoClient::new(&app);
    dora.cookie = Some(demo_cookie.clone());
    let demo_session = open_session(&mut dora, "enrol").await;
    let mut admin = Admin::new(&app);
    assert_eq!(admin.sign_in(ADMIN, PASSWORD).await.0, 303);
    let world = World {
        app: &app,
        http,
        demo_cookie,
        demo_session,
        admin,
    };
    let store = open_store(&app.config).await.unwrap();

    let cases = cases(app.config.max_body_bytes);
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let before = stored(&store).await;
        let response = world.send(c).await;
        let status = response.status().as_u16();
        let json = response
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|t| t.to_str().unwrap_or("").starts_with("application/json"));
        let text = response.text().await.unwrap();
        let code_ok = if json {
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            body["error"]["code"] == c.code
                && body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
        } else {
            text.contains(c.code)
        };
        if status != c.status || !code_ok {
            failures.push(format!(
                "{}: expected {} {}, got {status} {}",
                c.name,
                c.status,
                c.code,
                text.chars().take(300).collect::<String>()
            ));
        }
        let after = stored(&store).await;
        if before != after {
            failures.push(format!(
                "{}: the store changed:\n{before}\n->\n{after}",
                c.name
            ));
        }
        let health = world
            .http
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200, "after {}", c.name);
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases did not hold:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
