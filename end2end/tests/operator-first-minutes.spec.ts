import { test, expect, Page } from "@playwright/test";
import * as fs from "fs";
import * as path from "path";
import { dataDir, hydrated, signIn } from "./helpers";

// What a new operator meets in the first minutes (issue 26, items 4, 6, 7, 11): a failed episode's page
// retries it, Deep Clean says what it moved and undoes it, a no-speech episode explains itself, the Trash
// fits a laptop screen.
//
// Episodes of their own (show `firstlook`), copies of a 4 s demo episode, so no other spec's change state.
const SHOW = "firstlook";
const SOURCE = path.join(dataDir, "inbox/demo-show/ep001_2026-01-01");
const inbox = (file: string) => path.join(dataDir, "inbox", SHOW, file);

function addEpisode(stem: string, failAt: string): string {
  fs.mkdirSync(path.join(dataDir, "inbox", SHOW), { recursive: true });
  for (const ext of [".mp4", ".vtt"]) {
    if (!fs.existsSync(inbox(stem + ext))) fs.copyFileSync(SOURCE + ext, inbox(stem + ext));
  }
  fs.writeFileSync(inbox(`${stem}.fail-at`), failAt);
  return `${SHOW}_${stem}`;
}

async function api(page: Page, name: string, data: object = {}) {
  const res = await page.request.post(`/api/${name}`, { data });
  expect(res.status(), `${name}: ${await res.text()}`).toBe(200);
  return res.json();
}

async function waitState(page: Page, id: string, want: string, timeout = 90_000) {
  const state = async () => (await api(page, "episode", { id })).episode.state;
  await expect.poll(state, { timeout, intervals: [500] }).toBe(want);
}

/** A new episode processed until it failed at `stage`. */
async function failedEpisode(page: Page, stem: string, stage: string): Promise<string> {
  const id = addEpisode(stem, stage);
  await api(page, "discover", { wait: true });
  await api(page, "process", { ids: [id] });
  await waitState(page, id, "failed");
  return id;
}

const headState = (page: Page) => page.locator(".page-head").getByTestId("state");

