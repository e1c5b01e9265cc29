//! `pointerprint-agent`: pointer dynamics from the whole desktop to a pointerprint server,
//! and the screen locked when the server's trust in the user falls. See docs/agent.md.

mod agent;
mod capture;
mod clock;
mod config;
mod pointer;
mod queue;
mod record;
mod server;
mod unlock;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::agent::AgentError;
use crate::config::{Args, Settings};
use crate::server::{Client, ServerError};

/// Exit codes, so a service manager or script can tell what went wrong.
const EXIT_FAILURE: u8 = 1;
const EXIT_CONFIG: u8 = 2;
const EXIT_NO_CAPTURE: u8 = 3;
const EXIT_UNREACHABLE: u8 = 4;
const EXIT_WRONG_KEY: u8 = 5;

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let settings = match Settings::load(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pointerprint-agent: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("pointerprint-agent: cannot start: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    if settings.check {
        return runtime.block_on(check(&settings));
    }
    match runtime.block_on(agent::run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pointerprint-agent: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

fn exit_code(e: &AgentError) -> u8 {
    match e {
        AgentError::Capture(_) => EXIT_NO_CAPTURE,
        AgentError::Server(ServerError::WrongKey { .. }) => EXIT_WRONG_KEY,
        AgentError::Server(ServerError::Unreachable { .. }) => EXIT_UNREACHABLE,
        AgentError::Queue(_) | AgentError::Record(_) | AgentError::Signals(_) => EXIT_FAILURE,
    }
}

/// `--check`: whether capture works on this desktop, and the server and key if given.
async fn check(settings: &Settings) -> ExitCode {
    if std::env::var_os("WAYLAND_DISPLAY").is_some() {
        println!(
            "note: this is a Wayland session: through XWayland the agent sees the pointer only \
             over X11 windows (see docs/agent.md)"
        );
    }
    match capture::probe(settings.display.as_deref()) {
        Ok(desktop) => {
            println!(
                "capture: ok: display {}, {}x{} logical pixels at scale {}, RECORD {}.{}",
                desktop.display,
                desktop.screen.width,
                desktop.screen.height,
                desktop.screen.device_pixel_ratio,
                desktop.record_version.0,
                desktop.record_version.1
            );
            println!(
                "clock: event times paired with the wall clock within {:.2} ms",
                desktop.clock_round_trip_ms / 2.0
            );
            println!("keyboard: never recorded (key events are not selected)");
        }
        Err(e) => {
            println!("capture: FAILED: {e}");
            return ExitCode::from(EXIT_NO_CAPTURE);
        }
    }
    let Some(server) = &settings.server else {
        println!("server: none configured");
        return ExitCode::SUCCESS;
    };
    match Client::new(server.clone()).probe().await {
        Ok(()) => {
            println!("server: ok: {} answers and accepts the key", server.base);
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("server: FAILED: {e}");
            ExitCode::from(match e {
                ServerError::WrongKey { .. } => EXIT_WRONG_KEY,
                ServerError::Unreachable { .. } => EXIT_UNREACHABLE,
            })
        }
    }
}
