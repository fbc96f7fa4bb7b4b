//! The clipped stage: each highlight cut from the source by one ffmpeg run (four renditions and a
//! thumbnail from a single decode), with the clip's own posts beside them.

use super::transcript::{self, Cue};
use super::{Attempt, Step, StepError, enrich, ffmpeg, social};
use crate::error::Error;
use app::api::Stage;

impl Attempt<'_> {
    /// Every highlight's clip, in order.
    pub(super) async fn clips(&self, e: &enrich::Enriched, cues: &[Cue]) -> Step<Vec<String>> {
        let total = e.highlights.len().max(1);
        let mut kept = Vec::new();
        for (i, h) in e.highlights.iter().enumerate() {
            let n = i + 1;
            kept.extend(self.cut_clip(e, h, n as u32, cues).await?);
            self.p
                .set_progress(&self.id, Stage::Clipped, (n * 100 / total) as u8)
                .await;
        }
        Ok(kept)
    }

    /// One highlight: one ffmpeg run makes all four renditions and the thumbnail from a single decode;
    /// the clip's own posts (`posts.json`) are written from its sentences beside them.
    pub(super) async fn cut_clip(
        &self,
        e: &enrich::Enriched,
        h: &enrich::Highlight,
        n: u32,
        cues: &[Cue],
    ) -> Step<Vec<String>> {
        let mut kept = Vec::new();
        let work = self.scratch.join(format!("clips/{n}"));
        std::fs::create_dir_all(&work).map_err(|e| Error::io(&work, e))?;
        let subs = transcript::window(cues, h.start, h.end);
        std::fs::write(work.join("sub.srt"), transcript::to_srt(&subs))
            .map_err(|e| Error::io(work.join("sub.srt"), e))?;
        let mut cmd = ffmpeg::ffmpeg();
        cmd.current_dir(&work).args([
            "-ss",
            &format!("{:.3}", h.start),
            "-t",
            &format!("{:.3}", h.end - h.start),
        ]);
        ffmpeg::input(&mut cmd, ffmpeg::Input::Video, &self.source);
        cmd.args(["-filter_complex", CLIP_FILTER]);
        for (label, file) in CLIP_OUTPUTS {
            cmd.args(["-map", label, "-map", "0:a?"])
                .args([
                    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                ])
                .args([
                    "-c:a",
                    "aac",
                    "-b:a",
                    "96k",
                    "-movflags",
                    "+faststart",
                    file,
                ]);
        }
        cmd.args(["-map", "[th]", "-frames:v", "1", "-q:v", "4", "thumb.jpg"]);
        let clip_secs = Some(h.end - h.start);
        ffmpeg::run(cmd, &self.cancel, ffmpeg::work_timeout(clip_secs)).await?;
        let dir = self.p.root.clip_dir(&self.id, n);
        for (_, file) in CLIP_OUTPUTS {
            let rel = format!("{dir}/{file}");
            self.keep(Stage::Clipped, "clip", &work.join(file), &rel)
                .await?;
            kept.push(rel);
        }
        self.keep(
            Stage::Clipped,
            "thumbnail",
            &work.join("thumb.jpg"),
            &format!("{dir}/thumb.jpg"),
        )
        .await?;
        let posts = social::clip_posts(e, h, &dir);
        let json =
            serde_json::to_vec_pretty(&posts).map_err(|e| StepError::Other(e.to_string()))?;
        self.write(
            Stage::Clipped,
            "social",
            &format!("{dir}/posts.json"),
            &json,
        )
        .await?;
        Ok(kept)
    }
}

/// 16x9 at 640x360 (letterboxed), 9x16 at 360x640 (center crop), each clean and with burned-in
/// subtitles from `sub.srt` in the working directory, plus a 16x9 thumbnail.
const CLIP_FILTER: &str = "[0:v]scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2,setsar=1,split=4[w1][w2][th0][v0];\
[w2]subtitles=sub.srt[w2s];\
[v0]scale=-2:640,crop=360:640,setsar=1,split=2[v1][v2];\
[v2]subtitles=sub.srt[v2s];\
[th0]select=eq(n\\,0)[th]";

const CLIP_OUTPUTS: [(&str, &str); 4] = [
    ("[w1]", "16x9_clean.mp4"),
    ("[w2s]", "16x9_subtitled.mp4"),
    ("[v1]", "9x16_clean.mp4"),
    ("[v2s]", "9x16_subtitled.mp4"),
];
