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
