//! Input limits and validation shared by every entry point.
//!
//! Names and e-mail addresses are identifiers people read and compare: they are stored in
//! Unicode NFC (so `é` typed precomposed or as `e` + accent is one name), and may not contain
//! invisible format characters (general category Cf: zero-width spaces and joiners, bidi
//! controls, the soft hyphen, …) that would make two identical-looking values differ or reorder
//! what an administrator sees.
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

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

/// Is `c` an invisible format character (Unicode general category Cf)?
fn is_format(c: char) -> bool {
    c.general_category() == GeneralCategory::Format
}

/// Refuses control and invisible format characters in an identifier.
fn visible(field: &str, value: &str) -> Result<(), DomainError> {
    if value.chars().any(char::is_control) {
        return Err(DomainError::invalid(format!("{field} must not contain control characters")));
    }
    if value.chars().any(is_format) {
        return Err(DomainError::invalid(format!(
            "{field} must not contain invisible formatting characters (zero-width or \
             bidirectional controls)"
        )));
    }
    Ok(())
}

/// Trims a display name, checks it is non-empty, not too long and free of control and format
/// characters; returns it in NFC.
pub fn name(field: &str, value: &str) -> Result<String, DomainError> {
    let trimmed = non_empty(field, value, MAX_NAME_LEN)?;
    visible(field, trimmed)?;
    Ok(trimmed.nfc().collect())
}

/// Checks an e-mail address has the shape `local@domain.tld` (deliverability is not our business)
/// and holds no control or format characters; returns it trimmed, in NFC.
pub fn email(value: &str) -> Result<String, DomainError> {
    if value.trim().len() > MAX_EMAIL_LEN {
        return Err(DomainError::invalid(format!(
            "email must be at most {MAX_EMAIL_LEN} characters"
        )));
    }
    visible("email", value.trim())?;
    let trimmed: String = value.trim().nfc().collect();
    let trimmed = trimmed.as_str();
    let bad = || DomainError::invalid(format!("'{trimmed}' is not a valid e-mail address"));
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

/// The key under which e-mail uniqueness is enforced: NFC and full case folding, so addresses
/// that differ only in case (`ß`/`SS`, `Σ`/`σ`/`ς`) or in how an accent is encoded are one.
/// For ASCII addresses it is the lower-case address, as it always was.
pub fn email_key(email: &str) -> String {
    let nfc: String = email.trim().nfc().collect();
    // Upper- then lower-casing folds the characters whose lower case alone does not (ß → ss,
    // final sigma, ligatures); NFC again, as case mapping can decompose.
    nfc.to_uppercase().to_lowercase().nfc().collect()
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

    #[test]
    fn invisible_format_characters_are_refused_in_names_and_emails() {
        for sneaky in ['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}'] {
            assert!(name("name", &format!("Ad{sneaky}a")).is_err(), "{sneaky:?}");
            assert!(email(&format!("ad{sneaky}a@example.com")).is_err(), "{sneaky:?}");
            assert!(email(&format!("ada@exa{sneaky}mple.com")).is_err(), "{sneaky:?}");
        }
        // Bidi controls that would show "moc.elpmaxe@ada" as something else.
        for bidi in ['\u{202E}', '\u{202A}', '\u{2066}', '\u{2069}', '\u{200F}', '\u{061C}'] {
            assert!(name("name", &format!("Ada {bidi}Lovelace")).is_err(), "{bidi:?}");
            assert!(email(&format!("{bidi}ada@example.com")).is_err(), "{bidi:?}");
        }
        let err = name("firstName", "A\u{200B}da").unwrap_err().to_string();
        assert!(err.contains("firstName") && err.contains("invisible"), "{err}");
        // Ordinary letters of every script are fine.
        for ok in ["Zoë", "Łukasz", "Ἀριστοτέλης", "王小明", "Ибрагим", "محمد"]
        {
            assert!(name("name", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn names_and_emails_are_stored_in_nfc() {
        let decomposed = "Zoe\u{0301}";
        assert_eq!(name("name", decomposed).as_deref(), Ok("Zo\u{e9}"));
        assert_eq!(email("zoe\u{0301}@example.com").as_deref(), Ok("zo\u{e9}@example.com"));
    }

    #[test]
    fn email_keys_fold_case_and_normalization() {
        let same = |a: &str, b: &str| assert_eq!(email_key(a), email_key(b), "{a} / {b}");
        same("Ada@Example.COM", "ada@example.com");
        same("zo\u{e9}@example.com", "ZOE\u{0301}@EXAMPLE.COM");
        same("stra\u{df}e@example.de", "STRASSE@example.de");
        same(
            "\u{3a3}\u{3bf}\u{3c6}\u{3af}\u{3b1}@example.gr",
            "\u{3c3}\u{3bf}\u{3c6}\u{3af}\u{3b1}@example.gr",
        );
        same("\u{fb03}@example.com", "FFI@example.com");
        assert_eq!(email_key(" Ada@Example.com "), "ada@example.com", "ASCII keys are unchanged");
        assert_ne!(email_key("ada@example.com"), email_key("ad\u{430}@example.com"), "Cyrillic а");
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
