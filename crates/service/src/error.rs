use portcullis_domain::DomainError;
use portcullis_store::StoreError;

/// Why an operation failed. The API layer maps each variant to a status code, once.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Missing or invalid credentials (401).
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated but not allowed (403).
    #[error("{0}")]
    Forbidden(String),
    /// A read-only API credential attempted a write (403; Cakewalk's "Forbidden operation").
    #[error("This API key is read-only and cannot perform write operations.")]
    ReadOnlyCredential,
    /// The thing does not exist in the caller's organization (404).
    #[error("{0}")]
    NotFound(String),
    /// Bad input (400).
    #[error("{0}")]
    Invalid(String),
    /// Conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// A SCIM protocol error (bad filter, PATCH path, …) with its `scimType`; 400 unless its
    /// status says otherwise.
    #[error("{0}")]
    Scim(portcullis_domain::scim::ScimError),
    /// A service of another party we depend on (an identity provider) failed or answered
    /// something we cannot use (502). The message says which, without its details.
    #[error("{0}")]
    Upstream(String),
    /// A stored secret could not be sealed or opened (500; usually a wrong master key).
    #[error("crypto: {0}")]
    Crypto(String),
    /// A failure of ours (500). The message is logged, not shown.
    #[error("internal error: {0}")]
    Internal(#[from] StoreError),
}

impl From<DomainError> for ServiceError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Invalid(m) => ServiceError::Invalid(m),
            DomainError::Conflict(m) => ServiceError::Conflict(m),
            DomainError::Forbidden(m) => ServiceError::Forbidden(m),
        }
    }
}

impl ServiceError {
    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        ServiceError::NotFound(format!("{what} {id} not found"))
    }
}
