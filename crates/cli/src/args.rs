//! Command-line arguments, validated into domain values before any work starts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    version,
    about = "Authentication by mouse dynamics",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Train per-user models on recorded sessions and measure AUC, EER, ROC and DET.
    Eval(EvalArgs),
    /// How often the plausibility gate refuses genuine input: recorded sessions (and
    /// synthetic users), whole and in pieces of a few seconds.
    Plausibility(PlausibilityArgs),
    /// Extract the features of every action of a session file or folder into a CSV.
    Features(FeaturesArgs),
    /// Write synthetic users in the challenge layout (training_files, test_files, labels.csv).
    Synth(SynthArgs),
    /// Run the authentication service (HTTP + WebSocket) on an embedded database.
    Serve(ServeArgs),
    /// Manage API keys in a data folder.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage the dashboard's administrator accounts in a data folder.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Enrol a user from recorded session files (any supported format).
    Import(ImportArgs),
    /// Load-test running service nodes with simulated browser sessions.
    Loadtest(LoadtestArgs),
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080, or POINTERPRINT_LISTEN).
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Data folder (default ./pointerprint-data, or POINTERPRINT_DATA).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The database: `postgres://user@host:port/db` for several nodes on one PostgreSQL,
    /// or an SQLite path (default: SQLite in the data folder, or DATABASE_URL).
    #[arg(long)]
    pub database: Option<String>,
    /// A TOML configuration file; see `pointerprint_server::Config` for its keys.
    #[arg(long, value_parser = existing_file)]
    pub config: Option<PathBuf>,
    /// Do not serve the demo site under /demo/ (turn it off in production).
    #[arg(long)]
    pub no_demo: bool,
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it (only its hash is stored).
    Create {
        #[arg(long, default_value = "pointerprint-data")]
        data: PathBuf,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// A name to recognise the key by.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Re-encrypt every stored event and model under a new encryption key, and replace the
    /// key file. Stop the service first.
    RotateEncryption {
        #[arg(long, default_value = "pointerprint-data")]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an administrator who can sign in to the dashboard at /dashboard.
    Create {
        #[arg(long, default_value = "pointerprint-data")]
        data: PathBuf,
        #[arg(long)]
        username: String,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// May only post events (for web pages).
    Ingest,
    /// May also verify, train and read users.
    Secret,
    /// May also manage keys and settings.
    Admin,
}

#[derive(Args)]
pub struct ImportArgs {
    #[arg(long, default_value = "pointerprint-data")]
    pub data: PathBuf,
    /// The user the sessions belong to.
    #[arg(long)]
    pub user: String,
    /// Session files or folders (searched recursively).
    #[arg(required = true, value_parser = existing_path)]
    pub files: Vec<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    /// Training folders, test folders and labels, as in the Balabit challenge.
    Challenge,
    /// One folder of sessions per user: chronological 2/3 train, 1/3 test.
    Split,
    /// One folder of sessions per user (two or more each), users in --folds rotating folds:
    /// the other folds' users are enrolled as the service enrols them, the fold's users are
    /// never seen and claim to be them; decided with the service's own threshold policy.
    OpenSet,
    /// The CMU keystroke benchmark, the paper's protocol (--data FILE): per subject, train on
    /// the first 200 repetitions, test on the other 200 and the first 5 of each other subject.
    Keystroke,
    /// The CMU keystroke benchmark with a background population (another protocol): subjects
    /// in --folds folds, each model trained against the other folds' subjects and tested with
    /// impostors of its own fold.
    KeystrokeBackground,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DetectorArg {
    /// Killourhy & Maxion's scaled Manhattan, the paper's best detector (a reference).
    ScaledManhattan,
    /// pointerprint's detector: capped robust Manhattan blended with nearest neighbours.
    Ensemble,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LearnerArg {
    /// Gradient boosting against the other users (the default).
    Boosted,
    /// Extremely randomised trees against the other users, for comparison.
    Forest,
    /// Cold start: the user's own actions only.
    OneClass,
}

#[derive(Args)]
pub struct EvalArgs {
    #[arg(long, value_enum, default_value_t = Protocol::Challenge)]
    pub protocol: Protocol,
    /// Challenge: folder with one sub-folder of training sessions per user.
    #[arg(long, value_parser = existing_dir, required_if_eq("protocol", "challenge"))]
    pub train: Option<PathBuf>,
    /// Challenge: folder with one sub-folder of test sessions per claimed user.
    #[arg(long, value_parser = existing_dir, required_if_eq("protocol", "challenge"))]
    pub test: Option<PathBuf>,
    /// Challenge: `filename,is_illegal` labels of the test sessions.
    #[arg(long, value_parser = existing_file)]
    pub labels: Option<PathBuf>,
    /// Split: folder with one sub-folder of sessions per user. Keystroke protocols: the CMU
    /// benchmark's CSV file.
    #[arg(long, value_parser = existing_path, required_if_eq_any([("protocol", "split"), ("protocol", "open-set"), ("protocol", "keystroke"), ("protocol", "keystroke-background")]))]
    pub data: Option<PathBuf>,
    /// Where scores.csv, report.json and the plots go.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value_t = LearnerArg::Boosted)]
    pub learner: LearnerArg,
    /// Keystroke protocols: the one-class detector.
    #[arg(long, value_enum, default_value_t = DetectorArg::Ensemble)]
    pub detector: DetectorArg,
    /// Open-set and keystroke background protocols: folds the users are dealt into.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(2..=100))]
    pub folds: u32,
    /// Open-set protocol: fewer actions than this get `insufficient_data`, as in the
    /// service's settings.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub min_actions: u32,
    /// Boosting rounds per mouse model.
    #[arg(long, default_value_t = 150, value_parser = clap::value_parser!(u32).range(1..=5000))]
    pub iterations: u32,
    /// Seed for every random choice, so runs repeat exactly.
    #[arg(long, default_value_t = 0x5eed)]
    pub seed: u64,
}

#[derive(Args)]
pub struct FeaturesArgs {
    /// A session file, or a folder searched recursively.
    #[arg(long, value_parser = existing_path)]
    pub input: PathBuf,
    /// The CSV to write: one row per action.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct PlausibilityArgs {
    /// Session files or folders (searched recursively), each reported on its own.
    #[arg(long, value_parser = existing_path)]
    pub data: Vec<PathBuf>,
    /// Also this many synthetic users (one session of 300 actions each).
    #[arg(long, default_value_t = 0)]
    pub synth_users: u32,
    /// Length of the pieces sessions are cut into.
    #[arg(long, default_value_t = 15.0)]
    pub piece_seconds: f64,
    /// Actions a piece needs for a decision (the service's `min_actions`).
    #[arg(long, default_value_t = 5)]
    pub min_actions: usize,
}

#[derive(Args)]
pub struct SynthArgs {
    /// Where to write the data set.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub users: u32,
    /// Training sessions per user.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub sessions: u32,
    /// Actions per training session.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(10..=100_000))]
    pub actions: u32,
    /// Test sessions per user (about half of them impostors).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub tests: u32,
    /// Actions per test session.
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub test_actions: u32,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn existing_dir(s: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(s);
    if p.is_dir() {
        Ok(p)
    } else {
        Err(format!("{s} is not a folder"))
    }
}

fn existing_file(s: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(s);
    if p.is_file() {
        Ok(p)
    } else {
        Err(format!("{s} is not a file"))
    }
}

fn existing_path(s: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(s);
    if p.exists() {
        Ok(p)
    } else {
        Err(format!("{s} does not exist"))
    }
}

#[derive(Args)]
pub struct LoadtestArgs {
    /// Base URLs of the nodes of one deployment (sharing a database), comma-separated;
    /// each session's requests go round them, starting at node i mod n for session i.
    #[arg(long, value_delimiter = ',', required = true)]
    pub nodes: Vec<String>,
    /// A secret (or admin) API key valid on every node, or one per node, comma-separated
    /// in the order of --nodes.
    #[arg(long, value_delimiter = ',', required = true)]
    pub key: Vec<String>,
    /// Simulated browser sessions running at once.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub sessions: u32,
    /// Events per second each session sends; 0 sends as fast as the nodes answer.
    #[arg(long, default_value_t = 60.0)]
    pub rate: f64,
    /// Seconds of load.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Events per batch (`POST /v1/events`).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=50_000))]
    pub batch: u32,
    /// Seconds between two verify calls of a session; 0 never verifies.
    #[arg(long, default_value_t = 2.0)]
    pub verify_every: f64,
    /// Verify with this many events sent inline instead of by session id (measures verify
    /// latency on a session of fixed size).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub session_events: Option<u32>,
    /// Simulated users (rounded up to a multiple of the number of nodes, so enrolment and
    /// training are spread evenly over them); session i belongs to user i mod users.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub users: u32,
    /// Enrolment sessions posted for each user before the load, unless already enrolled.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub enrol_sessions: u32,
    /// Mouse actions per enrolment session.
    #[arg(long, default_value_t = 150, value_parser = clap::value_parser!(u32).range(10..=100_000))]
    pub enrol_actions: u32,
    /// Names the users `load-RUN-N`; a new random run id by default, so runs do not mix.
    /// Reusing one reuses its (already trained) users.
    #[arg(long)]
    pub run_id: Option<String>,
    /// Seed of the synthetic people (mixed with the run id, so each run has new people).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seconds before a request counts as timed out (training waits are not limited).
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
}
