//! The orphan sweep: files in the derived roots that no artifact row owns, no live job may be writing and
//! this run does not remove anyway — and the guard that refuses to sweep at scale what the registry
//! cannot account for.
//!
//! The guard exists because "no row owns it" is only evidence of an orphan when the registry is the one
//! that belongs to this data root. A fresh or restored registry (`ewg.db` moved away, a new
//! `--database-url`) owns nothing, and every finished output would look orphaned. So a sweep stops, with
//! the exact counts, when the registry owns none of the derived files yet many exist, when many orphans sit
//! in directories of episodes the registry knows, or when orphans are most of the derived bytes; an
//! explicit confirmation of the count goes ahead.

use super::Keep;
use super::plan::{Plan, Target, episode_paths, is_within};
use crate::ids::EpisodeId;
use crate::storage::{DERIVED_ROOTS, DataRoot};
use app::api::PathError;
use std::collections::HashSet;

/// Orphans below this many files never trip the guard: a stray temp file is not a mass deletion.
pub const MASS_FILES: i64 = 20;
/// Orphan bytes below this never trip the share-of-bytes rule.
pub(crate) const MASS_BYTES: i64 = 64 << 20;

/// What the sweep found, before anything is removed.
#[derive(Debug, Default)]
pub(crate) struct Orphans {
    pub plan: Plan,
    pub files: i64,
    pub bytes: i64,
    /// Orphan files inside the fixed places of episodes the registry knows.
    pub under_known: i64,
    /// Orphan files at places shaped like some episode's output (`outputs/<show>/<year>/<id>/…`,
    /// `audio/<id>.wav`, …): what a lost or replaced registry leaves looking orphaned.
    pub episode_shaped: i64,
    /// Every orphan file and its size, for [`Orphans::digest`].
    listed: Vec<(String, i64)>,
}

impl Orphans {
    /// What a confirmation repeats besides the count: 16 hex digits of SHA-256 over the orphan files'
    /// paths and sizes, sorted. The same files give the same digest on every call; one file more, less,
    /// renamed or resized gives another.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut listed: Vec<&(String, i64)> = self.listed.iter().collect();
        listed.sort();
        let mut h = Sha256::new();
        for (rel, bytes) in listed {
            h.update(rel.as_bytes());
            h.update([0]);
            h.update(bytes.to_le_bytes());
        }
        hex::encode(&h.finalize()[..8])
    }
}

/// A sweep refused by the guard: why, and the count and digest a confirmation must repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepGuard {
    pub reason: String,
    pub files: i64,
    pub bytes: i64,
    /// [`Orphans::digest`] of the files it would remove.
    pub digest: String,
}

/// What the registry says about the derived tree.
pub(crate) struct Registered<'a> {
    /// Paths registered by episodes that stay.
    pub owned: &'a HashSet<String>,
    /// Bytes those rows account for.
    pub owned_bytes: i64,
    /// Every episode the registry knows.
    pub known: &'a [EpisodeId],
}

/// What the sweep must leave alone.
pub(crate) struct Leave<'a> {
    /// Directories and files a live job may be writing (or another run is cleaning).
    pub protected: &'a [String],
    /// Paths this run removes anyway.
    pub covered: &'a HashSet<String>,
}

/// Walks the derived roots (not `uploads/`, which has its own rules). A directory that holds nothing to
/// keep becomes one target instead of file by file.
pub(crate) fn find_orphans(root: &DataRoot, reg: &Registered<'_>, leave: &Leave<'_>) -> Orphans {
    let known_places: HashSet<String> = reg
        .known
        .iter()
        .flat_map(|id| episode_paths(root, id, Keep::NOTHING))
        .collect();
    let mut walk = Walk {
        root,
        owned: reg.owned,
        leave,
        known_places: &known_places,
        found: Orphans::default(),
    };
    for top in DERIVED_ROOTS.iter().filter(|r| **r != "uploads") {
        let mut out = Vec::new();
        walk.dir(top, &mut out, true);
        walk.found
            .plan
            .targets
            .extend(out.into_iter().map(Target::path));
    }
    walk.found
}

