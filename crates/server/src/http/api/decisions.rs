use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use pointerprint_storage::{DecisionQuery, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::app::keys::Caller;
use crate::domain::ids::UserId;
use crate::http::error::{ApiError, query_error};

#[derive(Deserialize)]
pub struct Params {
    user_id: Option<String>,
    limit: Option<u32>,
}

/// The audit log of decisions, newest first.
#[utoipa::path(get, path = "/v1/decisions", tag = "verify",
    params(("user_id" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1 to 1000, default 100")),
    responses((status = 200, body = Object)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Secret)?;
    let Query(params) = params.map_err(query_error)?;
    let user_id = params.user_id.map(UserId::parse).transpose()?;
    let limit = params.limit.unwrap_or(100).clamp(1, 1000);
    let query = DecisionQuery {
        user_id: user_id.as_ref().map(UserId::as_str),
        limit,
        ..DecisionQuery::default()
    };
    let decisions = state.store.decisions(&query).await?;
    let decisions: Vec<Value> = decisions
        .into_iter()
        .map(|d| {
            let reasons: Value = serde_json::from_str(&d.reasons_json).unwrap_or_else(|_| json!([]));
            json!({
                "id": d.id, "user_id": d.user_id, "session_id": d.session_id, "decision": d.decision,
                "score": d.score, "threshold": d.threshold, "actions": d.actions, "reasons": reasons,
                "created_ms": d.created_ms,
            })
        })
        .collect();
    Ok(Json(json!({"decisions": decisions})))
}
