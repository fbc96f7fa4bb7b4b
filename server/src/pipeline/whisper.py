"""EWG Studio's built-in transcriber: faster-whisper (CTranslate2) over a 16 kHz mono PCM wav.

Run by the server (server/src/pipeline/whisper.rs embeds this file and starts it with the venv's python):

    python -I whisper.py --model-dir DIR [--threads N] [--chunk-secs S] WAV

stdout, one JSON object a line:
    {"model": "...", "load_secs": 0.4}                   once the model is loaded
    {"w": "Hello,", "s": 1.02, "e": 1.4, "p": 0.93}      each word, in time order (seconds, probability)
    {"done": true, "duration": 23.1, "words": 57}        at the end
stderr: `progress DONE TOTAL` lines (seconds of audio decoded) and, on failure, the reason.
Exit status: 0 done; 2 the input is not a readable 16-bit wav; 3 the environment is broken (faster-whisper
or the model cannot be loaded; the server then falls back to pocketsphinx); anything else a crash.

Silence and music are dropped by faster-whisper's voice activity filter before Whisper sees them. The
audio is read and recognized in chunks of about --chunk-secs, cut at the quietest 50 ms near the chunk's
end, so memory stays flat for any length. Nothing here touches the network: the Hugging Face hub is told to
stay offline and every socket connection is refused before faster-whisper is imported.
"""

import argparse
import json
import os
import socket
import sys
import time
import wave

EXIT_BAD_INPUT = 2
EXIT_BROKEN_ENV = 3
RATE = 16000


def no_network(*_args, **_kwargs):
    raise OSError("the EWG transcriber never uses the network")


def offline():
    for var, value in (
        ("HF_HUB_OFFLINE", "1"),
        ("TRANSFORMERS_OFFLINE", "1"),
        ("HF_HUB_DISABLE_TELEMETRY", "1"),
    ):
        os.environ[var] = value
    socket.socket.connect = no_network
    socket.socket.connect_ex = no_network
    socket.create_connection = no_network
    socket.getaddrinfo = no_network


def out(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def fail(code, message):
    sys.stderr.write(message.replace("\n", " ") + "\n")
    sys.stderr.flush()
    sys.exit(code)


def quietest_cut(np, samples, search):
    """Index of the quietest 50 ms frame in the last `search` samples (where to end a chunk)."""
    frame = RATE // 20
    tail = samples[-search:] if len(samples) > search else samples
    n = len(tail) // frame
    if n < 2:
        return len(samples)
    energy = np.square(tail[: n * frame].astype(np.float32)).reshape(n, frame).mean(axis=1)
    best = int(np.argmin(energy))
    return len(samples) - len(tail) + best * frame + frame // 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--model-name", default="whisper")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--chunk-secs", type=float, default=60.0)
    ap.add_argument("--beam-size", type=int, default=5)
    ap.add_argument("--check", action="store_true", help="load the model and exit")
    ap.add_argument("wav", nargs="?")
    args = ap.parse_args()
    offline()

    t0 = time.monotonic()
    try:
        import numpy as np
        from faster_whisper import WhisperModel

        model = WhisperModel(
            args.model_dir,
            device="cpu",
            compute_type="int8",
            cpu_threads=max(1, args.threads),
            local_files_only=True,
        )
    except Exception as e:  # noqa: BLE001 - any failure here means "this environment cannot transcribe"
        fail(EXIT_BROKEN_ENV, f"cannot load faster-whisper model {args.model_dir}: {type(e).__name__}: {e}")
    out({"model": args.model_name, "load_secs": round(time.monotonic() - t0, 3)})
    if args.check:
        return
    if not args.wav:
        fail(EXIT_BAD_INPUT, "no wav given")

    try:
        wav = wave.open(args.wav, "rb")
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1 or wav.getframerate() != RATE:
            fail(
                EXIT_BAD_INPUT,
                f"{args.wav}: expected 16 kHz mono 16-bit PCM, got {wav.getframerate()} Hz, "
                f"{wav.getnchannels()} channel(s), {8 * wav.getsampwidth()}-bit",
            )
        total = wav.getnframes() / RATE
    except (wave.Error, EOFError, OSError) as e:
        fail(EXIT_BAD_INPUT, f"{args.wav} is not a readable wav: {e}")

    chunk = max(30 * RATE, int(args.chunk_secs * RATE))  # at least one Whisper window
    search = 10 * RATE  # look for a pause in the chunk's last 10 s
    words = 0
    offset = 0  # samples already recognized
    carry = np.zeros(0, dtype=np.int16)  # read but not yet recognized (after the last cut)
    eof = False
    sys.stderr.write(f"progress 0 {total:.2f}\n")
    while not eof or len(carry):
        want = chunk - len(carry)
        if not eof and want > 0:
            raw = wav.readframes(want)
            got = np.frombuffer(raw, dtype="<i2")
            eof = len(got) < want
            carry = np.concatenate([carry, got])
        if not len(carry):
            break
        cut = len(carry) if eof else quietest_cut(np, carry, search)
        piece, carry = carry[:cut], carry[cut:]
        audio = piece.astype(np.float32) / 32768.0
        base = offset / RATE
        segments, _info = model.transcribe(
            audio,
            language="en",
            beam_size=args.beam_size,
            word_timestamps=True,
            # Silero VAD (bundled with faster-whisper): silence and music give no words instead of
            # Whisper's stock hallucinations ("You", "Thank you.") and are skipped faster.
            vad_filter=True,
        )
        for seg in segments:
            pending = None
            for w in seg.words or []:
                text = w.word.strip()
                if not text:
                    continue
                # A piece without a leading space continues the word before it ("ill" + "-disposed").
                if pending is not None and not w.word.startswith(" "):
                    pending["w"] += text
                    pending["e"] = round(base + w.end, 3)
                    pending["p"] = min(pending["p"], round(float(w.probability), 4))
                    continue
                if pending is not None:
                    out(pending)
                    words += 1
                pending = {
                    "w": text,
                    "s": round(base + w.start, 3),
                    "e": round(base + w.end, 3),
                    "p": round(float(w.probability), 4),
                }
            if pending is not None:
                out(pending)
                words += 1
            sys.stderr.write(f"progress {min(total, base + seg.end):.2f} {total:.2f}\n")
            sys.stderr.flush()
        offset += len(piece)
        sys.stderr.write(f"progress {offset / RATE:.2f} {total:.2f}\n")
        sys.stderr.flush()
    out({"done": True, "duration": round(total, 3), "words": words})


if __name__ == "__main__":
    main()