/// The guard's verdict on what [`find_orphans`] found.
pub(crate) fn guard(found: &Orphans, reg: &Registered<'_>) -> Option<SweepGuard> {
    let at = |reason: String| {
        Some(SweepGuard {
            reason,
            files: found.files,
            bytes: found.bytes,
            digest: found.digest(),
        })
    };
    if found.files < MASS_FILES && found.bytes < MASS_BYTES {
        return None;
    }
    if reg.owned.is_empty() && found.episode_shaped >= MASS_FILES {
        return at(format!(
            "the registry owns none of the derived files, yet the sweep would remove {} files ({} bytes), {} of them where episodes keep their outputs: is this a fresh or restored registry?",
            found.files, found.bytes, found.episode_shaped
        ));
    }
    if found.under_known >= MASS_FILES {
        return at(format!(
            "{} of the {} files the sweep would remove sit in directories of episodes the registry knows but has no rows for",
            found.under_known, found.files
        ));
    }
    if found.bytes >= MASS_BYTES && found.bytes > reg.owned_bytes {
        return at(format!(
            "the sweep would remove {} bytes, more than the {} bytes the registry accounts for",
            found.bytes, reg.owned_bytes
        ));
    }
    None
}

/// The registry lists files, yet none of a sample exists: the data root is probably not mounted.
/// Sweeping "orphans" then would be sweeping the wrong disk, so refuse.
pub(crate) fn looks_unmounted(root: &DataRoot, owned: &HashSet<String>) -> Option<PathError> {
    if owned.is_empty() {
        return None;
    }
    let sample: Vec<&String> = owned.iter().take(64).collect();
    let present = sample
        .iter()
        .filter(|p| std::fs::symlink_metadata(root.abs(p)).is_ok())
        .count();
    (present == 0).then(|| PathError {
        path: root.path().display().to_string(),
        message: format!(
            "orphan sweep refused: the registry lists {} files but none of {} sampled exists; is the data root mounted?",
            owned.len(),
            sample.len()
        ),
    })
}

/// A live episode's place covers what is inside it and the in-flight names the pipeline writes beside a
/// file before renaming it into place (`<file>.part` from another filesystem, `<file>.tmp`).
fn protects(place: &str, child: &str) -> bool {
    is_within(child, place)
        || child
            .strip_prefix(place)
            .is_some_and(|rest| rest == ".part" || rest == ".tmp")
}

struct Walk<'a> {
    root: &'a DataRoot,
    owned: &'a HashSet<String>,
    leave: &'a Leave<'a>,
    known_places: &'a HashSet<String>,
    found: Orphans,
}

impl Walk<'_> {
    /// Collects orphans under `rel` into `out`. Returns true when something under it must stay.
    fn dir(&mut self, rel: &str, out: &mut Vec<String>, is_top: bool) -> bool {
        let Ok(entries) = std::fs::read_dir(self.root.abs(rel)) else {
            return true;
        };
        let mut keep = false;
        let mut local = Vec::new();
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else {
                // Not a name the pipeline writes or the registry can hold: never an orphan we can prove.
                tracing::warn!(dir = rel, name = ?e.file_name(), "orphan sweep skipped a non-UTF-8 name");
                keep = true;
                continue;
            };
            let child = format!("{rel}/{name}");
            // A covered path counts as kept so its parents are not swept as empty "orphans".
            if self.leave.covered.contains(&child)
                || self.leave.protected.iter().any(|p| protects(p, &child))
            {
                keep = true;
                continue;
            }
            let Ok(ft) = e.file_type() else {
                keep = true;
                continue;
            };
            if ft.is_dir() {
                let mut sub = Vec::new();
                if self.dir(&child, &mut sub, false) {
                    keep = true;
                    local.extend(sub);
                } else {
                    local.push(child);
                }
            } else if self.owned.contains(&child) {
                keep = true;
            } else {
                self.count(&child, e.metadata().map(|m| m.len() as i64).unwrap_or(0));
                local.push(child);
            }
        }
        if keep || is_top {
            out.extend(local);
            true
        } else {
            false
        }
    }

    fn count(&mut self, rel: &str, bytes: i64) {
        self.found.files += 1;
        self.found.bytes += bytes;
        self.found.listed.push((rel.to_string(), bytes));
        if episode_shaped(rel) {
            self.found.episode_shaped += 1;
        }
        let mut prefix = String::new();
        for part in rel.split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if self.known_places.contains(&prefix) {
                self.found.under_known += 1;
                return;
            }
        }
    }
}

