/**
 * The UI's built files, served from `dashboard/dist/` (made by
 * `deno task build:dashboard`). Only plain file names are served, so a
 * request can never read outside that folder, which is also all the
 * scheduler's read permission covers.
 *
 * @module
 */
import type { Context } from "hono";

/**
 * The folder the built UI is in, `<project>/dashboard/dist` (where
 * `deno task build:dashboard` writes), as an absolute path. The one
 * definition in code: the server reads from it and the scheduler's
 * `--allow-read` is computed from it.
 */
export const DEFAULT_DIST_DIR: string = new URL(
  "../../dashboard/dist",
  import.meta.url,
).pathname;

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  map: "application/json",
};

const NOT_BUILT = `The dashboard UI is not built.

Build it with:   deno task build:dashboard
(deno task scheduler does this before it starts.)

The API works meanwhile: /api/workers, /api/jobs, /api/events, /healthz, /metrics.
`;

/**
 * Answers with the file `name` of `distDir`, 404 for a name that is not a
 * plain file name or does not exist, and for `index.html`, when the UI is
 * not built, 503 with how to build it.
 */
export async function serveAsset(
  c: Context,
  distDir: string,
  name: string,
): Promise<Response> {
  const ext = name.slice(name.lastIndexOf(".") + 1);
  if (!/^[\w-]+(\.[\w-]+)*$/.test(name) || !(ext in TYPES)) {
    return c.text("not found", 404);
  }
  let body: Uint8Array;
  try {
    body = await Deno.readFile(`${distDir}/${name}`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return name === "index.html"
        ? c.text(NOT_BUILT, 503)
        : c.text("not found", 404);
    }
    throw error;
  }
  return c.body(body as Uint8Array<ArrayBuffer>, 200, {
    "content-type": TYPES[ext],
    // The bundle's name does not change between builds, so always revalidate.
    "cache-control": "no-cache",
  });
}
