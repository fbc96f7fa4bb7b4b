import { test, expect, Page } from "@playwright/test";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { dataDir, hydrated, signIn, viewer } from "./helpers";

const SHOW = "uploads-show";
const NAME = "ep003_2026-02-03.mp4";
const ID = `${SHOW}_ep003_2026-02-03`;

/** A real 3-second episode video made by ffmpeg, outside the server's data dir. */
function makeVideo(dir: string, name: string): string {
  const out = path.join(dir, name);
  execFileSync("ffmpeg", [
    "-v", "error", "-y",
    "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=3",
    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=3",
    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", out,
  ]);
  return out;
}

function uploadsLeft(): string[] {
  return fs.readdirSync(path.join(dataDir, "uploads"));
}

/** Counts the page's requests to the upload endpoint. */
function countUploads(page: Page): () => number {
  let n = 0;
  page.on("request", (r) => {
    if (new URL(r.url()).pathname === "/api/upload") n++;
  });
  return () => n;
}

let tmp = "";
test.beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ewg-upload-e2e-"));
});
test.afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test("an episode video and its subtitles uploaded from the browser land in the inbox, with progress to 100%", async ({ page }) => {
  const video = makeVideo(tmp, NAME);
  const subs = path.join(tmp, "captions from the editor.vtt");
  fs.writeFileSync(subs, "WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello from the upload test.\n");

  await signIn(page);
  await page.getByRole("link", { name: "Upload" }).click();
  await expect(page).toHaveURL(/\/upload$/);
  await hydrated(page);
  await page.getByTestId("upload-show").fill(SHOW);
  await page.getByTestId("upload-video").setInputFiles(video);
  await page.getByTestId("upload-subs").setInputFiles(subs);
  await page.getByTestId("upload").click();

  await expect(page.getByTestId("upload-done")).toContainText(`inbox/${SHOW}/${NAME}`);
  await expect(page.getByTestId("upload-done")).toContainText(`inbox/${SHOW}/ep003_2026-02-03.vtt`);
  await expect(page.getByTestId("upload-progress")).toHaveJSProperty("value", 100);
  await expect(page.getByTestId("upload-percent")).toHaveText("100%");

  // Byte for byte in the inbox, subtitles named after the video, no temp file left.
  const stored = path.join(dataDir, "inbox", SHOW, NAME);
  expect(fs.readFileSync(stored).equals(fs.readFileSync(video))).toBe(true);
  const storedSubs = fs.readFileSync(path.join(dataDir, "inbox", SHOW, "ep003_2026-02-03.vtt"), "utf8");
  expect(storedSubs).toContain("Hello from the upload test.");
  expect(uploadsLeft()).toEqual([]);

  // Discovered already: the success line links to the episode, which knows its source.
  await page.getByTestId("upload-done").getByRole("link", { name: ID }).click();
  await expect(page).toHaveURL(new RegExp(`/episodes/${ID}$`));
  await expect(page.locator("body")).toContainText(`inbox/${SHOW}/${NAME}`);

  // Uploading the same file again is refused by the server, readably, and nothing is replaced.
  const before = fs.statSync(stored).mtimeMs;
  await page.goto("/upload");
  await hydrated(page);
  await page.getByTestId("upload-show").fill(SHOW);
  await page.getByTestId("upload-video").setInputFiles(video);
  await page.getByTestId("upload").click();
  await expect(page.getByTestId("upload-error")).toContainText("already exists");
  await expect(page.getByTestId("upload-done")).toHaveCount(0);
  expect(fs.statSync(stored).mtimeMs).toBe(before);
  expect(uploadsLeft()).toEqual([]);
});

test("a wrongly named video gets a clear message and nothing is uploaded", async ({ page }) => {
  const video = makeVideo(tmp, "holiday clip.mp4");
  await signIn(page);
  await page.goto("/upload");
  await hydrated(page);
  const requests = countUploads(page);
  await page.getByTestId("upload-show").fill(SHOW);
  await page.getByTestId("upload-video").setInputFiles(video);
  await page.getByTestId("upload").click();
  const error = page.getByTestId("upload-error");
  await expect(error).toContainText("holiday clip.mp4");
  await expect(error).toContainText("ep<NNN>_<YYYY-MM-DD>.mp4");
  await expect(page.getByTestId("upload-progress")).toHaveCount(0);
  expect(requests()).toBe(0);
  expect(fs.existsSync(path.join(dataDir, "inbox", SHOW, "holiday clip.mp4"))).toBe(false);
  expect(uploadsLeft()).toEqual([]);
});

test("a viewer is told uploading needs the operator role, before any byte is sent", async ({ page }) => {
  const video = makeVideo(tmp, "ep004_2026-02-04.mp4");
  await signIn(page, viewer);
  await page.goto("/upload");
  await hydrated(page);
  await page.getByTestId("upload-show").fill(SHOW);
  await page.getByTestId("upload-video").setInputFiles(video);
  await page.getByTestId("upload").click();
  await expect(page.getByTestId("upload-error")).toContainText("operator role");
  await expect(page.getByTestId("upload-progress")).toHaveCount(0);
  expect(fs.existsSync(path.join(dataDir, "inbox", SHOW, "ep004_2026-02-04.mp4"))).toBe(false);
  expect(uploadsLeft()).toEqual([]);
});
