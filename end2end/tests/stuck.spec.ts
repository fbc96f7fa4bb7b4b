import { test, expect, Browser, BrowserContext } from "@playwright/test";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { hydrated, signIn } from "./helpers";

// A stage that really stalls needs a server of its own: a transcriber command that sleeps, and a
// 2-second limit for the transcribe stage. Its own data dir, user and port; killed at the end.
const ewg = process.env.E2E_EWG ?? path.resolve(__dirname, "../../target/debug/ewg");
const admin = { user: "admin", password: crypto.randomBytes(18).toString("base64url") };
let dir = "";
let base = "";
let server: ChildProcess | undefined;
let serverLog = "";

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

test.beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ewg-stuck-"));
  const env = { ...process.env, EWG_DATA_DIR: dir, EWG_TRANSCRIBE_CMD: "sleep 60" };
  delete env.DATABASE_URL;
  execFileSync(path.resolve(__dirname, "../../scripts/make-sample-media"), [
    `${dir}/inbox`, "--shows", "stuck", "--episodes", "1", "--seconds", "3", "--no-subs",
  ]);
  execFileSync(ewg, ["user", "add", "--admin", admin.user], { env, input: admin.password + "\n" });
  execFileSync(ewg, ["discover"], { env });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(
    ewg,
    ["serve", "--addr", `127.0.0.1:${port}`, "--workers", "1", "--transcriber", "command", "--stuck-after", "transcribe=2s"],
    { env, stdio: ["ignore", "ignore", "pipe"] },
  );
  server.stderr?.on("data", (d) => (serverLog += d.toString()));
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

async function signedIn(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: base });
  await signIn(await context.newPage(), admin);
  return context;
}

test("a stalled stage is flagged stuck on the list and the episode page, and Cancel stops it", async ({ browser }) => {
  const context = await signedIn(browser);
  const page = context.pages()[0];
  const list = await (await page.request.post("/api/episodes", { data: {} })).json();
  expect(list.episodes).toHaveLength(1);
  const id: string = list.episodes[0].id;
  expect((await page.request.post("/api/process", { data: { ids: [id] } })).status()).toBe(200);

  await page.goto("/");
  await hydrated(page);
  const row = page.locator(`tr[data-episode="${id}"]`);
  const flag = row.getByTestId("stuck");
  await expect(flag, serverLog).toBeVisible();
  await expect(flag).toHaveAttribute("data-stage", "transcribed");
  await expect(flag).toContainText("stuck at transcribed for");
  await expect(row.getByTestId("state")).toHaveText("running");

  // The episode page flags it too, with Force reprocess showing what it would delete first.
  await page.goto(`/episodes/${id}`);
  await hydrated(page);
  const pageFlag = page.getByTestId("stuck");
  await expect(pageFlag).toContainText("stuck at transcribed");
  await pageFlag.getByTestId("stuck-force").click();
  await expect(pageFlag.getByTestId("stuck-force-preview")).toContainText("Force reprocess stops the job");
  await pageFlag.getByRole("button", { name: "Keep it" }).click();
  await expect(pageFlag.getByTestId("stuck-force-preview")).toHaveCount(0);

  // Cancel, from the list: the job stops, the flag goes.
  await page.goto("/");
  await hydrated(page);
  await row.getByRole("button", { name: `Cancel ${id}` }).click();
  await expect(row.getByTestId("state")).toHaveText("cancelled");
  await expect(row.getByTestId("stuck")).toHaveCount(0);
  await context.close();
});

test("Force reprocess from the stuck flag: preview, confirm, the stalled attempt is stopped and a fresh one starts", async ({ browser }) => {
  const context = await signedIn(browser);
  const page = context.pages()[0];
  const id: string = (await (await page.request.post("/api/episodes", { data: {} })).json()).episodes[0].id;
  const detail = async () => (await (await page.request.post("/api/episode", { data: { id } })).json());
  expect((await page.request.post("/api/process", { data: { ids: [id] } })).status()).toBe(200);
  const before = (await detail()).episode.attempt as number;

  await page.goto(`/episodes/${id}`);
  await hydrated(page);
  const flag = page.getByTestId("stuck");
  await expect(flag, serverLog).toContainText("stuck at transcribed");
  await flag.getByTestId("stuck-force").click();
  await expect(flag.getByTestId("stuck-force-preview")).toContainText("Force reprocess stops the job");
  await flag.getByTestId("stuck-force-confirm").click();

  // The stalled job was stopped and a new attempt queued: the next attempt runs, stalls in the same
  // stage (the transcriber still sleeps) and is flagged again — on the page, without a reload.
  await expect.poll(async () => (await detail()).episode.attempt, { timeout: 30_000 }).toBeGreaterThan(before);
  await expect(page.getByTestId("stuck-force-preview")).toHaveCount(0);
  await expect(page.getByTestId("stuck"), serverLog).toContainText("stuck at transcribed");

  // The audit has the force run for this episode.
  const runs = await (await page.request.post("/api/cleanup_runs", { data: {} })).json();
  expect(runs.runs.some((r: any) => r.trigger === "force" && !r.dry_run && r.scope.includes(id))).toBe(true);

  await page.getByTestId("stuck").getByRole("button", { name: `Cancel ${id}` }).click();
  await expect.poll(async () => (await detail()).episode.state, { timeout: 30_000 }).toBe("cancelled");
  await context.close();
});
