/**
 * The tests' `deno task` runner: `scripts/support/tasks.ts`, with each line
 * echoed to standard error when CORTEX_TEST_VERBOSE is set.
 *
 * @module
 */
import {
  startTask as start,
  type TaskProcess,
} from "../scripts/support/tasks.ts";

export { runTask, type TaskProcess } from "../scripts/support/tasks.ts";

/**
 * Starts `deno task <task> ...args` from the project root with `env` added
 * to the environment (see `scripts/support/tasks.ts`).
 *
 * @example
 * ```ts
 * await using scheduler = startTask("scheduler", [], { NATS_URL: nats.url });
 * await scheduler.waitFor(/serving sys.job.submit/);
 * ```
 */
export function startTask(
  task: string,
  args: string[] = [],
  env: Record<string, string> = {},
): TaskProcess {
  const verbose = Deno.env.get("CORTEX_TEST_VERBOSE");
  return start(task, args, env, {
    onLine: verbose ? (line) => console.error(`[${task}] ${line}`) : undefined,
  });
}

/**
 * The dashboard's base URL (`http://host:port`) from a scheduler's
 * "dashboard listening on" line: for schedulers started on port 0.
 */
export async function dashboardUrl(
  scheduler: { waitFor(pattern: RegExp, timeoutMs?: number): Promise<string> },
  timeoutMs?: number,
): Promise<string> {
  const line = await scheduler.waitFor(/dashboard listening on/, timeoutMs);
  const url = line.match(/http:\/\/[\d.:]+/)?.[0];
  if (!url) throw new Error(`no URL in the dashboard's line: ${line}`);
  return url;
}
