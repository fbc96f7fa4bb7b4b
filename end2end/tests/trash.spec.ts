import { test, expect, Page } from "@playwright/test";
import * as fs from "fs";
import * as path from "path";
import { dataDir, hydrated, signIn } from "./helpers";

// An episode no other spec touches: processed here, cleaned into the trash, restored from it.
const ID = "demo-show_ep002_2026-01-02";
const clip = () => path.join(dataDir, `outputs/demo-show/2026/${ID}/clips/1/16x9_subtitled.mp4`);

function row(page: Page, id: string) {
  return page.locator(`tr[data-episode="${id}"]`);
}

async function episodeState(page: Page, id: string): Promise<string> {
  const res = await page.request.post("/api/episode", { data: { id } });
  expect(res.status()).toBe(200);
  return (await res.json()).episode.state;
}

/** Processes `id` through the Process page unless it is done already. */
async function processed(page: Page, id: string) {
  if ((await episodeState(page, id)) === "done") return;
  await page.goto("/process");
  await hydrated(page);
  await row(page, id).getByTestId("select").check();
  await page.getByTestId("start").click();
  await expect(page.getByTestId("start-result")).toContainText("1 job(s) queued");
  await expect(row(page, id).getByTestId("state")).toHaveText("done", { timeout: 90_000 });
}

/** Files and bytes under `dir`, as the server counts them: every non-directory, by its own size. */
function usage(dir: string): { files: number; bytes: number } {
  const acc = { files: 0, bytes: 0 };
  if (!fs.existsSync(dir)) return acc;
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = fs.lstatSync(p);
    if (st.isDirectory()) {
      const sub = usage(p);
      acc.files += sub.files;
      acc.bytes += sub.bytes;
    } else {
      acc.files += 1;
      acc.bytes += st.size;
    }
  }
  return acc;
}

test("a cleaned episode goes to the trash and the Trash page restores it, clips and all", async ({ page }) => {
  await signIn(page);
  await processed(page, ID);
  expect(fs.existsSync(clip())).toBe(true);

  // Clean it from its page: the report says where the files went and until when they can come back.
  await page.goto(`/episodes/${ID}`);
  await hydrated(page);
  await expect(page.getByTestId("artifacts")).toContainText("16x9_subtitled.mp4");
  await page.getByTestId("cleanup-preview").click();
  await expect(page.getByTestId("cleanup-preview-list")).toContainText(`outputs/demo-show/2026/${ID}`);
  await page.getByTestId("cleanup-confirm").click();
  const done = page.getByTestId("cleanup-done");
  await expect(done).toHaveAttribute("data-kept", "true");
  await expect(done).toContainText(/Moved \d+ paths? to the trash — restorable until \d{4}-\d\d-\d\d/);
  const runId = await done.getAttribute("data-run");
  expect(runId).toBeTruthy();
  expect(fs.existsSync(clip())).toBe(false);
  await expect(page.getByTestId("state")).not.toHaveText("done");

  // The Trash page lists the run, measured, with the policy in force and the paths it took.
  await page.getByRole("link", { name: "Open the trash" }).click();
  await expect(page).toHaveURL(/\/trash$/);
  await expect(page.getByTestId("trash-page")).toBeVisible();
  await expect(page.getByTestId("trash-policy")).toContainText("7 days");
  const run = page.locator(`[data-testid="trash-run"][data-run="${runId}"]`);
  await expect(run).toHaveAttribute("data-state", "kept");
  await expect(run).toContainText(`episode ${ID}`);
  await expect(run).toContainText("restorable until");
  // Measured after the cleanup answered: "measuring…" until then, polled away.
  await expect(run.getByTestId("trash-bytes")).toHaveText(/\d (B|kB|MB)$/);
  await run.getByTestId("trash-expand").click();
  const paths = page.getByTestId("trash-paths");
  await expect(paths).toContainText(`outputs/demo-show/2026/${ID}`);
  const taken = await paths.locator("li").allTextContents();
  const outputs = taken.find((p) => p.startsWith("outputs/"));
  expect(outputs).toBeTruthy();

  // Something back in one of its places: the preview refuses (409) and says what to do, nothing moves.
  const blocker = path.join(dataDir, outputs!);
  fs.mkdirSync(blocker, { recursive: true });
  fs.writeFileSync(path.join(blocker, "new.txt"), "made after the cleanup\n");
  await run.getByTestId("restore").click();
  const refused = page.getByTestId("restore-error");
  await expect(refused).toHaveAttribute("data-code", "Conflict");
  await expect(refused).toContainText(outputs!);
  await expect(refused).toContainText("Something is in the way");
  await expect(page.getByTestId("restore-preview")).toHaveCount(0);
  fs.rmSync(blocker, { recursive: true, force: true });

  // Restore…: a dry run first, showing what comes back; Cancel leaves everything as it is.
  await run.getByTestId("restore").click();
  const preview = page.getByTestId("restore-preview");
  await expect(preview).toHaveAttribute("data-run", runId!);
  await expect(preview).toContainText(outputs!);
  await expect(preview).toContainText(ID);
  await expect(preview).toContainText(/artifact row/);
  await page.getByTestId("restore-cancel").click();
  await expect(preview).toHaveCount(0);
  expect(fs.existsSync(clip())).toBe(false);

  // Restore now: the files, their rows and the episode's state come back.
  await run.getByTestId("restore").click();
  await expect(preview).toBeVisible();
  await page.getByTestId("restore-confirm").click();
  const restored = page.getByTestId("restore-done");
  await expect(restored).toContainText(`from run ${runId}`);
  await expect(restored).toContainText(ID);
  await expect(run).toHaveAttribute("data-state", "restored");
  await expect(run).toContainText("restored by run");
  await expect(run.getByTestId("restore")).toHaveCount(0);
  expect(fs.existsSync(clip())).toBe(true);

  await restored.getByRole("link", { name: ID }).click();
  await expect(page.getByTestId("episode-title")).toBeVisible();
  await expect(page.getByTestId("state")).toHaveText("done");
  await expect(page.getByTestId("artifacts")).toContainText("16x9_subtitled.mp4");
  await expect(page.locator(".clips video").first()).toBeVisible();
  const video = await page.request.get(`/files/outputs/demo-show/2026/${ID}/clips/1/16x9_subtitled.mp4`);
  expect(video.status()).toBe(200);

  // The same run cannot be restored twice: 410, said plainly.
  const again = await page.request.post("/api/restore", { data: { run_id: runId, dry_run: true } });
  expect(again.status()).toBe(410);
  expect((await again.json()).error.code).toBe("gone");
});

