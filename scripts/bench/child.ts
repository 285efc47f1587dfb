/**
 * A process the benchmark started: its output kept (the last lines), a way
 * to wait for a line, and a bounded stop.
 *
 * @module
 */

const KEEP_LINES = 500;

/** A child process with its output collected line by line. */
export class Child {
  readonly name: string;
  readonly process: Deno.ChildProcess;
  /** The last lines written (stdout and stderr interleaved). */
  readonly lines: string[] = [];
  /** Every line, counted by the patterns given to {@linkcode Child.count}. */
  readonly #counters = new Map<RegExp, number>();
  readonly #waiters: { pattern: RegExp; resolve: (line: string) => void }[] =
    [];
  readonly #stdin?: WritableStreamDefaultWriter<Uint8Array>;
  readonly #output: Promise<void>;
  #exited = false;

  /**
   * Starts `command args…` with `env` added to the environment. With
   * `stdin: true` its standard input is a pipe that {@linkcode Child.stop}
   * closes (the benchmark's helpers exit on that).
   */
  constructor(
    name: string,
    command: string,
    args: string[],
    options: { env?: Record<string, string>; stdin?: boolean } = {},
  ) {
    this.name = name;
    this.process = new Deno.Command(command, {
      args,
      env: options.env,
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (options.stdin) this.#stdin = this.process.stdin.getWriter();
    this.#output = Promise.all([
      this.#collect(this.process.stdout),
      this.#collect(this.process.stderr),
    ]).then(() => {});
    this.process.status.then(() => this.#exited = true);
  }

  get pid(): number {
    return this.process.pid;
  }

  /** Counts the lines matching `pattern` from now on. */
  count(pattern: RegExp): () => number {
    this.#counters.set(pattern, 0);
    return () => this.#counters.get(pattern) ?? 0;
  }

  /** The first line (past or future) matching `pattern`; rejects on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const seen = this.lines.find((l) => pattern.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
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
      this.process.status.then(() =>
        this.#output.then(() => fail("it exited"))
      );
    });
  }

  /**
   * Stops it: closes its standard input if piped, else sends `signal`; kills
   * it after `graceMs`. Resolves with its exit status once its output is read.
   */
  async stop(signal: Deno.Signal = "SIGTERM", graceMs = 10_000) {
    if (!this.#exited) {
      if (this.#stdin) await this.#stdin.close().catch(() => {});
      else this.#kill(signal);
    }
    const timer = setTimeout(() => this.#kill("SIGKILL"), graceMs);
    const status = await this.process.status;
    clearTimeout(timer);
    await this.#output;
    return status;
  }

  #kill(signal: Deno.Signal): void {
    try {
      this.process.kill(signal);
    } catch { /* already gone */ }
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const line of parts) this.#line(line);
    }
    if (rest) this.#line(rest);
  }

  #line(line: string): void {
    this.lines.push(line);
    if (this.lines.length > KEEP_LINES) this.lines.shift();
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
