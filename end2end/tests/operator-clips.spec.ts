import { test, expect, Page } from "@playwright/test";
// (Named to run after home.spec.ts, which expects no episode to be done yet: the files run in name order.)
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { dataDir, hydrated, signIn } from "./helpers";

// Clip management on the episode page: the scored candidates with their why, a candidate rendered as a
// clip, a clip nudged by a sentence (a subtitle cue here) and the nudge undone from its report.
//
// The source is the console spec's (60 s in three 20 s cues, scripts/e2e) in a show of its own whose
// `show.clips` asks for one clip: three candidates, one rendered, two for the operator.
const SHOW = "clipsui";
const SOURCE = path.join(dataDir, ".e2e-media/console/ep001_2026-01-01");

function addEpisode(stem: string): string {
  const dir = path.join(dataDir, "inbox", SHOW);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "show.clips"), "count=1\n");
  for (const ext of [".mp4", ".vtt"]) fs.copyFileSync(SOURCE + ext, path.join(dir, stem + ext));
  return `${SHOW}_${stem}`;
}

async function api(page: Page, name: string, data: object = {}) {
  const res = await page.request.post(`/api/${name}`, { data });
  expect(res.status(), `${name}: ${await res.text()}`).toBe(200);
  return res.json();
}

const state = async (page: Page, id: string) => (await api(page, "episode", { id })).episode.state;
const clipDir = (id: string, n: number) => path.join(dataDir, `outputs/${SHOW}/2026/${id}/clips/${n}`);

/** name → sha256 of every file of a clip directory ({} when it is gone). */
function files(dir: string): Record<string, string> {
  if (!fs.existsSync(dir)) return {};
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) {
    out[name] = crypto.createHash("sha256").update(fs.readFileSync(path.join(dir, name))).digest("hex");
  }
  return out;
}

/** The episode is done and clip `n` has its four renditions, thumbnail and posts. */
async function clipCut(page: Page, id: string, n: number) {
  await expect
    .poll(async () => Object.keys(files(clipDir(id, n))).length === 6 && (await state(page, id)) === "done", {
      timeout: 90_000,
      intervals: [500],
    })
    .toBe(true);
}

