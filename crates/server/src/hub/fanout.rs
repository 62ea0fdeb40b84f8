//! Fan-out: each view of a challenge as a broadcast of messages serialised once, with a ring of
//! recent messages for clients that resume with `since` and a cached audience snapshot for join
//! storms.

use std::collections::{HashMap, VecDeque};

use axum::extract::ws::Utf8Bytes;
use makerpulse_core::protocol::ServerMessage;
use makerpulse_core::{Event, EventBody, Projector, Role, State, ViewStream};
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
}

impl ViewChannel {
    pub(super) fn new(role: Role, seq: u64) -> Self {
        Self {
            stream: ViewStream::new(role, seq),
            floor: seq,
            ring: VecDeque::with_capacity(64),
            tx: broadcast::channel(LAG).0,
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

#[derive(Default)]
pub(super) struct Streams {
    pub(super) views: HashMap<Role, ViewChannel>,
    /// The audience snapshot at a seq, kept because joins come in storms.
    audience: Option<(u64, Utf8Bytes)>,
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
    /// Starts following the view of `role` from `since`: the missed messages if the view still
    /// holds them all, a snapshot otherwise.
    pub fn subscribe(&self, role: &Role, since: Option<u64>) -> Subscription {
        let mut streams = lock(&self.streams);
        let state = self.state();
        let seq = state.seq();
        let channel = streams
            .views
            .entry(role.clone())
            .or_insert_with(|| ViewChannel::new(role.clone(), seq));
        let rx = channel.tx.subscribe();
        let start = match since {
            Some(since) if since <= seq && since >= channel.floor => Start::Replay(
                channel
                    .ring
                    .iter()
                    .filter(|m| m.seq > since)
                    .cloned()
                    .collect(),
            ),
            _ => Start::Snapshot(snapshot_text(&mut streams, &state, role)),
        };
        self.metrics.joined(matches!(start, Start::Replay(_)));
        Subscription { seq, start, rx }
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
            for channel in streams.views.values_mut() {
                if let Some(delta) = channel.stream.next(&projector, event) {
                    let text = Utf8Bytes::from(ServerMessage::Delta(delta).to_json());
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

fn snapshot_text(streams: &mut Streams, state: &State, role: &Role) -> Utf8Bytes {
    let render = || {
        let view = Projector::new(state).snapshot(role);
        Utf8Bytes::from(
            ServerMessage::Snapshot {
                view: Box::new(view),
            }
            .to_json(),
        )
    };
    if role != &Role::Audience {
        return render();
    }
    match &streams.audience {
        Some((seq, text)) if *seq == state.seq() => text.clone(),
        _ => {
            let text = render();
            streams.audience = Some((state.seq(), text.clone()));
            text
        }
    }
}
