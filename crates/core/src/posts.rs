//! The posts a state remembers: the newest ones whole, for the ticker that every view carries,
//! and of every older one only what a decision needs (that it exists, whose it is, whether it is
//! hidden, which photos it names). An older post's text is in the log: a team's timeline reads
//! it back by seq (the server through its journal's index), so a 72-hour challenge keeps eight
//! bytes per post in memory instead of its text, links and struct.
//!
//! Which posts are whole is a fold of the events, like the rest of the state: a replay keeps
//! exactly the posts the live state kept.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::event::{Event, EventBody};
use crate::ids::TeamId;
use crate::progress::{PhotoRef, Post};
use crate::view::TICKER_LEN;

/// How many visible posts are kept whole, newest first (with the hidden ones among them). More
/// than the ticker's length, so that the public ticker stays full after organizers hide posts:
/// it runs short only after `POSTS_KEPT - TICKER_LEN` posts were hidden with none posted since,
/// and fills again with the next posts.
pub const POSTS_KEPT: usize = 2 * TICKER_LEN + 4;

/// A post as the state knows it: whole when it is one of the newest, else by id.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Known<'a> {
    /// One of the newest posts, whole.
    Whole(&'a Post),
    /// An older post: the log holds its text.
    Older {
        /// Its id (the seq of its event).
        id: u64,
        /// Whose timeline.
        team: &'a TeamId,
        /// Why an organizer hid it.
        hidden: Option<&'a str>,
    },
}

impl Known<'_> {
    /// The post's id.
    pub fn id(&self) -> u64 {
        match self {
            Known::Whole(post) => post.id,
            Known::Older { id, .. } => *id,
        }
    }

    /// Whose timeline.
    pub fn team(&self) -> &TeamId {
        match self {
            Known::Whole(post) => &post.team,
            Known::Older { team, .. } => team,
        }
    }

    /// Why it was hidden, if it was.
    pub fn hidden(&self) -> Option<&str> {
        match self {
            Known::Whole(post) => post.hidden.as_deref(),
            Known::Older { hidden, .. } => *hidden,
        }
    }
}

/// Every post of a challenge, as remembered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Posts {
    /// The newest posts whole, oldest first: every post newer than the oldest of them is here.
    recent: VecDeque<Post>,
    /// Visible posts in `recent`.
    recent_visible: usize,
    /// The ids of the older posts, per team, in order.
    older: BTreeMap<TeamId, Vec<u64>>,
    /// Why each hidden older post was hidden.
    older_hidden: BTreeMap<u64, String>,
    /// The photos of the older posts that name any (a post without photos costs nothing here).
    older_photos: BTreeMap<u64, Vec<PhotoRef>>,
}

impl Posts {
    /// Posts remembered, whole or not.
    pub(crate) fn len(&self) -> usize {
        self.recent.len() + self.older.values().map(Vec::len).sum::<usize>()
    }

    /// Posts kept whole.
    pub(crate) fn whole(&self) -> usize {
        self.recent.len()
    }

    /// The posts kept whole, oldest first.
    pub(crate) fn recent(&self) -> impl DoubleEndedIterator<Item = &Post> {
        self.recent.iter()
    }

    /// Adds a new post (its id is above every other's), then lets the oldest whole posts go
    /// beyond [`POSTS_KEPT`] visible ones.
    pub(crate) fn push(&mut self, post: Post) {
        debug_assert!(self.recent.back().is_none_or(|p| p.id < post.id));
        if post.hidden.is_none() {
            self.recent_visible += 1;
        }
        self.recent.push_back(post);
        while self.recent_visible > POSTS_KEPT {
            let Some(old) = self.recent.pop_front() else {
                break;
            };
            match &old.hidden {
                None => self.recent_visible -= 1,
                Some(reason) => {
                    self.older_hidden.insert(old.id, reason.clone());
                }
            }
            if !old.photos.is_empty() {
                self.older_photos.insert(old.id, old.photos);
            }
            self.older.entry(old.team).or_default().push(old.id);
        }
    }

