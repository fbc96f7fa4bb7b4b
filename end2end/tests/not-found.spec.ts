// Bad addresses (issue 26, item 10): an unknown episode answers 404 with a way back and nothing to clean
// up; the 404 page still knows who is signed in.
import { test, expect } from "@playwright/test";
import { admin, hydrated, signIn } from "./helpers";

test("an unknown episode answers 404, says so with a way back, and offers no cleanup", async ({ page }) => {
  await signIn(page);
  for (const id of ["nope", "talk_ep999_2026-01-01"]) {
    const res = await page.goto(`/episodes/${id}`);
    expect(res?.status(), id).toBe(404);
    await hydrated(page);
    await expect(page.getByTestId("episode-not-found")).toContainText(`No episode ${id}`);
    await expect(page.getByTestId("cleanup-preview")).toBeHidden();
    await expect(page.getByTestId("whoami")).toContainText(admin.user);
  }
  // A known one still answers 200 with its cleanup.
  const list = await (await page.request.post("/api/episodes", { data: {} })).json();
  const known = list.episodes[0].id;
  const res = await page.goto(`/episodes/${known}`);
  expect(res?.status()).toBe(200);
  await hydrated(page);
  await expect(page.getByTestId("cleanup-preview")).toBeVisible();
});

test("the 404 page knows who is signed in", async ({ page }) => {
  await signIn(page);
  const res = await page.goto("/no-such-page");
  expect(res?.status()).toBe(404);
  await hydrated(page);
  await expect(page.getByText("Page not found")).toBeVisible();
  await expect(page.getByTestId("whoami")).toContainText(admin.user);
  await expect(page.getByTestId("deep-clean")).toBeVisible();
});
