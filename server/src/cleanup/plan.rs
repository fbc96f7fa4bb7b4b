//! Planning: from registry rows and the fixed per-episode places (README "Data on disk") to the list of
//! paths a run removes, each with the artifact ids that go with it. Planning never touches the disk's
//! contents beyond reading; it is the same for a dry run and a real run.

use super::Keep;
use crate::ids::EpisodeId;
use crate::registry::{ArtifactKind, ArtifactRow};
use crate::storage::DataRoot;
use app::api::PathError;

/// One path to remove and the registry rows that go with it once it is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub rel: String,
    pub artifact_ids: Vec<i64>,
}

impl Target {
    pub fn path(rel: impl Into<String>) -> Self {
        Target {
            rel: rel.into(),
            artifact_ids: vec![],
        }
    }
}

/// Everything one run will remove. Rows are deleted by the ids planned here, never by episode, so a row a
/// later job records can never be deleted with the old ones.
#[derive(Default, Debug)]
pub(crate) struct Plan {
    pub targets: Vec<Target>,
    /// Refusals found while planning (e.g. an orphan sweep that looks wrong); they make the run partial.
    pub errors: Vec<PathError>,
    /// Episodes removed whole (Deep Clean): their rows are the ones with ids up to [`Plan::row_bound`],
    /// deleted in one statement instead of loaded one by one — the plan's ids as a snapshot bound, so a
    /// row recorded after planning (impossible while the run owns the episode, but cheap to exclude) can
    /// never go with them.
    pub wholes: Vec<WholeEpisode>,
    pub row_bound: i64,
}

/// An episode whose every fixed place is a target of the plan.
#[derive(Debug, Clone)]
pub(crate) struct WholeEpisode {
    pub id: String,
    pub rels: Vec<String>,
}

impl Plan {
    pub fn merge(&mut self, other: Plan) {
        self.targets.extend(other.targets);
        self.errors.extend(other.errors);
        self.wholes.extend(other.wholes);
        self.row_bound = self.row_bound.max(other.row_bound);
    }

    #[cfg(test)]
    pub fn covers(&self, rel: &str) -> bool {
        self.targets.iter().any(|t| is_within(rel, &t.rel))
    }
}

/// The fixed places an episode's derived files live, minus what `keep` keeps.
pub(crate) fn episode_paths(root: &DataRoot, id: &EpisodeId, keep: Keep) -> Vec<String> {
    let mut rels: Vec<String> = root.episode_dirs(id).into_iter().collect();
    rels.push(root.enriched(id));
    if !keep.transcripts {
        rels.extend(["vtt", "srt", "txt", "json"].map(|e| root.transcript(id, e)));
    }
    if !keep.audio {
        rels.push(root.audio(id));
    }
    rels
}

/// One attempt: its scratch directory and every file it registered.
pub(crate) fn attempt_plan(
    root: &DataRoot,
    id: &EpisodeId,
    attempt: i64,
    keep: Keep,
    rows: Vec<ArtifactRow>,
) -> Plan {
    let mut plan = Plan::default();
    plan.targets
        .push(Target::path(root.attempt_dir(id, attempt)));
    plan.targets.extend(
        rows.into_iter()
            .filter(|r| r.attempt == attempt && !keep.keeps(r.kind()))
            .map(|r| Target {
                rel: r.path,
                artifact_ids: vec![r.id],
            }),
    );
    plan
}

/// A whole episode: its per-episode directories and fixed files first (one rename each, so unregistered
/// leftovers go too), then any registered file elsewhere.
pub(crate) fn episode_plan(
    root: &DataRoot,
    id: &EpisodeId,
    keep: Keep,
    rows: Vec<ArtifactRow>,
) -> Plan {
    let mut targets: Vec<Target> = episode_paths(root, id, keep)
        .into_iter()
        .map(Target::path)
        .collect();
    for row in rows.into_iter().filter(|r| !keep.keeps(r.kind())) {
        match targets.iter_mut().find(|t| is_within(&row.path, &t.rel)) {
            Some(t) => t.artifact_ids.push(row.id),
            None => targets.push(Target {
                rel: row.path,
                artifact_ids: vec![row.id],
            }),
        }
    }
    Plan {
        targets,
        ..Plan::default()
    }
}

/// A whole episode for Deep Clean: its fixed places, plus its registered files outside them (`strays`,
/// with their ids); every other row of it goes by the plan's row bound.
pub(crate) fn whole_episode_plan(
    root: &DataRoot,
    id: &EpisodeId,
    strays: Vec<(i64, String)>,
    row_bound: i64,
) -> Plan {
    let rels = episode_paths(root, id, Keep::NOTHING);
    let mut targets: Vec<Target> = rels.iter().cloned().map(Target::path).collect();
    targets.extend(strays.into_iter().map(|(row, rel)| Target {
        rel,
        artifact_ids: vec![row],
    }));
    Plan {
        targets,
        errors: vec![],
        wholes: vec![WholeEpisode {
            id: id.to_string(),
            rels,
        }],
        row_bound,
    }
}

