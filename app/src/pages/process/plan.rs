//! What Start would do with the selection, counted before it is pressed, and the line that says it.

use crate::api::{EpisodeState, EpisodeSummary};
use leptos::prelude::*;
use std::collections::BTreeSet;

/// What Start would do with the selected episodes, counted the way the server decides: without force an
/// idle episode is queued, a failed or cancelled one is cleaned and queued, and a done, queued or running
/// one makes the server refuse the whole request; with force every one is stopped if needed, cleaned and
/// queued from scratch.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Plan {
    /// The selected episodes that are listed, in list order: what Start sends.
    pub(super) ids: Vec<String>,
    fresh: usize,
    retried: usize,
    done: usize,
    live: usize,
    /// Selected episodes Start refuses without force (done, queued or running).
    blocking: Vec<String>,
}

impl Plan {
    pub(super) fn of(episodes: &[EpisodeSummary], selected: &BTreeSet<String>) -> Plan {
        let mut plan = Plan::default();
        for ep in episodes.iter().filter(|e| selected.contains(&e.id)) {
            plan.ids.push(ep.id.clone());
            match ep.state {
                EpisodeState::Idle => plan.fresh += 1,
                EpisodeState::Failed | EpisodeState::Cancelled => plan.retried += 1,
                EpisodeState::Done => plan.done += 1,
                EpisodeState::Queued | EpisodeState::Running => plan.live += 1,
            }
            if matches!(
                ep.state,
                EpisodeState::Done | EpisodeState::Queued | EpisodeState::Running
            ) {
                plan.blocking.push(ep.id.clone());
            }
        }
        plan
    }

    pub(super) fn blocked(&self) -> bool {
        !self.blocking.is_empty()
    }

    /// The line shown above Start, and (without force) why Start is refused, if it is.
    fn describe(&self, force: bool) -> (String, Option<String>) {
        let n = self.ids.len();
        if n == 0 {
            return (
                "Nothing selected: tick episodes below or use the selection buttons.".into(),
                None,
            );
        }
        if force {
            let mut line = format!(
                "Force reprocess: {} from scratch; everything derived from {} is deleted first (listed above)",
                episodes_will(n, "be reprocessed"),
                if n == 1 { "it" } else { "them" },
            );
            if self.live > 0 {
                line.push_str(&format!("; {} queued or running, stopped first", self.live));
            }
            line.push('.');
            return (line, None);
        }
        let queued = self.fresh + self.retried;
        let mut line = if queued == 0 {
            "Nothing to queue".to_string()
        } else {
            episodes_will(queued, "be queued")
        };
        let mut parts = Vec::new();
        if self.fresh > 0 {
            parts.push(format!("{} new", self.fresh));
        }
        if self.retried > 0 {
            parts.push(format!(
                "{} failed or cancelled, whose last attempt is cleaned first",
                self.retried
            ));
        }
        if queued > 0 && !parts.is_empty() {
            line.push_str(&format!(" ({})", parts.join(", ")));
        }
        line.push('.');
        let blocked = self.blocked().then(|| {
            let mut why = Vec::new();
            if self.done > 0 {
                why.push(format!("{} already done", is_are(self.done)));
            }
            if self.live > 0 {
                why.push(format!("{} queued or running", is_are(self.live)));
            }
            format!(
                "{}: the server refuses the whole Start while {} selected. Tick “Force reprocess” to redo {} \
                 from scratch, or leave {} out.",
                why.join(" and "),
                if self.blocking.len() == 1 { "it is" } else { "they are" },
                if self.blocking.len() == 1 { "it" } else { "them" },
                if self.blocking.len() == 1 { "it" } else { "them" },
            )
        });
        (line, blocked)
    }
}

/// `1 episode will be queued`, `3 episodes will be queued`.
fn episodes_will(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 episode will {what}")
    } else {
        format!("{n} episodes will {what}")
    }
}

/// `1 is`, `2 are`.
fn is_are(n: usize) -> String {
    if n == 1 {
        "1 is".into()
    } else {
        format!("{n} are")
    }
}

/// The counts of what Start will do, and when it would be refused, why and a one-click way out.
#[component]
pub(super) fn PlanLine(
    plan: Memo<Plan>,
    force: RwSignal<bool>,
    selected: RwSignal<BTreeSet<String>>,
) -> impl IntoView {
    let text = Memo::new(move |_| plan.with(|p| p.describe(force.get())));
    let leave_out = move |_| {
        let blocking = plan.with_untracked(|p| p.blocking.clone());
        selected.update(|s| {
            for id in &blocking {
                s.remove(id);
            }
        });
    };
    view! {
        <div class="plan" data-testid="plan" aria-live="polite"
            data-selected=move || plan.with(|p| p.ids.len()).to_string()>
            <p data-testid="plan-line">{move || text.with(|t| t.0.clone())}</p>
            {move || text.with(|t| t.1.clone()).map(|why| view! {
                <p class="warning" data-testid="plan-blocked">
                    {why}" "
                    <button type="button" data-testid="leave-out" on:click=leave_out>"Leave them out"</button>
                </p>
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::Plan;
    use crate::api::{EpisodeState, EpisodeSummary};
    use std::collections::BTreeSet;

    fn ep(id: &str, state: EpisodeState) -> EpisodeSummary {
        serde_json::from_value(serde_json::json!({
            "id": id, "show": "s", "title": id, "stage": "discovered", "state": state,
            "attempt": 0, "updated_at": 0,
        }))
        .unwrap()
    }

    #[test]
    fn counts_follow_the_server_rules() {
        use EpisodeState::*;
        let eps = [
            ep("a", Idle),
            ep("b", Failed),
            ep("c", Done),
            ep("d", Running),
            ep("e", Idle),
        ];
        let all: BTreeSet<String> = eps.iter().map(|e| e.id.clone()).collect();
        let plan = Plan::of(&eps, &all);
        assert_eq!(
            (plan.fresh, plan.retried, plan.done, plan.live),
            (2, 1, 1, 1)
        );
        assert_eq!(plan.blocking, ["c", "d"]);
        let (line, blocked) = plan.describe(false);
        assert_eq!(
            line,
            "3 episodes will be queued (2 new, 1 failed or cancelled, whose last attempt is cleaned first)."
        );
        assert!(
            blocked
                .unwrap()
                .starts_with("1 is already done and 1 is queued or running")
        );
        let (line, blocked) = plan.describe(true);
        assert!(
            line.starts_with("Force reprocess: 5 episodes will be reprocessed from scratch"),
            "{line}"
        );
        assert!(line.contains("1 queued or running, stopped first"));
        assert!(blocked.is_none());

        let only_a: BTreeSet<String> = ["a".to_string(), "gone".to_string()].into();
        let plan = Plan::of(&eps, &only_a);
        assert_eq!(plan.ids, ["a"]);
        assert_eq!(
            plan.describe(false),
            ("1 episode will be queued (1 new).".into(), None)
        );
        assert!(
            Plan::of(&eps, &BTreeSet::new())
                .describe(false)
                .0
                .starts_with("Nothing selected")
        );
    }
}
