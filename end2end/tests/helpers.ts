import { expect, Page } from "@playwright/test";

export const admin = { user: "admin", password: process.env.E2E_ADMIN_PASSWORD ?? "" };
export const viewer = { user: "viewer", password: process.env.E2E_VIEWER_PASSWORD ?? "" };
export const dataDir = process.env.E2E_DATA_DIR ?? "";

/** Waits until the WebAssembly side has hydrated the page, including the current route's lazily loaded chunk
 * (the browser entry point sets the marker once hydration has finished; SSR renders it "false"). */
export async function hydrated(page: Page) {
  try {
    await expect(page.locator(".layout")).toHaveAttribute("data-hydrated", "true");
  } catch (e) {
    // Why it never hydrated, when the page said (see `recordErrors`).
    const errors = await page.evaluate(() => (window as any).__ewgErrors ?? "not recorded").catch(() => "page gone");
    throw new Error(`${(e as Error).message}\npage errors: ${JSON.stringify(errors)}`);
  }
}

/** Every page of the context keeps its uncaught errors, rejections and console errors in
 *  `window.__ewgErrors`, so a page that never hydrates can say why. */
export async function recordErrors(page: Page) {
  await page.context().addInitScript(() => {
    const w = window as any;
    w.__ewgErrors = [];
    const keep = (what: string) => w.__ewgErrors.push(what);
    addEventListener("error", (e) => keep(`error: ${e.message} ${(e as ErrorEvent).filename ?? ""}`));
    addEventListener("unhandledrejection", (e) => keep(`rejection: ${String((e as PromiseRejectionEvent).reason)}`));
    const consoleError = console.error.bind(console);
    console.error = (...args: unknown[]) => {
      keep(`console: ${args.map(String).join(" ")}`);
      consoleError(...args);
    };
  });
}

export async function signIn(page: Page, who = admin) {
  await recordErrors(page);
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

/** Each split point's own module (`split_…`), by name: `trash_page_route_view`, `episode_part`, … */
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
