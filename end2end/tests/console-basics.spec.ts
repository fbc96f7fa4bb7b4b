// The operator's console basics (issue 15): sign-in redirect and back, the favicon, empty states that say
// what to do, the Process page's selection and its counts. This spec starts nothing: the episodes stay
// as discovered for the specs after it.
import { test, expect, Page, Route } from "@playwright/test";
import { admin, hydrated, signIn } from "./helpers";

async function fillSignIn(page: Page) {
  await hydrated(page);
  await page.getByLabel("User name").fill(admin.user);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByTestId("login").click();
}

test("an anonymous visitor is sent to sign in and comes back where they were", async ({ page }) => {
  // The server answers the page itself with a redirect, before any of the page is sent.
  const res = await page.request.get("/process?x=1", { maxRedirects: 0, headers: { Accept: "text/html" } });
  expect(res.status()).toBe(302);
  expect(res.headers()["location"]).toBe("/login?next=/process%3Fx%3D1");

  await page.goto("/process");
  await expect(page).toHaveURL(/\/login\?next=\/process$/);
  await expect(page.getByTestId("login-next")).toContainText("/process");
  // No Deep Clean for someone who is not signed in, and no page of errors.
  await expect(page.getByTestId("deep-clean")).toHaveCount(0);
  await fillSignIn(page);
  await expect(page).toHaveURL(/\/process$/);
  await expect(page.getByTestId("whoami")).toContainText(admin.user);
  await expect(page.getByTestId("process-list")).toBeVisible();

  // Signing out on a page sends the browser to sign in, remembering that page.
  await page.goto("/storage");
  await hydrated(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login\?next=\/storage$/);
});

test("after signing in, next goes only to a path on this site", async ({ page }) => {
  for (const next of ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "%2F%2Fevil.example"]) {
    await page.context().clearCookies();
    await page.goto(`/login?next=${encodeURIComponent(next)}`);
    await expect(page.getByTestId("login-next")).toHaveCount(0);
    await fillSignIn(page);
    await expect(page.getByTestId("whoami")).toContainText(admin.user);
    const url = new URL(page.url());
    expect(url.host, `next=${next}`).not.toContain("evil");
    expect(url.pathname, `next=${next}`).toBe("/");
  }
});

test("the favicon is served, as SVG and as /favicon.ico", async ({ page, request }) => {
  const svg = await request.get("/favicon.svg");
  expect(svg.status()).toBe(200);
  expect(svg.headers()["content-type"]).toContain("image/svg+xml");
  const ico = await request.get("/favicon.ico");
  expect(ico.status()).toBe(200);
  expect((await ico.body()).length).toBeGreaterThan(100);
  await page.goto("/login");
  const href = await page.locator('link[rel="icon"]').first().getAttribute("href");
  expect(href).toBe("/favicon.svg");
  const status = await page.evaluate(async (h) => (await fetch(h!)).status, href);
  expect(status).toBe(200);
});

/** Answers a server function with the real answer, changed by `edit` (to show a page's empty state). */
async function emptied(page: Page, endpoint: string, edit: (body: any) => void) {
  await page.route(`**/api/${endpoint}`, async (route: Route) => {
    const response = await route.fetch();
    const body = await response.json();
    edit(body);
    await route.fulfill({ response, json: body });
  });
}

test("every empty state says what to do next", async ({ page }) => {
  await signIn(page);
  await page.goto("/");
  await hydrated(page);
  // From here on the pages fetch in the browser (client-side navigation), and get empty answers.
  await emptied(page, "episodes", (b) => { b.episodes = []; b.total = 0; });
  await emptied(page, "cleanup_runs", (b) => { b.runs = []; });
  await emptied(page, "workers", (b) => { b.nodes = []; b.queued = 0; });
  await emptied(page, "trash", (b) => { b.runs = []; b.kept_runs = 0; b.kept_bytes = 0; });
  await emptied(page, "storage", (b) => { b.shows = []; b.largest = []; b.eviction_preview = []; });

  const nav = page.locator(".sidebar");
  await nav.getByRole("link", { name: "Process" }).click();
  await expect(page.getByTestId("process-empty")).toContainText("inbox/<show>/");
  await expect(page.getByTestId("process-empty").getByRole("link", { name: "upload them" })).toBeVisible();

  await nav.getByRole("link", { name: "Maintenance" }).click();
  await expect(page.getByTestId("chart-empty")).toContainText("Preview Deep Clean");
  await expect(page.locator("figure.chart")).toHaveCount(0);
  await expect(page.getByText("tallest bar")).toHaveCount(0);
  await expect(page.getByTestId("workers-empty")).toContainText("ewg worker");

  await nav.getByRole("link", { name: "Trash" }).click();
  await expect(page.getByTestId("trash-empty")).toContainText("Restore");

  await nav.getByRole("link", { name: "Storage" }).click();
  await expect(page.getByTestId("storage-shows-empty")).toContainText("Process");
  await expect(page.getByTestId("storage-largest-empty")).toBeVisible();

  await nav.getByRole("link", { name: "Dashboard" }).click();
  await expect(page.getByTestId("empty")).toContainText("Scan inbox");
  await expect(page.getByTestId("empty")).toContainText("upload");
});