impl Keep {
    pub fn keeps(self, kind: ArtifactKind) -> bool {
        (self.transcripts && kind == ArtifactKind::Transcript)
            || (self.audio && kind == ArtifactKind::Audio)
    }
}

/// `path` is `dir` or inside it (component-wise, not a substring: `talk-1` is not within `talk`).
pub(crate) fn is_within(path: &str, dir: &str) -> bool {
    path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, kind: &str, path: &str, attempt: i64) -> ArtifactRow {
        ArtifactRow {
            id,
            episode: "talk_ep001_2026-01-01".into(),
            kind: kind.into(),
            stage: "prepped".into(),
            path: path.into(),
            bytes: 1,
            attempt,
            created_at: 0,
        }
    }

    fn root() -> (tempfile::TempDir, DataRoot) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = DataRoot::open(dir.path()).expect("data root");
        (dir, root)
    }

    fn ep() -> EpisodeId {
        EpisodeId::parse("talk_ep001_2026-01-01").expect("id")
    }

    #[test]
    fn within_is_component_wise() {
        assert!(is_within("outputs/talk/x", "outputs/talk"));
        assert!(is_within("outputs/talk", "outputs/talk"));
        assert!(!is_within("outputs/talk-1/x", "outputs/talk"));
        assert!(!is_within("outputs/tal", "outputs/talk"));
    }

    #[test]
    fn an_attempt_plan_takes_only_that_attempts_rows_and_its_scratch() {
        let (_d, root) = root();
        let rows = vec![
            row(1, "audio", "audio/talk_ep001_2026-01-01.wav", 1),
            row(2, "audio", "audio/old.wav", 0),
            row(
                3,
                "clip",
                "outputs/talk/2026/talk_ep001_2026-01-01/clips/1/a.mp4",
                1,
            ),
        ];
        let plan = attempt_plan(&root, &ep(), 1, Keep::NOTHING, rows);
        let rels: Vec<&str> = plan.targets.iter().map(|t| t.rel.as_str()).collect();
        assert_eq!(
            rels,
            [
                "work/talk_ep001_2026-01-01/a1",
                "audio/talk_ep001_2026-01-01.wav",
                "outputs/talk/2026/talk_ep001_2026-01-01/clips/1/a.mp4"
            ]
        );
        let ids: Vec<i64> = plan
            .targets
            .iter()
            .flat_map(|t| t.artifact_ids.clone())
            .collect();
        assert_eq!(
            ids,
            [1, 3],
            "the older attempt's row is not this run's to delete"
        );
    }

    #[test]
    fn an_attempt_plan_keeps_what_the_user_chose_to_keep() {
        let (_d, root) = root();
        let rows = vec![
            row(1, "audio", "audio/talk_ep001_2026-01-01.wav", 1),
            row(2, "transcript", "transcripts/talk_ep001_2026-01-01.vtt", 1),
            row(
                3,
                "page",
                "public/shows/talk/talk_ep001_2026-01-01/index.html",
                1,
            ),
        ];
        let keep = Keep {
            transcripts: true,
            audio: true,
        };
        let plan = attempt_plan(&root, &ep(), 1, keep, rows);
        assert!(!plan.covers("audio/talk_ep001_2026-01-01.wav"));
        assert!(!plan.covers("transcripts/talk_ep001_2026-01-01.vtt"));
        assert!(plan.covers("public/shows/talk/talk_ep001_2026-01-01/index.html"));
    }

    #[test]
    fn an_episode_plan_folds_rows_into_their_directories_and_keeps_kept_kinds() {
        let (_d, root) = root();
        let rows = vec![
            row(
                1,
                "clip",
                "outputs/talk/2026/talk_ep001_2026-01-01/clips/1/a.mp4",
                1,
            ),
            row(2, "transcript", "transcripts/talk_ep001_2026-01-01.vtt", 1),
            row(3, "clip", "outputs/elsewhere/a.mp4", 1),
        ];
        let keep = Keep {
            transcripts: true,
            audio: false,
        };
        let plan = episode_plan(&root, &ep(), keep, rows);
        let outputs = plan
            .targets
            .iter()
            .find(|t| t.rel == "outputs/talk/2026/talk_ep001_2026-01-01")
            .expect("the episode's outputs directory");
        assert_eq!(outputs.artifact_ids, [1]);
        assert!(
            !plan.covers("transcripts/talk_ep001_2026-01-01.vtt"),
            "kept"
        );
        assert!(plan.covers("audio/talk_ep001_2026-01-01.wav"));
        assert!(
            plan.targets
                .iter()
                .any(|t| t.rel == "outputs/elsewhere/a.mp4" && t.artifact_ids == [3]),
            "a registered file outside the fixed places goes too, by its id"
        );
        assert!(
            !plan.covers("outputs/talk/2026/talk_ep001_2026-01-011"),
            "a neighbour with a longer name is not covered"
        );
    }
}
