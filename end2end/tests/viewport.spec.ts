// A phone-sized window (390 x 844): no page scrolls sideways (the sidebar is a top bar, wide tables scroll
// in their own box), every control has a name, and keyboard focus is visible. Runs after the specs that
// process episodes, so the episode page has its artifact table of long paths.
import { test, expect, Page } from "@playwright/test";
import { hydrated, signIn } from "./helpers";

test.use({ viewport: { width: 390, height: 844 } });

/** Controls without an accessible name, as `tag#testid` strings. */
async function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const name = (el: Element) =>
      (el.getAttribute("aria-label") ?? "").trim() ||
      (el.getAttribute("aria-labelledby") ? "labelled" : "") ||
      (el.getAttribute("title") ?? "").trim() ||
      ((el as HTMLInputElement).labels?.length ? "label" : "") ||
      (el.tagName === "BUTTON" ? (el.textContent ?? "").trim() : "");
    const what = (el: Element) => `${el.tagName.toLowerCase()}#${el.getAttribute("data-testid") ?? el.getAttribute("name") ?? "?"}`;
    return [...document.querySelectorAll("input:not([type=hidden]), select, textarea, button")]
      .filter((el) => !name(el))
      .map(what);
  });
}

test("at 390 px wide no page scrolls sideways, and every control has a name", async ({ page }) => {
  await signIn(page);
  const list: { id: string; state: string }[] = (await (await page.request.post("/api/episodes", { data: { limit: 500 } })).json()).episodes;
  const episode = list.find((e) => e.state === "done") ?? list[0];
  for (const path of ["/", "/process", "/upload", "/maintenance", "/trash", "/storage", `/episodes/${episode.id}`, "/login"]) {
    await page.goto(path);
    await hydrated(page);
    await page.waitForLoadState("networkidle");
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width, `${path} is ${width} px wide`).toBeLessThanOrEqual(390);
    expect(await unnamedControls(page), path).toEqual([]);
    // The navigation is a bar above the page, not a column beside it.
    const bar = (await page.locator(".sidebar").boundingBox())!;
    const main = (await page.locator("main.content").boundingBox())!;
    expect(bar.width).toBeLessThanOrEqual(390);
    expect(main.y).toBeGreaterThanOrEqual(bar.y + bar.height - 1);
  }
});

test("keyboard focus is visible", async ({ page }) => {
  await signIn(page);
  await page.goto("/process");
  await hydrated(page);
  await page.keyboard.press("Tab");
  const outline = await page.evaluate(() => {
    const el = document.activeElement as HTMLElement;
    const s = getComputedStyle(el);
    return { tag: el.tagName, style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
  });
  expect(outline.tag).not.toBe("BODY");
  expect(outline.style).not.toBe("none");
  expect(outline.width).toBeGreaterThan(0);
});

test("at 390 px the top bar is compact and every menu entry, Trash and Storage too, is on screen and works", async ({ page }) => {
  await signIn(page);
  await page.goto("/");
  await hydrated(page);
  const bar = (await page.locator(".sidebar").boundingBox())!;
  expect(bar.height, `the bar is ${bar.height} px tall`).toBeLessThan(120);
  const nav = page.locator(".nav");
  for (const name of ["Dashboard", "Process", "Upload", "Maintenance", "Trash", "Storage"]) {
    await expect(nav.getByRole("link", { name, exact: true }), name).toBeInViewport({ ratio: 1 });
  }
  await nav.getByRole("link", { name: "Storage", exact: true }).click();
  await expect(page).toHaveURL(/\/storage$/);
  await expect(page.locator("main h2")).toContainText("Storage");
  await nav.getByRole("link", { name: "Trash", exact: true }).click();
  await expect(page).toHaveURL(/\/trash$/);
  await expect(page.getByTestId("trash-page")).toBeVisible();
});
