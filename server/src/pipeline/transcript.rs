//! Subtitle cues: reading WebVTT and SubRip, writing WebVTT and SubRip.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cue {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

/// Parses WebVTT or SRT text. Cues without a valid `start --> end` line are skipped.
pub fn parse(text: &str) -> Vec<Cue> {
    let mut cues = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((a, b)) = line.split_once("-->") else {
            continue;
        };
        let end_field = b.split_whitespace().next().unwrap_or("");
        let (Some(start), Some(end)) = (timestamp(a.trim()), timestamp(end_field)) else {
            continue;
        };
        let mut body = Vec::new();
        while let Some(l) = lines.peek() {
            if l.trim().is_empty() {
                break;
            }
            body.push(l.trim().to_string());
            lines.next();
        }
        if end > start && !body.is_empty() {
            cues.push(Cue {
                start,
                end,
                text: body.join(" "),
            });
        }
    }
    cues
}

/// `HH:MM:SS.mmm`, `MM:SS.mmm` or SRT's `HH:MM:SS,mmm` → seconds.
fn timestamp(s: &str) -> Option<f64> {
    let s = s.replace(',', ".");
    let parts: Vec<&str> = s.split(':').collect();
    let (h, m, sec) = match parts.as_slice() {
        [h, m, s] => (
            h.parse::<f64>().ok()?,
            m.parse::<f64>().ok()?,
            s.parse::<f64>().ok()?,
        ),
        [m, s] => (0.0, m.parse::<f64>().ok()?, s.parse::<f64>().ok()?),
        _ => return None,
    };
    Some(h * 3600.0 + m * 60.0 + sec)
}

fn fmt_ts(t: f64, sep: char) -> String {
    let ms = (t.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{sep}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

pub fn to_vtt(cues: &[Cue]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for c in cues {
        out += &format!(
            "{} --> {}\n{}\n\n",
            fmt_ts(c.start, '.'),
            fmt_ts(c.end, '.'),
            c.text
        );
    }
    out
}

pub fn to_srt(cues: &[Cue]) -> String {
    let mut out = String::new();
    for (i, c) in cues.iter().enumerate() {
        out += &format!(
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            fmt_ts(c.start, ','),
            fmt_ts(c.end, ','),
            c.text
        );
    }
    out
}

pub fn to_text(cues: &[Cue]) -> String {
    cues.iter()
        .map(|c| c.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The cues overlapping `[from, to)`, shifted so the window starts at zero (for one clip's subtitles).
pub fn window(cues: &[Cue], from: f64, to: f64) -> Vec<Cue> {
    cues.iter()
        .filter(|c| c.end > from && c.start < to)
        .map(|c| Cue {
            start: (c.start - from).max(0.0),
            end: (c.end.min(to) - from).max(0.0),
            text: c.text.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vtt_and_srt_alike() {
        let vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.500 align:start\nHello\nworld\n\n00:03.000 --> 00:04.000\nBye\n";
        let srt = "1\n00:00:01,000 --> 00:00:02,500\nHello\nworld\n\n2\n00:00:03,000 --> 00:00:04,000\nBye\n";
        let a = parse(vtt);
        assert_eq!(a, parse(srt));
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].text, "Hello world");
        assert_eq!(a[0].start, 1.0);
        assert_eq!(parse(&to_vtt(&a)), a);
        assert_eq!(parse(&to_srt(&a)), a);
    }

    #[test]
    fn windows_shift_cues_to_the_clip() {
        let cues = parse(
            "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nA\n\n00:00:05.000 --> 00:00:06.000\nB\n",
        );
        let w = window(&cues, 2.0, 4.0);
        assert_eq!(
            w,
            vec![Cue {
                start: 0.0,
                end: 1.0,
                text: "A".into()
            }]
        );
    }
}
