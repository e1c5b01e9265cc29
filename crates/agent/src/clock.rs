//! The X server stamps every input event with its own clock: milliseconds in 32 bits,
//! wrapping every 49.7 days, counted from an origin only the server knows. The agent
//! reports wall-clock milliseconds, as the browser collector does, so it pairs one server
//! time with the wall clock (a round trip that makes the server stamp an event now) and
//! converts every event's own time through that pair.

use std::time::{SystemTime, UNIX_EPOCH};

/// A server time and the wall-clock time (ms since the Unix epoch) it corresponds to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockPair {
    pub server_ms: u32,
    pub wall_ms: f64,
}

impl ClockPair {
    /// The pair from a round trip: the server stamped `server_ms` somewhere between
    /// `sent_ms` and `received_ms` (wall clock); the middle is off by at most half the
    /// round trip.
    pub fn from_round_trip(server_ms: u32, sent_ms: f64, received_ms: f64) -> ClockPair {
        ClockPair {
            server_ms,
            wall_ms: (sent_ms + received_ms) / 2.0,
        }
    }

    /// The wall-clock time of an event the server stamped `server_ms`. The difference is
    /// taken modulo 2^32 as a signed number, so events within 24 days either side of the
    /// pair convert correctly across the server clock's wrap.
    pub fn wall_of(&self, server_ms: u32) -> f64 {
        let delta = server_ms.wrapping_sub(self.server_ms) as i32;
        self.wall_ms + f64::from(delta)
    }
}

/// Wall-clock milliseconds since the Unix epoch, fractional.
pub fn wall_now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_through_the_pair_and_across_the_wrap() {
        let pair = ClockPair::from_round_trip(1_000, 5_000.0, 5_002.0);
        assert_eq!(pair.wall_of(1_000), 5_001.0);
        assert_eq!(pair.wall_of(1_250), 5_251.0);
        assert_eq!(pair.wall_of(990), 4_991.0);
        let near_wrap = ClockPair {
            server_ms: u32::MAX - 9,
            wall_ms: 1e12,
        };
        assert_eq!(near_wrap.wall_of(5), 1e12 + 15.0);
        assert_eq!(near_wrap.wall_of(u32::MAX - 19), 1e12 - 10.0);
    }
}
