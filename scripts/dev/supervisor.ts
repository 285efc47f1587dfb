/**
 * One child process of `deno task dev`, kept running: its output is passed on
 * line by line, a crash is reported with its exit code and restarted with
 * backoff a bounded number of times, and stopping it escalates to SIGKILL.
 *
 * Children are spawned detached (their own process group), so a terminal's
 * Ctrl-C reaches them only through dev, once, in the order dev chooses.
 *
 * @module
 */
import { eachLine } from "../support/lines.ts";

/** What to run. */
export interface ChildSpec {
  /** Short name shown before each line, e.g. `echo-1`. */
  name: string;
  command: string;
  args: string[];
  /** Added to the inherited environment. */
  env?: Record<string, string>;
  cwd?: string;
  /**
   * The signal that ends the child at once. Default SIGKILL; a child that
   * must clean up its own child (tether.ts) can take another.
   */
  killSignal?: Deno.Signal;
}

/** Options for {@linkcode SupervisedProcess}. */
export interface SupervisorOptions {
  /** Each line the child writes (stdout and stderr). */
  onLine: (line: string) => void;
  /** Something the supervisor has to say about the child (crash, restart). */
  onNotice: (message: string) => void;
  /** The child crashed once more than `maxRestarts` allows. */
  onGiveUp: (status: Deno.CommandStatus) => void;
  /**
   * Exit codes that mean "restarting will not help" (e.g. 2, a configuration
   * error): the supervisor gives up at once. Default none.
   */
  fatalCodes?: number[];
  /** Restarts allowed in a row. Default 5. */
  maxRestarts?: number;
  /** Wait before restart `n` (1-based). Default 0.5 s, 1 s, 2 s… up to 8 s. */
  backoffMs?: (attempt: number) => number;
  /**
   * A child that ran this long before crashing counts as healthy again: its
   * restarts in a row start over. Default 30 s.
   */
  stableAfterMs?: number;
}

/** The default backoff: 500 ms, doubling, at most 8 s. */
export function defaultBackoffMs(attempt: number): number {
  return Math.min(500 * 2 ** (attempt - 1), 8_000);
}

/** How a child ended, for people: `exit code 3` or `signal SIGKILL`. */
export function describeExit(status: Deno.CommandStatus): string {
  return status.signal ? `signal ${status.signal}` : `exit code ${status.code}`;
}

/**
 * A child process that is restarted when it crashes.
 *
 * @example
 * ```ts
 * const nats = new SupervisedProcess(
 *   { name: "nats", command: "nats-server", args: ["-js"] },
 *   { onLine: console.log, onNotice: console.warn, onGiveUp: () => Deno.exit(1) },
 * );
 * nats.start();
 * await nats.stop({ timeoutMs: 2_000 });
 * ```
 */
export class SupervisedProcess {
  readonly spec: ChildSpec;
  #o: SupervisorOptions;
  #child?: Deno.ChildProcess;
  #running?: Promise<void>;
  #stopping = false;
  #restarts = 0;
  #restartTimer?: ReturnType<typeof setTimeout>;

  constructor(spec: ChildSpec, options: SupervisorOptions) {
    this.spec = spec;
    this.#o = options;
  }

  /** The current process id, when running. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /**
   * Spawns the child.
   *
   * @throws {Deno.errors.NotFound} when the command does not exist, and
   * {@linkcode Deno.errors.NotCapable} when it may not be run.
   */
  start(): void {
    const { command, args, env, cwd } = this.spec;
    const child = new Deno.Command(command, {
      args,
      env,
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
    this.#child = child;
    const startedAt = Date.now();
    const output = Promise.all([
      eachLine(child.stdout, this.#o.onLine),
      eachLine(child.stderr, this.#o.onLine),
    ]).catch(() => {});
    this.#running = child.status.then(async (status) => {
      await output;
      if (this.#child === child) this.#child = undefined;
      if (!this.#stopping) this.#crashed(status, Date.now() - startedAt);
    });
  }

  #crashed(status: Deno.CommandStatus, ranMs: number): void {
    if (ranMs >= (this.#o.stableAfterMs ?? 30_000)) this.#restarts = 0;
    const max = this.#o.maxRestarts ?? 5;
    const how = describeExit(status);
    if (!status.signal && this.#o.fatalCodes?.includes(status.code)) {
      this.#o.onNotice(
        `${this.spec.name} exited (${how}); not restarting: it would fail the same way`,
      );
      this.#o.onGiveUp(status);
      return;
    }
    if (this.#restarts >= max) {
      this.#o.onNotice(
        `${this.spec.name} exited (${how}) after ${max} restarts; giving up`,
      );
      this.#o.onGiveUp(status);
      return;
    }
    const attempt = ++this.#restarts;
    const wait = (this.#o.backoffMs ?? defaultBackoffMs)(attempt);
    this.#o.onNotice(
      `${this.spec.name} exited (${how}); restarting in ${
        wait / 1000
      } s (restart ${attempt} of ${max})`,
    );
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#stopping) return;
      try {
        this.start();
      } catch (error) {
        this.#o.onNotice(`${this.spec.name} could not start: ${error}`);
        this.#crashed({ success: false, code: 1, signal: null }, 0);
      }
    }, wait);
  }

  /**
   * Stops the child for good: sends `signal` (default SIGTERM), and
   * {@linkcode kill}s it when it has not exited after `timeoutMs` (default
   * 5 s). Resolves with `"killed"` when that was needed, else `"exited"`.
   */
  async stop(
    options: { signal?: Deno.Signal; timeoutMs?: number } = {},
  ): Promise<"exited" | "killed"> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (!child) return "exited";
    try {
      child.kill(options.signal ?? "SIGTERM");
    } catch {
      // already gone
    }
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.kill();
    }, options.timeoutMs ?? 5_000);
    await this.#running;
    clearTimeout(timer);
    return killed ? "killed" : "exited";
  }

  /**
   * Ends the child now (its `killSignal`; SIGKILL 1 s later if that is not
   * enough) and restarts it no more.
   */
  kill(): void {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    const signal = this.spec.killSignal ?? "SIGKILL";
    const send = (s: Deno.Signal) => {
      try {
        child?.kill(s);
      } catch {
        // already gone
      }
    };
    send(signal);
    if (signal !== "SIGKILL") {
      Deno.unrefTimer(setTimeout(() => send("SIGKILL"), 1_000));
    }
  }
}
