//! Social posts, one per platform, each within that platform's caption limit (in characters). A post
//! is built from the sentences of the clip it carries, so the words match what the viewer hears; whole
//! sentences are added while they fit, nothing is cut inside a word and no sentence appears twice.

use super::enrich::{Enriched, Highlight};
use super::text;
use serde::{Deserialize, Serialize};

pub const PLATFORMS: [(&str, usize); 5] = [
    ("youtube", 5000),
    ("instagram", 2200),
    ("tiktok", 2200),
    ("x", 280),
    ("facebook", 63206),
];

/// `social/<episode>/<platform>.json` as the package stage writes it and the episode page reads it back.
#[derive(Serialize, Deserialize)]
pub struct Post {
    pub platform: String,
    pub limit: usize,
    pub text: String,
    /// Relative to the data root.
    pub clip: Option<String>,
}

/// The highlight a post carries: the best scored one (clip numbers are 1-based, in time order).
pub fn best_clip(e: &Enriched) -> Option<(usize, &Highlight)> {
    e.highlights
        .iter()
        .enumerate()
        .max_by(|(ia, a), (ib, b)| a.score.total_cmp(&b.score).then(ib.cmp(ia)))
        .map(|(i, h)| (i + 1, h))
}

/// Hashtags from key phrases: "mountain weather" → `#MountainWeather`.
fn hashtag(phrase: &str) -> String {
    let body: String = phrase
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    format!("#{body}")
}

/// Splits written text into sentences after `.`, `?`, `!` or `…` followed by a space.
pub fn split_sentences(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        cur.push(c);
        if matches!(c, '.' | '?' | '!' | '…') && chars.peek().is_none_or(|n| n.is_whitespace()) {
            let t = cur.trim().to_string();
            if !t.is_empty() {
                out.push(t);
            }
            cur.clear();
        }
    }
    let t = cur.trim().to_string();
    if !t.is_empty() {
        out.push(t);
    }
    out
}

/// How a platform's caption is laid out.
struct Shape {
    title: bool,
    /// Episode summary sentences after the clip's own.
    summary: bool,
    tags: usize,
}

fn shape(platform: &str) -> Shape {
    match platform {
        // 280 characters: the clip's words and two tags; a title would eat half of it.
        "x" => Shape {
            title: false,
            summary: false,
            tags: 2,
        },
        // Captions under a vertical video: its words first, then what the episode is, then tags.
        "instagram" | "tiktok" => Shape {
            title: true,
            summary: false,
            tags: 6,
        },
        _ => Shape {
            title: true,
            summary: true,
            tags: 5,
        },
    }
}

/// `platform`'s post for highlight `h` (the episode summary's sentences when there is none), within
/// `limit` characters: the title, the clip's own sentences, more of the summary where the platform
/// shows it, then as many tags as fit.
pub fn post(
    platform: &str,
    limit: usize,
    e: &Enriched,
    h: Option<&Highlight>,
    clip: Option<String>,
) -> Post {
    let shape = shape(platform);
    let (own, extra) = sentences_of(&shape, e, h);
    let tags: Vec<String> = e
        .keywords
        .iter()
        .take(shape.tags)
        .map(|k| hashtag(k))
        .collect();
    let mut out = String::new();
    if shape.title && !e.title.is_empty() {
        out = text::fit(&e.title, limit);
    }
    // Room kept for the tags so they are not crowded out by a long clip.
    let tag_line = tags.join(" ");
    let reserve = if tag_line.is_empty() {
        0
    } else {
        tag_line.chars().count() + 2
    };
    let para = own_paragraph(&out, &own, reserve, limit);
    push_block(&mut out, &para, limit);
    let more = summary_paragraph(&out, &extra, reserve, limit);
    push_block(&mut out, &more, limit);
    let line = tags_that_fit(&out, &tags, limit);
    push_block(&mut out, &line, limit);
    Post {
        platform: platform.to_string(),
        limit,
        text: text::fit(&out, limit),
        clip,
    }
}