    /// One post, whole or by id.
    pub(crate) fn get(&self, id: u64) -> Option<Known<'_>> {
        if let Ok(i) = self.recent.binary_search_by_key(&id, |p| p.id) {
            return Some(Known::Whole(&self.recent[i]));
        }
        self.older.iter().find_map(|(team, ids)| {
            ids.binary_search(&id).ok().map(|_| Known::Older {
                id,
                team,
                hidden: self.older_hidden.get(&id).map(String::as_str),
            })
        })
    }

    /// Marks a post hidden. Returns its team and photos when it was visible until now.
    pub(crate) fn hide(&mut self, id: u64, reason: &str) -> Option<(TeamId, Vec<PhotoRef>)> {
        if let Ok(i) = self.recent.binary_search_by_key(&id, |p| p.id) {
            let post = &mut self.recent[i];
            if post.hidden.is_some() {
                return None;
            }
            post.hidden = Some(reason.to_owned());
            self.recent_visible -= 1;
            return Some((post.team.clone(), post.photos.clone()));
        }
        let team = match self.get(id)? {
            Known::Older {
                team, hidden: None, ..
            } => team.clone(),
            _ => return None,
        };
        self.older_hidden.insert(id, reason.to_owned());
        let photos = self.older_photos.get(&id).cloned().unwrap_or_default();
        Some((team, photos))
    }

    /// These posts as a state of the past keeps them ([`crate::past`]): without the older
    /// posts' ids and photos, which [`Posts::restore_older`] takes back from a later state.
    pub(crate) fn past(&self) -> Posts {
        Posts {
            recent: self.recent.clone(),
            recent_visible: self.recent_visible,
            older: BTreeMap::new(),
            older_hidden: self.older_hidden.clone(),
            older_photos: BTreeMap::new(),
        }
    }

    /// Takes back from `now`, the posts of a later state of the same log, the ids and photos of
    /// these posts' older ones: a post is never removed and the posts kept whole only move on,
    /// so they are every post of `now` older than the oldest one kept whole here (none when
    /// there is no post yet). `None` when `now` does not know that oldest post as its team's.
    pub(crate) fn restore_older(&mut self, now: &Posts) -> Option<()> {
        let Some(oldest) = self.recent.front() else {
            return Some(());
        };
        if now.get(oldest.id)?.team() != &oldest.team {
            return None;
        }
        let oldest = oldest.id;
        self.older = now
            .older
            .iter()
            .filter_map(|(team, ids)| {
                let n = ids.partition_point(|&id| id < oldest);
                (n > 0).then(|| (team.clone(), ids[..n].to_vec()))
            })
            .collect();
        self.older_photos = now
            .older_photos
            .range(..oldest)
            .map(|(&id, photos)| (id, photos.clone()))
            .collect();
        Some(())
    }

    /// Every hidden post up to `seq`, with why.
    pub(crate) fn hidden_until(&self, seq: u64) -> impl Iterator<Item = (u64, &str)> {
        let recent = self
            .recent
            .iter()
            .filter_map(|p| p.hidden.as_deref().map(|reason| (p.id, reason)));
        self.older_hidden
            .iter()
            .map(|(&id, reason)| (id, reason.as_str()))
            .chain(recent)
            .filter(move |&(id, _)| id <= seq)
    }

    /// The posts of `team`, oldest first, whole or by id.
    pub(crate) fn of_team<'a>(&'a self, team: &TeamId) -> impl Iterator<Item = Known<'a>> {
        let hidden = &self.older_hidden;
        let older = self
            .older
            .get_key_value(team)
            .into_iter()
            .flat_map(move |(team, ids)| {
                ids.iter().map(move |&id| Known::Older {
                    id,
                    team,
                    hidden: hidden.get(&id).map(String::as_str),
                })
            });
        let team = team.clone();
        older.chain(
            self.recent
                .iter()
                .filter(move |p| p.team == team)
                .map(Known::Whole),
        )
    }

    /// The photos the posts of `team` name, hidden posts' too.
    pub(crate) fn photos_of(&self, team: &TeamId) -> BTreeSet<&str> {
        let older = self
            .older
            .get(team)
            .into_iter()
            .flatten()
            .filter_map(|id| self.older_photos.get(id))
            .flatten();
        self.recent
            .iter()
            .filter(|p| &p.team == team)
            .flat_map(|p| p.photos.iter())
            .chain(older)
            .map(|ph| ph.sha256.as_str())
            .collect()
    }

    /// Whether any post, visible or hidden, names the photo with this SHA-256.
    pub(crate) fn photo_is_named(&self, sha256: &str) -> bool {
        self.recent
            .iter()
            .flat_map(|p| p.photos.iter())
            .chain(self.older_photos.values().flatten())
            .any(|ph| ph.sha256 == sha256)
    }
}

