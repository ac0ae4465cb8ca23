/// A rule of the domain was broken by the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The input is malformed or out of range (maps to 400).
    #[error("{0}")]
    Invalid(String),
    /// The input is well formed but conflicts with the current state (maps to 409).
    #[error("{0}")]
    Conflict(String),
    /// The actor may not do this (maps to 403).
    #[error("{0}")]
    Forbidden(String),
}

impl DomainError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::Invalid(msg.into())
    }
}