test("the storage view shows where the disk goes, measured", async ({ page }) => {
  await signIn(page);
  await processed(page, ID);
  await page.goto("/storage");
  await hydrated(page);
  const view = page.getByTestId("storage");
  await expect(view).toBeVisible();

  // A derived directory with real bytes in it, the same the disk holds.
  const outputs = page.locator('[data-testid="storage-root"][data-root="outputs"]');
  await expect(outputs).toBeVisible();
  const shown = Number(await outputs.getAttribute("data-bytes"));
  expect(shown).toBeGreaterThan(0);
  expect(shown).toBe(usage(path.join(dataDir, "outputs")).bytes);
  expect(Number(await outputs.getAttribute("data-files"))).toBeGreaterThan(0);
  await expect(outputs.locator(".fill")).toHaveAttribute("style", /width:(?!0%)/);
  await expect(page.locator('[data-testid="storage-root"][data-root="inbox"]')).toBeVisible();
  await expect(page.locator('[data-testid="storage-root"][data-root=".trash"]')).toBeVisible();

  // The filesystem under the data root.
  const disk = page.getByTestId("storage-fs");
  const free = Number(await disk.getAttribute("data-free"));
  const total = Number(await disk.getAttribute("data-total"));
  expect(free).toBeGreaterThan(0);
  expect(total).toBeGreaterThanOrEqual(free);
  await expect(disk).toContainText("free");
  await expect(page.getByTestId("storage-trash")).toContainText("Trash:");

  // Shows and the largest episodes, each linking to its page.
  await expect(page.locator('[data-testid="storage-shows"] tr[data-show="demo-show"]')).toBeVisible();
  const largest = page.locator(`[data-testid="storage-largest"] tr[data-episode="${ID}"]`);
  await expect(largest).toBeVisible();
  await largest.getByRole("link", { name: ID }).click();
  await expect(page).toHaveURL(new RegExp(`/episodes/${ID}$`));
  await expect(page.getByTestId("episode-title")).toBeVisible();
});
