/**
 * The contract every part of CortexOS shares without protobuf: the job
 * vocabulary (states, statuses, priorities and their wire numbers) and the
 * JSON shapes of the dashboard's API. The scheduler, the HTTP server, the
 * submit CLI, the bench and the browser UI all import it from here.
 *
 * @module
 */
export * from "./vocabulary.ts";
export type * from "./api.ts";
export type * from "./operator_api.ts";
export * from "./bulk_api.ts";
