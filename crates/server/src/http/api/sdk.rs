//! `GET /sdk.js` and `/sdk.mjs`: the browser collector (assets/sdk.js), as a classic script
//! that defines `PointerPrint`, and as an ES module exporting the same API.

use axum::http::header;
use axum::response::IntoResponse;

const SCRIPT: &str = include_str!("../../../assets/sdk.js");
const MODULE: &str = concat!(
    include_str!("../../../assets/sdk.js"),
    "export const { start, Collector, version } = globalThis.PointerPrint;\n",
    "export default globalThis.PointerPrint;\n"
);

/// Cached for an hour: the SDK changes only with the service's version.
fn javascript(body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        body,
    )
}

pub async fn script() -> impl IntoResponse {
    javascript(SCRIPT)
}

pub async fn module() -> impl IntoResponse {
    javascript(MODULE)
}
