//! Commands that work on a data folder directly: import, keys, key rotation.

use std::process::Command;

fn pointerprint(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pointerprint"))
        .args(args)
        .output()
        .expect("the binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn import_keys_and_encryption_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let synth = dir.path().join("synth");
    let (ok, text) = pointerprint(&[
        "synth",
        "--out",
        synth.to_str().unwrap(),
        "--users",
        "2",
        "--sessions",
        "2",
        "--actions",
        "20",
    ]);
    assert!(ok, "{text}");
    let files = synth.join("training_files/user1");

    let (ok, text) = pointerprint(&[
        "import",
        "--data",
        data,
        "--user",
        "carol",
        files.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("2 sessions"), "{text}");

    let (ok, key) = pointerprint(&["keys", "create", "--data", data, "--role", "secret"]);
    assert!(ok && key.trim().starts_with("pp_secret_"), "{key}");

    let key_file = dir.path().join("data/encryption.key");
    let before = std::fs::read_to_string(&key_file).unwrap();
    let (ok, text) = pointerprint(&["keys", "rotate-encryption", "--data", data]);
    assert!(ok, "{text}");
    let after = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(before, after, "the key file holds the new key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The data opens and reads under the new key: re-importing finds the sessions stored.
    let (ok, text) = pointerprint(&[
        "import",
        "--data",
        data,
        "--user",
        "carol",
        files.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("0 sessions"), "{text}");

    // The old key no longer opens it.
    std::fs::write(&key_file, before).unwrap();
    let (ok, text) = pointerprint(&[
        "import",
        "--data",
        data,
        "--user",
        "carol",
        files.to_str().unwrap(),
    ]);
    assert!(!ok, "{text}");
    assert!(text.contains("wrong key"), "{text}");

    for bad in ["", "a\u{7}b"] {
        let (ok, text) = pointerprint(&[
            "import",
            "--data",
            data,
            "--user",
            bad,
            files.to_str().unwrap(),
        ]);
        assert!(
            !ok && text.contains("--user must"),
            "user id {bad:?} is refused: {text}"
        );
    }
}
