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
/// are a favourite of people trying to break terminals and log viewers. So are the bidirectional
/// overrides and isolates, which reorder what follows them on screen (a name that reads "Team A"
/// and sorts, copies and searches as something else). A text of nothing but invisible characters
/// (zero-width spaces and joiners, fillers, variation selectors) counts as empty, so a required
/// name cannot be blank to the eye.
pub fn optional(field: &'static str, raw: &str, max: usize) -> Result<String, DomainError> {
    let text = raw.trim();
    if text.chars().count() > max {
        return Err(DomainError::TextTooLong { field, max });
    }
    if text
        .chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\t' && c != '\r') || is_bidi_control(c))
    {
        return Err(DomainError::ControlCharacter { field });
    }
    if !text.chars().any(|c| !c.is_whitespace() && !is_invisible(c)) {
        return Ok(String::new());
    }
    Ok(text.to_owned())
}

/// The explicit bidirectional formatting characters: embeddings, overrides and isolates.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that take no room on screen (Unicode's default-ignorable code points that people
/// paste, and the Hangul fillers that render as blanks).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Checks a link and returns it as browsers will read it: `http://` or `https://`, a host, no
/// user name or password, at most [`MAX_URL`] characters. Anything else (`javascript:`, `data:`,
/// relative paths) is refused so that a link shown on the big screen can only ever open a web
/// page. The link is parsed as browsers parse it and kept in that form, so the host the server
/// checked is the host a click opens: `https://evil.example\@good.org` is a link to
/// `evil.example`, and is kept as `https://evil.example/@good.org`.
pub fn link(raw: &str) -> Result<String, DomainError> {
    let text = raw.trim();
    let invalid = || DomainError::InvalidUrl {
        url: text.chars().take(100).collect(),
    };
    if text.chars().count() > MAX_URL
        || text.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || is_bidi_control(c)
                || matches!(c, '<' | '>' | '"')
        })
    {
        return Err(invalid());
    }
    // Browsers forgive `https:///host` and `https:\\host`; a link written so is a mistake or a
    // trick, and is refused rather than silently read.
    let after_scheme = text.split_once("://").map_or("", |(_, rest)| rest);
    if after_scheme.is_empty() || after_scheme.starts_with(['/', '\\']) {
        return Err(invalid());
    }
    let url = url::Url::parse(text).map_err(|_| invalid())?;
    let host = url.host_str().unwrap_or("");
    if !matches!(url.scheme(), "http" | "https")
        || host.is_empty()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(invalid());
    }
    let kept = url.to_string();
    if kept.chars().count() > MAX_URL {
        return Err(invalid());
    }
    Ok(kept)
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
    fn bidi_overrides_are_refused_and_invisible_names_are_empty() {
        for bidi in ["\u{202E}maeT", "a\u{2066}b\u{2069}", "\u{202A}x"] {
            assert_eq!(
                optional("name", bidi, MAX_NAME).unwrap_err().code(),
                "control_character",
                "{bidi:?}"
            );
        }
        for blank in [
            "\u{200B}\u{200B}",
            "\u{3164}",
            "\u{FEFF} \u{2060}",
            "\u{200D}\u{FE0F}",
        ] {
            assert_eq!(
                required("name", blank, MAX_NAME).unwrap_err().code(),
                "empty_text",
                "{blank:?}"
            );
            assert_eq!(
                Localized::new(blank, "")
                    .checked("name", MAX_NAME)
                    .unwrap_err()
                    .code(),
                "empty_text"
            );
        }
        // Joiners inside real text are kept: emoji sequences and scripts need them.
        assert_eq!(
            optional("name", "👩\u{200D}🔬 Lab", MAX_NAME).unwrap(),
            "👩\u{200D}🔬 Lab"
        );
        assert_eq!(optional("name", "عربي", MAX_NAME).unwrap(), "عربي");
    }

    #[test]
    fn links_are_http_only() {
        assert_eq!(
            link("https://example.org/x?y=1").unwrap(),
            "https://example.org/x?y=1"
        );
        assert_eq!(link("HTTP://Example.org").unwrap(), "http://example.org/");
        // Read as browsers read it: the backslash ends the host.
        assert_eq!(
            link("https://evil.example\\@good.org").unwrap(),
            "https://evil.example/@good.org"
        );
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "/relative",
            "https://",
            "https:///path",
            "https://a b.org",
            "ftp://example.org",
            "https://x.org/\"><script>",
            "https://good.org@evil.example/",
            "https://user:pass@example.org/",
            "https://example.org/\u{202E}gpj.exe",
        ] {
            assert_eq!(link(bad).unwrap_err().code(), "invalid_url", "{bad}");
        }
    }
}