impl Post {
    /// The post that the event `event` created, as it was posted (not hidden); `None` when the
    /// event is not a post. How a post older than the ones a state keeps whole is read back from
    /// the log.
    pub fn from_event(event: &Event) -> Option<Post> {
        match &event.body {
            EventBody::ProgressPosted {
                team,
                text,
                photos,
                links,
                percent,
            } => Some(Post {
                id: event.seq,
                team: team.clone(),
                at: event.at,
                text: text.clone(),
                photos: photos.clone(),
                links: links.clone(),
                percent: *percent,
                hidden: None,
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn post(id: u64, team: &TeamId) -> Post {
        Post {
            id,
            team: team.clone(),
            at: Utc::now(),
            text: format!("post {id}"),
            photos: if id == 1 {
                vec![PhotoRef {
                    sha256: "a".repeat(64),
                    content_type: crate::progress::ImageType::Png,
                }]
            } else {
                Vec::new()
            },
            links: Vec::new(),
            percent: None,
            hidden: None,
        }
    }

    #[test]
    fn the_newest_visible_posts_stay_whole_and_older_ones_are_known_by_id() {
        let (a, b) = (TeamId::new("a").unwrap(), TeamId::new("b").unwrap());
        let mut posts = Posts::default();
        let n = POSTS_KEPT as u64 + 10;
        for id in 1..=n {
            posts.push(post(id, if id % 2 == 0 { &a } else { &b }));
        }
        assert_eq!((posts.len(), posts.whole()), (n as usize, POSTS_KEPT));
        assert!(matches!(posts.get(n), Some(Known::Whole(p)) if p.id == n));
        assert_eq!(
            posts.get(1),
            Some(Known::Older {
                id: 1,
                team: &b,
                hidden: None
            })
        );
        assert_eq!(posts.get(n + 1), None);
        assert!(posts.photo_is_named(&"a".repeat(64)));
        assert_eq!(posts.photos_of(&b).len(), 1);
        assert!(posts.photos_of(&a).is_empty());

        // Hiding an older post: it reports the team and photos once, and stays hidden.
        let (team, photos) = posts.hide(1, "spam").unwrap();
        assert_eq!((team, photos.len()), (b.clone(), 1));
        assert_eq!(posts.hide(1, "again"), None);
        assert_eq!(posts.get(1).unwrap().hidden(), Some("spam"));
        // Hiding a whole one takes it out of the visible count: the next post keeps one more.
        posts.hide(n, "spam").unwrap();
        posts.push(post(n + 1, &a));
        assert_eq!(posts.whole(), POSTS_KEPT + 1);
        assert_eq!(
            posts.hidden_until(n).collect::<Vec<_>>(),
            vec![(1, "spam"), (n, "spam")]
        );
        let ids: Vec<u64> = posts.of_team(&b).map(|k| k.id()).collect();
        assert_eq!(ids, (1..=n).filter(|id| id % 2 == 1).collect::<Vec<_>>());
    }
}
