import { test, expect, Browser, BrowserContext, Page } from "@playwright/test";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { hydrated, signIn } from "./helpers";

// Issue 26, items 9 and 12: the dashboard's first step, "Scan inbox" as a background scan with live
// progress, the queue view and an episode's processing history. A server of its own, so the dashboard
// starts empty and one job slot makes "one running, one waiting" certain.
const ewg = process.env.E2E_EWG ?? path.resolve(__dirname, "../../target/debug/ewg");
const admin = { user: "admin", password: crypto.randomBytes(18).toString("base64url") };
let dir = "";
let base = "";
let server: ChildProcess | undefined;

test.describe.configure({ mode: "serial" });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Copies the generated episode `n` (video and subtitles) into `inbox/<show>/` as `stem`. */
function addEpisode(show: string, stem: string, n = 1) {
  const to = path.join(dir, "inbox", show);
  fs.mkdirSync(to, { recursive: true });
  const from = path.join(dir, ".media/seed", `ep00${n}_2026-01-0${n}`);
  for (const ext of [".mp4", ".vtt"]) fs.copyFileSync(from + ext, path.join(to, stem + ext));
  return `${show}_${stem}`;
}

test.beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ewg-first-"));
  const env = { ...process.env, EWG_DATA_DIR: dir };
  delete env.DATABASE_URL;
  fs.mkdirSync(path.join(dir, "inbox"));
  execFileSync(path.resolve(__dirname, "../../scripts/make-sample-media"), [
    `${dir}/.media`, "--shows", "seed", "--episodes", "2", "--seconds", "4",
  ]);
  execFileSync(ewg, ["user", "add", "--admin", admin.user], { env, input: admin.password + "\n" });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(ewg, ["serve", "--addr", `127.0.0.1:${port}`, "--workers", "1"], {
    env,
    stdio: ["ignore", "ignore", "ignore"],
  });
  await expect
    .poll(async () => {
      try {
        return (await fetch(`${base}/api/health`)).status;
      } catch {
        return 0;
      }
    }, { timeout: 30_000 })
    .toBe(200);
});

test.afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once("exit", r));
    server.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (server.exitCode === null) server.kill("SIGKILL");
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function signedIn(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: base });
  const page = await context.newPage();
  await signIn(page, admin);
  return { context, page };
}

async function api(page: Page, name: string, data: object = {}) {
  const res = await page.request.post(`/api/${name}`, { data });
  expect(res.status(), `${name}: ${await res.text()}`).toBe(200);
  return res.json();
}

async function waitDone(page: Page, ids: string[]) {
  for (const id of ids) {
    await expect
      .poll(async () => (await api(page, "episode", { id })).episode.state, { timeout: 90_000, intervals: [500] })
      .toBe("done");
  }
}

test("an empty dashboard says to scan; after the scan it offers to process the new episodes", async ({ browser }) => {
  const { context, page } = await signedIn(browser);
  await page.goto("/");
  await hydrated(page);
  const step = page.getByTestId("first-step");
  await expect(step).toHaveAttribute("data-step", "scan");
  await expect(step).toContainText("First step");

  const ids = [addEpisode("first", "ep001_2026-01-01", 1), addEpisode("first", "ep002_2026-01-02", 2)];
  await step.getByTestId("first-step-action").click();
  const result = page.getByTestId("discover-result");
  await expect(result).toHaveAttribute("data-state", "done");
  await expect(result).toContainText("2 new episode(s)");
  await expect(step).toHaveAttribute("data-step", "process");
  const go = step.getByTestId("first-step-action");
  await expect(go).toHaveText("Process 2 new episode(s)");
  await go.click();
  // Started: the step is gone and both leave idle.
  await expect(step).toBeHidden();
  for (const id of ids) {
    await expect(page.locator(`tr[data-episode="${id}"]`).getByTestId("state")).not.toHaveText("idle");
  }
  await waitDone(page, ids);
  await context.close();
});

