/**
 * One fault run: a fresh stack, the submit CLI waiting for `jobs` jobs, a
 * fault struck once a quarter of them are done, and the count of every job:
 * accepted, completed, lost, run twice, and the time to recover.
 *
 * @module
 */
import { connect } from "@nats-io/transport-node";
import { decodePacket } from "../../src/bus/codec.ts";
import { RESULT } from "../../src/bus/subjects.ts";
import { startTask } from "../support/tasks.ts";
import { type Stack, startStack } from "./stack.ts";

/** A fault: what is struck, and how the stack is set up for it. */
export interface Fault {
  /** Its name in the report. */
  name: string;
  /** Echo workers to start. */
  workers: number;
  /** Added to every process's environment. */
  env?: Record<string, string>;
  /** Extra flags of the submit CLI. */
  submitArgs?: string[];
  /** What it does to the stack, once a quarter of the jobs are done; `undefined`: nothing. */
  strike?: (stack: Stack) => Promise<void>;
}

/** What became of the jobs of one fault run. */
export interface FaultReport {
  /** The fault's name. */
  fault: string;
  /** Jobs submitted. */
  jobs: number;
  /** Jobs the CLI saw stored (accepted). */
  accepted: number;
  /** Jobs that ended COMPLETED. */
  completed: number;
  /** Jobs that ended otherwise (FAILED after every attempt, TIMEOUT, …). */
  failed: number;
  /** Accepted jobs with no outcome at all: lost. */
  lost: number;
  /** Jobs with more than one result on `sys.job.result`: run twice, as a client sees it. */
  twice: number;
  /** Jobs that took more than one attempt (a retry, or a redelivery after the fault). */
  retried: number;
  /**
   * The longest the client went without a result from the strike on, in
   * seconds: the outage as a submitter feels it; `null` with no strike.
   */
  recoverS: number | null;
  /** Seconds the whole run took. */
  seconds: number;
}

/** Runs `fault` with `jobs` jobs; `log` gets every process's output. */
export async function runFault(
  fault: Fault,
  jobs: number,
  log: (line: string) => void = () => {},
): Promise<FaultReport> {
  const started = performance.now();
  await using stack = await startStack({
    workers: fault.workers,
    env: fault.env,
    onLine: log,
  });
  // An observer of its own: every result on sys.job.result, per job id,
  // through the fault (it reconnects like every client).
  const observer = await connect({
    servers: stack.natsUrl,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
  });
  const results = new Map<string, number>();
  observer.subscribe(RESULT, {
    callback: (_error, msg) => {
      const decoded = decodePacket(msg.data);
      if (!decoded.ok || decoded.packet.payload.case !== "jobResult") return;
      const id = decoded.packet.payload.value.jobId;
      results.set(id, (results.get(id) ?? 0) + 1);
    },
  });
  await observer.flush();

  const outcomes = new Map<
    string,
    { status: string; attempts: number; error: string }
  >();
  let struck: Promise<void> | undefined;
  let struckAt = 0;
  let lastLineAt = 0;
  let longestGap = 0;
  const submit = startTask(
    "submit",
    [
      "--count",
      String(jobs),
      "--concurrency",
      "50",
      "--timeout",
      "90s",
      "--json",
      ...fault.submitArgs ?? [],
    ],
    stack.env,
    {
      onLine: (line) => {
        if (!line.startsWith("{")) return log(`submit    | ${line}`);
        const parsed = JSON.parse(line);
        if (parsed.summary || parsed.job_id === undefined) return;
        const now = performance.now();
        if (struckAt > 0) {
          longestGap = Math.max(
            longestGap,
            now - Math.max(lastLineAt, struckAt),
          );
        }
        lastLineAt = now;
        outcomes.set(parsed.job_id, {
          status: parsed.status,
          attempts: parsed.attempts ?? 0,
          error: parsed.error ?? "",
        });
        if (fault.strike && !struck && outcomes.size >= jobs / 4) {
          struckAt = now;
          log(`chaos     | striking: ${fault.name}`);
          struck = fault.strike(stack);
        }
      },
    },
  );
  await submit.status;
  await struck;
  await observer.close();

  const values = [...outcomes.values()];
  const count = (status: string) =>
    values.filter((o) => o.status === status).length;
  const notStored =
    values.filter((o) =>
      o.status === "MISSING" && o.error.startsWith("not stored")
    ).length;
  const missing = count("MISSING") + (jobs - outcomes.size);
  return {
    fault: fault.name,
    jobs,
    accepted: jobs - notStored,
    completed: count("COMPLETED"),
    failed: values.length - count("COMPLETED") - count("MISSING"),
    lost: missing - notStored,
    twice: [...results.values()].filter((n) => n > 1).length,
    retried: values.filter((o) => o.attempts > 1).length,
    recoverS: struckAt === 0 ? null : longestGap / 1000,
    seconds: (performance.now() - started) / 1000,
  };
}
