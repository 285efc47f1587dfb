/**
 * Runs CortexOS processes exactly as the README does (`deno task <name>`),
 * from the project root: in the background as a {@linkcode Child}, or to
 * completion.
 *
 * @module
 */
import { ROOT } from "../permissions.ts";
import { Child } from "./child.ts";

/** A `deno task` running in the background. */
export type TaskProcess = Child;

/** Options of {@linkcode startTask}. */
export interface TaskOptions {
  /** Also called with each line the task writes (e.g. to show it). */
  onLine?: (line: string) => void;
}

/**
 * Starts `deno task <task> ...args` from the project root with `env` added
 * to the environment.
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
  options: TaskOptions = {},
): TaskProcess {
  return new Child(`deno task ${task}`, "deno", ["task", "-q", task, ...args], {
    cwd: ROOT,
    env,
    onLine: options.onLine,
  });
}

/**
 * Runs `deno task <task> ...args` to completion; returns its exit code and
 * output.
 *
 * @example
 * ```ts
 * const { code, stdout } = await runTask("submit", ["--count", "3"], env);
 * ```
 */
export async function runTask(
  task: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command("deno", {
    args: ["task", "-q", task, ...args],
    cwd: ROOT,
    env,
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}
