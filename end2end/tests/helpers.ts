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

// Every page is a lazy route (`cargo leptos build --split`): its code is a WebAssembly module of its own,
// fetched when the page is opened; the build writes which modules each split point needs to a manifest.

/** The WebAssembly modules the page fetches from now on, by file name without `.wasm`. */
export function wasmFetched(page: Page): () => string[] {
  const names: string[] = [];
  page.on("request", (r) => {
    const m = new URL(r.url()).pathname.match(/\/pkg\/([^/]+)\.wasm$/);
    if (m) names.push(m[1]);
  });
  return () => names;
}

/** Each split point's own module (`split_…`), by name: `trash_page_route_view`, `episode_media`, … */
export async function splitModules(page: Page): Promise<Record<string, string>> {
  const res = await page.request.get("/pkg/__wasm_split_manifest.json");
  expect(res.status()).toBe(200);
  const manifest: Record<string, string[]> = await res.json();
  const out: Record<string, string> = {};
  for (const [key, chunks] of Object.entries(manifest)) {
    const own = chunks.find((c) => c.startsWith("split_"));
    if (own) out[key.replace(/^_+/, "").replace(/_\d+$/, "")] = own;
  }
  return out;
}
