//! Input limits and validation shared by every entry point.
use crate::DomainError;

/// Longest accepted display name (users, organizations, and later apps, groups, workspaces).
pub const MAX_NAME_LEN: usize = 200;
/// Longest accepted e-mail address (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// Longest accepted free text (descriptions, URLs, justifications).
pub const MAX_TEXT_LEN: usize = 2000;

/// Checks optional free text is not too long; returns it trimmed ("" when absent).
pub fn text(field: &str, value: Option<&str>) -> Result<String, DomainError> {
    let trimmed = value.unwrap_or_default().trim();
    if trimmed.contains('\0') {
        // PostgreSQL text cannot hold NUL, and no legitimate description needs it.
        return Err(DomainError::invalid(format!("{field} must not contain NUL characters")));
    }
    if trimmed.chars().count() > MAX_TEXT_LEN {
        return Err(DomainError::invalid(format!(
            "{field} must be at most {MAX_TEXT_LEN} characters"
        )));
    }
    Ok(trimmed.to_string())
}

/// Longest accepted request purpose (Cakewalk's `grantAccessPurpose`: 1–1024 characters).
pub const MAX_PURPOSE_LEN: usize = 1024;

/// Checks a request purpose (`grantAccessPurpose`, …): 1 to [`MAX_PURPOSE_LEN`] characters after
/// trimming, no NUL; returns it trimmed.
pub fn purpose(field: &str, value: &str) -> Result<String, DomainError> {
    text(field, Some(non_empty(field, value, MAX_PURPOSE_LEN)?))
}

/// Trims `value` and checks it is non-empty and at most `max` characters.
fn non_empty<'a>(field: &str, value: &'a str, max: usize) -> Result<&'a str, DomainError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(DomainError::invalid(format!("{field} must not be empty")));
    }
    if trimmed.chars().count() > max {
        return Err(DomainError::invalid(format!("{field} must be at most {max} characters")));
    }
    Ok(trimmed)
}

/// Trims a display name and checks it is non-empty and not too long.
pub fn name(field: &str, value: &str) -> Result<String, DomainError> {
    let trimmed = non_empty(field, value, MAX_NAME_LEN)?;
    if trimmed.chars().any(char::is_control) {
        return Err(DomainError::invalid(format!("{field} must not contain control characters")));
    }
    Ok(trimmed.to_string())
}

/// Checks an e-mail address has the shape `local@domain.tld` (deliverability is not our business).
pub fn email(value: &str) -> Result<String, DomainError> {
    let trimmed = value.trim();
    let bad = || DomainError::invalid(format!("'{trimmed}' is not a valid e-mail address"));
    if trimmed.len() > MAX_EMAIL_LEN {
        return Err(DomainError::invalid(format!(
            "email must be at most {MAX_EMAIL_LEN} characters"
        )));
    }
    let (local, domain) = trimmed.split_once('@').ok_or_else(bad)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.chars().any(|c| c.is_whitespace() || c.is_control() || c == '@');
    if !(domain_ok && local_ok) {
        return Err(bad());
    }
    Ok(trimmed.to_string())
}

/// Checks an absolute `http://` or `https://` URL with a host (at most [`MAX_TEXT_LEN`] bytes);
/// returns it trimmed.
pub fn http_url(field: &str, url: &str) -> Result<String, DomainError> {
    let url = url.trim();
    let rest =
        url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).ok_or_else(|| {
            DomainError::invalid(format!("{field} must be an http:// or https:// URL"))
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty()
        || host.contains(char::is_whitespace)
        || url.contains(char::is_control)
        || url.len() > MAX_TEXT_LEN
    {
        return Err(DomainError::invalid(format!("{field} must be an absolute URL with a host")));
    }
    Ok(url.to_string())
}

/// The key under which e-mail uniqueness is enforced (case-insensitive).
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_ordinary_addresses_and_rejects_malformed_ones() {
        assert_eq!(email(" Ada@Example.com ").as_deref(), Ok("Ada@Example.com"));
        for bad in
            ["", "ada", "ada@", "@example.com", "ada@example", "a b@example.com", "ada@ex..com"]
        {
            assert!(email(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  Ada ").as_deref(), Ok("Ada"));
        assert!(name("name", "   ").is_err());
        assert!(name("name", &"x".repeat(MAX_NAME_LEN + 1)).is_err());
        assert!(name("name", "a\u{0}b").is_err());
    }

    #[test]
    fn purposes_are_trimmed_non_empty_and_at_most_1024_characters() {
        assert_eq!(purpose("grantAccessPurpose", " Q3 audit ").as_deref(), Ok("Q3 audit"));
        // Characters, not bytes: 1024 two-byte characters fit.
        let longest = "é".repeat(MAX_PURPOSE_LEN);
        assert_eq!(purpose("p", &longest).as_deref(), Ok(longest.as_str()));
        let too_long = purpose("p", &"x".repeat(MAX_PURPOSE_LEN + 1)).unwrap_err();
        assert_eq!(too_long.to_string(), "p must be at most 1024 characters");
        assert_eq!(purpose("p", " \n ").unwrap_err().to_string(), "p must not be empty");
        assert!(purpose("p", "a\u{0}b").is_err());
    }

    proptest! {
        #[test]
        fn email_key_is_case_insensitive(local in "[a-zA-Z0-9]{1,20}", domain in "[a-zA-Z]{1,10}") {
            let a = format!("{local}@{domain}.com");
            prop_assert_eq!(email_key(&a), email_key(&a.to_uppercase()));
        }

        #[test]
        fn validation_never_panics(s in ".*") {
            let _ = email(&s);
            let _ = name("name", &s);
        }
    }
}
