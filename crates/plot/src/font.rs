//! The bundled font. plotters' default text stack needs fontconfig and system
//! fonts; with its `ab_glyph` feature it only knows fonts registered from bytes, so
//! the crate ships a small DejaVu Sans subset (see `assets/README.md`).

use std::sync::OnceLock;

use plotters::style::{FontStyle, register_font};

use crate::PlotError;

static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans-subset.ttf");

/// Registers the bundled font as "sans-serif", the family plotters uses by default
/// and the generic family SVG viewers understand. Runs once per process.
pub(crate) fn register() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| register_font("sans-serif", FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok { Ok(()) } else { Err(PlotError::Font) }
}
