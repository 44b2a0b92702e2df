//! The catalog: the lessons a server offers, in the order learners should take them.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use super::Lesson;

/// The lessons a server offers, by id.
#[derive(Debug, Default)]
pub struct Catalog {
    pub lessons: BTreeMap<String, Arc<Lesson>>,
    /// Lessons an edit has broken (`serve --dev`): no longer offered, but the sessions
    /// already running them keep this, their last version that loaded.
    withdrawn: BTreeMap<String, Arc<Lesson>>,
}

impl Catalog {
    pub fn new(lessons: Vec<Lesson>) -> Self {
        Self {
            lessons: lessons
                .into_iter()
                .map(|l| (l.id.clone(), Arc::new(l)))
                .collect(),
            withdrawn: BTreeMap::new(),
        }
    }

    /// The catalog after a reload: `lessons` on offer, and for every lesson of `previous`
    /// that is now in `broken`, its last good version kept for running sessions.
    pub fn reloaded(previous: &Catalog, lessons: Vec<Lesson>, broken: &[String]) -> Self {
        let mut catalog = Self::new(lessons);
        for id in broken {
            if catalog.lessons.contains_key(id) {
                continue;
            }
            if let Some(good) = previous.for_session(id) {
                tracing::warn!(
                    "lesson {id:?} no longer loads: it is withdrawn from the catalog until \
                     fixed; sessions already running it keep its last good version"
                );
                catalog.withdrawn.insert(id.clone(), good);
            }
        }
        catalog
    }

    /// A lesson on offer.
    pub fn get(&self, id: &str) -> Option<&Lesson> {
        self.lessons.get(id).map(|l| &**l)
    }

    /// A lesson on offer, shared (to start a session with).
    pub fn get_shared(&self, id: &str) -> Option<Arc<Lesson>> {
        self.lessons.get(id).cloned()
    }

    /// The lesson a running session uses: the one on offer, or its last good version
    /// while an edit has broken it.
    pub fn for_session(&self, id: &str) -> Option<Arc<Lesson>> {
        self.lessons
            .get(id)
            .or_else(|| self.withdrawn.get(id))
            .cloned()
    }

    /// The lessons as the catalog lists them: tracks in the order of their first lesson,
    /// and each track's lessons by `order`, then id.
    pub fn in_order(&self) -> Vec<&Lesson> {
        let key = |l: &Lesson| (l.order.unwrap_or(u32::MAX), l.id.clone());
        let mut lessons: Vec<&Lesson> = self.lessons.values().map(|l| &**l).collect();
        lessons.sort_by_key(|l| key(l));
        let mut tracks: Vec<&str> = Vec::new();
        for lesson in &lessons {
            if !tracks.contains(&lesson.track.as_str()) {
                tracks.push(&lesson.track);
            }
        }
        lessons.sort_by_key(|l| tracks.iter().position(|t| *t == l.track));
        lessons
    }

    /// The lesson after `id` in the catalog's order, across tracks, if any.
    pub fn next_after(&self, id: &str) -> Option<&Lesson> {
        let lessons = self.in_order();
        let at = lessons.iter().position(|l| l.id == id)?;
        lessons.get(at + 1).copied()
    }

    /// The lesson after `id` in its track, if any.
    pub fn next_in_track(&self, id: &str) -> Option<&Lesson> {
        let lessons = self.in_order();
        let at = lessons.iter().position(|l| l.id == id)?;
        lessons
            .get(at + 1)
            .copied()
            .filter(|next| next.track == lessons[at].track)
    }
}

/// The catalog a server serves, replaceable while requests read it.
#[derive(Clone, Default)]
pub struct SharedCatalog(Arc<RwLock<Arc<Catalog>>>);

impl SharedCatalog {
    pub fn new(catalog: Catalog) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(catalog))))
    }

    pub fn current(&self) -> Arc<Catalog> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the catalog after a reload, keeping the last good version of each lesson
    /// in `broken` for the sessions running it.
    pub fn reload(&self, lessons: Vec<Lesson>, broken: &[String]) {
        let mut current = self.0.write().unwrap_or_else(|e| e.into_inner());
        *current = Arc::new(Catalog::reloaded(&current, lessons, broken));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson(id: &str, track: &str, order: Option<u32>) -> Lesson {
        Lesson {
            id: id.into(),
            dir: id.into(),
            title: id.to_uppercase(),
            summary: String::new(),
            track: track.into(),
            level: super::super::Level::Beginner,
            minutes: 10,
            order,
            image: None,
            vars: Vec::new(),
            files: Vec::new(),
            setup: None,
            steps: Vec::new(),
        }
    }

    fn catalog() -> Catalog {
        Catalog::new(vec![
            lesson("zz-unnumbered", "Main", None),
            lesson("https", "Main", Some(50)),
            lesson("tour", "Start here", Some(1)),
            lesson("linux", "Main", Some(10)),
            lesson("extra", "Extras", None),
            lesson("nginx", "Main", Some(40)),
        ])
    }

    #[test]
    fn tracks_follow_their_first_lesson_and_lessons_their_order() {
        let catalog = catalog();
        let ids: Vec<&str> = catalog.in_order().iter().map(|l| l.id.as_str()).collect();
        assert_eq!(
            ids,
            ["tour", "linux", "nginx", "https", "zz-unnumbered", "extra"]
        );
    }

    #[test]
    fn the_next_lesson_stays_in_its_track() {
        let catalog = catalog();
        let next = |id: &str| catalog.next_in_track(id).map(|l| l.id.clone());
        assert_eq!(next("linux").as_deref(), Some("nginx"));
        assert_eq!(next("https").as_deref(), Some("zz-unnumbered"));
        assert_eq!(next("tour"), None, "the last lesson of its track");
        assert_eq!(next("zz-unnumbered"), None);
        assert_eq!(next("no-such-lesson"), None);
        // Across tracks, the catalog goes on.
        let after = |id: &str| catalog.next_after(id).map(|l| l.id.clone());
        assert_eq!(after("tour").as_deref(), Some("linux"));
        assert_eq!(after("extra"), None);
    }
}
