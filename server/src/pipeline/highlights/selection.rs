//! Choosing among the scored candidates: the best ones that do not overlap, spread over the episode and
//! varied in topic.

use super::Candidate;
use std::collections::HashMap;

/// Picks up to `n` candidates, best first: no two overlap, each further pick is penalised for sharing a
/// topic with, or sitting in the same stretch of the episode as, the picks before it (spread, variety).
pub fn select(mut pool: Vec<Candidate>, n: usize, span: (f64, f64)) -> Vec<Candidate> {
    let mut picked: Vec<Candidate> = Vec::new();
    let zones = n.max(3) as f64;
    let width = (span.1 - span.0).max(1.0);
    let zone = |c: &Candidate| (((c.start + c.end) / 2.0 - span.0) / width * zones).floor() as i64;
    while picked.len() < n && !pool.is_empty() {
        let mut topics: HashMap<usize, usize> = HashMap::new();
        for p in &picked {
            *topics.entry(p.topic).or_default() += 1;
        }
        let adjusted = |c: &Candidate| {
            let same_topic = topics.get(&c.topic).copied().unwrap_or(0) as f64;
            let same_zone = picked.iter().filter(|p| zone(p) == zone(c)).count() as f64;
            c.score - 0.6 * same_topic - 0.5 * same_zone
        };
        let Some(best) = pool
            .iter()
            .enumerate()
            .max_by(|(ia, a), (ib, b)| {
                adjusted(a)
                    .total_cmp(&adjusted(b))
                    // Deterministic ties: the earlier clip wins.
                    .then(b.start.total_cmp(&a.start))
                    .then(ib.cmp(ia))
            })
            .map(|(k, _)| k)
        else {
            break;
        };
        let c = pool.swap_remove(best);
        pool.retain(|o| o.end <= c.start || o.start >= c.end);
        picked.push(c);
    }
    picked
}
