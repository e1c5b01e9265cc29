//! `GET /openapi.json`: the API description, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    decisions, events, extension, health, keys, sessions, settings, stream, users, verify,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "pointerprint", description = "Authentication by mouse dynamics."),
    paths(
        events::post, extension::post, users::list, users::get, users::export, users::erase, users::train,
        users::reset,
        verify::post, decisions::list, settings::get, settings::put, keys::create, keys::list,
        keys::revoke, sessions::open, sessions::feedback, stream::connect, health::healthz, health::metrics
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
