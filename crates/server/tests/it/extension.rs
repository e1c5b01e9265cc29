//! The Chrome extension in extension/, loaded unpacked into a real Chromium: configured on
//! its options page, it delivers the mouse events of an ordinary page to the service.

use std::path::{Path, PathBuf};

use pointerprint_core::EventKind;
use pointerprint_synth::MotorStyle;
use sha2::{Digest, Sha256};

use crate::support::TestApp;
use crate::web::{self, Person, eval, static_site, wait};

fn extension_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../extension")
        .canonicalize()
        .unwrap()
}

/// Chromium's id of an unpacked extension: the SHA-256 of its folder's absolute path, first
/// 16 bytes, each hex digit written as a letter from `a` to `p`.
fn unpacked_extension_id(dir: &Path) -> String {
    let digest = Sha256::digest(dir.to_str().unwrap().as_bytes());
    hex::encode(&digest[..16])
        .chars()
        .map(|c| (b'a' + c.to_digit(16).unwrap() as u8) as char)
        .collect()
}

#[test]
fn the_extension_ships_the_sdk_the_service_serves() {
    let shipped = std::fs::read_to_string(extension_dir().join("sdk.js")).unwrap();
    assert!(
        shipped == include_str!("../../assets/sdk.js"),
        "extension/sdk.js differs from crates/server/assets/sdk.js: copy it over"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unpacked_extension_delivers_events_from_an_ordinary_page() {
    let app = TestApp::spawn().await;
    let dir = extension_dir();
    let browser = web::browser(vec![dir.clone()]).await;
    let page = browser.new_page().await.unwrap();

    let options = format!(
        "chrome-extension://{}/options.html",
        unpacked_extension_id(&dir)
    );
    page.goto(&options).await.unwrap();
    wait(&page, "document.getElementById('server').value !== ''").await;
    let opened = app
        .api(&app.keys.secret)
        .open_session(
            "extension-user",
            pointerprint_client::Purpose::Continuous,
            None,
        )
        .await
        .unwrap();
    let fill = format!(
        "document.getElementById('server').value = {:?};
         document.getElementById('token').value = {:?};
         document.getElementById('save').click();",
        app.base, opened.token
    );
    eval(&page, &fill).await;
    wait(&page, "document.body.dataset.saved === 'true'").await;

    let plain =
        "<!doctype html><html><body><h1>News of the day</h1><p>Nothing to see.</p></body></html>";
    let site = static_site(vec![("/", plain.to_owned())]).await;
    page.goto(&format!("{site}/")).await.unwrap();
    let style = MotorStyle::from_seed(31);
    let mut person = Person::new(&page, &style, 1);
    let clicks = [(300.0, 200.0), (800.0, 500.0), (500.0, 650.0)];
    for &to in &clicks {
        person.click_at(to, 40.0).await;
        person.pause();
    }
    // The content script's batches go out every two seconds (the SDK's default).
    let store = pointerprint_server::startup::open_store(&app.config)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let recording = loop {
        let sessions = store.user_sessions("extension-user").await.unwrap();
        let presses = |s: &pointerprint_storage::SessionEvents| {
            s.recording
                .events
                .iter()
                .filter(|e| e.kind == EventKind::Press)
                .count()
        };
        if let Some(s) = sessions.iter().find(|s| presses(s) == clicks.len()) {
            break s.recording.clone();
        }
        assert!(
            started.elapsed() < web::WAIT,
            "events did not arrive: {:#?}",
            page.console()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    store.close().await;
    let pressed: Vec<(f64, f64)> = recording
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Press)
        .map(|e| (e.x, e.y))
        .collect();
    let sent: Vec<(f64, f64)> = person
        .sent
        .iter()
        .filter(|i| i.action == pointerprint_browser::MouseAction::Press)
        .map(|i| (i.x, i.y))
        .collect();
    for (p, s) in pressed.iter().zip(&sent) {
        assert!(
            (p.0 - s.0).abs() < 0.01 && (p.1 - s.1).abs() < 0.01,
            "{pressed:?} vs {sent:?}"
        );
    }
    let moves = recording
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Move)
        .count();
    assert!(moves > 20, "{moves} moves");
}
