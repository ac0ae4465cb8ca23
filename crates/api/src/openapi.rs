//! The OpenAPI document: base info and security schemes; paths come from the handlers.
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Ref, RefOr, ResponseBuilder,
};

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

/// Errors any operation can answer besides those its handler documents: bad input and missing
/// credentials, size and time limits, rate limiting, and our own failures.
const COMMON_ERRORS: &[(&str, &str)] = &[
    ("400", "Bad Request: malformed JSON, wrong field types, unknown fields, malformed ids"),
    ("401", "Missing or invalid credentials"),
    ("408", "The request took longer than the request timeout"),
    ("413", "The request body is larger than 16 MiB"),
    ("414", "The request URI is longer than 8 KiB"),
    ("429", "Rate limit exceeded; see the Retry-After header"),
    ("431", "The request headers are larger than 32 KiB"),
    ("500", "An internal error occurred"),
];

/// Gives every operation the common errors, and every error under `/api` the ProblemDetails media
/// type (`application/problem+json`) that the server really sends.
fn complete_errors(path: &str, op: &mut Operation) {
    let cakewalk = path.starts_with("/api/");
    let flashback = ["/workspace", "/organization", "/user/"].iter().any(|p| path.starts_with(p));
    let operational = !cakewalk && !flashback;
    let (content_type, schema) = if cakewalk {
        ("application/problem+json", "ProblemDetails")
    } else {
        ("application/json", "FlashbackError")
    };
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                content_type,
                ContentBuilder::new().schema(Some(Ref::from_schema_name(schema))).build(),
            )
            .build()
    };
    let mut extra: Vec<(&str, &str)> = if operational {
        vec![("500", "An internal error occurred")]
    } else {
        COMMON_ERRORS.to_vec()
    };
    if op.request_body.is_some() && !operational {
        extra.push((
            "415",
            "The body is not JSON (Content-Type application/json, text/json or application/*+json)",
        ));
    }
    for (code, description) in extra {
        op.responses
            .responses
            .entry(code.to_string())
            .or_insert_with(|| RefOr::T(error(description)));
    }
    for (code, response) in op.responses.responses.iter_mut() {
        if let (RefOr::T(response), true) = (response, code.as_str() >= "400" && cakewalk) {
            if let Some(content) = response.content.shift_remove("application/json") {
                response.content.insert("application/problem+json".to_string(), content);
            }
        }
    }
}

/// Where an operation takes `cursor`, documents its JSON:API spelling `page[cursor]` beside it
/// (`ApiQuery` accepts both, as the same parameter).
fn document_page_cursor(op: &mut Operation) {
    let Some(params) = op.parameters.as_mut() else { return };
    let Some(cursor) =
        params.iter().find(|p| p.name == "cursor" && p.parameter_in == ParameterIn::Query)
    else {
        return;
    };
    if params.iter().any(|p| p.name == crate::query::PAGE_CURSOR) {
        return;
    }
    let mut page_cursor = cursor.clone();
    page_cursor.name = crate::query::PAGE_CURSOR.to_string();
    page_cursor.description = Some(
        "The same parameter as `cursor`, in the JSON:API spelling the pagination docs use; \
         give one of the two."
            .to_string(),
    );
    params.push(page_cursor);
}

pub fn finish(mut api: OpenApi) -> OpenApi {
    for (path, item) in api.paths.paths.iter_mut() {
        for op in [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch]
            .into_iter()
            .flatten()
        {
            complete_errors(path, op);
            document_page_cursor(op);
        }
    }
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
