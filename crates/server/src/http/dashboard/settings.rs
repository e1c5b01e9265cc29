//! Settings: the threshold policy (global and per user) with a preview of what a change
//! would have done to recent decisions, the lock-out level, retention, and API keys.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use pointerprint_storage::{DecisionQuery, KeyRecord, Role};
use serde::Deserialize;

use super::auth::{Admin, Posted};
use super::confirm::{Confirmation, Question, ask};
use super::format;
use super::log::decision_label;
use super::page::{Chrome, PageError, render};
use crate::app::AppState;
use crate::app::error::ErrorKind;
use crate::app::keys::{create_key, revoke_key};
use crate::domain::decision;
use crate::domain::ids::UserId;
use crate::domain::settings::{Settings, ThresholdPolicy};
use crate::http::error::ApiError;

/// Decisions a preview replays by default, and at most.
const PREVIEW_DEFAULT: u32 = 200;
const PREVIEW_MAX: u32 = 5_000;
/// Changed decisions listed in a preview.
const PREVIEW_LISTED: usize = 25;

/// The settings form as posted; every number is text until checked.
#[derive(Deserialize, Default)]
pub struct SettingsForm {
    #[serde(default)]
    policy: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    overrides: String,
    /// The demo users' policy as `KIND VALUE`, e.g. `target_far 0.05`.
    #[serde(default)]
    demo_policy: String,
    #[serde(default)]
    min_actions: String,
    #[serde(default)]
    lockout_trust: String,
    #[serde(default)]
    retention_days: String,
    #[serde(default)]
    preview_n: String,
    #[serde(default)]
    action: String,
}

fn policy_text(p: ThresholdPolicy) -> (&'static str, String) {
    match p {
        ThresholdPolicy::TargetFar(f) => ("target_far", f.to_string()),
        ThresholdPolicy::Fixed(t) => ("fixed", t.to_string()),
    }
}

fn parse_policy(kind: &str, value: &str) -> Result<ThresholdPolicy, String> {
    let v: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("{value:?} is not a number"))?;
    match kind {
        "target_far" => Ok(ThresholdPolicy::TargetFar(v)),
        "fixed" => Ok(ThresholdPolicy::Fixed(v)),
        other => Err(format!("{other:?} is not a policy: target_far or fixed")),
    }
}

impl SettingsForm {
    fn from_settings(s: &Settings) -> Self {
        let (policy, value) = policy_text(s.threshold);
        let overrides = s
            .user_overrides
            .iter()
            .map(|(user, p)| {
                let (kind, value) = policy_text(*p);
                format!("{user} {kind} {value}")
            })
            .collect::<Vec<_>>()
            .join("\n");
        let (demo_kind, demo_value) = policy_text(s.demo_threshold);
        Self {
            policy: policy.into(),
            value,
            overrides,
            demo_policy: format!("{demo_kind} {demo_value}"),
            min_actions: s.min_actions.to_string(),
            lockout_trust: s.lockout_trust.to_string(),
            retention_days: s.retention_days.to_string(),
            preview_n: PREVIEW_DEFAULT.to_string(),
            action: String::new(),
        }
    }

    /// The settings this form describes, validated like the API's.
    fn to_settings(&self) -> Result<Settings, String> {
        let mut user_overrides = BTreeMap::new();
        for (i, line) in self.overrides.lines().enumerate() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [] => {}
                [user, kind, value] => {
                    UserId::parse(*user)
                        .map_err(|e| format!("per-user override, line {}: {e}", i + 1))?;
                    let p = parse_policy(kind, value)
                        .map_err(|e| format!("per-user override, line {}: {e}", i + 1))?;
                    user_overrides.insert((*user).to_string(), p);
                }
                _ => {
                    return Err(format!(
                        "per-user override, line {}: write USER target_far RATE or USER fixed THRESHOLD",
                        i + 1
                    ));
                }
            }
        }
        let number = |what: &str, text: &str| -> Result<f64, String> {
            text.trim()
                .parse::<f64>()
                .map_err(|_| format!("{what}: {text:?} is not a number"))
        };
        let whole = |what: &str, text: &str| -> Result<u64, String> {
            text.trim()
                .parse::<u64>()
                .map_err(|_| format!("{what}: {text:?} is not a whole number"))
        };
        let demo_threshold = match self.demo_policy.split_whitespace().collect::<Vec<_>>()[..] {
            [kind, value] => parse_policy(kind, value),
            _ => Err("write target_far RATE or fixed THRESHOLD".to_string()),
        }
        .map_err(|e| format!("demo users' threshold: {e}"))?;
        let settings = Settings {
            threshold: parse_policy(&self.policy, &self.value)
                .map_err(|e| format!("threshold: {e}"))?,
            user_overrides,
            demo_threshold,
            min_actions: whole("minimum actions", &self.min_actions)? as usize,
            lockout_trust: number("lock-out level", &self.lockout_trust)?,
            retention_days: u32::try_from(whole("retention", &self.retention_days)?)
                .map_err(|_| "retention: too many days".to_string())?,
        };
        settings.validate()?;
        Ok(settings)
    }

    fn preview_n(&self) -> u32 {
        self.preview_n
            .trim()
            .parse()
            .unwrap_or(PREVIEW_DEFAULT)
            .clamp(1, PREVIEW_MAX)
    }
}

