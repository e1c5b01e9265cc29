//! The `pointerprint` binary end to end: synthetic users in, scores and reports out.

use std::path::Path;
use std::process::{Command, Output};

fn pointerprint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pointerprint"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = pointerprint(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn synth(dir: &Path) {
    let out = dir.to_str().unwrap();
    ok(&[
        "synth",
        "--out",
        out,
        "--users",
        "5",
        "--sessions",
        "2",
        "--actions",
        "150",
        "--tests",
        "8",
        "--test-actions",
        "30",
    ]);
}

#[test]
fn eval_on_synthetic_users_separates_them() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path());
    let d = |p: &str| dir.path().join(p).to_str().unwrap().to_string();
    let stdout = ok(&[
        "eval",
        "--train",
        &d("training_files"),
        "--test",
        &d("test_files"),
        "--labels",
        &d("labels.csv"),
        "--out",
        &d("out"),
        "--iterations",
        "60",
    ]);
    assert!(stdout.contains("AUC"), "{stdout}");

    let scores = std::fs::read_to_string(dir.path().join("out/scores.csv")).unwrap();
    let mut lines = scores.lines();
    assert_eq!(lines.next(), Some("filename,user,score"));
    assert_eq!(lines.count(), 5 * 8);

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["sessions"], 40);
    let auc = report["auc"].as_f64().unwrap();
    let eer = report["eer"].as_f64().unwrap();
    assert!(auc >= 0.95, "AUC {auc}");
    assert!(eer <= 0.15, "EER {eer}");
    assert_eq!(report["users"].as_array().unwrap().len(), 5);
    for plot in ["roc.png", "det.png", "scores.png"] {
        let bytes = std::fs::read(dir.path().join("out").join(plot)).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{plot}");
    }
}

#[test]
fn split_protocol_reports_every_window() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path());
    let d = |p: &str| dir.path().join(p).to_str().unwrap().to_string();
    let stdout = ok(&[
        "eval",
        "--protocol",
        "split",
        "--data",
        &d("training_files"),
        "--out",
        &d("split"),
        "--iterations",
        "40",
    ]);
    assert!(stdout.contains("AUC"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("split/report.json")).unwrap())
            .unwrap();
    let windows = report["windows"].as_array().unwrap();
    let sizes: Vec<u64> = windows
        .iter()
        .map(|w| w["actions"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, vec![1, 5, 10, 20]);
    let auc = |i: usize| windows[i]["metrics"]["auc"].as_f64().unwrap();
    assert!(
        auc(3) > auc(0),
        "more actions should decide better: {} vs {}",
        auc(3),
        auc(0)
    );
    assert!(auc(3) > 0.9, "{}", auc(3));
}

/// A benchmark-format CSV of `subjects` synthetic typists, 400 typings each.
fn keystroke_csv(path: &Path, subjects: u64) {
    use pointerprint_formats::{CmuRepetition, write_cmu_keystroke};
    let keys = ["period", "t", "i", "Return"];
    let mut rows = Vec::new();
    for s in 0..subjects {
        let typist = pointerprint_synth::Typist::from_seed(s, keys.len());
        for i in 0..400u32 {
            rows.push(CmuRepetition {
                subject: format!("s{s:03}"),
                session: 1 + i / 50,
                rep: 1 + i % 50,
                sample: typist.typing(u64::from(i), 0.0),
            });
        }
    }
    std::fs::write(path, write_cmu_keystroke(&keys, &rows).unwrap()).unwrap();
}

#[test]
fn keystroke_protocols_report_the_mean_subject_eer() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("cmu.csv");
    keystroke_csv(&data, 4);
    let d = |p: &str| dir.path().join(p).to_str().unwrap().to_string();
    let data = data.to_str().unwrap();
    let stdout = ok(&[
        "eval",
        "--protocol",
        "keystroke",
        "--data",
        data,
        "--out",
        &d("paper"),
    ]);
    assert!(stdout.contains("mean per-subject EER"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("paper/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["protocol"], "keystroke");
    assert_eq!(report["detector"], "ensemble");
    let (mean, sd) = (
        report["mean_subject_eer"].as_f64().unwrap(),
        report["sd_subject_eer"].as_f64().unwrap(),
    );
    assert!((0.0..0.2).contains(&mean) && sd >= 0.0, "{mean} {sd}");
    assert_eq!(report["subjects"].as_array().unwrap().len(), 4);
    assert!(report["auc"].as_f64().unwrap() > 0.85);
    assert!(report["frr_at_far_1_percent"].as_f64().is_some());
    let det = std::fs::read(dir.path().join("paper/det.png")).unwrap();
    assert!(det.starts_with(b"\x89PNG"));

    ok(&[
        "eval",
        "--protocol",
        "keystroke-background",
        "--folds",
        "2",
        "--data",
        data,
        "--out",
        &d("background"),
    ]);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("background/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["protocol"], "keystroke-background");
    assert_eq!(report["folds"], 2);
    assert!(
        report["description"]
            .as_str()
            .unwrap()
            .contains("NOT the paper's protocol")
    );
}

#[test]
fn keystroke_eval_refuses_a_bad_file_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("bad.csv");
    std::fs::write(
        &data,
        "subject,sessionIndex,rep,H.a,DD.a.b,UD.a.b,H.b\ns002,1,1,0.1,0.3,0.2,-0.2\n",
    )
    .unwrap();
    let out = pointerprint(&[
        "eval",
        "--protocol",
        "keystroke",
        "--data",
        data.to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2, column 7") && stderr.contains("before key-down"),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn features_writes_one_row_per_action() {
    let dir = tempfile::tempdir().unwrap();
    synth(dir.path());
    let out = dir.path().join("f.csv");
    let stdout = ok(&[
        "features",
        "--input",
        dir.path().join("training_files/user1").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let csv = std::fs::read_to_string(&out).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with("file,action,action_type,elapsed_time"));
    let columns = header.split(',').count();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert!(rows.len() > 100, "{}", rows.len());
    assert!(rows.iter().all(|r| r.split(',').count() == columns));
    assert!(
        stdout.contains(&format!("{} actions from 2 files", rows.len())),
        "{stdout}"
    );
}

#[test]
fn malformed_input_fails_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.csv");
    std::fs::write(
        &file,
        "client timestamp,button,state,x,y\n1,NoButton,Move,1,2\n2,NoButton,Move,1,oops\n",
    )
    .unwrap();
    let out = pointerprint(&[
        "features",
        "--input",
        file.to_str().unwrap(),
        "--out",
        dir.path().join("f.csv").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.csv")
            && stderr.contains("line 3, column 19")
            && stderr.contains("y is not a number"),
        "{stderr}"
    );

    let out = pointerprint(&[
        "eval",
        "--train",
        "/nonexistent",
        "--test",
        "/nonexistent",
        "--out",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2), "usage errors exit with 2");
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a folder"));
}

#[test]
fn eval_works_with_very_little_training_data() {
    let dir = tempfile::tempdir().unwrap();
    let d = |p: &str| dir.path().join(p).to_str().unwrap().to_string();
    ok(&[
        "synth",
        "--out",
        &d(""),
        "--users",
        "3",
        "--sessions",
        "1",
        "--actions",
        "15",
        "--tests",
        "2",
        "--test-actions",
        "5",
    ]);
    let stdout = ok(&[
        "eval",
        "--train",
        &d("training_files"),
        "--test",
        &d("test_files"),
        "--labels",
        &d("labels.csv"),
        "--out",
        &d("out"),
        "--iterations",
        "20",
    ]);
    assert!(
        stdout.contains("6 test sessions scored against 3 user models"),
        "{stdout}"
    );
}
