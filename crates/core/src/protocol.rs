//! The messages of the live WebSocket protocol, shared by the server and the typed client.
//!
//! A client opens `/api/challenges/{id}/live` and sends `hello` first, with its token (never in
//! the URL) and the last seq it holds. The server answers `welcome`, then either the missed
//! `delta`s in order or one `snapshot` — never a partial replay — then streams deltas. A client
//! whose last seq is below a delta's `prev_seq` has missed a message and sends `snapshot`.
//! A console may name in `hello` the [`Parts`] of the view it shows; it then gets only those
//! (and the parts that always come), and no message for an event that changes none of them.

use serde::{Deserialize, Serialize};

use crate::command::Envelope;
use crate::delta::Delta;
use crate::error::{DomainError, ImportRowError};
use crate::ids::{ChallengeId, CommandId, TeamId};
use crate::parts::Parts;
use crate::view::{Role, View};

/// Close code: the server is going away or the client fell too far behind; reconnect with `since`.
pub const CLOSE_RECONNECT: u16 = 4000;
/// Close code: the token is unknown or revoked.
pub const CLOSE_UNAUTHORIZED: u16 = 4001;
/// Close code: nothing was heard from the client for too long.
pub const CLOSE_IDLE: u16 = 4002;
/// Close code: the first message was not a valid `hello`.
pub const CLOSE_PROTOCOL: u16 = 4003;
/// Close code: no challenge with this id.
pub const CLOSE_NOT_FOUND: u16 = 4004;

/// What a client sends.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// The first message: who the client is and from where to resume.
    Hello {
        /// A team, judge or admin token; absent for the audience.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
        /// The last seq the client holds; absent for a fresh start.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
        /// The parts of the view the client shows, of those it may leave out; absent, all of
        /// them. A client that changes its parts starts again without `since`.
        #[serde(default, skip_serializing_if = "Parts::is_all")]
        #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<crate::parts::Part>>))]
        parts: Parts,
    },
    /// A command, answered with `ack`, `cheered` or `error` carrying the same id.
    Command(Envelope),
    /// Asks for a fresh snapshot (after a gap).
    Snapshot,
}

/// What the server sends.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The answer to `hello`.
    Welcome {
        /// The challenge.
        challenge: ChallengeId,
        /// The view this connection gets.
        role: Role,
        /// The challenge's seq now.
        seq: u64,
    },
    /// The whole view.
    Snapshot {
        /// The view.
        view: Box<View>,
    },
    /// What one event changed in the view.
    Delta(Delta),
    /// A command was accepted and is durable.
    Ack {
        /// The command id.
        id: CommandId,
        /// The seq of its first event.
        first_seq: u64,
        /// The seq of its last event.
        last_seq: u64,
        /// Whether this is the answer to a resend.
        repeated: bool,
    },
    /// A cheer was counted.
    Cheered {
        /// The command id.
        id: CommandId,
        /// The team.
        team: TeamId,
    },
    /// Who is watching now, summed over every instance; sent when it changes. Not part of the
    /// view and not numbered: presence is transient and never logged.
    Presence {
        /// Connections per role.
        online: Online,
    },
    /// A command or message was refused; nothing changed.
    Error {
        /// The command id, when the message was a readable command.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<CommandId>,
        /// Stable code.
        code: String,
        /// English message.
        message: String,
        /// Chinese message.
        message_zh: String,
        /// How long to wait before retrying, in milliseconds, when the server says (a cheer
        /// over its address's budget).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
        /// For `import_refused`: every refused row and why.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        rows: Vec<ImportRowError>,
    },
}

/// Open live connections per role.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Online {
    /// Audience connections (big screens, phones, partner feeds are not counted).
    pub audience: u64,
    /// Team consoles.
    pub team: u64,
    /// Judge consoles.
    pub judge: u64,
    /// Admin consoles.
    pub admin: u64,
}

impl ServerMessage {
    /// An error message for a refused command.
    pub fn error(id: Option<CommandId>, error: &DomainError) -> Self {
        ServerMessage::Error {
            id,
            code: error.code().to_owned(),
            message: error.to_string(),
            message_zh: error.message_zh(),
            retry_after_ms: None,
            rows: match error {
                DomainError::ImportRefused { rows } => rows.clone(),
                _ => Vec::new(),
            },
        }
    }

    /// The message as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server messages always serialise")
    }
}

/// How many distinct messages of one event [`SharedMessages`] remembers. An event that gives
/// most views one message (a scorecard: the audience and every team's and most judges' consoles
/// get the same rows) shares it; one that gives each view its own (a team added: each console its
/// own contact line) stops looking after a few, so no view pays for comparing with all others.
const SHARED: usize = 4;

/// One event's delta messages to many views, each distinct message serialised once: the views
/// that see the same public part of an event get the same delta (same patches, same previous
/// seq), and share its text. `T` is the caller's cheap-to-clone form of the text.
#[derive(Debug)]
pub struct SharedMessages<T> {
    made: Vec<(Delta, T)>,
}

impl<T> Default for SharedMessages<T> {
    fn default() -> Self {
        Self { made: Vec::new() }
    }
}

impl<T: Clone> SharedMessages<T> {
    /// The text of the `delta` message: one made earlier for an equal delta, or made now by
    /// `wrap` from the JSON.
    pub fn text(&mut self, delta: Delta, wrap: impl FnOnce(String) -> T) -> T {
        if let Some((_, text)) = self.made.iter().find(|(d, _)| *d == delta) {
            return text.clone();
        }
        let message = ServerMessage::Delta(delta);
        let text = wrap(message.to_json());
        if self.made.len() < SHARED {
            let ServerMessage::Delta(delta) = message else {
                unreachable!("made as a delta above")
            };
            self.made.push((delta, text.clone()));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_message_is_an_envelope_with_a_type() {
        let raw = r#"{"type":"command","id":"c1","command":{"type":"cheer","team":"t1"}}"#;
        let msg: ClientMessage = serde_json::from_str(raw).unwrap();
        let ClientMessage::Command(envelope) = &msg else {
            panic!("{msg:?}")
        };
        assert_eq!(envelope.id.as_str(), "c1");
        let again: ClientMessage =
            serde_json::from_str(&serde_json::to_string(&msg).unwrap()).unwrap();
        assert_eq!(again, msg);
        let bad =
            r#"{"type":"command","id":"c1","extra":1,"command":{"type":"cheer","team":"t1"}}"#;
        assert!(serde_json::from_str::<ClientMessage>(bad).is_err());
    }

    #[test]
    fn hello_fields_are_optional() {
        let msg: ClientMessage = serde_json::from_str(r#"{"type":"hello"}"#).unwrap();
        assert_eq!(
            msg,
            ClientMessage::Hello {
                token: None,
                since: None,
                parts: Parts::ALL,
            }
        );
        let msg: ClientMessage =
            serde_json::from_str(r#"{"type":"hello","parts":["ticker"]}"#).unwrap();
        assert_eq!(
            msg,
            ClientMessage::Hello {
                token: None,
                since: None,
                parts: [crate::parts::Part::Ticker].into_iter().collect(),
            }
        );
        assert!(
            serde_json::from_str::<ClientMessage>(r#"{"type":"hello","parts":["x"]}"#).is_err()
        );
    }
}