function row(page: Page, id: string) {
  return page.locator(`tr[data-episode="${id}"]`);
}

test("Process: select all, none, by show, failed only, with counts of what Start will do", async ({ page }) => {
  await signIn(page);
  await page.goto("/process");
  await hydrated(page);
  const boxes = page.getByTestId("select");
  const rows = await page.locator("tr[data-episode]").count();
  expect(rows).toBeGreaterThanOrEqual(5);
  // What the server lists (other specs may have run first): the counts follow from the states.
  const listed: { state: string }[] = (await (await page.request.post("/api/episodes", { data: { limit: 500 } })).json()).episodes;
  const count = (...states: string[]) => listed.filter((e) => states.includes(e.state)).length;
  const plan = page.getByTestId("plan");
  await expect(page.getByTestId("plan-line")).toContainText("Nothing selected");
  await expect(page.getByTestId("start")).toBeDisabled();

  // All, from the keyboard: the selection controls are real buttons.
  await page.getByTestId("select-all").focus();
  await page.keyboard.press("Enter");
  await expect(plan).toHaveAttribute("data-selected", String(rows));
  for (const box of await boxes.all()) await expect(box).toBeChecked();
  if (count("idle") === rows) {
    await expect(page.getByTestId("plan-line")).toHaveText(`${rows} episodes will be queued (${rows} new).`);
    await expect(page.getByTestId("start")).toBeEnabled();
  } else if (count("done", "queued", "running") > 0) {
    await expect(page.getByTestId("plan-blocked")).toContainText("Force reprocess");
    await expect(page.getByTestId("start")).toBeDisabled();
  }

  await page.getByTestId("select-none").click();
  await expect(plan).toHaveAttribute("data-selected", "0");
  for (const box of await boxes.all()) await expect(box).not.toBeChecked();

  // By show: exactly that show's episodes.
  await page.getByTestId("select-show").selectOption("talk");
  const ids = await page.locator("tr[data-episode]").evaluateAll((trs) => trs.map((t) => t.getAttribute("data-episode")!));
  const talk = ids.filter((id) => id.startsWith("talk_"));
  expect(talk.length).toBeGreaterThan(0);
  await expect(plan).toHaveAttribute("data-selected", String(talk.length));
  for (const id of ids) {
    const box = row(page, id).getByTestId("select");
    if (id.startsWith("talk_")) await expect(box).toBeChecked();
    else await expect(box).not.toBeChecked();
  }
  await expect(page.getByTestId("plan-line")).toContainText(`${talk.length} episode`);

  // Failed only.
  await page.getByTestId("select-failed").click();
  await expect(plan).toHaveAttribute("data-selected", String(count("failed")));
});

test("Process: a done episode in the selection means Start needs Force, and says so", async ({ page }) => {
  await signIn(page);
  await page.goto("/");
  await hydrated(page);
  // Pretend one episode is done and one failed, as the server would list them.
  await page.route("**/api/episodes", async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    for (const ep of body.episodes) Object.assign(ep, { state: "idle", progress: null, error: null, failed_stage: null, stuck: null });
    body.episodes[0].state = "done";
    Object.assign(body.episodes[1], { state: "failed", failed_stage: "clipped", error: "injected" });
    await route.fulfill({ response, json: body });
  });
  await page.locator(".sidebar").getByRole("link", { name: "Process" }).click();
  await expect(page.getByTestId("process-list")).toBeVisible();
  const rows = await page.locator("tr[data-episode]").count();
  await page.getByTestId("select-all").click();
  const queued = rows - 1;
  await expect(page.getByTestId("plan-line")).toHaveText(
    `${queued} episodes will be queued (${queued - 1} new, 1 failed or cancelled, whose last attempt is cleaned first).`,
  );
  await expect(page.getByTestId("plan-blocked")).toContainText("1 is already done");
  await expect(page.getByTestId("plan-blocked")).toContainText("Force reprocess");
  await expect(page.getByTestId("start")).toBeDisabled();

  await page.getByTestId("leave-out").click();
  await expect(page.getByTestId("plan")).toHaveAttribute("data-selected", String(queued));
  await expect(page.getByTestId("plan-blocked")).toHaveCount(0);
  await expect(page.getByTestId("start")).toBeEnabled();

  await page.getByTestId("select-failed").click();
  await expect(page.getByTestId("plan")).toHaveAttribute("data-selected", "1");
  await expect(page.getByTestId("plan-line")).toContainText("1 episode will be queued (1 failed or cancelled");
});
