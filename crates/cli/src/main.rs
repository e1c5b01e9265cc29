use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pointerprint_eval::Silent;
use pointerprint_model::TrainConfig;

#[derive(Parser)]
#[command(version, about = "Authentication by mouse dynamics")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Eval {
        #[arg(long)]
        train: PathBuf,
        #[arg(long)]
        test: PathBuf,
        #[arg(long)]
        labels: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Eval { train, test, labels, out } => {
            let r = pointerprint_eval::challenge::run(&train, &test, labels.as_deref(), &TrainConfig::default(), &Silent)?;
            std::fs::create_dir_all(&out)?;
            let mut csv = String::from("filename,user,score\n");
            for s in &r.sessions {
                csv.push_str(&format!("{},{},{}\n", s.filename, s.user, s.score));
            }
            std::fs::write(out.join("scores.csv"), csv).context("writing scores")?;
            println!("{}", serde_json::to_string_pretty(&r.metrics)?);
            for u in &r.users {
                println!("{} {:?} {:?}", u.user, u.metrics.as_ref().map(|m| (m.auc, m.eer)), u.expected_eer);
            }
        }
    }
    Ok(())
}
