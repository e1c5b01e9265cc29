//! The service's integration tests, compiled into one binary: each module starts its own
//! server on 127.0.0.1:0 with a fresh data folder.

mod api;
mod collector;
mod dashboard;
mod dashboard_browser;
mod demo;
mod extension;
mod support;
mod tokens;
mod web;