/// A decision the new settings would have made differently.
pub struct Changed {
    pub time: String,
    pub user_id: String,
    pub score: String,
    pub was: &'static str,
    pub was_class: String,
    pub now: &'static str,
    pub now_class: &'static str,
    pub threshold: String,
}

/// What the proposed settings would have done to the last decisions.
pub struct Preview {
    pub replayed: usize,
    pub changed: usize,
    /// (label, before, after) per outcome.
    pub totals: Vec<(&'static str, usize, usize)>,
    pub listed: Vec<Changed>,
}

/// Replays the last `n` decisions under `settings`: same scores, new thresholds.
async fn preview(state: &AppState, settings: &Settings, n: u32) -> Result<Preview, ApiError> {
    let decisions = state
        .store
        .decisions(&DecisionQuery {
            limit: n,
            ..DecisionQuery::default()
        })
        .await?;
    let outcomes = ["accept", "reject", "insufficient_data"];
    let mut before = [0usize; 3];
    let mut after = [0usize; 3];
    let mut changed = Vec::new();
    for d in &decisions {
        let actions = usize::try_from(d.actions).unwrap_or(0);
        let threshold = match settings.policy_for(&d.user_id) {
            ThresholdPolicy::Fixed(t) => Some(t),
            policy => match UserId::parse(d.user_id.as_str()) {
                Ok(user_id) => state
                    .cache
                    .model(&user_id)
                    .await?
                    .map(|model| decision::threshold(&model, policy, actions)),
                Err(_) => None,
            },
        };
        // Without a model (erased since) the decision stands as it was.
        let (new, threshold) = match threshold {
            _ if actions < settings.min_actions => ("insufficient_data", d.threshold),
            Some(t) if d.score >= t => ("accept", t),
            Some(t) => ("reject", t),
            None => (
                outcomes
                    .iter()
                    .find(|o| **o == d.decision)
                    .copied()
                    .unwrap_or("insufficient_data"),
                d.threshold,
            ),
        };
        if let Some(i) = outcomes.iter().position(|o| *o == d.decision) {
            before[i] += 1;
        }
        if let Some(i) = outcomes.iter().position(|o| *o == new) {
            after[i] += 1;
        }
        if new != d.decision {
            changed.push(Changed {
                time: format::datetime(d.created_ms),
                user_id: d.user_id.clone(),
                score: format!("{:.3}", d.score),
                was: decision_label(&d.decision),
                was_class: d.decision.clone(),
                now: decision_label(new),
                now_class: new,
                threshold: format!("{threshold:.3}"),
            });
        }
    }
    Ok(Preview {
        replayed: decisions.len(),
        changed: changed.len(),
        totals: outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| (decision_label(o), before[i], after[i]))
            .collect(),
        listed: changed.into_iter().take(PREVIEW_LISTED).collect(),
    })
}

/// A key as the keys table shows it.
pub struct KeyRow {
    pub id: i64,
    pub name: String,
    pub role: &'static str,
    pub created: String,
    pub revoked: bool,
}

