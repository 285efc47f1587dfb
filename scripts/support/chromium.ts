/**
 * Headless Chromium for the browser tests and `deno task screenshot`, driven
 * by playwright-core: Debian's
 * `/usr/bin/chromium` (or `CORTEX_CHROMIUM`), a fresh profile per launch,
 * everything removed on close. Needs `-A` (playwright probes its platform).
 *
 * @module
 */
import { type BrowserContext, chromium, type Page } from "playwright-core";

/** A running browser with one page. */
export interface BrowserSession extends AsyncDisposable {
  /** The browser, with its profile. */
  context: BrowserContext;
  /** Its one page. */
  page: Page;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** Flags for a quiet, sandbox-less headless Chromium that talks to nothing but the page. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Launches Chromium with a 1280×720 page.
 *
 * @throws when Chromium is not installed, saying how to install it.
 * @example
 * ```ts
 * await using browser = await launchChromium();
 * await browser.page.goto(url);
 * ```
 */
export async function launchChromium(
  options: { width?: number; height?: number; colorScheme?: "light" | "dark" } =
    {},
): Promise<BrowserSession> {
  const executablePath = Deno.env.get("CORTEX_CHROMIUM") ?? "/usr/bin/chromium";
  try {
    await Deno.stat(executablePath);
  } catch {
    throw new Error(
      `Chromium not found at ${executablePath}: install it (apt-get install chromium) or set CORTEX_CHROMIUM`,
    );
  }
  const profile = await Deno.makeTempDir({ prefix: "cortex-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    args: CHROMIUM_ARGS,
    viewport: { width: options.width ?? 1280, height: options.height ?? 720 },
    colorScheme: options.colorScheme ?? "light",
  });
  const page = context.pages()[0] ?? await context.newPage();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await context.close().catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };
  return { context, page, close, [Symbol.asyncDispose]: close };
}
