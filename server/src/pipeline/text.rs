//! Model-free text tools for enrichment: tokens, the episode's key phrases, an extractive summary
//! (TextRank) and cutting text to a caption limit on a word boundary. Everything is deterministic: ties
//! are broken by position, never by hash order.

use std::collections::{BTreeMap, HashMap, HashSet};

/// Function words: they carry no topic, so they neither make a key phrase nor link two sentences.
#[rustfmt::skip]
const STOP: &[&str] = &[
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "because", "been", "before", "being", "both", "but", "by", "can", "could", "did", "do",
    "does", "doing", "don't", "down", "each", "even", "for", "from", "get", "go", "going", "gonna",
    "got", "had", "has", "have", "he", "her", "here", "hers", "him", "his", "how", "i", "i'm", "if",
    "in", "into", "is", "it", "it's", "its", "just", "know", "let", "like", "me", "more", "most",
    "much", "my", "no", "not", "now", "of", "off", "oh", "ok", "okay", "on", "one", "only", "or",
    "other", "our", "out", "over", "really", "right", "said", "say", "see", "she", "should", "so",
    "some", "such", "than", "that", "that's", "the", "their", "them", "then", "there", "there's",
    "these", "they", "think", "this", "those", "through", "to", "too", "uh", "um", "up", "us",
    "very", "was", "way", "we", "we're", "well", "were", "what", "when", "where", "which", "while",
    "who", "why", "will", "with", "would", "yeah", "yes", "you", "you're", "your", "thing",
    "things", "lot", "kind", "sort", "mean", "actually", "still", "many", "want", "make", "take",
    "come", "look", "put", "give", "tell", "thank", "thanks", "week", "today", "episode", "show",
    "welcome", "listening", "next", "part", "something", "anything", "everything", "people",
    "every", "first", "second", "third", "ever", "few", "yet", "ago", "back", "around"
];

/// Words that may sit inside a key phrase ("state of mind", "top of the hour"); a conjunction may not:
/// "rises and turns" is two things, not a phrase.
const PHRASE_GLUE: &[&str] = &[
    "of", "the", "for", "in", "on", "to", "a", "an", "at", "with",
];

pub fn is_stop(w: &str) -> bool {
    STOP.contains(&w)
}

/// Lower-case word tokens (letters, digits and inner apostrophes).
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// A token that can carry a topic: not a function word, at least three letters.
pub fn is_content(w: &str) -> bool {
    w.chars().count() >= 3 && !is_stop(w) && !w.chars().all(|c| c.is_ascii_digit())
}

/// The episode's key phrases: bigrams and trigrams of content words (no phrase crosses a sentence),
/// ranked by how often they recur, longer phrases first on ties; a bigram that only ever occurs inside
/// one of the chosen trigrams is dropped (the trigram says it). Single frequent words fill in when the
/// episode repeats too few phrases (a short episode).
pub fn key_phrases(sentences: &[Vec<String>], n: usize) -> Vec<String> {
    let Counts { phrases, words } = count(sentences);
    let mut out = top_phrases(phrases, &words, n);
    if out.len() < n {
        fill_with_words(&mut out, words, n);
    }
    out
}

/// Occurrences of each candidate phrase and content word, with the position of its first occurrence
/// (one counter over both, in reading order) for a stable order.
struct Counts {
    phrases: HashMap<String, (usize, usize)>,
    words: HashMap<String, (usize, usize)>,
}

fn count(sentences: &[Vec<String>]) -> Counts {
    let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
    let mut words: HashMap<String, (usize, usize)> = HashMap::new();
    let mut pos = 0usize;
    for s in sentences {
        for len in [2usize, 3] {
            for win in s.windows(len).filter(|win| is_phrase(win)) {
                pos += 1;
                let e = counts.entry(win.join(" ")).or_insert((0, pos));
                e.0 += 1;
            }
        }
        for w in s.iter().filter(|w| is_content(w)) {
            pos += 1;
            words.entry(w.clone()).or_insert((0, pos)).0 += 1;
        }
    }
    Counts {
        phrases: counts,
        words,
    }
}

/// Content words at both ends; a function word may sit inside ("state of mind").
fn is_phrase(win: &[String]) -> bool {
    let (Some(first), Some(last)) = (win.first(), win.last()) else {
        return false;
    };
    if !is_content(first) || !is_content(last) || first == last {
        return false;
    }
    !(win.len() == 3 && !is_content(&win[1]) && !PHRASE_GLUE.contains(&win[1].as_str()))
}

