import { test, expect } from "@playwright/test";
import { hydrated, signIn, splitModules, wasmFetched } from "./helpers";

test("a page's code is fetched when the page is opened, not before, and client-side navigation loads it", async ({ page }) => {
  await signIn(page);
  const modules = await splitModules(page);
  expect(Object.keys(modules)).toEqual(expect.arrayContaining(["dashboard_route_view", "trash_page_route_view", "episode_part"]));

  const fetched = wasmFetched(page);
  await page.goto("/");
  await hydrated(page);
  await expect(page.getByTestId("episodes")).toBeVisible();
  expect(fetched()).toContain("ewg");
  expect(fetched()).toContain(modules["dashboard_route_view"]);
  expect(fetched()).not.toContain(modules["trash_page_route_view"]);
  expect(fetched()).not.toContain(modules["episode_part"]);

  // A sidebar link navigates without reloading the document: the Trash page's module arrives then.
  await page.evaluate(() => ((window as any).__sameDocument = true));
  await page.getByRole("link", { name: "Trash", exact: true }).click();
  await expect(page).toHaveURL(/\/trash$/);
  await expect(page.getByTestId("trash-page")).toBeVisible();
  expect(fetched()).toContain(modules["trash_page_route_view"]);
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);

  // And back: the dashboard works again, from code already loaded.
  await page.getByRole("link", { name: "Dashboard", exact: true }).click();
  await expect(page.getByTestId("episodes")).toBeVisible();
  await page.getByTestId("filter-show").fill("no-such-show");
  await page.getByTestId("filter-show").blur();
  await expect(page.getByTestId("empty")).toContainText("No episode matches these filters");
});
