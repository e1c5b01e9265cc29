//! The load test's options, checked once into a [`Config`].

use std::time::Duration;

use crate::LoadtestError;

/// The options as given (flags, say): [`Config::new`] checks them.
#[derive(Debug, Clone)]
pub struct Options {
    /// Base URLs of the nodes of one deployment (sharing a database).
    pub nodes: Vec<String>,
    /// A secret (or admin) key valid on every node, or one per node.
    pub key: Vec<String>,
    pub sessions: u32,
    /// Events per second per session; 0 = as fast as the nodes answer.
    pub rate: f64,
    /// Seconds of load.
    pub duration: f64,
    /// Events per batch.
    pub batch: u32,
    /// Seconds between a session's verify calls; 0 = none.
    pub verify_every: f64,
    /// Verify with this many events inline instead of by session id.
    pub session_events: Option<u32>,
    /// Distinct load users (rounded up to a multiple of the node count).
    pub users: u32,
    pub enrol_sessions: u32,
    pub enrol_actions: u32,
    /// Names the load users, so a repeated run reuses them; fresh by default.
    pub run_id: Option<String>,
    pub seed: u64,
    /// Seconds a request may take.
    pub timeout: f64,
}

/// Validated options.
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) nodes: Vec<String>,
    /// One key per node.
    pub(crate) keys: Vec<String>,
    pub(crate) sessions: usize,
    /// Events per second per session; `None` = as fast as possible.
    pub(crate) rate: Option<f64>,
    pub(crate) duration: Duration,
    pub(crate) batch: usize,
    pub(crate) verify_every: Option<Duration>,
    pub(crate) session_events: Option<usize>,
    pub(crate) users: usize,
    pub(crate) enrol_sessions: usize,
    pub(crate) enrol_actions: usize,
    pub(crate) run_id: String,
    pub(crate) seed: u64,
    pub(crate) timeout: Duration,
}

fn invalid(option: &'static str, message: impl Into<String>) -> LoadtestError {
    LoadtestError::Invalid {
        option,
        message: message.into(),
    }
}

fn seconds(what: &'static str, v: f64, zero_ok: bool) -> Result<Option<Duration>, LoadtestError> {
    if !v.is_finite() || v < 0.0 || (v == 0.0 && !zero_ok) || v > 1e9 {
        return Err(invalid(
            what,
            format!(
                "must be a number of seconds {}",
                if zero_ok { ">= 0" } else { "> 0" }
            ),
        ));
    }
    Ok((v > 0.0).then(|| Duration::from_secs_f64(v)))
}

impl Config {
    pub fn new(a: Options) -> Result<Config, LoadtestError> {
        let mut nodes = Vec::new();
        for node in &a.nodes {
            let node = node.trim().trim_end_matches('/');
            if !(node.starts_with("http://") || node.starts_with("https://")) {
                return Err(invalid("nodes", format!("{node:?} is not an http:// URL")));
            }
            nodes.push(node.to_string());
        }
        if nodes.is_empty() {
            return Err(invalid("nodes", "give at least one node"));
        }
        let keys = match a.key.len() {
            1 => vec![a.key[0].clone(); nodes.len()],
            n if n == nodes.len() => a.key.clone(),
            n => {
                return Err(invalid(
                    "key",
                    format!(
                        "{n} keys for {} nodes; give one, or one per node",
                        nodes.len()
                    ),
                ));
            }
        };
        if !a.rate.is_finite() || a.rate < 0.0 {
            return Err(invalid(
                "rate",
                "must be a number of events per second >= 0",
            ));
        }
        if a.sessions == 0 || a.batch == 0 || a.users == 0 {
            return Err(invalid(
                "sessions",
                "sessions, batch and users must be at least 1",
            ));
        }
        let run_id = match a.run_id {
            Some(id) if !id.is_empty() && id.len() <= 64 && !id.contains('/') => id,
            Some(id) => {
                return Err(invalid(
                    "run-id",
                    format!("{id:?}: 1 to 64 characters, no '/'"),
                ));
            }
            None => new_run_id(),
        };
        // Other runs' load users are in a node's background population: the same people
        // again would be impostors indistinguishable from the users.
        let seed = a.seed ^ fnv1a(run_id.as_bytes());
        let sessions = a.sessions as usize;
        // Each user lives on one node: a multiple of the node count keeps i mod users and
        // i mod nodes consistent; no more users than sessions use.
        let n = nodes.len();
        let users = (a.users as usize).min(sessions).div_ceil(n) * n;
        Ok(Config {
            keys,
            sessions,
            rate: (a.rate > 0.0).then_some(a.rate),
            duration: seconds("duration", a.duration, false)?.unwrap_or_default(),
            batch: a.batch as usize,
            verify_every: seconds("verify-every", a.verify_every, true)?,
            session_events: a.session_events.map(|n| n as usize),
            users,
            enrol_sessions: a.enrol_sessions as usize,
            enrol_actions: a.enrol_actions as usize,
            run_id,
            seed,
            timeout: seconds("timeout", a.timeout, false)?.unwrap_or_default(),
            nodes,
        })
    }

