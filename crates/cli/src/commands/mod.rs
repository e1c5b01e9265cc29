//! One module per subcommand; each turns validated arguments into library calls.

mod eval;
mod features;
mod import;
mod keys;
mod loadtest;
mod serve;
mod synth;

use crate::args::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Eval(args) => eval::run(args),
        Command::Features(args) => features::run(args),
        Command::Synth(args) => synth::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Keys { command } => keys::run(command),
        Command::Import(args) => import::run(args),
        Command::Loadtest(args) => loadtest::run(args),
    }
}
