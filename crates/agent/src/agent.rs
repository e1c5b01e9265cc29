//! The running agent: capture → batches → queue on disk → server, the trust socket → the
//! lock command, and a clean stop on SIGTERM.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pointerprint_formats::{NativeBatch, NativeEvent, NativeScreen};
use rand::Rng;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{Notify, mpsc, watch};

use crate::capture::{Capture, CaptureError};
use crate::config::{LockAction, Settings};
use crate::pointer::Pointer;
use crate::queue::{Queue, QueueError};
use crate::record::{RecordError, Recorder};
use crate::server::{self, Client, Lock, Posted, ServerError};

/// How long a SIGTERM waits for the queue to drain before leaving the rest on disk.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// First and longest wait between retries of a failed post, as the browser collector.
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error("cannot listen for signals: {0}")]
    Signals(std::io::Error),
}

/// A fresh session id, as random as the browser collector's.
fn new_session_id() -> String {
    let bytes: [u8; 12] = rand::thread_rng().r#gen();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Events since the last cut, and where cut batches go.
struct Batcher {
    user: String,
    session: String,
    screen: NativeScreen,
    events: Vec<NativeEvent>,
    /// `None` without a server: batches only feed the recording.
    queue: Option<Arc<Mutex<Queue>>>,
    wake: Arc<Notify>,
    recorder: Option<Recorder>,
}

impl Batcher {
    /// Cuts a batch of what was captured since the last cut, queues it on disk and wakes
    /// the sender.
    fn cut(&mut self) -> Result<(), AgentError> {
        if self.events.is_empty() {
            return Ok(());
        }
        let events = std::mem::take(&mut self.events);
        if let Some(recorder) = &mut self.recorder {
            recorder.append(&events)?;
        }
        let Some(queue) = &self.queue else {
            return Ok(());
        };
        let mut queue = queue.lock().unwrap_or_else(|p| p.into_inner());
        let seq = queue.next_seq(&self.session)?;
        let count = events.len();
        let dropped = queue.push(&NativeBatch {
            user_id: self.user.clone(),
            session_id: self.session.clone(),
            seq,
            events,
            screen: Some(self.screen),
        })?;
        tracing::debug!(session = %self.session, seq, events = count, queued = queue.len(), "batch queued");
        if dropped > 0 {
            tracing::warn!(
                dropped,
                dropped_since_start = queue.dropped(),
                "the queue on disk is full: its oldest batches were dropped"
            );
        }
        drop(queue);
        self.wake.notify_one();
        Ok(())
    }
}

/// Runs the agent until SIGTERM or SIGINT.
pub async fn run(settings: Settings) -> Result<(), AgentError> {
    let client = settings.server.clone().map(Client::new);
    if let Some(client) = &client {
        match client.probe().await {
            Ok(()) => tracing::info!(server = client.base(), "server reachable, key accepted"),
            Err(e @ ServerError::WrongKey { .. }) => return Err(e.into()),
            Err(e) => tracing::warn!(
                error = %e,
                "server unreachable: batches wait on disk until it answers"
            ),
        }
    }
    let queue = match &client {
        Some(_) => Some(Arc::new(Mutex::new(Queue::open(
            &settings.queue_dir,
            settings.max_queue_bytes,
        )?))),
        None => None,
    };
    if let Some(queue) = &queue {
        let queue = queue.lock().unwrap_or_else(|p| p.into_inner());
        if !queue.is_empty() {
            tracing::info!(
                batches = queue.len(),
                bytes = queue.bytes(),
                "batches left from an earlier run will be sent first"
            );
        }
    }
    let mut terminate = signal(SignalKind::terminate()).map_err(AgentError::Signals)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(AgentError::Signals)?;

    let (events_tx, mut events) = mpsc::unbounded_channel();
    let capture = Capture::start(settings.display.as_deref(), events_tx)?;
    let desktop = capture.desktop.clone();
    tracing::info!(
        display = %desktop.display,
        width = desktop.screen.width,
        height = desktop.screen.height,
        scale = desktop.screen.device_pixel_ratio,
        "capturing the pointer (never the keyboard)"
    );

    let wake = Arc::new(Notify::new());
    let session = settings.session.clone().unwrap_or_else(new_session_id);
    tracing::info!(session = %session, user = %settings.user, "session started");
    let (session_tx, session_rx) = watch::channel(session.clone());
    let (stop_tx, stop_rx) = watch::channel(false);
    let (lock_tx, mut locks) = mpsc::channel::<(String, Lock)>(4);
    let (unlocked_tx, mut unlocked) = mpsc::channel::<()>(1);
    let mut tasks = Vec::new();
    if let (Some(client), Some(queue)) = (&client, &queue) {
        tasks.push(tokio::spawn(deliver(
            queue.clone(),
            client.clone(),
            wake.clone(),
            stop_rx.clone(),
        )));
        tasks.push(tokio::spawn(follow_trust(
            client.clone(),
            session_rx,
            lock_tx,
            stop_rx.clone(),
        )));
    }
    let mut batcher = Batcher {
        user: settings.user.clone(),
        session,
        screen: desktop.screen,
        events: Vec::with_capacity(settings.batch_size),
        queue: queue.clone(),
        wake: wake.clone(),
        recorder: settings
            .record
            .as_deref()
            .map(|p| Recorder::new(p, desktop.screen)),
    };
    let mut pointer = Pointer::default();
    let mut paused = false;
    let mut tick = tokio::time::interval(settings.batch_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            raw = events.recv() => {
                // The capture ends only if the X server went away: stop, and say why below.
                let Some(raw) = raw else { break };
                if paused {
                    continue;
                }
                if let Some(event) = pointer.native_event(raw) {
                    batcher.events.push(event);
                    if batcher.events.len() >= settings.batch_size {
                        batcher.cut()?;
                    }
                }
            }
            _ = tick.tick() => batcher.cut()?,
            Some((locked_session, lock)) = locks.recv() => {
                if locked_session != batcher.session || paused {
                    continue;
                }
                batcher.cut()?;
                paused = true;
                tracing::warn!(session = %locked_session, trust = lock.trust, actions = lock.actions, reason = %lock.reason, "the server says lock");
                tokio::spawn(lock_and_wait(settings.lock.clone(), locked_session, lock, unlocked_tx.clone()));
            }
            Some(()) = unlocked.recv() => {
                batcher.session = new_session_id();
                pointer = Pointer::default();
                paused = false;
                tracing::info!(session = %batcher.session, "unlocked: a new session starts");
                let _ = session_tx.send(batcher.session.clone());
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    tracing::info!("stopping: flushing what was captured");
    let stopped = capture.stop();
    while let Ok(raw) = events.try_recv() {
        if let Some(event) = pointer.native_event(raw).filter(|_| !paused) {
            batcher.events.push(event);
        }
    }
    batcher.cut()?;
    if let Some(recorder) = &batcher.recorder {
        tracing::info!(file = %recorder.path().display(), events = recorder.len(), "recording written");
    }
    let _ = stop_tx.send(true);
    for task in tasks {
        let _ = task.await;
    }
    if let (Some(client), Some(queue)) = (&client, &queue) {
        let left = tokio::time::timeout(FLUSH_TIMEOUT, flush(queue, client)).await;
        let waiting = queue.lock().unwrap_or_else(|p| p.into_inner()).len();
        match left {
            Ok(Ok(())) if waiting == 0 => tracing::info!("every batch delivered"),
            Ok(Err(e)) => return Err(e),
            _ => tracing::warn!(
                batches = waiting,
                "server not reached: batches stay on disk for the next start"
            ),
        }
    }
    stopped?;
    Ok(())
}

/// Sends the oldest queued batch, one at a time in order, forever: a failed post is retried
/// with exponential backoff and jitter (0.5 s doubling up to 30 s), as the browser collector.
async fn deliver(
    queue: Arc<Mutex<Queue>>,
    client: Client,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), AgentError> {
    let mut attempt = 0u32;
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let front = queue.lock().unwrap_or_else(|p| p.into_inner()).front()?;
        let Some(front) = front else {
            tokio::select! {
                _ = wake.notified() => {}
                _ = stop.changed() => {}
            }
            continue;
        };
        match send_one(&queue, &client, front).await? {
            None => attempt = 0,
            Some(reason) => {
                let delay = backoff(attempt);
                if attempt == 0 {
                    tracing::warn!(reason = %reason, "cannot deliver; retrying with backoff");
                } else {
                    tracing::debug!(reason = %reason, attempt, "retry failed");
                }
                attempt = attempt.saturating_add(1);
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }
}

/// Posts one queued batch; removes it once accepted or refused for good. `Some(reason)`
/// when it should be tried again later.
async fn send_one(
    queue: &Mutex<Queue>,
    client: &Client,
    front: crate::queue::Queued,
) -> Result<Option<String>, AgentError> {
    let (index, seq, session) = (front.index, front.batch.seq, front.batch.session_id);
    match client.post_batch(front.body).await {
        Posted::Accepted { duplicate } => {
            tracing::debug!(session = %session, seq, duplicate, "batch delivered");
        }
        Posted::Refused { status, message } => {
            tracing::warn!(session = %session, seq, status, message = %message, "the server refused a batch for good; dropped");
        }
        Posted::Retry { reason } => return Ok(Some(reason)),
    }
    queue
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(index)?;
    Ok(None)
}

/// Sends what is queued, each batch once, until done or a post fails.
async fn flush(queue: &Mutex<Queue>, client: &Client) -> Result<(), AgentError> {
    loop {
        let front = queue.lock().unwrap_or_else(|p| p.into_inner()).front()?;
        let Some(front) = front else {
            return Ok(());
        };
        if send_one(queue, client, front).await?.is_some() {
            return Ok(());
        }
    }
}

fn backoff(attempt: u32) -> Duration {
    let base = RETRY_FIRST
        .saturating_mul(1u32 << attempt.min(10))
        .min(RETRY_MAX);
    base.mul_f64(rand::thread_rng().gen_range(0.5..1.5))
}

/// Follows the current session's trust socket; hands each `lock` to the main loop. Moves to
/// the new session whenever the session changes; reconnects with backoff when the socket
/// drops or cannot be opened.
async fn follow_trust(
    client: Client,
    mut session: watch::Receiver<String>,
    locks: mpsc::Sender<(String, Lock)>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), AgentError> {
    let mut attempt = 0u32;
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let current = session.borrow_and_update().clone();
        let outcome = tokio::select! {
            _ = stop.changed() => return Ok(()),
            _ = session.changed() => continue,
            socket = client.trust_socket(&current) => socket,
        };
        match outcome {
            Ok(mut socket) => {
                attempt = 0;
                tracing::debug!(session = %current, "following the session's trust");
                tokio::select! {
                    _ = stop.changed() => return Ok(()),
                    _ = session.changed() => continue,
                    lock = server::next_lock(&mut socket) => match lock {
                        Some(lock) => {
                            let _ = locks.send((current.clone(), lock)).await;
                            // The main loop starts a new session after the unlock.
                            tokio::select! {
                                _ = stop.changed() => return Ok(()),
                                _ = session.changed() => continue,
                            }
                        }
                        None => tracing::debug!("trust socket closed; reconnecting"),
                    },
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "cannot open the trust socket");
            }
        }
        let delay = backoff(attempt);
        attempt = attempt.saturating_add(1);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.changed() => return Ok(()),
            _ = session.changed() => {}
        }
    }
}

/// Runs the lock action, waits until the desktop is unlocked, then says so.
async fn lock_and_wait(
    action: LockAction,
    session: String,
    lock: Lock,
    unlocked: mpsc::Sender<()>,
) {
    match action {
        LockAction::DryRun => {
            tracing::warn!(session = %session, "dry run: the desktop would be locked now");
        }
        LockAction::Command(command) => {
            let status = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(&command)
                .env("POINTERPRINT_SESSION", &session)
                .env("POINTERPRINT_TRUST", lock.trust.to_string())
                .env("POINTERPRINT_ACTIONS", lock.actions.to_string())
                .env("POINTERPRINT_REASON", &lock.reason)
                .status()
                .await;
            match status {
                Ok(s) if s.success() => tracing::warn!(command = %command, "desktop locked"),
                Ok(s) => {
                    tracing::error!(command = %command, status = %s, "the lock command failed")
                }
                Err(e) => {
                    tracing::error!(command = %command, error = %e, "cannot run the lock command")
                }
            }
            crate::unlock::wait().await;
        }
    }
    let _ = unlocked.send(()).await;
}