/// `rel` sits where the pipeline puts an episode's files (README "Data on disk"), for some valid id.
fn episode_shaped(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    let candidate = match parts.as_slice() {
        ["outputs", _, _, id, ..] | ["public", "shows", _, id, ..] => *id,
        ["social" | "work", id, _, ..] => *id,
        ["audio" | "transcripts" | "enriched", file] => file.split('.').next().unwrap_or(""),
        _ => return false,
    };
    EpisodeId::parse(candidate).is_ok()
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_live_place_protects_its_in_flight_siblings_and_nothing_else() {
        let p = "audio/talk_ep001_2026-01-01.wav";
        assert!(super::protects(p, p));
        assert!(super::protects(p, "audio/talk_ep001_2026-01-01.wav.part"));
        assert!(super::protects(p, "audio/talk_ep001_2026-01-01.wav.tmp"));
        assert!(!super::protects(p, "audio/talk_ep001_2026-01-01.wav.old"));
        assert!(!super::protects(p, "audio/talk_ep001_2026-01-01.wavx"));
        assert!(super::protects(
            "outputs/talk/2026/x",
            "outputs/talk/2026/x/clips/1/a.mp4"
        ));
    }

    use super::*;

    struct Fixture {
        _dir: tempfile::TempDir,
        root: DataRoot,
    }

    fn fixture(files: &[&str]) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = DataRoot::open(dir.path()).expect("root");
        for f in files {
            let p = root.abs(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, b"0123456789").expect("write");
        }
        Fixture { _dir: dir, root }
    }

    fn ep(s: &str) -> EpisodeId {
        EpisodeId::parse(s).expect("id")
    }

    fn sweep(
        f: &Fixture,
        owned: &[&str],
        known: &[EpisodeId],
        protected: &[String],
    ) -> (Orphans, Option<SweepGuard>) {
        let owned: HashSet<String> = owned.iter().map(|s| s.to_string()).collect();
        let reg = Registered {
            owned: &owned,
            owned_bytes: 10 * owned.len() as i64,
            known,
        };
        let covered = HashSet::new();
        let leave = Leave {
            protected,
            covered: &covered,
        };
        let found = find_orphans(&f.root, &reg, &leave);
        let verdict = guard(&found, &reg);
        (found, verdict)
    }

    fn rels(o: &Orphans) -> Vec<&str> {
        let mut v: Vec<&str> = o.plan.targets.iter().map(|t| t.rel.as_str()).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn owned_files_stay_and_a_directory_of_orphans_is_one_target() {
        let f = fixture(&[
            "outputs/talk/2026/talk_ep001_2026-01-01/clips/1/a.mp4",
            "outputs/talk/2026/talk_ep001_2026-01-01/stray.tmp",
            "outputs/stray/1/x.tmp",
            "outputs/stray/2/y.tmp",
        ]);
        let known = [ep("talk_ep001_2026-01-01")];
        let (found, verdict) = sweep(
            &f,
            &["outputs/talk/2026/talk_ep001_2026-01-01/clips/1/a.mp4"],
            &known,
            &[],
        );
        assert_eq!(
            rels(&found),
            [
                "outputs/stray",
                "outputs/talk/2026/talk_ep001_2026-01-01/stray.tmp"
            ]
        );
        assert_eq!((found.files, found.bytes, found.under_known), (3, 30, 1));
        assert_eq!(verdict, None, "three strays are not a mass deletion");
    }

    #[test]
    fn protected_paths_are_never_swept() {
        let f = fixture(&[
            "work/talk_ep001_2026-01-01/a1/partial.wav",
            "audio/talk_ep001_2026-01-01.wav",
        ]);
        let protected = vec![
            "work/talk_ep001_2026-01-01".to_string(),
            "audio/talk_ep001_2026-01-01.wav".to_string(),
        ];
        let (found, _) = sweep(&f, &["x/y"], &[], &protected);
        assert!(found.plan.targets.is_empty(), "{:?}", rels(&found));
    }

    #[test]
    fn a_registry_that_owns_nothing_stops_a_mass_sweep() {
        let files: Vec<String> = (0..30)
            .map(|i| format!("outputs/talk/2026/talk_ep001_2026-01-01/clips/{i}/a.mp4"))
            .collect();
        let refs: Vec<&str> = files.iter().map(String::as_str).collect();
        let f = fixture(&refs);
        let (found, verdict) = sweep(&f, &[], &[], &[]);
        let g = verdict.expect("refused");
        assert_eq!((g.files, g.bytes), (30, 300));
        assert!(g.reason.contains("owns none"), "{}", g.reason);
        assert_eq!(found.files, 30);
    }

    #[test]
    fn strays_outside_episode_places_are_not_a_lost_registry() {
        let files: Vec<String> = (0..50).map(|i| format!("outputs/stray/{i}.tmp")).collect();
        let refs: Vec<&str> = files.iter().map(String::as_str).collect();
        let f = fixture(&refs);
        let (found, verdict) = sweep(&f, &[], &[], &[]);
        assert_eq!((found.files, found.episode_shaped), (50, 0));
        assert_eq!(verdict, None);
        assert!(episode_shaped("audio/talk_ep001_2026-01-01.wav"));
        assert!(episode_shaped(
            "public/shows/talk/talk_ep001_2026-01-01/index.html"
        ));
        assert!(!episode_shaped("audio/notes.wav"));
    }

    #[test]
    fn many_unregistered_files_under_a_known_episode_stop_the_sweep() {
        let mut files: Vec<String> = (0..25)
            .map(|i| format!("social/talk_ep002_2026-01-02/{i}.json"))
            .collect();
        files.push("outputs/talk/2026/talk_ep001_2026-01-01/a.mp4".into());
        let refs: Vec<&str> = files.iter().map(String::as_str).collect();
        let f = fixture(&refs);
        let known = [ep("talk_ep001_2026-01-01"), ep("talk_ep002_2026-01-02")];
        let (_, verdict) = sweep(
            &f,
            &["outputs/talk/2026/talk_ep001_2026-01-01/a.mp4"],
            &known,
            &[],
        );
        let g = verdict.expect("refused");
        assert_eq!(g.files, 25);
        assert!(
            g.reason.contains("episodes the registry knows"),
            "{}",
            g.reason
        );
    }

    #[test]
    fn many_strays_outside_episodes_with_an_owning_registry_go_ahead() {
        let files: Vec<String> = (0..100).map(|i| format!("outputs/stray/{i}.tmp")).collect();
        let mut refs: Vec<&str> = files.iter().map(String::as_str).collect();
        refs.push("outputs/talk/2026/talk_ep001_2026-01-01/a.mp4");
        let f = fixture(&refs);
        let known = [ep("talk_ep001_2026-01-01")];
        let (found, verdict) = sweep(
            &f,
            &["outputs/talk/2026/talk_ep001_2026-01-01/a.mp4"],
            &known,
            &[],
        );
        assert_eq!(found.files, 100);
        assert_eq!(verdict, None);
    }

    #[test]
    fn an_empty_derived_tree_with_rows_looks_unmounted() {
        let f = fixture(&[]);
        let owned: HashSet<String> = ["outputs/a.mp4".to_string()].into();
        let e = looks_unmounted(&f.root, &owned).expect("refused");
        assert!(e.message.contains("mounted"));
        let f2 = fixture(&["outputs/a.mp4"]);
        assert!(looks_unmounted(&f2.root, &owned).is_none());
    }
}
