import { test, expect, Page } from "@playwright/test";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { dataDir, hydrated, signIn, splitModules, wasmFetched } from "./helpers";

// The operator's console: episode media (transcript search, page, clip renditions, social posts),
// per-clip regenerate, failure groups, live updates over server-sent events.
//
// Episodes of their own (show `console`), copied from a generated episode outside the inbox (60 s, three
// 20 s subtitle cues, so three whole-sentence clips: scripts/e2e), so no other spec's episodes change
// state here.
const SHOW = "console";
const SOURCE = path.join(dataDir, ".e2e-media/console/ep001_2026-01-01");

function addEpisode(stem: string, failAt?: string): string {
  const dir = path.join(dataDir, "inbox", SHOW);
  fs.mkdirSync(dir, { recursive: true });
  for (const ext of [".mp4", ".vtt"]) {
    const to = path.join(dir, stem + ext);
    if (!fs.existsSync(to)) fs.copyFileSync(SOURCE + ext, to);
  }
  if (failAt) fs.writeFileSync(path.join(dir, `${stem}.fail-at`), failAt);
  return `${SHOW}_${stem}`;
}

async function api(page: Page, name: string, data: object = {}) {
  const res = await page.request.post(`/api/${name}`, { data });
  expect(res.status(), `${name}: ${await res.text()}`).toBe(200);
  return res.json();
}

async function state(page: Page, id: string): Promise<string> {
  return (await api(page, "episode", { id })).episode.state;
}

async function waitState(page: Page, id: string, want: string, timeout = 90_000) {
  await expect.poll(() => state(page, id), { timeout, intervals: [500] }).toBe(want);
}

/** `id` discovered and processed to the end (once). */
async function processed(page: Page, id: string) {
  await api(page, "discover", { wait: true });
  if ((await state(page, id)) === "done") return;
  await api(page, "process", { ids: [id] });
  await waitState(page, id, "done");
}

const clipDir = (id: string, n: number) => path.join(dataDir, `outputs/${SHOW}/2026/${id}/clips/${n}`);

