use std::io::{BufWriter, Write};

use anyhow::Context;
use indicatif::ProgressBar;
use pointerprint_core::{FEATURE_NAMES, extract};
use pointerprint_formats::{read_file, session_files};

use crate::args::FeaturesArgs;

pub fn run(args: FeaturesArgs) -> anyhow::Result<()> {
    let files = session_files(&args.input)?;
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut out = BufWriter::new(file);
    write!(out, "file,action")?;
    for name in FEATURE_NAMES {
        write!(out, ",{name}")?;
    }
    writeln!(out)?;
    let bar = ProgressBar::new(files.len() as u64);
    let mut actions = 0;
    for path in &files {
        let features = extract(&read_file(path)?);
        for (i, f) in features.iter().enumerate() {
            write!(out, "{},{i}", path.display())?;
            for v in f.as_slice() {
                write!(out, ",{v}")?;
            }
            writeln!(out)?;
        }
        actions += features.len();
        bar.inc(1);
    }
    bar.finish_and_clear();
    out.flush()
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "{actions} actions from {} files written to {}",
        files.len(),
        args.out.display()
    );
    Ok(())
}
