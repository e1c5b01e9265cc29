//! `pointerprint features`: one CSV row per action of every session file. Files are read,
//! cut into actions and formatted on every core at once; the rows are written in file
//! order as each file's turn comes.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use indicatif::ProgressBar;
use pointerprint_core::extract;
use pointerprint_formats::{
    ReadError, format_feature_rows, read_file, session_files, write_feature_header,
};
use rayon::prelude::*;

use crate::args::FeaturesArgs;

/// A file's rows, formatted, and how many actions they are.
fn rows(path: &Path) -> Result<(Vec<u8>, usize), ReadError> {
    let actions = extract(&read_file(path)?.recording);
    let mut buf = Vec::with_capacity(actions.len() * 700);
    format_feature_rows(&mut buf, &path.display().to_string(), &actions);
    Ok((buf, actions.len()))
}

pub fn run(args: FeaturesArgs) -> anyhow::Result<()> {
    let files = session_files(&args.input)?;
    let writing = || format!("writing {}", args.out.display());
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    write_feature_header(&mut out).with_context(writing)?;
    let bar = ProgressBar::new(files.len() as u64);
    let (sender, received) = std::sync::mpsc::channel();
    let mut actions = 0;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        scope.spawn(|| {
            files
                .par_iter()
                .enumerate()
                .for_each_with(sender, |sender, (i, path)| {
                    // The writer may have stopped on an error; then nobody listens.
                    let _ = sender.send((i, rows(path)));
                });
        });
        // Files finish in any order; each is written when all before it are.
        let mut waiting = BTreeMap::new();
        let mut next = 0;
        for (i, result) in received {
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&next) {
                let (buf, n) = result?;
                out.write_all(&buf).with_context(writing)?;
                actions += n;
                next += 1;
                bar.inc(1);
            }
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    out.flush().with_context(writing)?;
    say!(
        "{actions} actions from {} files written to {}",
        files.len(),
        args.out.display()
    )?;
    Ok(())
}
