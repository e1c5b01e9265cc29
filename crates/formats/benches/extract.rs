//! Throughput of feature extraction over the Balabit training files, in input rows (events)
//! per second on one thread: parsing alone, the whole pipeline from bytes in memory, and the
//! whole pipeline including reading the files (from the page cache, after the first pass).
//!
//! The data folder is `../shared/datasets/balabit-dev/training_files` beside the repository, or
//! `$POINTERPRINT_BENCH_DATA`; without it the benchmark prints a note and measures nothing.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn data_dir() -> PathBuf {
    std::env::var_os("POINTERPRINT_BENCH_DATA").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/datasets/balabit-dev/training_files")
        },
        PathBuf::from,
    )
}

fn bench(c: &mut Criterion) {
    let dir = data_dir();
    if !dir.is_dir() {
        println!(
            "note: skipping the extraction benchmark: no data folder at {} \
             (set POINTERPRINT_BENCH_DATA to a folder of Balabit session files)",
            dir.display()
        );
        return;
    }
    let paths = pointerprint_formats::session_files(&dir).expect("list the session files");
    let files: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| std::fs::read(p).expect("read a session file"))
        .collect();
    let rows: usize = files
        .iter()
        .map(|b| {
            pointerprint_formats::parse(b)
                .expect("parse a session file")
                .recording
                .events
                .len()
        })
        .sum();
    let bytes: usize = files.iter().map(Vec::len).sum();
    println!(
        "{} files, {rows} rows, {:.1} MB from {}",
        files.len(),
        bytes as f64 / 1e6,
        dir.display()
    );

    let mut group = c.benchmark_group("balabit_training");
    group.throughput(Throughput::Elements(rows as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("parse", |b| {
        b.iter(|| {
            let mut n = 0;
            for bytes in &files {
                n += pointerprint_formats::parse(black_box(bytes))
                    .unwrap()
                    .recording
                    .events
                    .len();
            }
            n
        })
    });
    group.bench_function("parse_extract", |b| {
        b.iter(|| {
            let mut n = 0;
            for bytes in &files {
                let recording = pointerprint_formats::parse(black_box(bytes))
                    .unwrap()
                    .recording;
                n += pointerprint_core::extract(&recording).len();
            }
            n
        })
    });
    group.bench_function("read_parse_extract", |b| {
        b.iter(|| {
            let mut n = 0;
            for path in &paths {
                let recording = pointerprint_formats::read_file(black_box(path))
                    .unwrap()
                    .recording;
                n += pointerprint_core::extract(&recording).len();
            }
            n
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
