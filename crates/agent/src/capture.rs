//! Whole-desktop pointer capture on X11 through the RECORD extension.
//!
//! RECORD hands a client every core device event as the server processes it: moves,
//! button presses and releases (the wheel is buttons 4 to 7), from real devices and from
//! XTEST alike, with the server's own timestamp and root coordinates, whichever window
//! has the pointer or a grab. The recording context selects only the event types from
//! ButtonPress to MotionNotify: key events are never selected, so the agent cannot see
//! the keyboard at all.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use pointerprint_formats::NativeScreen;
use x11rb::connection::{Connection, RequestConnection};
use x11rb::errors::{ConnectError, ConnectionError, ReplyError, ReplyOrIdError};
use x11rb::protocol::Event;
use x11rb::protocol::record::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{self, ConnectionExt as _};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;
use x11rb::x11_utils::TryParse;

use crate::clock::{ClockPair, wall_now_ms};
use crate::pointer::{PointerEvent, RawKind};

/// How often the server clock is paired with the wall clock again (the wall clock may be
/// stepped by NTP, the machine may sleep).
const RECALIBRATE: Duration = Duration::from_secs(30);
/// Round trips per calibration; the shortest bounds the pairing error best.
const CALIBRATION_TRIPS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(
        "cannot open the X display {display:?}: {source}. The agent needs an X11 session \
         (DISPLAY set, e.g. :0); under Wayland see docs/agent.md"
    )]
    NoDisplay {
        display: String,
        source: ConnectError,
    },
    #[error(
        "the X server on {0:?} has no RECORD extension, which the agent needs to see the \
         pointer over the whole desktop (Xorg and Xvfb load it by default)"
    )]
    NoRecord(String),
    #[error("the X server refused the recording context: {0}")]
    Refused(#[from] ReplyError),
    #[error("the connection to the X server failed: {0}")]
    Connection(#[from] ConnectionError),
    #[error("the X server ran out of ids: {0}")]
    Ids(#[from] ReplyOrIdError),
}

/// What `--check` reports about the desktop.
#[derive(Debug, Clone)]
pub struct Desktop {
    pub display: String,
    pub screen: NativeScreen,
    pub record_version: (u16, u16),
    /// The shortest calibration round trip: the pairing of server and wall clocks is off
    /// by at most half of it.
    pub clock_round_trip_ms: f64,
}

/// A running capture: events arrive on the receiver handed out by [`Capture::start`].
pub struct Capture {
    pub desktop: Desktop,
    control: Arc<Control>,
    context: record::Context,
    reader: Option<JoinHandle<Result<(), CaptureError>>>,
    stop_clock: Option<Sender<()>>,
    clock_thread: Option<JoinHandle<()>>,
}

/// The control connection and what it learnt about the desktop.
struct Control {
    conn: RustConnection,
    display: String,
    root: xproto::Window,
    screen: NativeScreen,
    record_version: (u16, u16),
}

fn display_name(display: Option<&str>) -> String {
    display
        .map(str::to_string)
        .or_else(|| std::env::var("DISPLAY").ok())
        .unwrap_or_default()
}

fn connect(display: Option<&str>) -> Result<(RustConnection, usize), CaptureError> {
    x11rb::connect(display).map_err(|source| CaptureError::NoDisplay {
        display: display_name(display),
        source,
    })
}

impl Control {
    fn open(display: Option<&str>) -> Result<Control, CaptureError> {
        let (conn, screen_num) = connect(display)?;
        let name = display_name(display);
        if conn
            .extension_information(record::X11_EXTENSION_NAME)?
            .is_none()
        {
            return Err(CaptureError::NoRecord(name));
        }
        let version = conn
            .record_query_version(
                record::X11_XML_VERSION.0 as u16,
                record::X11_XML_VERSION.1 as u16,
            )?
            .reply()?;
        let root_screen = &conn.setup().roots[screen_num];
        let root = root_screen.root;
        let (width, height) = (
            f64::from(root_screen.width_in_pixels),
            f64::from(root_screen.height_in_pixels),
        );
        let scale = device_pixel_ratio(&conn);
        let screen = NativeScreen {
            width: width / scale,
            height: height / scale,
            device_pixel_ratio: scale,
            viewport_width: None,
            viewport_height: None,
        };
        Ok(Control {
            conn,
            display: name,
            root,
            screen,
            record_version: (version.major_version, version.minor_version),
        })
    }
}

/// The desktop's scaling as browsers report it: `Xft.dpi` over 96, or 1.
fn device_pixel_ratio(conn: &RustConnection) -> f64 {
    x11rb::resource_manager::new_from_default(conn)
        .ok()
        .and_then(|db| db.get_value::<f64>("Xft.dpi", "").ok().flatten())
        .filter(|dpi| dpi.is_finite() && *dpi >= 24.0)
        .map_or(1.0, |dpi| dpi / 96.0)
}

/// Pairs the server clock with the wall clock: changes a property of a private window and
/// reads the server's timestamp on the resulting PropertyNotify.
struct Clock {
    window: xproto::Window,
    atom: xproto::Atom,
}

impl Clock {
    fn new(control: &Control) -> Result<Clock, CaptureError> {
        let conn = &control.conn;
        let window = conn.generate_id()?;
        conn.create_window(
            0,
            window,
            control.root,
            0,
            0,
            1,
            1,
            0,
            xproto::WindowClass::INPUT_ONLY,
            0,
            &xproto::CreateWindowAux::new().event_mask(xproto::EventMask::PROPERTY_CHANGE),
        )?
        .check()?;
        let atom = conn
            .intern_atom(false, b"_POINTERPRINT_AGENT_CLOCK")?
            .reply()?
            .atom;
        Ok(Clock { window, atom })
    }

    /// The best of a few round trips, and its length in ms.
    fn calibrate(&self, conn: &RustConnection) -> Result<(ClockPair, f64), CaptureError> {
        let mut best: Option<(ClockPair, f64)> = None;
        for _ in 0..CALIBRATION_TRIPS {
            let sent = wall_now_ms();
            conn.change_property8(
                xproto::PropMode::REPLACE,
                self.window,
                self.atom,
                xproto::AtomEnum::STRING,
                b"t",
            )?;
            conn.flush()?;
            let server_ms = loop {
                if let Event::PropertyNotify(e) = conn.wait_for_event()?
                    && e.window == self.window
                {
                    break e.time;
                }
            };
            let received = wall_now_ms();
            let trip = received - sent;
            if best.is_none_or(|(_, t)| trip < t) {
                best = Some((ClockPair::from_round_trip(server_ms, sent, received), trip));
            }
        }
        Ok(best.expect("at least one calibration round trip"))
    }
}

/// Checks that the desktop can be captured, without capturing: display, RECORD, clock.
pub fn probe(display: Option<&str>) -> Result<Desktop, CaptureError> {
    let control = Control::open(display)?;
    let clock = Clock::new(&control)?;
    let (_, trip) = clock.calibrate(&control.conn)?;
    let context = create_context(&control)?;
    control.conn.record_free_context(context)?.check()?;
    Ok(Desktop {
        display: control.display,
        screen: control.screen,
        record_version: control.record_version,
        clock_round_trip_ms: trip,
    })
}

/// A recording context for pointer device events of every client; never key events.
fn create_context(control: &Control) -> Result<record::Context, CaptureError> {
    let empty = record::Range8 { first: 0, last: 0 };
    let empty_ext = record::ExtRange {
        major: empty,
        minor: record::Range16 { first: 0, last: 0 },
    };
    let range = record::Range {
        core_requests: empty,
        core_replies: empty,
        ext_requests: empty_ext,
        ext_replies: empty_ext,
        delivered_events: empty,
        device_events: record::Range8 {
            first: xproto::BUTTON_PRESS_EVENT,
            last: xproto::MOTION_NOTIFY_EVENT,
        },
        errors: empty,
        client_started: false,
        client_died: false,
    };
    let context = control.conn.generate_id()?;
    control
        .conn
        .record_create_context(context, 0, &[record::CS::ALL_CLIENTS.into()], &[range])?
        .check()?;
    Ok(context)
}

impl Capture {
    /// Starts capturing; every pointer event goes to `events` with its wall-clock time.
    pub fn start(
        display: Option<&str>,
        events: tokio::sync::mpsc::UnboundedSender<PointerEvent>,
    ) -> Result<Capture, CaptureError> {
        let control = Control::open(display)?;
        let clock = Clock::new(&control)?;
        let (pair, trip) = clock.calibrate(&control.conn)?;
        let pair = Arc::new(Mutex::new(pair));
        let context = create_context(&control)?;
        let (data, _) = connect(display)?;
        let desktop = Desktop {
            display: control.display.clone(),
            screen: control.screen,
            record_version: control.record_version,
            clock_round_trip_ms: trip,
        };
        let scale = control.screen.device_pixel_ratio;
        let control = Arc::new(control);
        let (stop_clock, stopped) = channel();
        let clock_thread = {
            let (control, pair) = (control.clone(), pair.clone());
            std::thread::Builder::new()
                .name("x11-clock".into())
                .spawn(move || keep_calibrated(&control, &clock, &pair, &stopped))
                .expect("a thread starts")
        };
        let reader = {
            let pair = pair.clone();
            std::thread::Builder::new()
                .name("x11-record".into())
                .spawn(move || read_events(&data, context, &pair, scale, &events))
                .expect("a thread starts")
        };
        Ok(Capture {
            desktop,
            control,
            context,
            reader: Some(reader),
            stop_clock: Some(stop_clock),
            clock_thread: Some(clock_thread),
        })
    }

    /// Stops capturing: the server ends the recording, the reader returns.
    pub fn stop(mut self) -> Result<(), CaptureError> {
        self.control.conn.record_disable_context(self.context)?;
        self.control.conn.sync()?;
        self.stop_clock.take();
        if let Some(t) = self.clock_thread.take() {
            let _ = t.join();
        }
        match self.reader.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            _ => Ok(()),
        }
    }
}

/// Pairs the clocks again every [`RECALIBRATE`] until told to stop.
fn keep_calibrated(control: &Control, clock: &Clock, pair: &Mutex<ClockPair>, stop: &Receiver<()>) {
    while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(RECALIBRATE) {
        match clock.calibrate(&control.conn) {
            Ok((fresh, _)) => *pair.lock().unwrap_or_else(|p| p.into_inner()) = fresh,
            Err(e) => {
                tracing::warn!(error = %e, "cannot pair the X server clock with the wall clock");
                return;
            }
        }
    }
}

/// Reads the recording until the context is disabled, converting each device event.
fn read_events(
    data: &RustConnection,
    context: record::Context,
    pair: &Mutex<ClockPair>,
    scale: f64,
    events: &tokio::sync::mpsc::UnboundedSender<PointerEvent>,
) -> Result<(), CaptureError> {
    /// Reply categories of RECORD (not in the protocol description x11rb is made from).
    const FROM_SERVER: u8 = 0;
    for reply in data.record_enable_context(context)? {
        let reply = reply?;
        if reply.category != FROM_SERVER || reply.client_swapped {
            continue;
        }
        let pair = *pair.lock().unwrap_or_else(|p| p.into_inner());
        let mut rest = &reply.data[..];
        while rest.len() >= 32 {
            if let Some(event) = parse_device_event(rest, &pair, scale)
                && events.send(event).is_err()
            {
                return Ok(());
            }
            rest = &rest[32..];
        }
    }
    Ok(())
}

/// One recorded core device event (32 bytes), if it is a pointer event.
fn parse_device_event(bytes: &[u8], pair: &ClockPair, scale: f64) -> Option<PointerEvent> {
    let (kind, detail, time, x, y) = match bytes[0] & 0x7f {
        xproto::BUTTON_PRESS_EVENT => {
            let (e, _) = xproto::ButtonPressEvent::try_parse(bytes).ok()?;
            (RawKind::Press, e.detail, e.time, e.root_x, e.root_y)
        }
        xproto::BUTTON_RELEASE_EVENT => {
            let (e, _) = xproto::ButtonReleaseEvent::try_parse(bytes).ok()?;
            (RawKind::Release, e.detail, e.time, e.root_x, e.root_y)
        }
        xproto::MOTION_NOTIFY_EVENT => {
            let (e, _) = xproto::MotionNotifyEvent::try_parse(bytes).ok()?;
            (RawKind::Motion, 0, e.time, e.root_x, e.root_y)
        }
        _ => return None,
    };
    Some(PointerEvent {
        kind,
        x_button: detail,
        t: pair.wall_of(time),
        x: f64::from(x) / scale,
        y: f64::from(y) / scale,
    })
}