test("a failed episode's page retries it: the preview, the confirm, then the page follows the new job to done", async ({ page }) => {
  await signIn(page);
  const id = await failedEpisode(page, "ep001_2026-02-01", "transcribed");

  // On the dashboard the id stays on one line beside its error.
  await page.goto("/");
  await hydrated(page);
  const link = page.locator(`tr[data-episode="${id}"] td:first-child > a`);
  await expect(page.locator(`tr[data-episode="${id}"]`).getByTestId("episode-error")).toContainText("injected failure");
  const lineHeight = await link.evaluate((a) => parseFloat(getComputedStyle(a).lineHeight) || 20);
  expect((await link.boundingBox())!.height).toBeLessThan(lineHeight * 1.5);

  await page.goto(`/episodes/${id}`);
  await hydrated(page);
  await expect(page.getByTestId("episode-failure")).toContainText("injected failure");
  await page.getByTestId("episode-retry").click();
  const preview = page.getByTestId("episode-retry-preview");
  await expect(preview).toContainText("Retry with cleanup moves what the failed attempt left");
  fs.unlinkSync(inbox("ep001_2026-02-01.fail-at"));
  await preview.getByTestId("episode-retry-confirm").click();

  await expect(page.getByTestId("episode-requeued")).toContainText(/^Retry: .*; job #\d+ queued \(attempt 2\)\.$/);
  await expect(page.getByTestId("failed-actions")).toHaveCount(0);
  await expect(headState(page)).toHaveText("done", { timeout: 90_000 });
  await expect(page.getByTestId("episode-failure")).toHaveCount(0);
  await expect(page.locator("p.muted", { hasText: "attempt 2" })).toBeVisible();
});

test("a failed episode's page force-reprocesses it after showing what goes", async ({ page }) => {
  await signIn(page);
  const id = await failedEpisode(page, "ep002_2026-02-02", "clips");
  await page.goto(`/episodes/${id}`);
  await hydrated(page);
  await page.getByTestId("episode-force").click();
  const preview = page.getByTestId("episode-force-preview");
  await expect(preview).toContainText("Force reprocess moves everything derived from this episode to the trash");
  fs.unlinkSync(inbox("ep002_2026-02-02.fail-at"));
  await preview.getByTestId("episode-force-confirm").click();
  await expect(page.getByTestId("episode-requeued")).toContainText(/^Force reprocess: .*; job #\d+ queued/);
  await expect(headState(page)).toHaveText("done", { timeout: 90_000 });
  await expect(page.getByTestId("failed-actions")).toHaveCount(0);
});

test("Deep Clean run from Maintenance lists what it moved and Undo puts it back; only the other tab says 'another tab'", async ({ page, context }) => {
  await signIn(page);
  // Ten stray files no episode owns, each its own path for the orphan sweep.
  const strays = Array.from({ length: 10 }, (_, i) => `outputs/firstlook-stray-${i}.bin`);
  for (const [i, rel] of strays.entries()) fs.writeFileSync(path.join(dataDir, rel), `stray ${i}\n`.repeat(100));
  const other = await context.newPage();
  await other.goto("/");
  await hydrated(other);

  await page.goto("/maintenance");
  await hydrated(page);
  await page.getByTestId("deep-clean-preview").click();
  await expect(page.getByTestId("deep-clean-preview-list")).toContainText(strays[0]);
  await page.getByTestId("deep-clean-run").click();

  const report = page.getByTestId("deep-clean-report");
  await expect(report).toHaveAttribute("data-result", "ok");
  const moved = Number((await report.textContent())!.match(/Moved (\d+) paths to the trash/)![1]);
  expect(moved).toBeGreaterThanOrEqual(strays.length);
  const listed = report.getByTestId("deep-clean-paths").locator("li");
  await expect(listed).toHaveCount(8);
  for (const p of await listed.allTextContents()) expect(p).toMatch(/^[a-z]+\/[^/]/); // relative to the data root
  await expect(report.getByTestId("deep-clean-more")).toHaveText(`and ${moved - 8} more in the Trash`);
  for (const rel of strays) expect(fs.existsSync(path.join(dataDir, rel)), rel).toBe(false);

  // The tab that ran it does not claim another tab did; the other tab says so.
  await expect(other.getByTestId("wiped-elsewhere")).toBeVisible();
  await expect(page.getByTestId("wiped-elsewhere")).toHaveCount(0);

  const runId = (await report.getAttribute("data-run"))!;
  await report.getByTestId("deep-clean-undo").click();
  await expect(page.getByTestId("deep-clean-undone")).toContainText(`Undone: ${moved} paths back`);
  await expect(report.getByTestId("deep-clean-undo")).toBeDisabled();
  for (const [i, rel] of strays.entries()) {
    expect(fs.readFileSync(path.join(dataDir, rel), "utf8"), rel).toBe(`stray ${i}\n`.repeat(100));
  }
  const trash = await api(page, "trash");
  expect(trash.runs.find((r: { run_id: string }) => r.run_id === runId)?.state).toBe("restored");
  await expect(page.getByTestId("wiped-elsewhere")).toHaveCount(0);
  for (const rel of strays) fs.unlinkSync(path.join(dataDir, rel));
});

test("a done episode whose audio has no speech says so instead of asking to process it", async ({ page }) => {
  await signIn(page);
  const list = await api(page, "episodes", { show: "nosubs" });
  const id: string = list.episodes[0].id;
  if (list.episodes[0].state !== "done") {
    await api(page, "process", { ids: [id] });
    await waitState(page, id, "done", 120_000);
  }
  await page.goto(`/episodes/${id}`);
  await hydrated(page);
  await expect(page.getByTestId("no-transcript")).toHaveText(
    "No speech was found in the audio, so the transcript is empty and there are no clips.",
  );
  await expect(page.getByTestId("no-clips")).toHaveText("No clips: no speech was found in the audio, so there was nothing to cut.");
  await expect(page.getByText("Process the episode")).toHaveCount(0);
});

test("the Trash table fits 1280 px with Purge now in view, and its limit reads in the setting's unit", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await signIn(page);
  // A kept run with a long scope: the retried episode cleaned.
  const id = `${SHOW}_ep001_2026-02-01`;
  await api(page, "cleanup_episode", { id, include_transcripts: true, include_audio: true, dry_run: false });
  await page.goto("/trash");
  await hydrated(page);
  await expect(page.getByTestId("trash-policy")).toContainText("passes 20.0 GB"); // --trash-max-gb 20
  const purge = page.getByTestId("purge").first();
  await expect(purge).toBeInViewport({ ratio: 1 });
  const table = (await page.getByTestId("trash-runs").boundingBox())!;
  expect(table.x + table.width).toBeLessThanOrEqual(1280);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
});