    pub(crate) fn user_id(&self, u: usize) -> String {
        format!("load-{}-{u}", self.run_id)
    }

    /// The users sessions actually use.
    pub(crate) fn active_users(&self) -> usize {
        self.users.min(self.sessions)
    }

    pub(crate) fn node_of_user(&self, u: usize) -> usize {
        u % self.nodes.len()
    }
}

/// FNV-1a: a stable hash of the run id (std's hasher may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A short id that differs between runs: the clock's nanoseconds and the process id.
pub(crate) fn new_run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mixed = (nanos ^ (u64::from(std::process::id()) << 40)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    format!("{:010x}", mixed >> 24)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn options(users: u32, sessions: u32, nodes: &[&str]) -> Options {
        Options {
            nodes: nodes.iter().map(|s| s.to_string()).collect(),
            key: vec!["k".into()],
            sessions,
            rate: 60.0,
            duration: 1.0,
            batch: 100,
            verify_every: 2.0,
            session_events: None,
            users,
            enrol_sessions: 1,
            enrol_actions: 10,
            run_id: Some("r".into()),
            seed: 1,
            timeout: 5.0,
        }
    }

    #[test]
    fn users_are_whole_per_node() {
        let c = Config::new(options(10, 50, &["http://a", "http://b/", "http://c"])).unwrap();
        assert_eq!(c.users, 12);
        assert_eq!(c.nodes[1], "http://b");
        // Session i's user lives on the node session i goes to.
        for i in 0..c.sessions {
            assert_eq!(c.node_of_user(i % c.users), i % c.nodes.len());
        }
        let c = Config::new(options(10, 2, &["http://a"])).unwrap();
        assert_eq!((c.users, c.active_users()), (2, 2));
        assert_eq!(c.keys, vec!["k".to_string()]);
        assert!(Config::new(options(1, 1, &["ftp://a"])).is_err());
        assert!(Config::new(options(1, 1, &[])).is_err());
        let mut two = options(2, 2, &["http://a", "http://b"]);
        two.key = vec!["k1".into(), "k2".into()];
        assert_eq!(Config::new(two).unwrap().keys, ["k1", "k2"]);
        let mut wrong = options(2, 2, &["http://a", "http://b", "http://c"]);
        wrong.key = vec!["k1".into(), "k2".into()];
        assert!(Config::new(wrong).is_err());
        let mut bad = options(1, 1, &["http://a"]);
        bad.rate = -1.0;
        assert!(Config::new(bad).is_err());
        let mut bad = options(1, 1, &["http://a"]);
        bad.duration = 0.0;
        let e = Config::new(bad).unwrap_err();
        assert_eq!(e.to_string(), "--duration: must be a number of seconds > 0");
    }
}
