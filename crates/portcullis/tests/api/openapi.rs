//! The OpenAPI document is valid, documents both API styles and every route the router serves.
use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};

use crate::common::{send, TestServer};

/// Every route the server is expected to serve (method, OpenAPI path).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/users/{userId}"),
    ("get", "/api/v1/users/{userId}/NotificationPreferences"),
    ("patch", "/api/v1/users/{userId}/NotificationPreferences"),
    ("get", "/api/v1/NotificationSettings"),
    ("patch", "/api/v1/NotificationSettings"),
    ("patch", "/api/v1/users/{userId}"),
    ("post", "/api/v1/users/{userId}/Tokens"),
    ("delete", "/api/v1/users/{userId}/Tokens/{tokenId}"),
    ("get", "/api/v1/ApiCredentials"),
    ("post", "/api/v1/ApiCredentials"),
    ("delete", "/api/v1/ApiCredentials/{credentialId}"),
    ("get", "/api/v1/WorkApps"),
    ("post", "/api/v1/WorkApps"),
    ("get", "/api/v1/WorkApps/{workAppId}"),
    ("patch", "/api/v1/WorkApps/{workAppId}"),
    ("get", "/api/v1/WorkApps/{workAppId}/Accesses"),
    ("delete", "/api/v1/WorkApps/{workAppId}/Accesses/{userId}"),
    ("get", "/api/v1/WorkApps/{workAppId}/PermissionLevels"),
    ("post", "/api/v1/WorkApps/{workAppId}/PermissionLevels"),
    ("post", "/api/v1/WorkApps/Accesses"),
    ("get", "/api/v1/WorkApps/{workAppId}/CustomFields"),
    ("patch", "/api/v1/WorkApps/{workAppId}/CustomFields"),
    ("get", "/api/v1/CustomFields"),
    ("post", "/api/v1/CustomFields"),
    ("get", "/api/v1/CustomFields/{customFieldId}"),
    ("patch", "/api/v1/CustomFields/{customFieldId}"),
    ("delete", "/api/v1/CustomFields/{customFieldId}"),
    ("put", "/api/v1/WorkApps/{workAppId}/Policies/{requestType}"),
    (
        "put",
        "/api/v1/WorkApps/{workAppId}/PermissionLevels/{permissionLevelId}/Policies/{requestType}",
    ),
    ("get", "/api/v1/Policies"),
    ("post", "/api/v1/Policies"),
    ("get", "/api/v1/Policies/{policyId}"),
    ("patch", "/api/v1/Policies/{policyId}"),
    ("get", "/api/v1/Policies/CompatiblePolicies/{requestType}"),
    ("post", "/api/v1/Requests/GrantAccess"),
    ("post", "/api/v1/Requests/RemoveAccess"),
    ("post", "/api/v1/Requests/ChangePermission"),
    ("post", "/api/v1/Requests/AddNewManagedWorkApp"),
    ("post", "/api/v1/Requests/ArchiveWorkApp"),
    ("get", "/api/v1/Requests"),
    ("get", "/api/v1/Requests/{requestId}"),
    ("post", "/api/v1/Requests/{requestId}/Cancel"),
    ("get", "/api/v1/Tasks"),
    ("get", "/api/v1/Tasks/{taskId}"),
    ("post", "/api/v1/Tasks/{taskId}/Approve"),
    ("post", "/api/v1/Tasks/{taskId}/Decline"),
    ("put", "/api/v1/Tasks/{taskId}/Assignees"),
    ("get", "/api/v1/OrganizationSettings"),
    ("patch", "/api/v1/OrganizationSettings"),
    ("get", "/api/v1/SingleSignOn"),
    ("patch", "/api/v1/SingleSignOn"),
    ("get", "/api/v1/UsersGroups"),
    ("post", "/api/v1/UsersGroups"),
    ("get", "/api/v1/UsersGroups/{usersGroupId}"),
    ("patch", "/api/v1/UsersGroups/{usersGroupId}"),
    ("delete", "/api/v1/UsersGroups/{usersGroupId}"),
    ("get", "/api/v1/UsersGroups/{usersGroupId}/Users"),
    ("post", "/api/v1/UsersGroups/{usersGroupId}/Users"),
    ("delete", "/api/v1/UsersGroups/{usersGroupId}/Users/{userId}"),
    ("get", "/api/v1/UsersGroups/{usersGroupId}/DefaultWorkApps"),
    ("put", "/api/v1/UsersGroups/{usersGroupId}/DefaultWorkApps"),
    ("get", "/api/v1/UsersGroups/{usersGroupId}/HiddenWorkApps"),
    ("put", "/api/v1/UsersGroups/{usersGroupId}/HiddenWorkApps"),
    ("get", "/organization/{orgId}"),
    ("put", "/organization/{orgId}"),
    ("get", "/organization/users"),
    ("post", "/organization/users"),
    ("get", "/organization/users/{userId}"),
    ("put", "/organization/users/{userId}"),
    ("delete", "/organization/users/{userId}"),
    ("post", "/organization/users/{userId}/activate"),
    ("post", "/organization/users/{userId}/resend-invitation"),
    ("get", "/user/profile"),
    ("get", "/user/{userId}"),
    ("put", "/user/{userId}"),
    ("put", "/user/{userId}/role"),
    ("get", "/api/v1/Webhooks"),
    ("post", "/api/v1/Webhooks"),
    ("delete", "/api/v1/Webhooks/{webhookId}"),
    ("post", "/api/v1/Webhooks/{webhookId}/Test"),
    ("get", "/api/v1/Webhooks/{webhookId}/Deliveries"),
    ("post", "/api/v1/Webhooks/{webhookId}/Deliveries/{deliveryId}/Retry"),
    ("get", "/api/Keys"),
    ("get", "/api/v1/AuditLog"),
    ("get", "/api/v1/AccessReviews"),
    ("post", "/api/v1/AccessReviews"),
    ("get", "/api/v1/AccessReviews/{accessReviewId}"),
    ("patch", "/api/v1/AccessReviews/{accessReviewId}"),
    ("get", "/api/v1/AccessReviews/{accessReviewId}/Items"),
    ("post", "/api/v1/AccessReviews/{accessReviewId}/Items/{itemId}/Decision"),
    ("post", "/api/v1/AccessReviews/{accessReviewId}/Items/Decisions"),
    ("post", "/api/v1/AccessReviews/{accessReviewId}/Close"),
    ("post", "/api/v1/AccessReviews/{accessReviewId}/Cancel"),
    ("get", "/api/v1/AccessReviews/{accessReviewId}/Export"),
    ("get", "/workspace"),
    ("post", "/workspace"),
    ("get", "/workspace/{id}"),
    ("put", "/workspace/{id}"),
    ("delete", "/workspace/{id}"),
    ("get", "/workspace/{id}/users"),
    ("post", "/workspace/{id}/users"),
    ("put", "/workspace/{id}/users/{userId}"),
    ("delete", "/workspace/{id}/users/{userId}"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/api/v1/ScimTokens"),
    ("post", "/api/v1/ScimTokens"),
    ("delete", "/api/v1/ScimTokens/{scimTokenId}"),
    ("get", "/openapi.json"),
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options", "trace"];

#[tokio::test]
async fn document_lists_exactly_the_served_routes_with_security_schemes() {
    let srv = TestServer::start().await;
    let (status, doc) = send(srv.client.get(srv.url("/openapi.json"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["info"]["title"].is_string());

    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(*method) {
                assert!(
                    op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                    "{method} {path}"
                );
                documented.insert((method.to_string(), path.clone()));
            }
        }
    }
    let expected: BTreeSet<(String, String)> =
        ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(documented, expected, "documented routes differ from the served ones");

    // Every documented operation is really routed (not the unknown-route fallback).
    for (method, path) in &documented {
        let concrete = path
            .replace("{userId}", &uuid::Uuid::now_v7().to_string())
            .replace("{tokenId}", &uuid::Uuid::now_v7().to_string())
            .replace("{credentialId}", &uuid::Uuid::now_v7().to_string())
            .replace("{orgId}", &uuid::Uuid::now_v7().to_string())
            .replace("{workAppId}", &uuid::Uuid::now_v7().to_string())
            .replace("{permissionLevelId}", &uuid::Uuid::now_v7().to_string())
            .replace("{policyId}", &uuid::Uuid::now_v7().to_string())
            .replace("{requestId}", &uuid::Uuid::now_v7().to_string())
            .replace("{taskId}", &uuid::Uuid::now_v7().to_string())
            .replace("{usersGroupId}", &uuid::Uuid::now_v7().to_string())
            .replace("{id}", &uuid::Uuid::now_v7().to_string())
            .replace("{webhookId}", &uuid::Uuid::now_v7().to_string())
            .replace("{deliveryId}", &uuid::Uuid::now_v7().to_string())
            .replace("{customFieldId}", &uuid::Uuid::now_v7().to_string())
            .replace("{accessReviewId}", &uuid::Uuid::now_v7().to_string())
            .replace("{itemId}", &uuid::Uuid::now_v7().to_string())
            .replace("{scimTokenId}", &uuid::Uuid::now_v7().to_string())
            .replace("{requestType}", "GrantAccessRequest");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let response = srv.client.request(method.clone(), srv.url(&concrete)).send().await.unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(
            !(status == StatusCode::NOT_FOUND && body.contains("No route"))
                && status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {concrete} is documented but not served: {status} {body}"
        );
    }

    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["API Key"]["name"], "X-API-KEY");
    assert_eq!(schemes["API Key"]["in"], "header");
    assert_eq!(schemes["API Secret"]["name"], "X-API-SECRET");
    assert_eq!(schemes["Bearer"]["scheme"], "bearer");
    let users_get = &doc["paths"]["/api/v1/users"]["get"];
    assert!(users_get["security"][0].get("API Key").is_some());
    assert!(users_get["security"][0].get("API Secret").is_some());
    assert!(doc["components"]["schemas"]["ProblemDetails"].is_object());
}
