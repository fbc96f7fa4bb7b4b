//! Topic segments (TextTiling): where the episode moves on to something else.

use super::Sentence;
use crate::pipeline::text;
use std::collections::BTreeMap;

/// Gap index `g` sits between sentence `g` and `g + 1`. TextTiling (Hearst 1997): cosine similarity of
/// the content words in a window of sentences on each side of every gap; a gap much less similar than
/// the peaks around it (its depth) is a topic boundary. Returns the boundary gaps.
pub fn topic_boundaries(s: &[Sentence]) -> Vec<usize> {
    if s.len() < 4 {
        return Vec::new();
    }
    // About 30 s of speech on each side: enough words for counts to mean something.
    let mean_len = s.iter().map(|x| x.end - x.start).sum::<f64>() / s.len() as f64;
    let w = ((30.0 / mean_len.max(0.5)).round() as usize).clamp(2, 12);
    let bag = |range: std::ops::Range<usize>| {
        let mut m: BTreeMap<&str, f64> = BTreeMap::new();
        for x in &s[range] {
            for t in x.tokens.iter().filter(|t| text::is_content(t)) {
                *m.entry(t.as_str()).or_default() += 1.0;
            }
        }
        m
    };
    let cos = |a: &BTreeMap<&str, f64>, b: &BTreeMap<&str, f64>| {
        let dot: f64 = a.iter().filter_map(|(k, v)| b.get(k).map(|u| u * v)).sum();
        let na: f64 = a.values().map(|v| v * v).sum::<f64>().sqrt();
        let nb: f64 = b.values().map(|v| v * v).sum::<f64>().sqrt();
        if na == 0.0 || nb == 0.0 {
            0.0
        } else {
            dot / (na * nb)
        }
    };
    let gaps = s.len() - 1;
    let sim: Vec<f64> = (0..gaps)
        .map(|g| {
            let left = bag(g.saturating_sub(w - 1)..g + 1);
            let right = bag(g + 1..(g + 1 + w).min(s.len()));
            cos(&left, &right)
        })
        .collect();
    // Depth: climb to the highest similarity on each side, as far as it keeps rising.
    let depth: Vec<f64> = (0..gaps)
        .map(|g| {
            let mut l = sim[g];
            for k in (0..g).rev() {
                if sim[k] < l {
                    break;
                }
                l = sim[k];
            }
            let mut r = sim[g];
            for &v in &sim[g + 1..] {
                if v < r {
                    break;
                }
                r = v;
            }
            (l - sim[g]) + (r - sim[g])
        })
        .collect();
    let mean = depth.iter().sum::<f64>() / gaps as f64;
    let sd = (depth.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / gaps as f64).sqrt();
    let cutoff = (mean + sd / 2.0).max(0.1);
    // Local maxima above the cutoff, at least `w` sentences apart (one boundary per valley).
    let mut out: Vec<usize> = Vec::new();
    let mut order: Vec<usize> = (0..gaps).filter(|&g| depth[g] > cutoff).collect();
    order.sort_by(|&a, &b| depth[b].total_cmp(&depth[a]).then(a.cmp(&b)));
    for g in order {
        if out.iter().all(|&o| o.abs_diff(g) >= w) {
            out.push(g);
        }
    }
    out.sort_unstable();
    out
}