test("a scan of many files answers at once and its progress reaches the total on screen", async ({ browser }) => {
  const { context, page } = await signedIn(browser);
  const bulk = path.join(dir, "inbox", "bulk");
  fs.mkdirSync(bulk, { recursive: true });
  const sample = path.join(dir, ".media/seed/ep001_2026-01-01.mp4");
  // Hard links of one tiny video; few enough for a loaded 2-core machine (the integration test and
  // bench_scan take hundreds and thousands).
  const files = 60;
  for (let i = 1; i <= files; i++) {
    fs.linkSync(sample, path.join(bulk, `ep${String(i).padStart(3, "0")}_2026-02-01.mp4`));
  }
  await page.goto("/");
  await hydrated(page);
  await page.getByTestId("discover").click();
  const result = page.getByTestId("discover-result");
  // Running first (the answer came before the scan ended), then done with every file probed.
  await expect(result).toHaveAttribute("data-state", "running");
  await expect(page.getByTestId("discover")).toBeDisabled();
  await expect(result).toHaveAttribute("data-state", "done", { timeout: 120_000 });
  // Every episode-shaped file probed: these and the two known ones.
  await expect(result).toHaveAttribute("data-total", String(files + 2));
  await expect(result).toHaveAttribute("data-probed", String(files + 2));
  await expect(result).toContainText(`${files} new episode(s)`);
  const scan = await (await page.request.get("/api/scan")).json();
  console.log(`browser scan of ${files} files: ${scan.files_per_sec.toFixed(1)} files/s`);
  await context.close();
});

test("the queue shows what runs on the worker and what waits; /workers lands there", async ({ browser }) => {
  const { context, page } = await signedIn(browser);
  const a = addEpisode("queue", "ep001_2026-03-01", 1);
  const b = addEpisode("queue", "ep002_2026-03-02", 2);
  await api(page, "discover", { wait: true });
  await page.goto("/queue");
  await hydrated(page);
  await expect(page.getByTestId("queue-running-empty")).toBeVisible();
  // One job slot: the first runs, the second waits behind it. `clear_cache`: a start that cleans first.
  await api(page, "process", { ids: [a, b], clear_cache: true });
  await expect(page.locator(`[data-testid="queue-running"] tr[data-episode="${a}"]`)).toBeVisible();
  const waiting = page.locator(`[data-testid="queue-queued"] tr[data-episode="${b}"]`);
  await expect(waiting).toBeVisible();
  await expect(waiting.locator("td").first()).toHaveText("1");
  await expect(page.getByTestId("queue-counts")).toHaveAttribute("data-queued", "1");
  await expect(page.getByTestId("queue-eta")).toContainText("about");
  await waitDone(page, [a, b]);
  await expect(page.getByTestId("queue-running-empty")).toBeVisible();
  await expect(page.getByTestId("stage-timings")).toContainText("clipped");

  const res = await page.goto("/workers");
  expect(res?.status()).toBe(200);
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Queue", exact: true })).toBeVisible();
  await expect(page.getByTestId("workers-summary")).toBeVisible();
  await context.close();
});

test("the episode page's history lists each attempt; a first start is no retry and previews are folded away", async ({ browser }) => {
  const { context, page } = await signedIn(browser);
  const id = "queue_ep001_2026-03-01";
  await api(page, "cleanup_episode", { id, dry_run: true });
  await page.goto(`/episodes/${id}`);
  await hydrated(page);
  const attempt = page.getByTestId("history").getByTestId("attempt");
  await expect(attempt).toHaveCount(1);
  await expect(attempt).toHaveAttribute("data-trigger", "start");
  await expect(attempt).toHaveAttribute("data-outcome", "done");
  await expect(attempt.locator("td").nth(3)).toHaveText(/^\d+(\.\d)? s$|min/);
  const cleanups = page.getByTestId("cleanup-history");
  await expect(cleanups).toContainText("start by admin");
  await expect(cleanups).not.toContainText("retry by");
  await expect(cleanups).not.toContainText("(dry run)");
  const previews = page.getByTestId("dry-runs");
  await expect(previews).toContainText("1 preview(s)");
  await previews.locator("summary").click();
  await expect(previews).toContainText("episode by admin");
  await context.close();
});
