//! One module per subcommand; each turns validated arguments into library calls.

mod admin;
mod eval;
mod features;
mod import;
mod keys;
mod loadtest;
mod plausibility;
mod serve;
mod synth;

use crate::args::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Eval(args) => eval::run(args),
        Command::Features(args) => features::run(args),
        Command::Plausibility(args) => plausibility::run(args),
        Command::Synth(args) => synth::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Keys { command } => keys::run(command),
        Command::Admin { command } => admin::run(command),
        Command::Import(args) => import::run(args),
        Command::Loadtest(args) => loadtest::run(args),
    }
}

/// Runs `work` on the store of a data folder, on a runtime of its own: for the commands that
/// work on the folder directly (keys, import), with the configuration's key file.
fn with_store<T>(
    data: std::path::PathBuf,
    work: impl AsyncFnOnce(
        &pointerprint_server::Config,
        pointerprint_storage::Store,
    ) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    use anyhow::Context;
    let config = pointerprint_server::Config {
        data_dir: data,
        ..pointerprint_server::Config::load(None)?
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let store = pointerprint_server::startup::open_store(&config).await?;
        work(&config, store).await
    })
}
