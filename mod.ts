/**
 * CortexOS's TypeScript SDK: submit jobs and await their outcomes, and
 * serve topics with your own handlers (docs/sdk.md).
 *
 * @example
 * ```ts
 * import { connect } from "./mod.ts";
 *
 * const cortex = await connect();
 * await cortex.worker("job.hash", async (job) => {
 *   const digest = await crypto.subtle.digest("SHA-256", job.payload);
 *   return new Uint8Array(digest);
 * });
 * const outcome = await cortex.submit("job.hash", "hello");
 * console.log(outcome.status, outcome.output);
 * await cortex.close();
 * ```
 *
 * @module
 */
export { connect } from "./src/sdk/connect.ts";
export { Cortex, DEFAULT_TIMEOUT_MS } from "./src/sdk/cortex.ts";
export { NoOutcomeError } from "./src/sdk/submitter.ts";
export { CortexWorker } from "./src/sdk/worker.ts";
export { decodeJson, decodeText, encodePayload } from "./src/sdk/payload.ts";
export { NatsAuthError, NatsUnreachable } from "./src/bus/connect.ts";
export { DurabilityUnavailable } from "./src/bus/durable/mode.ts";
export { ConfigError } from "./src/config.ts";
export type * from "./src/sdk/types.ts";
