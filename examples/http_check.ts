// @cortex-permissions {"net": ["example.com:443", "example.org:443"]}
/**
 * An HTTP checker: serves `job.http_check`; the payload is a URL (text, or
 * JSON `{"url": ...}`); the output is `{"url", "status"}`. It may reach only
 * the hosts its header above declares (`deno task worker` grants exactly
 * those); it refuses any other host itself, and Deno would deny it anyway.
 *
 * @module
 */
import { connect } from "../mod.ts";

/**
 * The `host:port`s this file declared in its header, as `deno task worker`
 * passes them (in CORTEX_WORKER_DECLARED): one list, kept in the header.
 */
const ALLOWED: string[] =
  JSON.parse(Deno.env.get("CORTEX_WORKER_DECLARED") || "{}").net ?? [];

function hostPortOf(url: URL): string {
  const port = url.port ||
    (url.protocol === "https:" ? "443" : url.protocol === "http:" ? "80" : "");
  return `${url.hostname}:${port}`;
}

const cortex = await connect();
await cortex.worker("job.http_check", async (job) => {
  const text = job.text().trim();
  const raw = text.startsWith("{") ? job.json<{ url: string }>().url : text;
  const url = new URL(raw);
  if (!ALLOWED.includes(hostPortOf(url))) {
    throw new Error(
      `${hostPortOf(url)} is not declared (allowed: ${ALLOWED.join(", ")})`,
    );
  }
  const response = await fetch(url, {
    method: "GET",
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  return { url: url.href, status: response.status };
}, { concurrency: 4 });
