/**
 * The one test helper that runs a real `nats-server`: on a free loopback
 * port, in its own temporary store, stopped (and its files removed) by
 * `stop()` or `await using`.
 *
 * @module
 */

/** A running nats-server started by {@linkcode startNatsServer}. */
export interface NatsServer extends AsyncDisposable {
  /** `nats://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The server's process id (it changes on restart). */
  readonly pid: number;
  /** `http://127.0.0.1:<port>` of its monitoring endpoint, when asked for. */
  monitorUrl?: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** Stops the server and starts it again on the same port. */
  restart(): Promise<void>;
}

/** Options of {@linkcode startNatsServer}. */
export interface StartOptions {
  /** Also serve the HTTP monitoring endpoint (`/varz`, `/connz`). Default false. */
  monitor?: boolean;
}

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Waits until something accepts TCP connections on `port`. */
export async function waitForPort(
  port: number,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(
    `nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`,
  );
}

/**
 * Starts `nats-server` (from PATH, or `CORTEX_NATS_SERVER`) with JetStream on
 * a free port of 127.0.0.1.
 *
 * @throws when nats-server is not installed, saying how to install it.
 * @example
 * ```ts
 * await using nats = await startNatsServer();
 * const nc = await connect({ servers: nats.url });
 * ```
 */
export async function startNatsServer(
  options: StartOptions = {},
): Promise<NatsServer> {
  const binary = Deno.env.get("CORTEX_NATS_SERVER") ?? "nats-server";
  const port = freePort();
  const monitorPort = options.monitor ? freePort() : undefined;
  const monitorArgs = monitorPort ? ["-m", String(monitorPort)] : [];
  const store = await Deno.makeTempDir({ prefix: "cortex-nats-" });
  let child: Deno.ChildProcess;

  const spawn = async () => {
    try {
      child = new Deno.Command(binary, {
        args: [
          "-a",
          "127.0.0.1",
          "-p",
          String(port),
          "-js",
          "-sd",
          store,
          ...monitorArgs,
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Error(
          "nats-server not found on PATH: install it (apt-get install nats-server) or set CORTEX_NATS_SERVER",
        );
      }
      throw error;
    }
    await waitForPort(port);
  };
  const kill = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      return; // already gone
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 5_000);
    await child.status;
    clearTimeout(timer);
  };

  await spawn();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await kill();
    await Deno.remove(store, { recursive: true }).catch(() => {});
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid() {
      return child.pid;
    },
    monitorUrl: monitorPort ? `http://127.0.0.1:${monitorPort}` : undefined,
    stop,
    async restart() {
      await kill();
      await spawn();
    },
    [Symbol.asyncDispose]: stop,
  };
}
