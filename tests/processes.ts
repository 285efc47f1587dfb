/**
 * Starts CortexOS processes in tests exactly as the README does
 * (`deno task <name>`), collects their output, and stops them.
 *
 * @module
 */
import { ROOT } from "../scripts/permissions.ts";

/** A `deno task` running in the background. */
export interface TaskProcess extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  /** Every line written so far (stdout and stderr interleaved). */
  readonly lines: string[];
  /** Resolves with the first line (past or future) matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` (default SIGTERM) and waits for the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
  /** The exit status, once it has exited. */
  readonly status: Promise<Deno.CommandStatus>;
}

async function collect(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let rest = "";
  // A TextDecoder rather than TextDecoderStream: with the dashboard's DOM
  // types in the same type-check, TextDecoderStream's types do not match.
  const decoder = new TextDecoder();
  for await (const bytes of stream) {
    const chunk = decoder.decode(bytes, { stream: true });
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    for (const line of parts) onLine(line);
  }
  if (rest) onLine(rest);
}

/**
 * Runs `deno task <task> ...args` from the project root with `env` added to
 * the environment.
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
  const child = new Deno.Command("deno", {
    args: ["task", "-q", task, ...args],
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const onLine = (line: string) => {
    lines.push(line);
    if (Deno.env.get("CORTEX_TEST_VERBOSE")) console.error(`[${task}] ${line}`);
    for (const w of [...waiters]) {
      if (w.pattern.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  const done = Promise.all([
    collect(child.stdout, onLine),
    collect(child.stderr, onLine),
  ]);
  const status = child.status.then(async (s) => {
    await done;
    return s;
  });
  let exited = false;
  status.then(() => exited = true);

  const waitFor = (pattern: RegExp, timeoutMs = 15_000) => {
    const seen = lines.find((l) => pattern.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(
          new Error(
            `deno task ${task}: no line matching ${pattern} within ${timeoutMs} ms; output:\n${
              lines.join("\n")
            }`,
          ),
        );
      }, timeoutMs);
      const waiter = {
        pattern,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      waiters.push(waiter);
    });
  };
  const stop = async (signal: Deno.Signal = "SIGTERM") => {
    if (!exited) {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 10_000);
      const s = await status;
      clearTimeout(timer);
      return s;
    }
    return await status;
  };
  return {
    child,
    lines,
    waitFor,
    stop,
    status,
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}

/** Runs `deno task <task> ...args` to completion; returns code and output. */
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
