//! The service's integration tests, compiled into one binary: each module starts its own
//! server on 127.0.0.1:0 with a fresh data folder.

mod api;
mod bad_input;
mod collector;
mod dashboard;
mod dashboard_browser;
mod demo;
mod extension;
mod forgery;
mod support;
mod web;