test("candidates show their why; one is rendered as a clip, a clip is nudged by a sentence, and Undo brings the old clip back", async ({ page }) => {
  const id = addEpisode("ep001_2026-04-01");
  await signIn(page);
  await api(page, "discover", { wait: true });
  await api(page, "process", { ids: [id] });
  await expect.poll(() => state(page, id), { timeout: 90_000, intervals: [500] }).toBe("done");
  const old1 = files(clipDir(id, 1));
  expect(Object.keys(old1)).toContain("posts.json");

  await page.goto(`/episodes/${id}`);
  await hydrated(page);
  // The scored candidates, more than are rendered, each with why it was chosen.
  const candidates = page.getByTestId("candidate");
  await expect(candidates).toHaveCount(3);
  for (const why of await page.getByTestId("candidate-why").allTextContents()) expect(why.trim()).not.toBe("");
  await expect(page.getByTestId("candidate-clip")).toHaveText(["clip 1"]);
  await expect(page.getByTestId("candidate-render")).toHaveCount(2);
  // The README's picture of the candidates and their why.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.locator("section.candidates-section").screenshot({ path: "../docs/clips.png" });

  // Render the first candidate that is not a clip: previewed first, nothing moves, then clip 2 is cut.
  const chosen = page.locator('[data-testid="candidate"][data-clip=""]').first();
  await chosen.getByTestId("candidate-render").click();
  const preview = page.getByTestId("clip-edit-preview");
  await expect(preview).toContainText("as clip 2");
  await expect(preview).toContainText("Nothing moves to the trash");
  expect(fs.existsSync(clipDir(id, 2))).toBe(false);
  await preview.getByTestId("clip-edit-confirm").click();
  await expect(page.getByTestId("clip-edit-result")).toContainText("as clip 2");
  await clipCut(page, id, 2);
  await expect(page.locator('[data-testid="clip"][data-clip="2"]')).toBeVisible({ timeout: 30_000 });
  // The page marks the candidate with its clip (listed best first, so in either order).
  await expect
    .poll(async () => (await page.getByTestId("candidate-clip").allTextContents()).sort(), { timeout: 30_000 })
    .toEqual(["clip 1", "clip 2"]);

  // Nudge clip 1 by one cue (its end later, or its start earlier when it ends the episode).
  const bound = page.locator('[data-testid="clip-bound"][data-clip="1"]');
  const [start, end] = [Number(await bound.getAttribute("data-start")), Number(await bound.getAttribute("data-end"))];
  const lastCue = end > 59;
  await bound.getByTestId(lastCue ? "nudge-start-earlier" : "nudge-end-later").click();
  await expect(preview).toContainText(`clips/1`);
  await expect(preview).toContainText("as clip 3");
  await expect(preview).toContainText("(40 s)");
  expect(files(clipDir(id, 1))).toEqual(old1); // a dry run so far
  await preview.getByTestId("clip-edit-confirm").click();
  const result = page.getByTestId("clip-edit-result");
  await expect(result).toContainText("Clip 1 nudged");
  await expect(result).toContainText("to the trash");
  await expect(result).toContainText("as clip 3");
  await clipCut(page, id, 3);
  expect(fs.existsSync(clipDir(id, 1))).toBe(false);
  const bound3 = page.locator('[data-testid="clip-bound"][data-clip="3"]');
  await expect(bound3).toBeVisible({ timeout: 30_000 });
  // The new bounds are one 20 s cue further, on cue edges.
  const [s3, e3] = [Number(await bound3.getAttribute("data-start")), Number(await bound3.getAttribute("data-end"))];
  expect([s3, e3]).toEqual(lastCue ? [start - 20, end] : [start, end + 20]);

  // Undo from the report: the old clip comes back byte for byte.
  await result.getByTestId("clip-edit-undo").click();
  await expect(page.getByTestId("clip-edit-undone")).toContainText("put back from the trash");
  expect(files(clipDir(id, 1))).toEqual(old1);
  await expect(page.locator('[data-testid="clip"][data-clip="1"]')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("clip")).toHaveCount(3);

  // After a reload, the history tells the two clip jobs (the candidate, the nudge) from the processing
  // attempt; the restore queued nothing.
  await page.reload();
  await hydrated(page);
  const attempts = page.getByTestId("history").getByTestId("attempt");
  await expect(attempts).toHaveCount(3);
  await expect(attempts.and(page.locator('[data-trigger="regenerate clip"]'))).toHaveCount(2);
  await expect(attempts.and(page.locator('[data-trigger="start"]'))).toHaveCount(1);
});

test("candidates are looked for again with another preset: a preview keeps nothing, the rendered clip stays", async ({ page }) => {
  const id = addEpisode("ep002_2026-04-02");
  await signIn(page);
  await api(page, "discover", { wait: true });
  await api(page, "process", { ids: [id] });
  await expect.poll(() => state(page, id), { timeout: 90_000, intervals: [500] }).toBe("done");
  const clip1 = files(clipDir(id, 1));

  await page.goto(`/episodes/${id}`);
  await hydrated(page);
  await expect(page.getByTestId("candidate")).toHaveCount(3);
  await page.getByTestId("discover-preset").selectOption("long");
  await page.getByTestId("discover-preview").click();
  await expect(page.getByTestId("discover-result")).toContainText("long (60–120 s)");
  await expect(page.getByTestId("discover-result")).toContainText("a preview");
  await expect(page.getByTestId("candidate")).toHaveCount(3);

  await page.getByTestId("discover-preset").selectOption("medium");
  await page.getByTestId("discover-count").fill("2");
  await page.getByTestId("discover-apply").click();
  await expect(page.getByTestId("discover-result")).toContainText("the rendered clips stay");
  await expect(page.getByTestId("candidate")).toHaveCount(3);
  const e = JSON.parse(fs.readFileSync(path.join(dataDir, `enriched/${id}.json`), "utf8"));
  expect(e.discovery).toEqual({ preset: "medium", count: 2 });
  expect(e.highlights).toHaveLength(1);
  expect(files(clipDir(id, 1))).toEqual(clip1);
});
