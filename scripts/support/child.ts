/**
 * A child process started by a tool or a test: its output kept line by line,
 * a way to wait for a line, and a bounded stop.
 *
 * @module
 */
import { eachLine } from "./lines.ts";

/** Options of {@linkcode Child}. */
export interface ChildOptions {
  /** Added to the environment (or, with `clearEnv`, the whole of it). */
  env?: Record<string, string>;
  /** Start from an empty environment rather than this process's. Default false. */
  clearEnv?: boolean;
  /** Working directory. Default this process's. */
  cwd?: string;
  /**
   * Give the child a standard input pipe that {@linkcode Child.stop} closes
   * (the benchmark's helpers exit on that) instead of signalling it.
   * Default false: no standard input.
   */
  stdin?: boolean;
  /** How many of the last lines {@linkcode Child.lines} keeps. Default all. */
  keepLines?: number;
  /** Also called with each line as it comes. */
  onLine?: (line: string) => void;
}

/**
 * A child process with its output (stdout and stderr) collected line by line.
 *
 * @example
 * ```ts
 * await using nats = new Child("nats", "nats-server", ["-p", "4223"]);
 * await nats.waitFor(/Server is ready/);
 * ```
 */
export class Child implements AsyncDisposable {
  /** The name errors call it by. */
  readonly name: string;
  /** The running process. */
  readonly process: Deno.ChildProcess;
  /** The lines written so far (stdout and stderr interleaved). */
  readonly lines: string[] = [];
  /** Resolves with the exit status once it has exited and its output is read. */
  readonly status: Promise<Deno.CommandStatus>;
  readonly #counters = new Map<RegExp, number>();
  readonly #waiters: { pattern: RegExp; resolve: (line: string) => void }[] =
    [];
  readonly #stdin?: WritableStreamDefaultWriter<Uint8Array>;
  readonly #keep: number;
  readonly #onLine?: (line: string) => void;
  #exited = false;

  /**
   * Starts `command args…`.
   *
   * @throws {Deno.errors.NotFound} when the command does not exist.
   */
  constructor(
    name: string,
    command: string,
    args: string[],
    options: ChildOptions = {},
  ) {
    this.name = name;
    this.#keep = options.keepLines ?? Infinity;
    this.#onLine = options.onLine;
    this.process = new Deno.Command(command, {
      args,
      env: options.env,
      clearEnv: options.clearEnv,
      cwd: options.cwd,
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (options.stdin) this.#stdin = this.process.stdin.getWriter();
    const output = Promise.all([
      eachLine(this.process.stdout, (line) => this.#line(line)),
      eachLine(this.process.stderr, (line) => this.#line(line)),
    ]);
    this.status = this.process.status.then(async (status) => {
      this.#exited = true;
      await output;
      return status;
    });
  }

  /** The process id. */
  get pid(): number {
    return this.process.pid;
  }

  /** Counts the lines matching `pattern` from now on; returns the count so far. */
  count(pattern: RegExp): () => number {
    this.#counters.set(pattern, 0);
    return () => this.#counters.get(pattern) ?? 0;
  }

  /**
   * The first line (past or future) matching `pattern`.
   *
   * @throws when the process exits or `timeoutMs` (default 20 s) passes
   * first, with its last lines.
   */
  waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const seen = this.lines.find((l) => pattern.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        const i = this.#waiters.indexOf(waiter);
        if (i < 0) return;
        this.#waiters.splice(i, 1);
        reject(
          new Error(
            `${this.name}: ${why} before a line matching ${pattern}; last output:\n${
              this.lines.slice(-20).join("\n")
            }`,
          ),
        );
      };
      const timer = setTimeout(() => fail(`${timeoutMs} ms passed`), timeoutMs);
      const waiter = {
        pattern,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.#waiters.push(waiter);
      this.status.then(() => fail("it exited"));
    });
  }

  /** Sends `signal` now, if it is still running. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.process.kill(signal);
    } catch { /* already gone */ }
  }

  /**
   * Stops it: closes its standard input if piped, else sends `signal`
   * (default SIGTERM); SIGKILL after `graceMs` (default 10 s). Resolves with
   * its exit status once its output is read.
   */
  async stop(
    signal: Deno.Signal = "SIGTERM",
    graceMs = 10_000,
  ): Promise<Deno.CommandStatus> {
    if (!this.#exited) {
      if (this.#stdin) await this.#stdin.close().catch(() => {});
      else this.kill(signal);
    }
    const timer = setTimeout(() => this.kill("SIGKILL"), graceMs);
    const status = await this.status;
    clearTimeout(timer);
    return status;
  }

  /** {@linkcode Child.stop} with its defaults. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #line(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.#keep) this.lines.shift();
    this.#onLine?.(line);
    for (const [pattern, n] of this.#counters) {
      if (pattern.test(line)) this.#counters.set(pattern, n + 1);
    }
    for (const w of [...this.#waiters]) {
      if (w.pattern.test(line)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  }
}
