//! Demo only: a background population of synthetic users, so that the first person who
//! enrols on a fresh install has someone to be told apart from. They do the demo's own
//! tasks (targets, drags into boxes, scrolling, dots) on a page like the demo's, so that a
//! model learns how the person moves rather than which page they were on. Still, a model
//! trained against them learns to separate the person from synthetic motion; real
//! deployments need real other users (see docs/collector.md).

use pointerprint_core::{Button, Event, EventKind, Recording};
use pointerprint_storage::{NewBatch, StorageError, Store};
use pointerprint_synth::{Hand, MotorStyle, population};
use rand::{Rng, SeedableRng};

use crate::app::sessions::open_trusted_enrolment;

/// Fewer other users with data than this, and the synthetic ones are added.
const WANTED_OTHERS: usize = 10;
/// How many synthetic users, named `synthetic-01`...
const USERS: usize = 12;
/// Sessions per synthetic user.
const SESSIONS: u64 = 3;
/// Events per stored batch, as a collector would send them.
const BATCH_EVENTS: usize = 1_000;
/// Seed of the population: the same synthetic people on every install.
const POPULATION_SEED: u64 = 0xdead_beef;

/// Whether a user id is one of the synthetic background users.
pub fn is_synthetic(user_id: &str) -> bool {
    user_id.starts_with("synthetic-")
}

/// Adds the synthetic users that are missing when fewer than ten real users have data;
/// returns how many were added.
pub async fn background_population(store: &Store) -> Result<usize, StorageError> {
    let users = store.users().await?;
    let others = users
        .iter()
        .filter(|u| u.events > 0 && !is_synthetic(&u.user_id))
        .count();
    if others >= WANTED_OTHERS {
        return Ok(0);
    }
    let mut added = 0;
    for (i, style) in population(USERS, POPULATION_SEED).iter().enumerate() {
        let user_id = format!("synthetic-{:02}", i + 1);
        if users.iter().any(|u| u.user_id == user_id) {
            continue;
        }
        for s in 0..SESSIONS {
            let recording = demo_session(style, s);
            let session_id = format!("{user_id}-{s}");
            open_trusted_enrolment(store, &user_id, &session_id).await?;
            for (seq, events) in recording.events.chunks(BATCH_EVENTS).enumerate() {
                store
                    .insert_batch(&NewBatch {
                        user_id: &user_id,
                        session_id: &session_id,
                        seq: seq as i64,
                        received_ms: store.now_ms(),
                        events,
                        screen: recording.screen,
                    })
                    .await?;
            }
        }
        added += 1;
    }
    if added > 0 {
        tracing::info!(users = added, "demo: added synthetic background users");
    }
    Ok(added)
}

/// Where the demo's pages put their targets, in CSS pixels of a 1280 x 800 viewport.
const PAGE: (f64, f64, f64, f64) = (140.0, 290.0, 1140.0, 720.0);

/// One synthetic person doing the demo's tasks: an enrolment (60 targets, 8 drags, 15
/// dots, a read with the wheel) and a sign-in's 20 dots.
fn demo_session(style: &MotorStyle, seed: u64) -> Recording {
    let mut tape = Tape {
        hand: Hand::new(style, seed),
        rng: rand_chacha::ChaCha12Rng::seed_from_u64(style.seed ^ seed.rotate_left(17)),
        events: Vec::new(),
        t: 1_000.0,
        pos: (640.0, 400.0),
    };
    let (left, top, right, bottom) = PAGE;
    for _ in 0..60 {
        let width = tape.rng.gen_range(24.0..64.0);
        let to = tape.somewhere(left, top, right, bottom);
        tape.click(to, width);
    }
    for i in 0..8 {
        let item = tape.somewhere(left, top, left + 0.6 * (right - left), bottom);
        let box_y = if i % 2 == 0 {
            top + 70.0
        } else {
            bottom - 70.0
        };
        tape.drag(item, (right - 70.0, box_y));
    }
    for _ in 0..15 {
        let width = tape.rng.gen_range(22.0..42.0);
        let to = tape.somewhere(left, top, left + 510.0, top + 260.0);
        tape.click(to, width);
    }
    let page = (0.5 * (left + right), 0.5 * (top + bottom));
    tape.travel(page, 200.0, false);
    for _ in 0..4 {
        tape.pause();
        tape.wheel(3);
    }
    for _ in 0..20 {
        let width = tape.rng.gen_range(22.0..42.0);
        let to = tape.somewhere(660.0, 200.0, 1140.0, 460.0);
        tape.click(to, width);
    }
    // Unscaled, like the demo's own recordings (see `api::page_recording`).
    Recording {
        events: tape.events,
        screen: None,
    }
}

/// A session being written from a synthetic hand.
struct Tape {
    hand: Hand,
    rng: rand_chacha::ChaCha12Rng,
    events: Vec<Event>,
    t: f64,
    pos: (f64, f64),
}

impl Tape {
    fn somewhere(&mut self, left: f64, top: f64, right: f64, bottom: f64) -> (f64, f64) {
        (
            self.rng.gen_range(left..right),
            self.rng.gen_range(top..bottom),
        )
    }

    fn push(&mut self, kind: EventKind, button: Button) {
        let t = (self.t * 100.0).round() / 100.0;
        self.events
            .push(Event::new(t, self.pos.0, self.pos.1, kind, button));
    }

    fn pause(&mut self) {
        self.t += self.hand.pause_ms();
    }

    /// Moves there as a mouse reports it: whole pixels at the hand's rhythm.
    fn travel(&mut self, to: (f64, f64), width: f64, dragging: bool) {
        let start = self.t;
        let (kind, button) = if dragging {
            (EventKind::Drag, Button::Left)
        } else {
            (EventKind::Move, Button::None)
        };
        for sample in self.hand.move_to(self.pos, to, width, dragging) {
            self.t = start + sample.t;
            self.pos = (sample.x.round(), sample.y.round());
            self.push(kind, button);
        }
    }

    fn click(&mut self, to: (f64, f64), width: f64) {
        self.travel(to, width, false);
        self.t += self.hand.dwell_ms();
        self.push(EventKind::Press, Button::Left);
        self.t += self.hand.hold_ms();
        self.push(EventKind::Release, Button::Left);
        self.pause();
    }

    fn drag(&mut self, from: (f64, f64), to: (f64, f64)) {
        self.travel(from, 56.0, false);
        self.t += self.hand.dwell_ms();
        self.push(EventKind::Press, Button::Left);
        self.t += 120.0;
        self.travel(to, 70.0, true);
        self.t += 0.5 * self.hand.dwell_ms();
        self.push(EventKind::Release, Button::Left);
        self.pause();
    }

    fn wheel(&mut self, notches: usize) {
        for _ in 0..notches {
            let (px, gap) = self.hand.wheel_notch();
            self.t += gap;
            self.push(
                EventKind::Wheel {
                    dx: 0.0,
                    dy: px as f32,
                },
                Button::None,
            );
        }
    }
}
