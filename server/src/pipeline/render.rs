//! The static web page of an episode.

use super::enrich::Enriched;
use super::transcript::Cue;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `clips`: (number, URL of the 16x9 subtitled clip, URL of its thumbnail).
pub fn page(e: &Enriched, cues: &[Cue], clips: &[(usize, String, String)]) -> String {
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title></head><body>\n\
         <h1>{t}</h1>\n<p class=\"summary\">{s}</p>\n<p class=\"keywords\">{k}</p>\n<h2>Clips</h2>\n<ul>\n",
        t = esc(&e.title),
        s = esc(&e.summary),
        k = esc(&e.keywords.join(", ")),
    );
    if let Some(note) = &e.note {
        html += &format!("<li class=\"note\">{}</li>\n", esc(note));
    }
    for (n, clip, thumb) in clips {
        // Why the clip was chosen and what it says: the page reads as a producer's pick, not a cut.
        let (why, said) = e
            .highlights
            .get(n.wrapping_sub(1))
            .map(|h| (h.why.as_str(), h.sentences.join(" ")))
            .unwrap_or_default();
        html += &format!(
            "<li><a href=\"{}\"><img src=\"{}\" alt=\"clip {n}\" width=\"160\"></a> <q>{}</q> <small class=\"why\">{}</small></li>\n",
            esc(clip),
            esc(thumb),
            esc(&said),
            esc(why)
        );
    }
    html += "</ul>\n<h2>Transcript</h2>\n<ol class=\"transcript\">\n";
    for c in cues {
        html += &format!("<li data-start=\"{:.3}\">{}</li>\n", c.start, esc(&c.text));
    }
    html + "</ol>\n</body></html>\n"
}
