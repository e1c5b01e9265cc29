//! The service's integration tests, compiled into one binary: each module starts its own
//! server on 127.0.0.1:0 with a fresh data folder.

mod api;
mod bad_input;
mod collector;
mod dashboard;
mod dashboard_browser;
mod demo;
mod demo_security;
mod extension;
mod forgery;
mod ids;
mod limits;
mod privacy;
mod support;
mod tokens;
mod web;
