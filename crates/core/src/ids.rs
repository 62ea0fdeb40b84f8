//! Typed identifiers: one newtype per kind of thing, so a team id can never be passed where a judge
//! id is expected, and every id that enters the core has already been checked.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// The longest id the core accepts, in bytes.
pub const MAX_ID_LEN: usize = 64;

/// Checks the shape every id shares: 1–64 characters of ASCII letters, digits, `-` and `_`.
///
/// Ids travel in URLs, Redis keys and file names, so they are kept to characters that need no
/// escaping anywhere.
pub fn check_id(kind: &'static str, raw: &str) -> Result<(), DomainError> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_ID_LEN
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(DomainError::InvalidId {
            kind,
            id: raw.chars().take(MAX_ID_LEN + 8).collect(),
        })
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        ///
        /// Shared text: the server clones ids into every view of every event, so a clone is a
        /// reference count, not an allocation.
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(Arc<str>);

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                string_schema(ID_PATTERN, 1, MAX_ID_LEN, concat!("A ", $kind, " id"))
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl $name {
            /// The name of this kind of id in error messages.
            pub const KIND: &'static str = $kind;

            /// Checks `raw` and wraps it.
            pub fn new(raw: impl Into<String>) -> Result<Self, DomainError> {
                let raw = raw.into();
                check_id($kind, &raw)?;
                Ok(Self(raw.into()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(raw: String) -> Result<Self, DomainError> {
                Self::new(raw)
            }
        }

        impl std::str::FromStr for $name {
            type Err = DomainError;
            fn from_str(raw: &str) -> Result<Self, DomainError> {
                Self::new(raw)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0.to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A challenge (挑战赛); also the key of its event log.
    ChallengeId,
    "challenge"
);
id_type!(
    /// A track (赛道).
    TrackId,
    "track"
);
id_type!(
    /// A team (团队).
    TeamId,
    "team"
);
id_type!(
    /// A judge (评委).
    JudgeId,
    "judge"
);
id_type!(
    /// A milestone (里程碑).
    MilestoneId,
    "milestone"
);
id_type!(
    /// A rubric criterion (评分项).
    CriterionId,
    "criterion"
);
id_type!(
    /// A client-chosen command id; a command resent with the same id is answered, not repeated.
    CommandId,
    "command"
);

/// The SHA-256 of a bearer token, as 64 lowercase hex digits. Tokens themselves never enter the
/// core: the server hashes what it mints and what it is shown.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TokenHash(String);

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for TokenHash {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_schema(
            "^[0-9a-f]{64}$",
            64,
            64,
            "SHA-256 of a token, lowercase hex",
        )
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for TokenHash {}

/// The pattern every id matches, as a regular expression (for the OpenAPI document).
pub const ID_PATTERN: &str = "^[A-Za-z0-9_-]{1,64}$";

/// A string schema with a pattern and length bounds, so the API document says exactly what an id
/// accepts.
#[cfg(feature = "openapi")]
fn string_schema(
    pattern: &str,
    min: usize,
    max: usize,
    description: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .min_length(Some(min))
        .max_length(Some(max))
        .description(Some(description))
        .into()
}

impl TokenHash {
    /// Hashes a token as presented by a client.
    pub fn of(token: &str) -> Self {
        Self(hex_sha256(token.as_bytes()))
    }

    /// Checks that `raw` looks like a hash this type produced.
    pub fn new(raw: impl Into<String>) -> Result<Self, DomainError> {
        let raw = raw.into();
        if is_sha256_hex(&raw) {
            Ok(Self(raw))
        } else {
            Err(DomainError::InvalidTokenHash)
        }
    }

    /// The hash as hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TokenHash {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, DomainError> {
        Self::new(raw)
    }
}

impl From<TokenHash> for String {
    fn from(hash: TokenHash) -> String {
        hash.0
    }
}

/// SHA-256 of `bytes` as 64 lowercase hex digits; also names uploaded photos by their content.
pub fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write;

    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Whether `raw` is 64 lowercase hex digits.
pub fn is_sha256_hex(raw: &str) -> bool {
    raw.len() == 64 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_slugs_and_refuse_everything_else() {
        assert!(TeamId::new("team-07_a").is_ok());
        for bad in ["", "has space", "slash/", "é", &"x".repeat(65)] {
            let err = TeamId::new(bad).unwrap_err();
            assert_eq!(err.code(), "invalid_id", "{bad:?}");
        }
    }

    #[test]
    fn ids_deserialize_through_validation() {
        let ok: TeamId = serde_json::from_str("\"t1\"").unwrap();
        assert_eq!(ok.as_str(), "t1");
        assert!(serde_json::from_str::<TeamId>("\"<script>\"").is_err());
    }

    #[test]
    fn token_hash_is_sha256_hex() {
        let h = TokenHash::of("secret");
        assert_eq!(
            h.as_str(),
            "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
        );
        assert!(TokenHash::new(h.as_str().to_uppercase()).is_err());
        assert_eq!(
            TokenHash::new("abc").unwrap_err().code(),
            "invalid_token_hash"
        );
    }
}
