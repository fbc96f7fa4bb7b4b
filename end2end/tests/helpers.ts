import { expect, Page } from "@playwright/test";

export const admin = { user: "admin", password: process.env.E2E_ADMIN_PASSWORD ?? "" };
export const viewer = { user: "viewer", password: process.env.E2E_VIEWER_PASSWORD ?? "" };
export const dataDir = process.env.E2E_DATA_DIR ?? "";

/** Waits until the WebAssembly side has hydrated the page, including the current route's lazily loaded chunk
 * (the browser entry point sets the marker once hydration has finished; SSR renders it "false"). */
export async function hydrated(page: Page) {
  await expect(page.locator(".layout")).toHaveAttribute("data-hydrated", "true");
}

export async function signIn(page: Page, who = admin) {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("User name").fill(who.user);
  await page.getByLabel("Password").fill(who.password);
  await page.getByTestId("login").click();
  await expect(page.getByTestId("whoami")).toContainText(who.user);
}
