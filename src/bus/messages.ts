/**
 * The wire messages (`proto/cortex/v1/cortex.proto`), by the names the rest
 * of the code uses. Public signatures name these, not `src/gen/`, so that
 * the generated module stays out of the documented API.
 *
 * @module
 */
import type * as pb from "../gen/cortex/v1/cortex_pb.ts";

/**
 * The envelope of every message on the bus: trace and sender ids, creation
 * time, `protocolVersion` and one payload (a job, a result, a heartbeat or
 * an alert).
 */
export type BusPacket = pb.BusPacket;

/**
 * A job to run: its id, the topic it is for, a priority, pointers to its
 * context and adapter, environment variables and inline payload bytes.
 */
export type JobRequest = pb.JobRequest;

/**
 * What became of one job: its status, the worker that ran it, its
 * execution time in ms (a bigint), its output bytes and, unless it
 * completed, why.
 */
export type JobResult = pb.JobResult;

/**
 * A worker's periodic report: who and where it is, its pool, load and
 * capacity; `leaving` on the last one, sent as it shuts down.
 */
export type Heartbeat = pb.Heartbeat;

/** An alert for operators: its level, message and the component raising it. */
export type SystemAlert = pb.SystemAlert;