/// Up to `n` phrases that recur, the weightiest first, none a repeat of a chosen one.
fn top_phrases(
    counts: HashMap<String, (usize, usize)>,
    words: &HashMap<String, (usize, usize)>,
    n: usize,
) -> Vec<String> {
    let mut phrases: Vec<(String, usize, usize)> = counts
        .into_iter()
        .filter(|(_, (c, _))| *c >= 2)
        .map(|(p, (c, at))| (p, c, at))
        .collect();
    // A phrase weighs as often as it recurs times how often its rarest word recurs: both ends must be
    // words the episode keeps coming back to ("mountain weather"), not one topical word and a passer-by
    // ("train better").
    let freq = |w: &str| words.get(w).map_or(1, |(c, _)| *c);
    let weight = |p: &str, c: usize| {
        c * p
            .split(' ')
            .filter(|w| is_content(w))
            .map(freq)
            .min()
            .unwrap_or(1)
    };
    phrases.sort_by(|a, b| {
        weight(&b.0, b.1)
            .cmp(&weight(&a.0, a.1))
            .then(b.0.split(' ').count().cmp(&a.0.split(' ').count()))
            .then(a.2.cmp(&b.2))
    });
    let mut out: Vec<(String, usize)> = Vec::new();
    for (p, c, _) in phrases {
        if out.len() >= n {
            break;
        }
        // Drop a phrase contained in (or containing) a chosen one that occurs as often: same thing.
        let dup = out
            .iter()
            .any(|(q, qc)| (q.contains(&p) || p.contains(q.as_str())) && *qc >= c);
        if !dup {
            out.push((p, c));
        }
    }
    out.into_iter().map(|(p, _)| p).collect()
}

/// The episode repeats too few phrases (a short episode): single words of four letters or more fill
/// in, the most frequent first (shorter ones rarely name a topic alone), none already in a phrase.
fn fill_with_words(out: &mut Vec<String>, words: HashMap<String, (usize, usize)>, n: usize) {
    let mut ws: Vec<(String, (usize, usize))> = words
        .into_iter()
        .filter(|(w, (c, _))| *c >= 2 && w.chars().count() >= 4)
        .collect();
    ws.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.1.1.cmp(&b.1.1)));
    for (w, _) in ws {
        if out.len() >= n {
            break;
        }
        if !out.iter().any(|p| p.split(' ').any(|x| x == w)) {
            out.push(w);
        }
    }
}

/// TextRank centrality of each sentence: PageRank over a graph whose edges weigh the content words two
/// sentences share, normalized by their lengths (Mihalcea & Tarau 2004). Fixed iterations: deterministic.
pub fn centrality(sentences: &[Vec<String>]) -> Vec<f64> {
    let n = sentences.len();
    if n == 0 {
        return Vec::new();
    }
    let sets: Vec<HashSet<&str>> = sentences
        .iter()
        .map(|s| {
            s.iter()
                .map(String::as_str)
                .filter(|w| is_content(w))
                .collect()
        })
        .collect();
    // Sparse edges: a long episode has thousands of sentences, most pairs share nothing.
    let mut index: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, s) in sets.iter().enumerate() {
        for w in s {
            index.entry(w).or_default().push(i);
        }
    }
    let mut edges: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); n];
    for (i, s) in sets.iter().enumerate() {
        let mut shared: BTreeMap<usize, usize> = BTreeMap::new();
        for w in s {
            for &j in &index[w] {
                if j != i {
                    *shared.entry(j).or_default() += 1;
                }
            }
        }
        for (j, k) in shared {
            let norm = ((sets[i].len() as f64).ln_1p() + (sets[j].len() as f64).ln_1p()).max(1.0);
            edges[i].insert(j, k as f64 / norm);
        }
    }
    let out_weight: Vec<f64> = edges.iter().map(|e| e.values().sum()).collect();
    let mut rank = vec![1.0 / n as f64; n];
    for _ in 0..30 {
        let mut next = vec![0.15 / n as f64; n];
        for (i, e) in edges.iter().enumerate() {
            if out_weight[i] <= 0.0 {
                continue;
            }
            for (&j, w) in e {
                next[j] += 0.85 * rank[i] * w / out_weight[i];
            }
        }
        rank = next;
    }
    rank
}

/// Two sentences that say the same thing: most of their content words are shared (Jaccard ≥ 0.6), as
/// when the recognizer heard one repeated sentence slightly differently each time.
pub fn near_duplicate(a: &str, b: &str) -> bool {
    let set =
        |s: &str| -> HashSet<String> { tokens(s).into_iter().filter(|w| is_content(w)).collect() };
    let (x, y) = (set(a), set(b));
    if x.is_empty() || y.is_empty() {
        return norm_key(a) == norm_key(b);
    }
    let shared = x.intersection(&y).count();
    shared as f64 / (x.len() + y.len() - shared) as f64 >= 0.6
}