/// The clip's own sentences (with no clip, the episode summary's), and the summary's others when the
/// platform shows them: no sentence twice, not even as the recognizer heard it a second time.
fn sentences_of(shape: &Shape, e: &Enriched, h: Option<&Highlight>) -> (Vec<String>, Vec<String>) {
    let mut seen: Vec<String> = Vec::new();
    let mut fresh = |s: &str| {
        if text::norm_key(s).is_empty() || seen.iter().any(|x| text::near_duplicate(x, s)) {
            return false;
        }
        seen.push(s.to_string());
        true
    };
    let own: Vec<String> = match h {
        Some(h) if !h.sentences.is_empty() => h.sentences.clone(),
        Some(h) if !h.text.trim().is_empty() => vec![text::as_sentence(&h.text)],
        _ => split_sentences(&e.summary),
    };
    let own: Vec<String> = own.into_iter().filter(|s| fresh(s)).collect();
    let extra: Vec<String> = if shape.summary {
        split_sentences(&e.summary)
            .into_iter()
            .filter(|s| fresh(s))
            .collect()
    } else {
        Vec::new()
    };
    (own, extra)
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Whole sentences of `own` while they fit after `out`, leaving `reserve` for the tags.
fn own_paragraph(out: &str, own: &[String], reserve: usize, limit: usize) -> String {
    let mut para = String::new();
    for s in own {
        let sep = if para.is_empty() { "" } else { " " };
        let head = if out.is_empty() { 0 } else { char_len(out) + 2 };
        if head + char_len(&para) + sep.len() + char_len(s) + reserve > limit {
            // Not even one sentence fits: the first one, cut on a word boundary.
            if para.is_empty() {
                para = text::fit(s, limit.saturating_sub(head + reserve));
            }
            break;
        }
        para = para + sep + s;
    }
    para
}

/// The summary's sentences while they fit after `out`, leaving `reserve` for the tags.
fn summary_paragraph(out: &str, extra: &[String], reserve: usize, limit: usize) -> String {
    let mut more = String::new();
    for s in extra {
        let sep = if more.is_empty() { "" } else { " " };
        if char_len(out) + 2 + char_len(&more) + sep.len() + char_len(s) + reserve > limit {
            break;
        }
        more = more + sep + s;
    }
    more
}

/// Tags one by one: as many as fit after `out`.
fn tags_that_fit(out: &str, tags: &[String], limit: usize) -> String {
    let mut line = String::new();
    for t in tags {
        let sep = if line.is_empty() { "" } else { " " };
        let head = if out.is_empty() { 0 } else { char_len(out) + 2 };
        if head + char_len(&line) + sep.len() + char_len(t) > limit {
            break;
        }
        line = line + sep + t;
    }
    line
}

/// Clip `h`'s own posts, one per platform, each carrying that clip's rendition (`dir` is its
/// `clips/<n>` directory): wide for YouTube, X and Facebook, vertical for Instagram and TikTok.
pub fn clip_posts(e: &Enriched, h: &Highlight, dir: &str) -> Vec<Post> {
    PLATFORMS
        .iter()
        .map(|&(platform, limit)| {
            let file = match platform {
                "youtube" | "x" | "facebook" => "16x9_subtitled.mp4",
                _ => "9x16_subtitled.mp4",
            };
            post(platform, limit, e, Some(h), Some(format!("{dir}/{file}")))
        })
        .collect()
}

fn push_block(out: &mut String, block: &str, limit: usize) {
    if block.is_empty() {
        return;
    }
    let sep = if out.is_empty() { "" } else { "\n\n" };
    if out.chars().count() + sep.len() + block.chars().count() <= limit {
        out.push_str(sep);
        out.push_str(block);
    }
}

/// Cuts to at most `limit` characters (not bytes), on a word boundary, ending with an ellipsis when cut.
pub fn truncate(s: &str, limit: usize) -> String {
    text::fit(s, limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::highlights::Discovery;

    #[test]
    fn truncation_counts_characters_not_bytes() {
        let s = "é".repeat(300);
        let t = super::truncate(&s, 280);
        assert_eq!(t.chars().count(), 280);
        assert!(t.ends_with('…'));
        assert_eq!(super::truncate("short", 280), "short");
    }

    fn enriched(clip_sentences: Vec<String>) -> Enriched {
        let h = Highlight {
            start: 0.0,
            end: 30.0,
            text: clip_sentences.join(" "),
            score: 1.0,
            why: String::new(),
            sentences: clip_sentences,
        };
        Enriched {
            title: "Talk #1 — Mountain Weather and Winter Food".into(),
            summary:
                "Snow closes the mountain roads. The farmers store winter food. Spring comes late."
                    .into(),
            keywords: vec![
                "mountain weather".into(),
                "winter food".into(),
                "roads".into(),
            ],
            highlights: vec![h.clone()],
            candidates: vec![h],
            discovery: Discovery::default(),
            note: None,
        }
    }

    fn assert_no_repeat(text: &str) {
        let mut seen = Vec::new();
        for s in split_sentences(text) {
            let k = text::norm_key(&s);
            assert!(!seen.contains(&k), "repeated {s:?} in {text:?}");
            seen.push(k);
        }
    }

    #[test]
    fn posts_fit_their_limits_whole_words_no_repeated_sentence() {
        let long: Vec<String> = (0..30)
            .map(|i| format!("Sentence number {i} tells of snow on the mountain roads in winter."))
            .collect();
        for sentences in [
            long,
            vec![
                "Snow closes the mountain roads.".into(),
                "It is cold.".into(),
            ],
            vec!["x".repeat(400)],
        ] {
            let e = enriched(sentences.clone());
            for (platform, limit) in PLATFORMS {
                let p = post(platform, limit, &e, e.highlights.first(), None);
                assert!(p.text.chars().count() <= limit, "{platform}: {}", p.text);
                assert!(!p.text.is_empty());
                assert_no_repeat(&p.text);
                // Every word in the post is a whole word of its sources (or the one ellipsis cut).
                let source = format!("{} {} {}", e.title, e.summary, sentences.join(" "));
                for w in p.text.split_whitespace().filter(|w| !w.starts_with('#')) {
                    let w = w.trim_end_matches('…');
                    assert!(
                        w.is_empty() || source.split_whitespace().any(|s| s == w) || w.len() >= 200,
                        "{platform}: {w:?} is not a whole word"
                    );
                }
            }
            let x = post("x", 280, &e, e.highlights.first(), None);
            assert!(x.text.contains('#'), "{}", x.text);
        }
    }

    fn clip(start: f64, sentences: &[&str]) -> Highlight {
        Highlight {
            start,
            end: start + 30.0,
            text: sentences.join(" "),
            score: 1.0,
            why: String::new(),
            sentences: sentences.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn each_clip_gets_posts_from_its_own_sentences_within_limits_without_repeats() {
        let mut e = enriched(vec![]);
        // The second clip repeats a sentence of its own and one of the summary: each said once.
        let long = "The valley farmers talked for a very long time about how they keep their animals fed through the longest and coldest winters anyone remembers in the north of the country";
        e.highlights = vec![
            clip(
                0.0,
                &[
                    "Snow closes the mountain roads.",
                    "Nobody drives up there in winter.",
                ],
            ),
            clip(
                60.0,
                &[
                    long,
                    "The farmers store winter food.",
                    "The farmers store winter food.",
                ],
            ),
        ];
        for (n, h) in e.highlights.iter().enumerate() {
            let dir = format!("outputs/talk/2026/ep/clips/{}", n + 1);
            let posts = clip_posts(&e, h, &dir);
            let platforms: Vec<&str> = posts.iter().map(|p| p.platform.as_str()).collect();
            assert_eq!(platforms, PLATFORMS.map(|(p, _)| p));
            for p in &posts {
                assert!(
                    p.text.chars().count() <= p.limit,
                    "{}: {}",
                    p.platform,
                    p.text
                );
                assert_no_repeat(&p.text);
                assert!(
                    p.clip.as_deref().is_some_and(|c| c.starts_with(&dir)),
                    "{:?}",
                    p.clip
                );
                // The clip's own first sentence leads (whole, or cut on a word boundary on X).
                let first: String = h.sentences[0].chars().take(40).collect();
                let first = first.rsplit_once(' ').map_or(first.as_str(), |(a, _)| a);
                assert!(
                    p.text.contains(first),
                    "{}: {:?} lacks {first:?}",
                    p.platform,
                    p.text
                );
                for w in p.text.split_whitespace() {
                    let w = w.trim_end_matches('…');
                    let source = format!("{} {} {}", e.title, e.summary, h.sentences.join(" "));
                    assert!(
                        w.is_empty()
                            || w.starts_with('#')
                            || source.split_whitespace().any(|s| s == w),
                        "{}: {w:?} is not a whole word of the clip",
                        p.platform
                    );
                }
            }
            // The other clip's words are not in this clip's X post.
            let x = &posts[3];
            let other = &e.highlights[1 - n].sentences[0];
            assert!(!x.text.contains(other.as_str()), "{}", x.text);
        }
    }
}
