use pointerprint_core::{Button, EventKind, Recording};
use pointerprint_formats::{
    CsvFlavour, Format, ParseError, ReadError, detect, parse, read_file, session_files, to_native,
    write_csv,
};

fn err(input: &str) -> ParseError {
    parse(input.as_bytes()).expect_err("input should be rejected")
}

#[test]
fn balabit_rows_become_events_in_milliseconds() {
    let r = parse(
        b"record timestamp,client timestamp,button,state,x,y\n\
          0.0,0.0,NoButton,Move,1043,410\n\
          0.23,0.094,Left,Pressed,1019,410\n\
          0.3,0.2,Left,Drag,1020,411\n\
          0.4,0.25,Left,Released,1020,411\n\
          0.5,0.3,Scroll,Down,1020,411\n",
    )
    .unwrap()
    .recording;
    assert_eq!(r.events.len(), 5);
    assert_eq!(r.events[1].t, 94.0);
    assert_eq!(
        (r.events[1].kind, r.events[1].button),
        (EventKind::Press, Button::Left)
    );
    assert_eq!(r.events[2].kind, EventKind::Drag);
    assert!(matches!(r.events[4].kind, EventKind::Wheel { dy, .. } if dy > 0.0));
}

#[test]
fn five_column_rows_are_milliseconds() {
    let r = parse(
        b"client timestamp,button,state,x,y\r\n15585,NoButton,Move,967,706\r\n31881,Left,Pressed,145,167\r\n31990,Left,Released,145,167\r\n",
    )
    .unwrap()
    .recording;
    assert_eq!(r.events.len(), 3);
    assert_eq!(r.events[0].t, 15585.0);
    assert_eq!(r.events[2].kind, EventKind::Release);
}

#[test]
fn headerless_csv_is_detected_by_its_shape() {
    assert_eq!(
        detect(b"0.1,0.1,NoButton,Move,1,2\n"),
        Some(Format::BalabitCsv)
    );
    assert_eq!(
        detect(b"15,NoButton,Move,1,2\n"),
        Some(Format::FiveColumnCsv)
    );
    assert_eq!(detect(b"hello,world\n"), None);
}

#[test]
fn malformed_csv_names_line_and_column() {
    let header = "client timestamp,button,state,x,y\n";
    let e = err(&format!(
        "{header}1,NoButton,Move,1,2\n2,NoButton,Move,abc,2\n"
    ));
    assert_eq!((e.line, e.column), (3, 17));
    assert!(e.message.contains("x is not a number"), "{e}");
    let e = err(&format!("{header}1,Thumb,Move,1\n"));
    assert_eq!((e.line, e.column), (2, 15));
    let e = err(&format!("{header}1,NoButton,Move,1\n"));
    assert!(e.message.contains("expected 5 fields, found 4"), "{e}");
    let e = err(&format!("{header}1,NoButton,Move,1,2,3\n"));
    assert!(e.message.contains("more than 5 fields"), "{e}");
    let e = err(&format!("{header}-5,NoButton,Move,1,2\n"));
    assert!(e.message.contains("negative"), "{e}");
    let e = err(&format!("{header}NaN,NoButton,Move,1,2\n"));
    assert!(e.message.contains("timestamp is not a number"), "{e}");
    assert!(err("").message.contains("empty"));
    assert!(err("what is this").message.contains("unrecognised format"));
}

/// Real data is messy: SapiMouse has `Other` buttons, and a recorder may write a state this
/// reader does not know. Such rows are left out and counted; the rest of the file is read.
#[test]
fn unknown_buttons_and_states_are_counted_not_fatal() {
    let five = "client timestamp,button,state,x,y\n\
                10,NoButton,Move,1,2\n\
                20,Other,Pressed,1,2\n\
                30,Other,Drag,3,2\n\
                40,NoButton,Hover,4,2\n\
                50,Left,Pressed,4,2\n\
                60,Left,Released,4,2\n";
    let parsed = parse(five.as_bytes()).unwrap();
    assert_eq!(parsed.unknown_rows, 3);
    let kinds: Vec<EventKind> = parsed.recording.events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![EventKind::Move, EventKind::Press, EventKind::Release]
    );
    let balabit = "record timestamp,client timestamp,button,state,x,y\n\
                   0.1,0.1,NoButton,Move,10,20\n\
                   0.2,0.2,Thumb,Pressed,10,20\n\
                   0.3,0.3,NoButton,Move,11,20\n";
    let parsed = parse(balabit.as_bytes()).unwrap();
    assert_eq!((parsed.unknown_rows, parsed.recording.events.len()), (1, 2));
    // A known file has none.
    assert_eq!(parse(b"15,NoButton,Move,1,2\n").unwrap().unknown_rows, 0);
}

