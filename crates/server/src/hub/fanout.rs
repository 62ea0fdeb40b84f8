//! Fan-out: each view of a challenge as a broadcast of messages serialised once, with a ring of
//! recent messages for clients that resume with `since`, and each view's snapshot at the current
//! seq cached for join and reconnect storms.
//!
//! A client that resumes is sent the cheaper of the two: the messages it missed, or a snapshot
//! once their bytes outweigh it. A viewer back after a long drop (or ten thousand back at once
//! after a network blip, while events go on) costs one snapshot each, not a replay that grows
//! with the time it was away.
//!
//! A view is a role's view of the [`Parts`] its connections follow: a console that shows neither
//! the board nor the people's choice follows a view of its own that skips every scorecard of
//! another team, so one scorecard is one message to the board's watchers (the audience, the
//! organizers) and the judge who sent it, not one to every console of the challenge.

use std::collections::{HashMap, VecDeque};

use axum::extract::ws::Utf8Bytes;
use makerpulse_core::protocol::{ServerMessage, SharedMessages};
use makerpulse_core::{Event, EventBody, Parts, Projector, Role, State, ViewStream};
use std::sync::PoisonError;
use tokio::sync::broadcast;

use super::{lock, Hub, Msg, Start, Subscription};

/// Messages kept per view for clients that resume with `since`.
const RING: usize = 1024;
/// Messages a connection may fall behind before it is resynced with a snapshot.
const LAG: usize = 256;

pub(super) struct ViewChannel {
    stream: ViewStream,
    /// Every message with a seq above `floor` is in `ring`.
    floor: u64,
    ring: VecDeque<Msg>,
    tx: broadcast::Sender<Msg>,
    /// The size of this view's last snapshot: a resume whose missed messages weigh less is
    /// answered with them without rendering a snapshot to compare.
    snapshot_bytes: Option<usize>,
}

impl ViewChannel {
    pub(super) fn new(role: Role, parts: Parts, seq: u64) -> Self {
        Self {
            stream: ViewStream::of_parts(role, parts, seq),
            floor: seq,
            ring: VecDeque::with_capacity(64),
            tx: broadcast::channel(LAG).0,
            snapshot_bytes: None,
        }
    }

    fn push(&mut self, msg: Msg) {
        if self.ring.len() == RING {
            if let Some(old) = self.ring.pop_front() {
                self.floor = old.seq;
            }
        }
        self.ring.push_back(msg.clone());
        // No receiver is fine: the ring still serves later resumes.
        let _ = self.tx.send(msg);
    }
}

/// A view: whose, and which parts of it.
pub(super) type ViewKey = (Role, Parts);

#[derive(Default)]
pub(super) struct Streams {
    pub(super) views: HashMap<ViewKey, ViewChannel>,
    /// Snapshots at the current seq by view, kept because joins and resumes come in storms;
    /// emptied by every event, so it never holds more than one per view that was asked for.
    snapshots: HashMap<ViewKey, Utf8Bytes>,
    /// The seq of every snapshot in `snapshots`.
    snapshots_at: u64,
}

impl Streams {
    /// Messages kept in the rings of every view, and their bytes: for the `kept` metric.
    pub(super) fn ring_sizes(&self) -> (usize, usize) {
        self.views.values().fold((0, 0), |(n, bytes), channel| {
            let b: usize = channel.ring.iter().map(|m| m.text.len()).sum();
            (n + channel.ring.len(), bytes + b)
        })
    }
}

impl Hub {
    /// Starts following the `parts` of the view of `role` from `since`: the missed messages if
    /// the view still holds them all, a snapshot otherwise.
    pub fn subscribe(&self, role: &Role, parts: Parts, since: Option<u64>) -> Subscription {
        let mut streams = lock(&self.streams);
        let state = self.state();
        let seq = state.seq();
        let key = (role.clone(), parts);
        let channel = streams
            .views
            .entry(key.clone())
            .or_insert_with(|| ViewChannel::new(role.clone(), parts, seq));
        let rx = channel.tx.subscribe();
        let start = match since {
            Some(since) if since <= seq && since >= channel.floor => {
                let from = channel.ring.partition_point(|m| m.seq <= since);
                let missed: Vec<Msg> = channel.ring.range(from..).cloned().collect();
                let bytes: usize = missed.iter().map(|m| m.text.len()).sum();
                if bytes == 0 || channel.snapshot_bytes.is_some_and(|known| bytes <= known) {
                    Start::Replay(missed)
                } else {
                    let snapshot = snapshot_text(&mut streams, &state, &key);
                    if bytes <= snapshot.len() {
                        Start::Replay(missed)
                    } else {
                        Start::Snapshot(snapshot)
                    }
                }
            }
            _ => Start::Snapshot(snapshot_text(&mut streams, &state, &key)),
        };
        self.metrics.joined(matches!(start, Start::Replay(_)));
        Subscription { seq, start, rx }
    }

    /// The snapshot of the `parts` of `role`'s view now, as the socket sends it: the seq, and
    /// the text of the `snapshot` message (cached per seq and view, shared with the sockets'
    /// snapshots).
    pub fn snapshot(&self, role: &Role, parts: Parts) -> (u64, Utf8Bytes) {
        let mut streams = lock(&self.streams);
        let state = self.state();
        let key = (role.clone(), parts);
        (state.seq(), snapshot_text(&mut streams, &state, &key))
    }

    /// Applies durable events to the committed state and fans them out.
    pub(super) fn publish(&self, events: &[Event]) {
        let mut streams = lock(&self.streams);
        for event in events {
            self.committed
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .apply(event)
                .expect("the writer appends in sequence");
            let state = self.state();
            let projector = Projector::new(&state);
            if matches!(event.body, EventBody::PostHidden { .. }) {
                // The rings hold the post as it was posted: a client resuming from before the
                // hiding must not be replayed its text, so it gets a snapshot instead.
                for channel in streams.views.values_mut() {
                    channel.ring.clear();
                    channel.floor = event.seq - 1;
                }
            }
            // The audience and every team's console (and most judges') get the same message for
            // most events: serialised once, the bytes shared.
            let mut shared = SharedMessages::default();
            for channel in streams.views.values_mut() {
                if let Some(delta) = channel.stream.next(&projector, event) {
                    let text = shared.text(delta, Utf8Bytes::from);
                    channel.push(Msg {
                        seq: event.seq,
                        text,
                    });
                }
            }
        }
        self.metrics.events(events.len());
        if let Some(last) = events.last() {
            self.seq.send_replace(last.seq);
        }
    }
}

/// The snapshot of a view at the state's seq, rendered once per seq and view.
pub(super) fn snapshot_text(streams: &mut Streams, state: &State, key: &ViewKey) -> Utf8Bytes {
    if streams.snapshots_at != state.seq() {
        streams.snapshots.clear();
        streams.snapshots_at = state.seq();
    }
    if let Some(text) = streams.snapshots.get(key) {
        return text.clone();
    }
    let (role, parts) = key;
    let view = Projector::new(state).snapshot_of(role, *parts);
    let text = Utf8Bytes::from(
        ServerMessage::Snapshot {
            view: Box::new(view),
        }
        .to_json(),
    );
    if let Some(channel) = streams.views.get_mut(key) {
        channel.snapshot_bytes = Some(text.len());
    }
    streams.snapshots.insert(key.clone(), text.clone());
    text
}
