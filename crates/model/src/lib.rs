//! Per-user models of mouse actions and the decisions made from them.
//!
//! A [`UserModel`] scores each action by how much more likely it is the user's than a
//! stranger's, then [`UserModel::score_session`] pools a session's action scores into one
//! calibrated score: a log-likelihood ratio that grows with the number of actions, comparable
//! across users, and mapped to a decision for a target false-accept rate.
//!
//! [`keystroke`] models typing rhythm the same way, and [`fusion`] makes one decision from
//! both modalities.
//!
//! Architecture invariant: no I/O and no async; models go in and out as bytes.

mod calibration;
mod forest;
pub mod fusion;
pub mod keystroke;
mod learner;
mod matrix;
mod one_class;
mod user_model;

pub use calibration::{Calibration, Decision, SessionScore};
pub use forest::ForestParams;
pub use learner::{BoostedParams, Learner};
pub use user_model::{
    FORMAT_VERSION, ModelError, ModelSummary, PopulationLimit, SUMMARY_WINDOW, TrainConfig,
    UserModel,
};
