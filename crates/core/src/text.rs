//! User text: bilingual names, length limits and link checks shared by every command.
//!
//! Limits count characters, not bytes, so a Chinese name gets the same room as an English one.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// Longest name (challenge, track, team, member, judge, criterion, milestone), in characters.
pub const MAX_NAME: usize = 80;
/// Longest free description, in characters.
pub const MAX_DESCRIPTION: usize = 1_000;
/// Longest progress post, in characters.
pub const MAX_POST: usize = 2_000;
/// Longest scorecard comment, in characters.
pub const MAX_COMMENT: usize = 2_000;
/// Longest reason given for a revision, a pause or a moderation, in characters.
pub const MAX_REASON: usize = 500;
/// Longest link, in characters.
pub const MAX_URL: usize = 2_048;

/// A language the product speaks.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    /// 中文
    Zh,
    /// English
    En,
}

/// A text in 中文 and English. At least one must be given; a missing one falls back to the other
/// when shown, because a foreign team may well have no Chinese name and should not need to invent one.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    /// 中文
    #[serde(default)]
    pub zh: String,
    /// English
    #[serde(default)]
    pub en: String,
}

impl Localized {
    /// Both languages at once.
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// The text in `lang`, or in the other language when that one is empty.
    pub fn get(&self, lang: Lang) -> &str {
        let (first, second) = match lang {
            Lang::Zh => (&self.zh, &self.en),
            Lang::En => (&self.en, &self.zh),
        };
        if first.is_empty() {
            second
        } else {
            first
        }
    }

    /// Trims both sides and checks that at least one is given and neither is longer than `max`.
    pub fn checked(mut self, field: &'static str, max: usize) -> Result<Self, DomainError> {
        self.zh = optional(field, &self.zh, max)?;
        self.en = optional(field, &self.en, max)?;
        if self.zh.is_empty() && self.en.is_empty() {
            return Err(DomainError::EmptyText { field });
        }
        Ok(self)
    }
}

/// Trims `raw` and checks it is neither empty nor longer than `max` characters.
pub fn required(field: &'static str, raw: &str, max: usize) -> Result<String, DomainError> {
    let text = optional(field, raw, max)?;
    if text.is_empty() {
        return Err(DomainError::EmptyText { field });
    }
    Ok(text)
}

/// Trims `raw` and checks it is not longer than `max` characters; empty is fine.
///
/// Control characters other than newlines and tabs are refused: they have no place in a post and
/// are a favourite of people trying to break terminals and log viewers.
pub fn optional(field: &'static str, raw: &str, max: usize) -> Result<String, DomainError> {
    let text = raw.trim();
    if text.chars().count() > max {
        return Err(DomainError::TextTooLong { field, max });
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(DomainError::ControlCharacter { field });
    }
    Ok(text.to_owned())
}

/// Checks a link: `http://` or `https://`, a host, no spaces or control characters, at most
/// [`MAX_URL`] characters. Anything else (`javascript:`, `data:`, relative paths) is refused so that
/// a link shown on the big screen can only ever open a web page.
pub fn link(raw: &str) -> Result<String, DomainError> {
    let url = raw.trim();
    let invalid = || DomainError::InvalidUrl {
        url: url.chars().take(100).collect(),
    };
    if url.chars().count() > MAX_URL {
        return Err(invalid());
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(invalid)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    if host.is_empty()
        || host.starts_with(':')
        || url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == '"')
    {
        return Err(invalid());
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localized_falls_back_to_the_other_language() {
        let name = Localized::new("", "Team Rocket")
            .checked("name", MAX_NAME)
            .unwrap();
        assert_eq!(name.get(Lang::Zh), "Team Rocket");
        assert_eq!(Localized::new("火箭队", "Rocket").get(Lang::Zh), "火箭队");
    }

    #[test]
    fn localized_needs_one_language() {
        let err = Localized::new("  ", "")
            .checked("name", MAX_NAME)
            .unwrap_err();
        assert_eq!(err.code(), "empty_text");
    }

    #[test]
    fn limits_count_characters() {
        assert!(required("name", &"创".repeat(80), MAX_NAME).is_ok());
        assert_eq!(
            required("name", &"创".repeat(81), MAX_NAME)
                .unwrap_err()
                .code(),
            "text_too_long"
        );
        assert_eq!(
            optional("text", "bell\u{7}", 10).unwrap_err().code(),
            "control_character"
        );
        assert_eq!(optional("text", " a\nb ", 10).unwrap(), "a\nb");
    }

    #[test]
    fn links_are_http_only() {
        assert!(link("https://example.org/x?y=1").is_ok());
        assert!(link("HTTP://example.org").is_ok());
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "/relative",
            "https://",
            "https:///path",
            "https://a b.org",
            "ftp://example.org",
            "https://x.org/\"><script>",
        ] {
            assert_eq!(link(bad).unwrap_err().code(), "invalid_url", "{bad}");
        }
    }
}
