//! Real ffmpeg/ffprobe against hostile files. Each hostile case has a control showing that an
//! unrestricted ffprobe really would follow the file, so a pass means the restriction worked.

use super::*;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Instant;

fn never() -> CancellationToken {
    CancellationToken::new()
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

fn playlist(dir: &Path, segment: &str) -> PathBuf {
    let p = dir.join("ep001_2026-01-01.mp4");
    std::fs::write(
        &p,
        format!("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{segment}\n#EXT-X-ENDLIST\n"),
    )
    .unwrap();
    p
}

/// An unrestricted ffprobe, as the pipeline ran it before, with `protocols` allowed (`None`: ffmpeg's
/// defaults).
async fn unrestricted_probe(path: &Path, protocols: Option<&str>) -> Result<Vec<u8>, ToolError> {
    let mut c = Command::new("ffprobe");
    c.args(["-v", "error"]);
    if let Some(p) = protocols {
        c.args(["-protocol_whitelist", p]);
    }
    c.arg(path);
    super::super::child::run(c, &never(), Some(Duration::from_secs(3))).await
}

/// Prep's real ffmpeg invocation shape, over a restricted input.
async fn restricted_extract(src: &Path, out: &Path) -> Result<Vec<u8>, ToolError> {
    let mut c = ffmpeg();
    input(&mut c, Input::Video, src);
    c.args(["-vn", "-ac", "1", "-f", "wav"]).arg(out);
    run(c, &never(), Duration::from_secs(10)).await
}

#[tokio::test]
async fn a_playlist_named_mp4_opens_no_other_local_file() {
    let dir = tempfile::tempdir().unwrap();
    // A FIFO as the segment: opening it for reading blocks, so "opened" shows up as a timeout.
    mkfifo(&dir.path().join("secret.ts"));
    let pl = playlist(dir.path(), "secret.ts");
    let control = unrestricted_probe(&pl, None).await;
    assert!(
        matches!(control, Err(ToolError::TimedOut { .. })),
        "control: plain ffprobe should block on the segment: {control:?}"
    );

    let t = Instant::now();
    let err = probe_duration(&pl, Input::Video, &never(), PROBE_TIMEOUT)
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("HLS playlist"), "{err}");
    let err = restricted_extract(&pl, &dir.path().join("a.wav"))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Failed { .. }), "{err:?}");
    assert!(err.to_string().contains("Invalid data"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
}

#[tokio::test]
async fn a_playlist_named_mp4_makes_no_network_connection() {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let pl = playlist(dir.path(), &format!("http://127.0.0.1:{port}/seg.ts"));

    let err = probe_duration(&pl, Input::Video, &never(), PROBE_TIMEOUT)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("HLS playlist"), "{err}");
    let err = restricted_extract(&pl, &dir.path().join("a.wav"))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Failed { .. }), "{err:?}");
    assert!(
        listener.accept().is_err(),
        "the restricted tools connected to the listener"
    );

    // Control: the playlist is live. ffmpeg's default whitelist for a local file (file,crypto,data) already
    // stops http; one permissive `-protocol_whitelist` and it connects.
    let _ = unrestricted_probe(&pl, Some("file,http,tcp")).await;
    assert!(
        listener.accept().is_ok(),
        "control: plain ffprobe should have connected"
    );
}

#[tokio::test]
async fn a_fifo_named_mp4_is_refused_or_times_out_never_hangs() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("ep001_2026-01-01.mp4");
    mkfifo(&fifo);
    let err = probe_duration(&fifo, Input::Video, &never(), PROBE_TIMEOUT)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    // Past the sniff (as if the file were swapped after it), the probe's own timeout ends the wait.
    let t = Instant::now();
    let err = probe_duration(&fifo, Input::Wav, &never(), Duration::from_millis(500))
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::TimedOut { .. }), "{err:?}");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
}

#[tokio::test]
async fn real_videos_still_probe_and_convert() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("ep001_2026-01-01.mp4");
    let mut c = ffmpeg();
    c.args([
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=64x36:rate=10:duration=1",
    ])
    .args(["-f", "lavfi", "-i", "sine=duration=1"])
    .args([
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
    ])
    .args(["-c:a", "aac", "-shortest"])
    .arg(&src);
    run(c, &never(), Duration::from_secs(60)).await.unwrap();
    let secs = probe_duration(&src, Input::Video, &never(), PROBE_TIMEOUT)
        .await
        .unwrap();
    assert!((secs - 1.0).abs() < 0.2, "{secs}");
    let wav = dir.path().join("a.wav");
    restricted_extract(&src, &wav).await.unwrap();
    let secs = probe_duration(&wav, Input::Wav, &never(), PROBE_TIMEOUT)
        .await
        .unwrap();
    assert!((secs - 1.0).abs() < 0.2, "{secs}");
}

#[test]
fn the_sniff_names_what_it_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 3] = [
        ("concat.mp4", b"ffconcat version 1.0\nfile 'x'\n", "concat"),
        ("junk.mp4", b"hello, this is text", "not an MP4/MOV"),
        ("short.mp4", b"abc", "not an MP4/MOV"),
    ];
    for (name, body, why) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        let err = check_video(&p).unwrap_err().to_string();
        assert!(err.contains(why), "{name}: {err}");
    }
    let missing = check_video(&dir.path().join("none.mp4")).unwrap_err();
    assert!(missing.to_string().contains("cannot open"), "{missing}");
}

#[test]
fn timeouts_grow_with_the_media_and_stay_bounded() {
    assert_eq!(work_timeout(Some(6.0)), Duration::from_secs(120));
    assert_eq!(work_timeout(None), Duration::from_secs(7200));
    assert_eq!(work_timeout(Some(f64::NAN)), Duration::from_secs(7200));
    assert!(work_timeout(Some(1e12)) <= Duration::from_secs(13 * 3600));
}

#[tokio::test]
async fn loudness_is_measured_every_100_ms_and_silence_is_far_below_a_tone() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("a.wav");
    // One second of silence, then one second of a 440 Hz tone.
    let ok = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i"])
        .arg("aevalsrc='if(gte(t,1),0.5*sin(2*PI*440*t),0)':s=16000:d=2")
        .args(["-ac", "1", "-c:a", "pcm_s16le"])
        .arg(&wav)
        .status()
        .unwrap();
    assert!(ok.success());
    let m = loudness(&wav, &never(), Duration::from_secs(60))
        .await
        .unwrap();
    assert!((18..=22).contains(&m.len()), "{} frames", m.len());
    assert!(m[5] < -70.0, "silence: {}", m[5]);
    assert!(m[m.len() - 1] > -30.0, "tone: {}", m[m.len() - 1]);
}