/// Normalized for comparing sentences: lower case, words only.
pub fn norm_key(s: &str) -> String {
    tokens(s).join(" ")
}

/// A transcript line as a written sentence: one line, capital first letter, a full stop when it has no
/// final punctuation (recognizer output has none).
pub fn as_sentence(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut c = s.chars();
    let Some(first) = c.next() else {
        return String::new();
    };
    let mut out: String = first.to_uppercase().collect::<String>() + c.as_str();
    if !out.ends_with(['.', '!', '?', '…']) {
        out.push(if looks_like_question(&s) { '?' } else { '.' });
    }
    out
}

const QUESTION_STARTS: &[&str] = &[
    "what", "why", "how", "who", "when", "where", "which", "whose", "do", "does", "did", "is",
    "are", "can", "could", "would", "should", "have", "has", "will", "shall", "isn't", "aren't",
    "don't", "doesn't",
];

/// A question by its mark or, for unpunctuated recognizer output, by its first word. A subordinate
/// "when we ..." or "what we ..." is not a question, so a wh-word only counts when followed by a verb-
/// or pronoun-like second word from a short list.
pub fn looks_like_question(s: &str) -> bool {
    let t = s.trim();
    if t.ends_with('?') {
        return true;
    }
    if t.ends_with(['.', '!']) {
        return false;
    }
    let toks = tokens(t);
    match toks.as_slice() {
        [first, second, ..] if QUESTION_STARTS.contains(&first.as_str()) => {
            let wh = [
                "what", "why", "how", "who", "when", "where", "which", "whose",
            ];
            if wh.contains(&first.as_str()) {
                [
                    "is", "are", "was", "were", "do", "does", "did", "can", "could", "would",
                    "should", "will", "makes", "happens", "happened", "about", "if", "you",
                ]
                .contains(&second.as_str())
            } else {
                [
                    "you", "we", "they", "it", "i", "he", "she", "there", "that", "this",
                ]
                .contains(&second.as_str())
            }
        }
        _ => false,
    }
}

/// At most `limit` characters (not bytes), cut after the last whole word that fits, with an ellipsis
/// when anything was cut. A single word longer than the limit is the only case cut inside a word.
pub fn fit(s: &str, limit: usize) -> String {
    if s.chars().count() <= limit {
        return s.to_string();
    }
    let room = limit.saturating_sub(1);
    let head: String = s.chars().take(room + 1).collect();
    // The character after the room tells whether the room ends on a word boundary.
    let cut = match head.char_indices().nth(room) {
        Some((i, c)) if c.is_whitespace() => i,
        _ => head
            .char_indices()
            .take(room)
            .filter(|(_, c)| c.is_whitespace())
            .map(|(i, _)| i)
            .last()
            .unwrap_or_else(|| head.char_indices().nth(room).map_or(head.len(), |(i, _)| i)),
    };
    let mut out = head[..cut]
        .trim_end_matches(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == ':')
        .to_string();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_on_a_word_boundary_and_counts_characters() {
        assert_eq!(fit("short", 280), "short");
        let s = "the quick brown fox jumps";
        let f = fit(s, 12);
        assert_eq!(f, "the quick…");
        assert!(f.chars().count() <= 12);
        assert_eq!(fit("the quick brown", 10), "the quick…");
        let e = "é".repeat(300);
        assert_eq!(fit(&e, 280).chars().count(), 280);
        for limit in 1..30 {
            assert!(fit(s, limit).chars().count() <= limit, "{limit}");
        }
    }

    #[test]
    fn key_phrases_prefer_recurring_phrases() {
        let s: Vec<Vec<String>> = [
            "the mountain weather changes fast",
            "mountain weather is hard to predict",
            "winter food for the animals",
            "they store winter food early",
            "mountain weather again",
        ]
        .iter()
        .map(|s| tokens(s))
        .collect();
        let k = key_phrases(&s, 3);
        assert_eq!(k[0], "mountain weather");
        assert!(k.contains(&"winter food".to_string()), "{k:?}");
    }

    #[test]
    fn questions_by_mark_or_first_words() {
        assert!(looks_like_question("why does the river freeze"));
        assert!(looks_like_question("do you store food?"));
        assert!(!looks_like_question("when we got there it snowed"));
        assert!(!looks_like_question("the farmers prepare"));
    }

    #[test]
    fn central_sentences_rank_higher() {
        let s: Vec<Vec<String>> = [
            "snow covers the mountain roads",
            "mountain roads close when snow falls",
            "the snow on mountain roads melts in spring",
            "my cat likes fish",
        ]
        .iter()
        .map(|s| tokens(s))
        .collect();
        let r = centrality(&s);
        assert!(r[3] < r[0] && r[3] < r[1] && r[3] < r[2], "{r:?}");
    }
}
