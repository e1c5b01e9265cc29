//! `pointerprint loadtest`: flags into `pointerprint_loadtest`, its progress as bars, its
//! report on standard output.

use std::io::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use pointerprint_loadtest::{Config, Options, Progress};

use crate::args::LoadtestArgs;

pub fn run(args: LoadtestArgs) -> anyhow::Result<()> {
    let config = Config::new(Options {
        nodes: args.nodes,
        key: args.key,
        sessions: args.sessions,
        rate: args.rate,
        duration: args.duration,
        batch: args.batch,
        verify_every: args.verify_every,
        session_events: args.session_events,
        users: args.users,
        enrol_sessions: args.enrol_sessions,
        enrol_actions: args.enrol_actions,
        run_id: args.run_id,
        seed: args.seed,
        timeout: args.timeout,
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let bars = Bars::default();
    let report = runtime.block_on(pointerprint_loadtest::run(&config, &bars))?;
    std::io::stdout()
        .lock()
        .write_all(report.to_string().as_bytes())?;
    let problems = report.problems();
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("load test failed: {}", problems.join("; "))
    }
}

/// One bar at a time on standard error (hidden when it is not a terminal).
#[derive(Default)]
struct Bars {
    current: Mutex<Option<ProgressBar>>,
}

impl Bars {
    fn replace(&self, bar: Option<ProgressBar>) {
        if let Ok(mut current) = self.current.lock()
            && let Some(previous) = std::mem::replace(&mut *current, bar)
        {
            previous.finish_and_clear();
        }
    }

    fn with(&self, f: impl FnOnce(&ProgressBar)) {
        if let Ok(current) = self.current.lock()
            && let Some(bar) = current.as_ref()
        {
            f(bar);
        }
    }
}

fn bar(len: u64, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar
}

impl Progress for Bars {
    fn note(&self, text: &str) {
        eprintln!("{text}");
    }

    fn count(&self, name: &str, total: u64) {
        let bar = bar(total, "{msg:>12} [{bar:40}] {pos}/{len} {elapsed}");
        bar.set_message(name.to_string());
        self.replace(Some(bar));
    }

    fn rename(&self, name: &str) {
        self.with(|bar| bar.set_message(name.to_string()));
    }

    fn advance(&self, steps: u64) {
        self.with(|bar| bar.inc(steps));
    }

    fn timed(&self, duration: Duration) {
        self.replace(Some(bar(
            duration.as_millis() as u64,
            "{spinner} [{bar:40}] {elapsed} {msg}",
        )));
    }

    fn tick(&self, elapsed: Duration, status: &str) {
        self.with(|bar| {
            bar.set_position(elapsed.as_millis() as u64);
            bar.set_message(status.to_string());
        });
    }

    fn finish(&self) {
        self.replace(None);
    }
}