function snapshot(dir: string): Map<string, { mtimeMs: number; sha: string }> {
  const out = new Map();
  for (const name of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    out.set(name, { mtimeMs: fs.statSync(p).mtimeMs, sha: crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex") });
  }
  return out;
}

const MEDIA = `${SHOW}_ep001_2026-03-01`;

/** How many requests the page makes to `pathname` from now on. */
function countRequests(page: Page, pathname: string): () => number {
  let n = 0;
  page.on("request", (r) => {
    if (new URL(r.url()).pathname === pathname) n++;
  });
  return () => n;
}

/** A new episode (a fresh number each run, so it starts idle), discovered, and its row on the open,
 *  hydrated dashboard. Call after signing in. */
async function idleRowOnDashboard(page: Page, date: string) {
  const id = addEpisode(`ep${100 + Math.floor(Math.random() * 900)}_${date}`);
  await api(page, "discover", { wait: true });
  await page.goto("/");
  await hydrated(page);
  const row = page.locator(`tr[data-episode="${id}"]`);
  await expect(row.getByTestId("state")).toHaveText("idle");
  return { id, row };
}

test("episode page: the transcript is searchable, the page previews, clip renditions switch, posts show their length", async ({ page }) => {
  addEpisode("ep001_2026-03-01");
  await signIn(page);
  await processed(page, MEDIA);
  await page.goto(`/episodes/${MEDIA}`);
  await hydrated(page);

  // Transcript: three cues; typing narrows to the matching line and marks the match.
  const lines = page.getByTestId("transcript-line");
  await expect(lines).toHaveCount(3);
  await expect(page.getByTestId("transcript-count")).toHaveText("3 line(s)");
  await page.getByLabel("Search the transcript").fill("PART 2");
  await expect(lines).toHaveCount(1);
  await expect(lines.first()).toContainText("part 2");
  await expect(lines.first().locator("mark")).toHaveText("part 2");
  await expect(page.getByTestId("transcript-count")).toHaveText("1 of 3 line(s) match");
  await page.getByLabel("Search the transcript").fill("no such words");
  await expect(lines).toHaveCount(0);
  await page.getByLabel("Search the transcript").fill("");
  await expect(lines).toHaveCount(3);

  // The rendered page: a link that opens it and a preview frame of the same file, which is served.
  const href = await page.getByTestId("page-open").getAttribute("href");
  expect(href).toMatch(/^\/files\/.*\.html$/);
  await expect(page.getByTestId("page-preview")).toHaveAttribute("src", href!);
  expect((await page.request.get(href!)).status()).toBe(200);
  // The preview shows the page styled (system fonts, a readable width), one "Clips" heading, and a player
  // per clip whose poster (the thumbnail) and video are served with the session.
  const frame = page.frameLocator('[data-testid="page-preview"]');
  await expect(frame.locator("h2", { hasText: "Clips" })).toHaveCount(1);
  const font = await frame.locator("body").evaluate((b) => getComputedStyle(b).fontFamily);
  expect(font).toContain("system-ui");
  const players = frame.locator("video[controls]");
  await expect(players).toHaveCount(3);
  for (const v of await players.all()) {
    for (const attr of ["poster", "src"]) {
      const url = await v.getAttribute(attr);
      expect(url, attr).toMatch(/^\/files\/outputs\/.*\/clips\/\d\//);
      expect((await page.request.get(url!)).status(), url!).toBe(200);
    }
  }

  // Clip renditions: the switch changes the video's source to the chosen one; keyboard works too.
  const clip1 = page.locator('[data-testid="clip"][data-clip="1"]');
  const video = clip1.getByTestId("clip-video");
  await expect(video).toHaveAttribute("src", /\/clips\/1\/16x9_clean\.mp4$/);
  await clip1.getByTestId("variant-9x16_subtitled").click();
  await expect(video).toHaveAttribute("src", /\/clips\/1\/9x16_subtitled\.mp4$/);
  await expect(video).toHaveAttribute("data-variant", "9x16_subtitled");
  await expect(clip1.getByTestId("variant-9x16_subtitled")).toHaveAttribute("aria-pressed", "true");
  await clip1.getByTestId("variant-16x9_subtitled").focus();
  await page.keyboard.press("Enter");
  await expect(video).toHaveAttribute("src", /\/clips\/1\/16x9_subtitled\.mp4$/);
  // Every rendition the switch offers exists on the server.
  for (const v of ["16x9_clean", "16x9_subtitled", "9x16_clean", "9x16_subtitled"]) {
    await expect(clip1.getByTestId(`variant-${v}`)).toBeEnabled();
  }

  // Social posts: one per platform, each with its length against the platform's limit.
  const posts = page.getByTestId("social-post");
  expect(await posts.count()).toBeGreaterThan(0);
  for (const post of await posts.all()) {
    const [chars, limit] = (await post.getByTestId("social-count").innerText()).split(" / ").map(Number);
    expect(limit).toBeGreaterThan(0);
    await expect(post).toHaveAttribute("data-over", String(chars > limit));
  }
  // The README's episode page picture.
  await page.setViewportSize({ width: 1280, height: 1100 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: "../docs/episode.png" });

  // At 390 px wide nothing of it pushes the page sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("transcript-line")).toHaveCount(3);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});

test("the episode's media panels are not in the page's first download: they load once it has hydrated", async ({ page }) => {
  addEpisode("ep001_2026-03-01");
  await signIn(page);
  await processed(page, MEDIA);
  const modules = await splitModules(page);
  // The server renders the panels empty.
  const html = await (await page.request.get(`/episodes/${MEDIA}`)).text();
  expect(html).toContain('class="stages"');
  expect(html).not.toContain('data-testid="transcript-line"');
  const fetched = wasmFetched(page);
  await page.goto(`/episodes/${MEDIA}`);
  await hydrated(page);
  await expect(page.getByTestId("transcript-line")).toHaveCount(3);
  expect(fetched()).toContain(modules["episode_page_route_view"]);
  expect(fetched()).toContain(modules["episode_part"]);
  // The panels' module is asked for after the page's own.
  expect(fetched().indexOf(modules["episode_part"])).toBeGreaterThan(fetched().indexOf(modules["episode_page_route_view"]));
});

test("regenerating clip 1 cuts only clip 1 again: the episode ends done, clip 2 is untouched", async ({ page }) => {
  addEpisode("ep001_2026-03-01");
  await signIn(page);
  await processed(page, MEDIA);
  expect(fs.existsSync(clipDir(MEDIA, 2))).toBe(true);
  const before1 = snapshot(clipDir(MEDIA, 1));
  const before2 = snapshot(clipDir(MEDIA, 2));
  expect(before1.has("16x9_clean.mp4")).toBe(true);

  await page.goto(`/episodes/${MEDIA}`);
  await hydrated(page);
  const clip1 = page.locator('[data-testid="clip"][data-clip="1"]');
  await clip1.getByTestId("clip-regenerate").click();
  // The dry run lists clip 1's files and nothing of clip 2; nothing has moved yet.
  const preview = clip1.getByTestId("clip-preview");
  await expect(preview.getByTestId("clip-preview-files")).toContainText(`6 file(s)`);
  await expect(preview.getByTestId("clip-preview-files")).toContainText(`${MEDIA}/clips/1`);
  for (const name of ["16x9_clean.mp4", "16x9_subtitled.mp4", "9x16_clean.mp4", "9x16_subtitled.mp4"]) {
    await expect(preview).toContainText(`clips/1/${name}`);
  }
  await expect(preview).not.toContainText("clips/2");
  expect(snapshot(clipDir(MEDIA, 1))).toEqual(before1);

  await preview.getByTestId("clip-confirm").click();
  const result = page.getByTestId("clip-result");
  await expect(result).toContainText("Clip 1:");
  await expect(result).toContainText("cuts it again");

  // Done again, with clip 1 cut anew (polled together: "done" alone could be the state before the job).
  await expect
    .poll(
      async () => {
        const dir = clipDir(MEDIA, 1);
        const fresh = fs.existsSync(dir) && [...snapshot(dir)].every(([n, f]) => f.mtimeMs > (before1.get(n)?.mtimeMs ?? Infinity));
        return fresh && (await state(page, MEDIA)) === "done";
      },
      { timeout: 90_000, intervals: [500] },
    )
    .toBe(true);
  await expect(page.locator(".page-head").getByTestId("state")).toHaveText("done");
  const after1 = snapshot(clipDir(MEDIA, 1));
  expect([...after1.keys()]).toEqual([...before1.keys()]);
  for (const [name, f] of after1) expect(f.mtimeMs, name).toBeGreaterThan(before1.get(name)!.mtimeMs);
  expect(snapshot(clipDir(MEDIA, 2))).toEqual(before2);
  // The page shows the new clip 1 (after the refetch) with all its renditions.
  await expect(clip1.getByTestId("variant-9x16_clean")).toBeEnabled();
});

test("deleting clip 3 moves only its files to the trash; the others and the episode's state stay", async ({ page }) => {
  addEpisode("ep001_2026-03-01");
  await signIn(page);
  await processed(page, MEDIA);
  const before1 = snapshot(clipDir(MEDIA, 1));
  const before2 = snapshot(clipDir(MEDIA, 2));
  expect(fs.existsSync(clipDir(MEDIA, 3))).toBe(true);

  await page.goto(`/episodes/${MEDIA}`);
  await hydrated(page);
  const clip3 = page.locator('[data-testid="clip"][data-clip="3"]');
  await clip3.getByRole("button", { name: "Delete" }).click();
  const preview = clip3.getByTestId("clip-preview");
  await expect(preview).toContainText("clips/3/9x16_subtitled.mp4");
  expect(fs.existsSync(clipDir(MEDIA, 3))).toBe(true); // a dry run so far
  await preview.getByRole("button", { name: "Delete clip" }).click();
  await expect(page.getByTestId("clip-result")).toContainText("Clip 3 deleted");
  await expect(page.getByTestId("clip-result")).toContainText("to the trash");
  await expect(page.locator('[data-testid="clip"][data-clip="3"]')).toHaveCount(0);
  await expect(page.getByTestId("clip")).toHaveCount(2);
  expect(fs.existsSync(clipDir(MEDIA, 3))).toBe(false);
  expect(snapshot(clipDir(MEDIA, 1))).toEqual(before1);
  expect(snapshot(clipDir(MEDIA, 2))).toEqual(before2);
  expect(await state(page, MEDIA)).toBe("done");
});

test("a failure group is listed with its stage and newest example, and Retry group takes it to done", async ({ page }) => {
  const id = addEpisode("ep002_2026-03-02", "clips\n");
  await signIn(page);
  await api(page, "discover", { wait: true });
  await api(page, "process", { ids: [id] });
  await waitState(page, id, "failed");

  await page.goto("/");
  await hydrated(page);
  const group = page.getByTestId("failure-group").filter({ hasText: id });
  await expect(group).toHaveAttribute("data-stage", "clipped");
  await expect(group.getByTestId("group-signature")).toContainText("injected failure");
  await expect(group.getByTestId("group-count")).toContainText("episode(s)");
  await expect(group).toContainText(`Newest: ${id}`);
  // The README's failure groups picture.
  await page.setViewportSize({ width: 1280, height: 720 });
  await group.scrollIntoViewIfNeeded();
  await page.screenshot({ path: "../docs/failures.png" });

  fs.unlinkSync(path.join(dataDir, "inbox", SHOW, "ep002_2026-03-02.fail-at"));
  await group.getByRole("button", { name: "Retry group with cleanup" }).click();
  // The dry run first: what would be deleted; the episode is still failed.
  const preview = group.getByTestId("group-preview");
  await expect(preview).toHaveAttribute("data-op", "retry");
  await expect(preview.getByTestId("group-preview-files")).toContainText("file(s)");
  expect(await state(page, id)).toBe("failed");
  await preview.getByTestId("group-confirm").click();
  await expect(page.getByTestId("group-result")).toContainText("queued");
  await waitState(page, id, "done");
  await expect(page.locator(`tr[data-episode="${id}"]`).getByTestId("state")).toHaveText("done");
  await expect(page.getByTestId("failure-group").filter({ hasText: id })).toHaveCount(0);
});

test("Clean group shows its dry run first, then sets the group's episodes back to idle", async ({ page }) => {
  const id = addEpisode("ep004_2026-03-04", "render\n");
  await signIn(page);
  await api(page, "discover", { wait: true });
  await api(page, "process", { ids: [id] });
  await waitState(page, id, "failed");
  fs.unlinkSync(path.join(dataDir, "inbox", SHOW, "ep004_2026-03-04.fail-at"));

  await page.goto("/");
  await hydrated(page);
  const group = page.getByTestId("failure-group").filter({ hasText: id });
  await expect(group).toHaveAttribute("data-stage", "rendered");
  await group.getByRole("button", { name: "Clean group" }).click();
  const preview = group.getByTestId("group-preview");
  await expect(preview).toHaveAttribute("data-op", "clean");
  expect(await state(page, id)).toBe("failed");
  await preview.getByRole("button", { name: "Clean these episodes" }).click();
  await expect(page.getByTestId("group-result")).toContainText("Clean:");
  await waitState(page, id, "idle", 30_000);
  await expect(page.getByTestId("failure-group").filter({ hasText: id })).toHaveCount(0);
});

test("with polling off, cleanup runs appear on the Maintenance page as they happen", async ({ page }) => {
  addEpisode("ep001_2026-03-01");
  await page.addInitScript(() => localStorage.setItem("ewg.poll", "off"));
  await signIn(page);
  await processed(page, MEDIA);
  await page.goto("/maintenance");
  await hydrated(page);
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-connected", "true");
  const runRequests = countRequests(page, "/api/cleanup_runs");
  const report = await api(page, "cleanup_episode", { id: MEDIA, dry_run: true });
  const runs = page.getByTestId("cleanup-runs");
  await expect(runs).toContainText(MEDIA);
  await expect(runs.locator("tbody tr").first()).toContainText("(dry run)");
  expect(report.run_id).toBeTruthy();
  expect(runRequests()).toBe(0);
});

test("with polling off, progress and state arrive over the event stream without refetching the list", async ({ page }) => {
  page.on("console", (m) => m.type() === "error" && console.log(`browser: ${m.text()}`));
  page.on("pageerror", (e) => console.log(`page error: ${e.message}`));
  await page.addInitScript(() => localStorage.setItem("ewg.poll", "off"));
  await signIn(page);
  const { id, row } = await idleRowOnDashboard(page, "2026-03-03");
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-connected", "true");

  const listRequests = countRequests(page, "/api/episodes");
  const seen = new Set<string>();
  const watch = setInterval(async () => {
    const s = await row.getByTestId("state").textContent().catch(() => null);
    if (s) seen.add(s);
  }, 100);
  try {
    await api(page, "process", { ids: [id] });
    await expect(row.getByTestId("state")).toHaveText("done", { timeout: 90_000 });
  } finally {
    clearInterval(watch);
  }
  await expect(row.getByTestId("stage")).toHaveText("packaged");
  expect([...seen].some((s) => s === "queued" || s === "running")).toBe(true);
  expect(listRequests()).toBe(0);
});

test("when the session ends, the event stream says so and the page asks to sign in again", async ({ page }) => {
  await signIn(page);
  await page.goto(`/episodes/${MEDIA}`);
  await hydrated(page);
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-connected", "true");
  // Signing out elsewhere (same cookie) ends the session on the server.
  expect((await page.request.post("/api/logout", { data: {} })).status()).toBe(200);
  const ended = page.getByTestId("session-ended");
  await expect(ended).toContainText("Your session ended");
  await expect(ended.getByRole("link", { name: "sign in again" })).toHaveAttribute("href", `/login?next=/episodes/${MEDIA}`);
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-connected", "false");
});

test("when the event stream cannot be opened, polling takes over and the episode still reaches done on screen", async ({ page }) => {
  // Every attempt to open the stream fails, as behind a proxy that does not pass text/event-stream.
  await page.route("**/api/events*", (route) => route.abort());
  await signIn(page);
  const { id, row } = await idleRowOnDashboard(page, "2026-03-05");
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-connected", "false");

  const listRequests = countRequests(page, "/api/episodes");
  await api(page, "process", { ids: [id] });
  await expect(row.getByTestId("state")).toHaveText("done", { timeout: 90_000 });
  expect(listRequests(), "the list was polled").toBeGreaterThan(0);
});
