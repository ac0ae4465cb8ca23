//! The OpenAPI document: base info and security schemes; paths come from the handlers.
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder};

/// Security scheme names, as Cakewalk's own document names the key scheme.
pub const API_KEY: &str = "API Key";
pub const API_SECRET: &str = "API Secret";
pub const BEARER: &str = "Bearer";

pub fn base() -> OpenApi {
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Portcullis API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Self-hosted access management. `/api/v1` is wire-compatible with the Cakewalk \
                     Open API v1 (X-API-KEY + X-API-SECRET, ProblemDetails errors); `/workspace` and \
                     `/organization` follow the Flashback platform API (Bearer tokens, \
                     `{success, message}` bodies).",
                ))
                .build(),
        )
        .build()
}

pub fn finish(mut api: OpenApi) -> OpenApi {
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        API_KEY,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-API-KEY",
            "Public API key identifying the organization credential.",
        ))),
    );
    components.add_security_scheme(
        API_SECRET,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-API-SECRET",
            "Secret of the API credential; shown once when the credential is created.",
        ))),
    );
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    api
}