impl From<&KeyRecord> for KeyRow {
    fn from(k: &KeyRecord) -> Self {
        KeyRow {
            id: k.id,
            name: k.name.clone(),
            role: k.role.as_str(),
            created: format::datetime(k.created_ms),
            revoked: k.revoked,
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    form: SettingsForm,
    error: Option<String>,
    notice: Option<String>,
    preview: Option<Preview>,
    keys: Vec<KeyRow>,
    /// A key just created: (name, key), shown this once.
    new_key: Option<(String, String)>,
}

async fn settings_page(
    state: &AppState,
    admin: &Admin,
    form: SettingsForm,
    error: Option<String>,
    notice: Option<String>,
    preview: Option<Preview>,
    new_key: Option<(String, String)>,
) -> Result<Response, PageError> {
    let keys = state.store.list_keys().await?;
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = SettingsPage {
        chrome: Chrome::new(admin, "settings"),
        form,
        error,
        notice,
        preview,
        keys: keys.iter().map(KeyRow::from).collect(),
        new_key,
    };
    Ok((status, render(&page)).into_response())
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// `GET /dashboard/settings`.
pub async fn page(
    State(state): State<AppState>,
    admin: Admin,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let form = SettingsForm::from_settings(&state.cache.settings());
    let notice = match done.done.as_str() {
        "saved" => Some("Settings saved; they apply to the next decision.".to_string()),
        "revoked" => Some("Key revoked: requests with it are refused from now on.".to_string()),
        _ => None,
    };
    settings_page(&state, &admin, form, None, notice, None, None).await
}

/// `POST /dashboard/settings`: previews (`action=preview`) or saves the settings.
pub async fn save(
    State(state): State<AppState>,
    posted: Posted<SettingsForm>,
) -> Result<Response, PageError> {
    let Posted { admin, form } = posted;
    let settings = match form.to_settings() {
        Ok(s) => s,
        Err(message) => {
            return settings_page(&state, &admin, form, Some(message), None, None, None).await;
        }
    };
    if form.action == "preview" {
        let preview = preview(&state, &settings, form.preview_n()).await?;
        return settings_page(&state, &admin, form, None, None, Some(preview), None).await;
    }
    state.cache.replace_settings(settings).await?;
    tracing::info!(by = %admin.username(), "settings changed from the dashboard");
    Ok(Redirect::to("/dashboard/settings?done=saved").into_response())
}

#[derive(Deserialize)]
pub struct NewKeyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

/// `POST /dashboard/keys`: creates a key and shows it once.
pub async fn create(
    State(state): State<AppState>,
    posted: Posted<NewKeyForm>,
) -> Result<Response, PageError> {
    let Posted { admin, form } = posted;
    let settings_form = SettingsForm::from_settings(&state.cache.settings());
    let role: Role = match form.role.parse() {
        Ok(role) => role,
        Err(e) => {
            let message = format!("{e}");
            return settings_page(
                &state,
                &admin,
                settings_form,
                Some(message),
                None,
                None,
                None,
            )
            .await;
        }
    };
    match create_key(&state, form.name.trim(), role).await {
        Ok((key, _)) => {
            tracing::info!(by = %admin.username(), name = %form.name, %role, "key created from the dashboard");
            let shown = Some((form.name.trim().to_string(), key));
            settings_page(&state, &admin, settings_form, None, None, None, shown).await
        }
        Err(e) if e.kind == ErrorKind::Invalid => {
            settings_page(
                &state,
                &admin,
                settings_form,
                Some(e.message),
                None,
                None,
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /dashboard/keys/{id}/revoke`, once confirmed for this key.
pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    posted: Posted<Confirmation>,
) -> Result<Response, PageError> {
    if !posted.form.confirms(&id.to_string()) {
        return Ok(ask(
            &posted.admin,
            "settings",
            Question {
                title: "Revoke key",
                text: format!("Revoke API key {id}? Requests with it will be refused."),
                action: format!("/dashboard/keys/{id}/revoke"),
                target: id.to_string(),
                button: "Revoke key",
                cancel: "/dashboard/settings#keys".to_string(),
            },
        ));
    }
    revoke_key(&state, id).await?;
    tracing::info!(by = %posted.admin.username(), key = id, "key revoked from the dashboard");
    Ok(Redirect::to("/dashboard/settings?done=revoked").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_round_trips_settings() {
        let mut settings = Settings::default();
        settings
            .user_overrides
            .insert("alice".into(), ThresholdPolicy::Fixed(0.7));
        let form = SettingsForm::from_settings(&settings);
        assert_eq!(form.to_settings().unwrap(), settings);
    }

    #[test]
    fn bad_values_name_the_field() {
        let form = SettingsForm {
            overrides: "alice fixed".into(),
            ..SettingsForm::from_settings(&Settings::default())
        };
        assert!(form.to_settings().unwrap_err().contains("line 1"));
        let form = SettingsForm {
            value: "2".into(),
            policy: "fixed".into(),
            ..SettingsForm::from_settings(&Settings::default())
        };
        assert!(form.to_settings().unwrap_err().contains("[0, 1]"));
        let form = SettingsForm {
            retention_days: "soon".into(),
            ..SettingsForm::from_settings(&Settings::default())
        };
        assert!(form.to_settings().unwrap_err().starts_with("retention"));
    }
}
