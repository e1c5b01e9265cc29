use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use pointerprint_formats::{CsvFlavour, write_csv};
use pointerprint_synth::{population, session};

use crate::args::SynthArgs;

/// Writes synthetic users in the challenge layout: every user's training sessions, test
/// sessions of which about half are another user's, and the labels.
pub fn run(args: SynthArgs) -> anyhow::Result<()> {
    let styles = population(args.users as usize, args.seed);
    let mut labels = String::from("filename,is_illegal\n");
    let mut session_seed = args.seed.wrapping_mul(1_000_003);
    let mut next_seed = || {
        session_seed = session_seed.wrapping_add(1);
        session_seed
    };
    for (u, style) in styles.iter().enumerate() {
        let user = format!("user{}", u + 1);
        for s in 0..args.sessions {
            let rec = session(style, next_seed(), args.actions as usize);
            write_session(
                &args
                    .out
                    .join("training_files")
                    .join(&user)
                    .join(format!("session_{u}_{s}")),
                &rec,
            )?;
        }
        for t in 0..args.tests {
            // Odd test sessions are impostors: the other users take turns.
            let impostor = t % 2 == 1;
            let offset = 1 + (t as usize / 2) % (styles.len() - 1);
            let actor = if impostor {
                &styles[(u + offset) % styles.len()]
            } else {
                style
            };
            let name = format!("session_{u}_test_{t}");
            let rec = session(actor, next_seed(), args.test_actions as usize);
            write_session(&args.out.join("test_files").join(&user).join(&name), &rec)?;
            labels.push_str(&format!("{name},{}\n", u8::from(impostor)));
        }
    }
    std::fs::write(args.out.join("labels.csv"), labels).context("writing labels.csv")?;
    say!(
        "{} synthetic users written to {}",
        args.users,
        args.out.display()
    )?;
    Ok(())
}

fn write_session(path: &Path, recording: &pointerprint_core::Recording) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = BufWriter::new(file);
    write_csv(recording, CsvFlavour::FiveColumn, &mut out)?;
    out.flush()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
