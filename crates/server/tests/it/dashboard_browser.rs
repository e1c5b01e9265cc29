//! The dashboard in headless Chromium, as an administrator sees it: sign in, watch a
//! decision arrive in the live feed and the log, filter, change the threshold, revoke a
//! key, replay a session. Screenshots of every page go to
//! `target/test-artifacts/dashboard/`.

use std::path::PathBuf;
use std::time::Duration;

use pointerprint_browser::{Browser, LaunchOptions, Page};
use pointerprint_synth::session;
use serde_json::{Value, json};

use crate::dashboard::{ADMIN, PASSWORD, spawn_with_admin};
use crate::support::{TestApp, enrolled, style};

const WAIT: Duration = Duration::from_secs(15);

fn artifacts() -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts/dashboard");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(page: &Page, name: &str) {
    page.screenshot(&artifacts().join(format!("{name}.png")))
        .await
        .unwrap();
}

/// A screenshot with the element `selector` scrolled to the top of the viewport.
async fn shot_at(page: &Page, name: &str, selector: &str) {
    let js = format!("document.querySelector({selector:?}).scrollIntoView()");
    page.evaluate(&js).await.unwrap();
    shot(page, name).await;
}

async fn text(page: &Page, selector: &str) -> String {
    let js = format!("document.querySelector({selector:?})?.innerText ?? ''");
    page.evaluate(&js)
        .await
        .unwrap()
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Submits a form by clicking its button as a person would, and waits for the next page.
async fn click_and_wait(page: &Page, selector: &str) {
    page.evaluate("window.__before = performance.timeOrigin")
        .await
        .unwrap();
    let js = format!("document.querySelector({selector:?}).click()");
    match page.evaluate(&js).await {
        Ok(_) => {}
        // The click navigated before the evaluation could answer: that is what it was for.
        Err(e) if format!("{e:?}").contains("navigated or closed") => {}
        Err(e) => panic!("clicking {selector}: {e:?}"),
    }
    page.wait_for(
        "performance.timeOrigin !== window.__before && document.readyState === 'complete'",
        WAIT,
    )
    .await
    .unwrap();
}

async fn fill(page: &Page, selector: &str, value: &str) {
    let js = format!(
        "(() => {{ const e = document.querySelector({selector:?}); e.value = {value:?}; }})()"
    );
    page.evaluate(&js).await.unwrap();
}

async fn verify(app: &TestApp, user: &str, actor: u64, seed: u64) -> Value {
    let session_id = format!("web-{seed}");
    app.send_session(user, &session_id, &session(&style(actor), seed, 40), 500)
        .await;
    let (status, verdict) = app
        .post(
            "/v1/verify",
            &app.keys.secret,
            &json!({"user_id": user, "session_id": session_id}),
        )
        .await;
    assert_eq!(status, 200, "{verdict}");
    verdict
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_uses_the_dashboard_in_chromium() {
    // Automatic training far off, so a newcomer shows how far their enrolment is.
    let app = spawn_with_admin(|c| c.auto_train_events = 100_000).await;
    enrolled(&app, 3).await;
    app.send_session("newcomer", "first", &session(&style(5), 5, 30), 500)
        .await;
    for (i, (user, actor)) in [("user0", 0), ("user1", 1), ("user2", 0), ("user0", 0)]
        .into_iter()
        .enumerate()
    {
        verify(&app, user, actor, 100 + i as u64).await;
    }
    let browser = Browser::launch(LaunchOptions::default()).await.unwrap();
    let page = browser.new_page().await.unwrap();

    // Any dashboard address leads to the sign-in form; a wrong password is explained.
    page.goto(&format!("{}/dashboard/users", app.base))
        .await
        .unwrap();
    assert!(page.evaluate("location.pathname").await.unwrap() == "/dashboard/login");
    shot(&page, "01-sign-in").await;
    fill(&page, "#username", ADMIN).await;
    fill(&page, "#password", "not the password").await;
    click_and_wait(&page, "#sign-in").await;
    assert!(
        text(&page, "#login-error")
            .await
            .contains("Wrong user name or password")
    );
    shot(&page, "02-sign-in-failed").await;
    fill(&page, "#password", PASSWORD).await;
    click_and_wait(&page, "#sign-in").await;
    assert_eq!(
        page.evaluate("location.pathname").await.unwrap(),
        "/dashboard"
    );
    // The session cookie is HttpOnly: page scripts cannot read it.
    assert_eq!(page.evaluate("document.cookie").await.unwrap(), "");

    // Overview: the live feed connects; a decision made now appears in it.
    page.wait_for(
        "document.getElementById('live-status').classList.contains('on')",
        WAIT,
    )
    .await
    .unwrap();
    assert_eq!(text(&page, "#users-enrolled").await, "3");
    assert_eq!(text(&page, "#users-pending").await, "1");
    let verdict = verify(&app, "user1", 2, 777).await;
    page.wait_for(
        "[...document.querySelectorAll('#live-feed tr')].some(r => r.innerText.includes('web-777'))",
        WAIT,
    )
    .await
    .unwrap();
    let first = text(&page, "#live-feed tr").await;
    assert!(first.contains("user1"), "{first}");
    let label = if verdict["decision"] == "accept" {
        "accepted"
    } else {
        "rejected"
    };
    assert!(first.contains(label), "{first} vs {verdict}");
    shot(&page, "03-overview").await;

    // The log has it; filtering by user and decision narrows it down.
    page.goto(&format!("{}/dashboard/log", app.base))
        .await
        .unwrap();
    assert!(text(&page, "#log-table").await.contains("web-777"));
    shot(&page, "04-log").await;
    fill(&page, "#filter-user", "user0").await;
    page.evaluate("document.querySelector('#filter-decision').value = 'accept'")
        .await
        .unwrap();
    click_and_wait(&page, "#filter-apply").await;
    let rows = page
        .evaluate("[...document.querySelectorAll('#log-table tbody tr')].map(r => r.innerText)")
        .await
        .unwrap();
    let rows = rows.as_array().unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        let row = row.as_str().unwrap();
        assert!(row.contains("user0") && row.contains("accepted"), "{row}");
    }
    assert!(!text(&page, "#log-table").await.contains("web-777"));
    shot(&page, "05-log-filtered").await;

    // Users and one user's page: model quality, timeline, a replayed session.
    page.goto(&format!("{}/dashboard/users", app.base))
        .await
        .unwrap();
    assert_eq!(
        page.evaluate("document.querySelectorAll('#users-table tbody tr').length")
            .await
            .unwrap(),
        4
    );
    let newcomer = text(&page, "#users-table tr[data-user=newcomer]").await;
    assert!(
        newcomer.contains("enrolling:") && newcomer.contains("of 100000 events"),
        "{newcomer}"
    );
    shot(&page, "06-users").await;
    page.goto(&format!("{}/dashboard/users/user0", app.base))
        .await
        .unwrap();
    assert_eq!(
        page.evaluate("document.querySelectorAll('.plot svg').length")
            .await
            .unwrap(),
        2
    );
    page.evaluate("document.querySelector('#replay-speed').value = '0'; document.querySelector('#replay-play').click()")
        .await
        .unwrap();
    page.wait_for(
        "document.getElementById('replay-canvas').dataset.done === 'true'",
        WAIT,
    )
    .await
    .unwrap();
    assert!(text(&page, "#replay-status").await.contains("clicks"));
    // The replay drew something: the canvas is not blank.
    let inked = page
        .evaluate("(() => { const c = document.getElementById('replay-canvas'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })()")
        .await
        .unwrap();
    assert!(inked.as_u64().unwrap() > 2_000, "{inked}");
    shot_at(&page, "07-user-replay", "#replay-canvas").await;
    page.evaluate("window.scrollTo(0, 0)").await.unwrap();
    shot(&page, "08-user").await;

    // Settings: a fixed threshold of 0 is previewed (the rejections would have been
    // accepted), saved, and accepts the next impostor.
    page.goto(&format!("{}/dashboard/settings", app.base))
        .await
        .unwrap();
    shot(&page, "09-settings").await;
    page.evaluate("document.querySelector('input[name=policy][value=fixed]').checked = true")
        .await
        .unwrap();
    fill(&page, "#policy-value", "0").await;
    click_and_wait(&page, "#preview").await;
    let changed: u64 = text(&page, "#preview-changed").await.parse().unwrap();
    assert!(changed >= 1, "a rejected decision would now be accepted");
    shot_at(&page, "10-settings-preview", "#preview-result").await;
    click_and_wait(&page, "#save-settings").await;
    assert!(text(&page, "#notice").await.contains("saved"));
    let verdict = verify(&app, "user0", 1, 900).await;
    assert_eq!(verdict["decision"], "accept", "{verdict}");
    assert_eq!(verdict["threshold"], 0.0);

    // API keys: create one, use it, revoke it, see it refused.
    fill(&page, "#key-name", "browser test").await;
    page.evaluate("document.querySelector('#key-role').value = 'secret'")
        .await
        .unwrap();
    click_and_wait(&page, "#create-key").await;
    let key = text(&page, "#new-key-value").await;
    assert!(key.starts_with("pp_secret_"), "{key}");
    shot_at(&page, "11-settings-new-key", "#keys").await;
    assert_eq!(app.get("/v1/users", &key).await.0, 200);
    // The revoke button asks first; the test answers yes.
    page.evaluate("window.confirm = () => true").await.unwrap();
    let revoke = "[...document.querySelectorAll('#keys-table tr')].find(r => r.innerText.includes('browser test')).querySelector('button')";
    page.evaluate("window.__before = performance.timeOrigin")
        .await
        .unwrap();
    page.evaluate(&format!("{revoke}.click()")).await.unwrap();
    page.wait_for(
        "performance.timeOrigin !== window.__before && document.readyState === 'complete'",
        WAIT,
    )
    .await
    .unwrap();
    assert!(text(&page, "#notice").await.contains("revoked"));
    assert_eq!(app.get("/v1/users", &key).await.0, 401);

    // Signing out ends it: the pages send back to the sign-in form.
    click_and_wait(&page, ".signout button").await;
    page.goto(&format!("{}/dashboard/settings", app.base))
        .await
        .unwrap();
    assert_eq!(
        page.evaluate("location.pathname").await.unwrap(),
        "/dashboard/login"
    );
    assert!(
        page.console().iter().all(|l| !l.starts_with("exception")),
        "{:?}",
        page.console()
    );
}