#[test]
fn balabit_errors_are_located_among_plain_rows() {
    let header = "record timestamp,client timestamp,button,state,x,y\n";
    let good = "0.1,0.1,NoButton,Move,10,20\n";
    let e = err(&format!(
        "{header}{good}{good}0.3,0.3,NoButton,Move,10,2x\n{good}"
    ));
    assert_eq!((e.line, e.column), (4, 26));
    assert!(e.message.contains("y is not a number"), "{e}");
    let e = err(&format!("{header}{good}0.4,0.4,NoButton,Mvoe,10,2O\n"));
    assert_eq!((e.line, e.column), (3, 26));
    assert!(e.message.contains("y is not a number"), "{e}");
    let e = err(&format!("{header}{good}0.5,-0.5,NoButton,Move,10,20"));
    assert_eq!((e.line, e.column), (3, 5));
    assert!(e.message.contains("negative"), "{e}");
    let e = err(&format!("{header}{good}0.6,0.6,NoButton,Move,10,20,30\r\n"));
    assert_eq!((e.line, e.column), (3, 29));
    assert!(e.message.contains("more than 6 fields"), "{e}");
}

#[test]
fn numbers_of_any_form_std_reads_are_read_as_std_reads_them() {
    let header = "record timestamp,client timestamp,button,state,x,y\n";
    let r = parse(
        format!(
            "{header}0.1,0.0939999999828,NoButton,Move,10,20\n\
             x,  2.5e-1 ,Left,Pressed, 3 ,4.\r\n\
             0.3,12345678901234567.125,Left,Released,+7,.5\n\
             0.4,1,NoButton,Move,1043,410"
        )
        .as_bytes(),
    )
    .unwrap()
    .recording;
    let std = |s: &str| s.parse::<f64>().unwrap();
    let got: Vec<(f64, f64, f64)> = r.events.iter().map(|e| (e.t, e.x, e.y)).collect();
    assert_eq!(
        got,
        vec![
            (std("0.0939999999828") * 1000.0, 10.0, 20.0),
            (250.0, 3.0, 4.0),
            (std("12345678901234567.125") * 1000.0, 7.0, 0.5),
            (1000.0, 1043.0, 410.0),
        ]
    );
}

#[test]
fn extension_json_is_read_and_its_errors_located() {
    let r = parse(
        br#"[{"eventType":"mousemove","x":10,"y":20,"timestamp":1700000000000,"button":0,"altKey":false,"ctrlKey":false,"shiftKey":false},
            {"eventType":"click","x":11,"y":21,"timestamp":1700000000100,"button":2},
            {"eventType":"scroll","scrollX":0,"scrollY":0,"timestamp":1700000000200},
            {"eventType":"scroll","scrollX":0,"scrollY":300,"timestamp":1700000000300}]"#,
    )
    .unwrap()
    .recording;
    let kinds: Vec<EventKind> = r.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds.len(), 5);
    assert_eq!(
        (kinds[1], r.events[1].button),
        (EventKind::Press, Button::Right)
    );
    assert_eq!(kinds[2], EventKind::Release);
    assert_eq!(kinds[4], EventKind::Wheel { dx: 0.0, dy: 300.0 });
    assert_eq!((r.events[4].x, r.events[4].y), (11.0, 21.0));

    let e = err("[\n{\"eventType\":\"keydown\",\"timestamp\":1}]");
    assert_eq!(e.line, 2);
    assert!(e.message.contains("unknown variant `keydown`"), "{e}");
    let e = err(r#"[{"eventType":"mousemove","x":"ten","y":1,"timestamp":1}]"#);
    assert!(e.message.contains("invalid type"), "{e}");
    let e = err(r#"[{"eventType":"mousemove","x":1,"y":1,"timestamp":-4}]"#);
    assert!(e.message.contains("negative"), "{e}");
    let e = err(r#"[{"eventType":"mousemove","x":1,"y":1,"timestamp":4}"#);
    assert!(e.message.contains("EOF"), "{e}");
}

#[test]
fn native_format_round_trips_and_rejects_unknown_kinds() {
    let input = br#"{"screen":{"width":1920,"height":1080,"device_pixel_ratio":2},
        "events":[{"type":"move","t":1.5,"x":1,"y":2},
                  {"type":"down","t":2,"x":1,"y":2,"button":0},
                  {"type":"move","t":3,"x":5,"y":2,"buttons":1},
                  {"type":"up","t":4,"x":5,"y":2,"button":0},
                  {"type":"move","t":5,"x":9,"y":9,"pointer":"touch"},
                  {"type":"wheel","t":6,"x":5,"y":2,"dx":0,"dy":-53}]}"#;
    let r = parse(input).unwrap().recording;
    assert_eq!(r.screen.unwrap().device_pixel_ratio, 2.0);
    let kinds: Vec<EventKind> = r.events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::Move,
            EventKind::Press,
            EventKind::Drag,
            EventKind::Release,
            EventKind::Wheel { dx: 0.0, dy: -53.0 }
        ]
    );
    let again = serde_json::to_vec(&to_native(&r)).unwrap();
    assert_eq!(parse(&again).unwrap().recording, r);

    let e = err("{\"events\":[\n  {\"type\":\"hover\",\"t\":1,\"x\":1,\"y\":1}]}");
    assert_eq!(e.line, 2);
    assert!(e.message.contains("unknown variant `hover`"), "{e}");
    let e = err(r#"{"events":[{"type":"move","t":1,"x":1}]}"#);
    assert!(e.message.contains("missing field `y`"), "{e}");
}

