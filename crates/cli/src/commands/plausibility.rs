use pointerprint_core::{Gate, Recording};
use pointerprint_eval::plausibility::{GateTally, read_recordings, survey};
use pointerprint_synth::{population, session};

use crate::args::PlausibilityArgs;

/// Actions in each synthetic user's session.
const SYNTH_ACTIONS: usize = 300;

/// Runs the gate over each data set and the synthetic users and prints what it refused.
pub fn run(args: PlausibilityArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.piece_seconds > 0.0, "--piece-seconds must be positive");
    let gate = Gate::default();
    let mut sources: Vec<(String, Vec<Recording>)> = Vec::new();
    for path in &args.data {
        sources.push((path.display().to_string(), read_recordings(path)?));
    }
    if args.synth_users > 0 {
        let recordings = population(args.synth_users as usize, 1)
            .iter()
            .enumerate()
            .map(|(i, style)| session(style, i as u64, SYNTH_ACTIONS))
            .collect();
        sources.push((format!("{} synthetic users", args.synth_users), recordings));
    }
    anyhow::ensure!(!sources.is_empty(), "give --data or --synth-users");
    say!(
        "genuine input refused by the plausibility gate ({} s pieces; decidable: at least {} actions)",
        args.piece_seconds,
        args.min_actions
    )?;
    for (name, recordings) in &sources {
        let s = survey(recordings, &gate, args.piece_seconds, args.min_actions);
        say!("\n{name}")?;
        print_tally("whole sessions", &s.whole)?;
        print_tally("pieces", &s.pieces)?;
    }
    Ok(())
}

fn print_tally(unit: &str, t: &GateTally) -> std::io::Result<()> {
    let reasons: Vec<String> = t.refused.iter().map(|(c, n)| format!("{c} {n}")).collect();
    say!(
        "  {unit:<15} {:>6} tried, {:>6} decidable, refused {:>5.2}% of them{}; {} undecidable refused",
        t.units,
        t.decidable,
        t.refused_share() * 100.0,
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join(", "))
        },
        t.refused_undecidable
    )
}
