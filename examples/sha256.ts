/**
 * A SHA-256 hasher: serves `job.sha256`, returns the payload's digest as
 * lowercase hex. Declares nothing: `deno task worker examples/sha256.ts`
 * gives it the bus and its settings only, and drains it on Ctrl-C (it
 * finishes its jobs and says it is leaving): no signal handling here.
 *
 * @module
 */
import { connect } from "../mod.ts";

const cortex = await connect();
await cortex.worker("job.sha256", async (job) => {
  const digest = await crypto.subtle.digest("SHA-256", job.payload.slice());
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}, { concurrency: 4 });