#[test]
fn csv_writers_round_trip() {
    let r = parse(
        b"client timestamp,button,state,x,y\n10,NoButton,Move,1,2\n20,Left,Pressed,1,2\n30,Left,Drag,4,2\n40,Left,Released,4,2\n50,Scroll,Up,4,2\n",
    )
    .unwrap()
    .recording;
    for flavour in [CsvFlavour::Balabit, CsvFlavour::FiveColumn] {
        let mut out = Vec::new();
        write_csv(&r, flavour, &mut out).unwrap();
        let back: Recording = parse(&out).unwrap().recording;
        assert_eq!(back.events.len(), r.events.len());
        for (a, b) in back.events.iter().zip(&r.events) {
            assert!(
                (a.t - b.t).abs() < 1e-6 && a.x == b.x && a.kind == b.kind && a.button == b.button
            );
        }
    }
}

#[test]
fn files_and_folders_are_read_with_their_path_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("user1")).unwrap();
    std::fs::write(
        dir.path().join("user1/b"),
        "client timestamp,button,state,x,y\n1,NoButton,Move,1,2\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("user1/a"),
        "client timestamp,button,state,x,y\n1,NoButton,Move,1,2x\n",
    )
    .unwrap();
    std::fs::write(dir.path().join(".hidden"), "junk").unwrap();
    let files = session_files(dir.path()).unwrap();
    assert_eq!(files.len(), 2);
    assert!(files[0].ends_with("user1/a"));
    let e = read_file(&files[0]).unwrap_err();
    assert!(matches!(e, ReadError::Parse { .. }));
    let text = e.to_string();
    assert!(
        text.contains("user1/a") && text.contains("line 2, column 19"),
        "{text}"
    );
    assert!(matches!(
        read_file(&dir.path().join("nope")),
        Err(ReadError::Io { .. })
    ));
}

proptest::proptest! {
    #[test]
    fn no_input_makes_a_reader_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
        let _ = parse(&bytes);
        let mut csv = b"client timestamp,button,state,x,y\n".to_vec();
        csv.extend_from_slice(&bytes);
        let _ = parse(&csv);
    }
}

#[test]
fn a_batch_reads_and_writes_as_collectors_post_it() {
    let body = r#"{"user_id":"alice","session_id":"s1","seq":4,"events":[{"type":"move","t":1.5,"x":10.0,"y":20.0,"buttons":0}],"screen":{"width":1920.0,"height":1080.0,"device_pixel_ratio":1.25}}"#;
    let batch: pointerprint_formats::NativeBatch = serde_json::from_str(body).unwrap();
    assert_eq!((batch.seq, batch.events.len()), (4, 1));
    assert_eq!(serde_json::to_string(&batch).unwrap(), body);
    let unknown = body.replace("\"seq\"", "\"sequence\"");
    assert!(serde_json::from_str::<pointerprint_formats::NativeBatch>(&unknown).is_err());
}
