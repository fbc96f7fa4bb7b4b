//! The static web page of an episode: one self-contained file (an inline stylesheet, system fonts, a
//! readable width), each clip a `<video controls>` player with its thumbnail as poster, then the
//! transcript. No scripts: the console previews it in a sandboxed frame.

use super::enrich::Enriched;
use super::transcript::Cue;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Inline, so the page reads well wherever the file is opened or copied to.
const STYLE: &str = "body{margin:0;background:#f6f7f9;color:#1d2330;\
font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;line-height:1.5}\
main{max-width:46rem;margin:0 auto;padding:1.5rem 1rem 3rem}\
h1{font-size:1.6rem;line-height:1.25;margin:0 0 .5rem}h2{font-size:1.15rem;margin:2rem 0 .75rem}\
.keywords,.why,.note{color:#667085}.keywords{font-size:.9rem}\
.clip{margin:0 0 1.25rem;background:#fff;border:1px solid #e4e7ec;border-radius:8px;overflow:hidden}\
.clip video{display:block;width:100%;aspect-ratio:16/9;background:#000}\
.clip figcaption{padding:.6rem .8rem}.why{display:block;font-size:.85rem}\
ol.transcript{padding-left:1.5rem}ol.transcript li{margin:.2rem 0}";

/// `clips`: (number, URL of the 16x9 subtitled clip, URL of its thumbnail).
pub fn page(e: &Enriched, cues: &[Cue], clips: &[(usize, String, String)]) -> String {
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t}</title>\
         <style>{STYLE}</style></head><body><main>\n\
         <h1>{t}</h1>\n<p class=\"summary\">{s}</p>\n<p class=\"keywords\">{k}</p>\n",
        t = esc(&e.title),
        s = esc(&e.summary),
        k = esc(&e.keywords.join(", ")),
    );
    if !clips.is_empty() || e.note.is_some() {
        html += "<section class=\"clips\"><h2>Clips</h2>\n";
        if let Some(note) = &e.note {
            html += &format!("<p class=\"note\">{}</p>\n", esc(note));
        }
        for (n, clip, thumb) in clips {
            html += &clip_player(e, *n, clip, thumb);
        }
        html += "</section>\n";
    }
    html += "<section><h2>Transcript</h2>\n<ol class=\"transcript\">\n";
    for c in cues {
        html += &format!("<li data-start=\"{:.3}\">{}</li>\n", c.start, esc(&c.text));
    }
    html + "</ol></section>\n</main></body></html>\n"
}

/// One clip as a player, with what it says and why it was chosen: the page reads as a producer's pick.
fn clip_player(e: &Enriched, n: usize, clip: &str, thumb: &str) -> String {
    let (why, said) = e
        .highlights
        .get(n.wrapping_sub(1))
        .map(|h| (h.why.as_str(), h.sentences.join(" ")))
        .unwrap_or_default();
    format!(
        "<figure class=\"clip\" id=\"clip-{n}\"><video controls preload=\"none\" src=\"{}\" poster=\"{}\" \
         aria-label=\"Clip {n}\"></video><figcaption><q>{}</q><small class=\"why\">{}</small></figcaption></figure>\n",
        esc(clip),
        esc(thumb),
        esc(&said),
        esc(why)
    )
}
