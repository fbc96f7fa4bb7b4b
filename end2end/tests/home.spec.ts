import { test, expect } from "@playwright/test";
import { hydrated, recordErrors, signIn } from "./helpers";

test("health answers JSON and unknown API paths are 404", async ({ request }) => {
  const health = await request.get("/api/health");
  expect(health.status()).toBe(200);
  expect((await health.json()).status).toBe("ok");
  const missing = await request.post("/api/nope", { data: {} });
  expect(missing.status()).toBe(404);
  expect((await missing.json()).error.code).toBe("not_found");
});

test("the page hydrates, and a control works only once hydrated", async ({ page }) => {
  await signIn(page);
  await page.goto("/");
  await hydrated(page);
  await expect(page.getByTestId("episodes")).toBeVisible();
  // As many rows as the registry has episodes (other specs may have added some).
  const total = (await (await page.request.post("/api/episodes", { data: {} })).json()).total;
  expect(total).toBeGreaterThanOrEqual(5);
  await expect(page.locator("tr[data-episode]")).toHaveCount(total);
  // Filtering is client-side reactivity: it only works when the WebAssembly side runs.
  await page.getByTestId("filter-state").selectOption("done");
  await expect(page.getByTestId("empty")).toBeVisible();
  await page.getByTestId("filter-state").selectOption("");
  await expect(page.locator("tr[data-episode]")).toHaveCount(total);
});

test("without WebAssembly the page is server-rendered but never hydrates", async ({ page }) => {
  await page.route("**/*.wasm", (route) => route.abort());
  await page.goto("/");
  await expect(page.locator(".sidebar")).toBeVisible();
  await page.waitForTimeout(1500);
  await expect(page.locator(".layout")).toHaveAttribute("data-hydrated", "false");
});

test("signed-out visitors are sent to sign in, not shown a page of errors", async ({ page }) => {
  await recordErrors(page);
  await page.goto("/");
  await hydrated(page);
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByLabel("User name")).toBeVisible();
  await expect(page.getByTestId("error")).toHaveCount(0);
});
