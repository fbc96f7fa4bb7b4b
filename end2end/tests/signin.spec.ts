// Signing in the way people and password managers do (issue 26, item 1): typing the moment the form
// appears, or filling it and pressing Enter, without waiting for the page's WebAssembly. Before hydration
// the browser posts the form itself (`POST /login`, answered 303); after hydration the same form signs in
// without a reload, and hydration keeps whatever was typed. Also: without JavaScript at all, and a page
// whose WebAssembly fails to start says so instead of leaving dead buttons.
import { test, expect, Page } from "@playwright/test";
import { admin, recordErrors } from "./helpers";

const ROUNDS = 10;

/** Signed in as `who`, by the server's own account of the session (not just what the page shows). */
async function expectSignedIn(page: Page, who = admin.user, { sidebar = true } = {}) {
  if (sidebar) await expect(page.getByTestId("whoami")).toContainText(who);
  const me = await (await page.request.post("/api/me", { data: {} })).json();
  expect(me?.username).toBe(who);
}

test.describe("sign-in without waiting for the page to hydrate", () => {
  for (let i = 1; i <= ROUNDS; i++) {
    test(`typing right after navigation, then Enter (${i}/${ROUNDS})`, async ({ page }) => {
      await recordErrors(page);
      // `commit`: the first keystroke goes in as soon as the form exists, hydrated or not.
      await page.goto("/login?next=/process", { waitUntil: "commit" });
      await page.getByLabel("User name").pressSequentially(admin.user);
      await page.getByLabel("Password").pressSequentially(admin.password);
      await page.getByLabel("Password").press("Enter");
      await expect(page).toHaveURL(/\/process$/);
      await expectSignedIn(page);
    });
  }

  for (let i = 1; i <= ROUNDS; i++) {
    test(`filled at once (as a password manager does), then Enter (${i}/${ROUNDS})`, async ({ page }) => {
      await recordErrors(page);
      await page.goto("/login", { waitUntil: "commit" });
      await page.getByLabel("User name").fill(admin.user);
      await page.getByLabel("Password").fill(admin.password);
      await page.getByLabel("Password").press("Enter");
      await expect(page).toHaveURL(/\/$/);
      await expectSignedIn(page);
    });
  }

  test("what was typed before hydration is still there after it", async ({ page }) => {
    await recordErrors(page);
    // Hold the WebAssembly back until the fields are filled, then let the page hydrate.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route("**/*.wasm", async (route) => {
      await held;
      await route.continue();
    });
    await page.goto("/login", { waitUntil: "commit" });
    await page.getByLabel("User name").fill(admin.user);
    await page.getByLabel("Password").fill(admin.password);
    await expect(page.locator(".layout")).toHaveAttribute("data-hydrated", "false");
    release();
    await expect(page.locator(".layout")).toHaveAttribute("data-hydrated", "true");
    await expect(page.getByLabel("User name")).toHaveValue(admin.user);
    await expect(page.getByLabel("Password")).toHaveValue(admin.password);
    await page.getByTestId("login").click();
    await expect(page).toHaveURL(/\/$/);
    await expectSignedIn(page);
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the form posts itself, signs in and goes to the page asked for", async ({ page }) => {
    await page.goto("/process");
    await expect(page).toHaveURL(/\/login\?next=\/process$/);
    await page.getByLabel("User name").fill(admin.user);
    await page.getByLabel("Password").fill(admin.password);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/login"),
      page.getByLabel("Password").press("Enter"),
    ]);
    expect(res.status()).toBe(303);
    expect(res.headers()["location"]).toBe("/process");
    // The server sent the page, not a redirect to sign in. (The sidebar's user name is streamed after
    // the shell and swapped in by a script, so without JavaScript it is not shown.)
    await expect(page).toHaveURL(/\/process$/);
    await expect(page.getByRole("heading", { name: "Process" })).toBeVisible();
    await expectSignedIn(page, admin.user, { sidebar: false });
  });

  test("a wrong password comes back to the form with a message, keeping where to go", async ({ page }) => {
    // Another name than the suite's users: its failures count against its own limiter bucket.
    await page.goto("/login?next=/storage");
    await page.getByLabel("User name").fill("nobody-here");
    await page.getByLabel("Password").fill("not the password");
    await page.getByLabel("Password").press("Enter");
    await expect(page).toHaveURL(/\/login\?error=credentials&next=\/storage$/);
    await expect(page.getByTestId("error")).toHaveText("Wrong user name or password.");
    await expect(page.getByTestId("login-next")).toContainText("/storage");
    await expect(page.getByTestId("whoami")).toHaveCount(0);
  });
});

test("a form post from another site is refused", async ({ request }) => {
  const res = await request.post("/login", {
    form: { username: admin.user, password: admin.password, next: "/" },
    headers: { Origin: "https://evil.example" },
    maxRedirects: 0,
  });
  expect(res.status()).toBe(303);
  expect(res.headers()["location"]).toBe("/login?error=cross_origin");
  expect(res.headers()["set-cookie"]).toBeUndefined();
});

test("with its WebAssembly blocked, a page says it did not start; the sign-in form still works", async ({ page }) => {
  await page.route("**/*.wasm", (route) => route.abort());
  await page.goto("/login");
  await expect(page.getByRole("alert").filter({ hasText: "did not start" })).toBeVisible();
  await page.getByLabel("User name").fill(admin.user);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByLabel("Password").press("Enter");
  await expect(page).toHaveURL(/\/$/);
  await expectSignedIn(page);
});

test("a page that fails to hydrate says so, with a Reload link, instead of leaving dead buttons", async ({ page }) => {
  await recordErrors(page);
  await page.goto("/login");
  await page.getByLabel("User name").fill(admin.user);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByLabel("Password").press("Enter");
  await expectSignedIn(page);
  // Serve the next document with a node the app does not render in front of the sidebar: hydration
  // cannot match it and stops.
  await page.route("**/maintenance", async (route) => {
    if (route.request().resourceType() !== "document") return route.continue();
    const res = await route.fetch();
    const html = (await res.text()).replace("<nav ", "<!--not the app--><nav ");
    await route.fulfill({ response: res, body: html });
  });
  await page.goto("/maintenance");
  const notice = page.locator("#boot-failed");
  await expect(notice).toBeVisible();
  await expect(notice).toContainText("This page did not start");
  await expect(page.locator(".layout")).toHaveAttribute("data-hydrated", "false");
  await page.unroute("**/maintenance");
  await page.getByTestId("boot-reload").click();
  await expect(page.locator(".layout")).toHaveAttribute("data-hydrated", "true");
  await expect(page.locator("#boot-failed")).toBeHidden();
});
