/**
 * nats-server for the tools and the tests: its command line (loopback only,
 * JetStream on), its version, what to tell a user who has none installed,
 * and {@linkcode startNatsServer}, the one helper that runs a throwaway
 * server on a free port and cleans it up.
 *
 * @module
 */
import { freePort, waitForPort } from "./ports.ts";

/** The port NATS clients try by default. */
export const DEFAULT_NATS_PORT = 4222;

/**
 * nats-server's arguments: loopback only, JetStream on, its store under
 * `dataDir` (one folder per port, so two servers never share a store).
 *
 * @example
 * ```ts
 * natsServerArgs(4222, ".data"); // [..., "--store_dir", ".data/nats/4222"]
 * ```
 */
export function natsServerArgs(port: number, dataDir: string): string[] {
  return [
    "--addr",
    "127.0.0.1",
    "--port",
    String(port),
    "--jetstream",
    "--store_dir",
    `${dataDir}/nats/${port}`,
  ];
}

/**
 * The message for a `deno task dev` user without nats-server: what is
 * missing and the three ways on.
 */
export function natsServerMissing(binary: string): string {
  const which = binary === "nats-server"
    ? "nats-server was not found on PATH"
    : `nats-server was not found at CORTEX_NATS_SERVER=${binary}`;
  return [
    `${which}, and NATS_URL is not set, so deno task dev has no NATS server to use.`,
    "Install nats-server:",
    "  Debian/Ubuntu:  sudo apt-get install nats-server",
    "  macOS:          brew install nats-server",
    "  elsewhere:      https://docs.nats.io/running-a-nats-service/introduction/installation",
    "or point CORTEX_NATS_SERVER at the binary, or set NATS_URL to a running server:",
    "  NATS_URL=nats://127.0.0.1:4222 deno task dev",
  ].join("\n");
}

/**
 * The version `binary --version` reports, e.g. `v2.10.24`.
 *
 * @throws {Deno.errors.NotFound} when there is no such binary, and
 * {@linkcode Deno.errors.NotCapable} when this process may not run it.
 * @example
 * ```ts
 * await natsServerVersion("nats-server"); // "v2.10.24"
 * ```
 */
export async function natsServerVersion(binary: string): Promise<string> {
  const { stdout } = await new Deno.Command(binary, {
    args: ["--version"],
    stdin: "null",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(stdout).trim()
    .replace(/^nats-server:\s*/, "");
}

/** A running nats-server started by {@linkcode startNatsServer}. */
export interface NatsServer extends AsyncDisposable {
  /** `nats://127.0.0.1:<port>` */
  url: string;
  /** The port it listens on, on 127.0.0.1. */
  port: number;
  /** The server's process id (it changes on restart). */
  readonly pid: number;
  /** `http://127.0.0.1:<port>` of its monitoring endpoint, when asked for. */
  monitorUrl?: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
  /**
   * Stops the server and starts it again on the same port and store:
   * politely (SIGTERM, the default), or as a crash (SIGKILL), after
   * `downMs` (default 0) without a server.
   */
  restart(signal?: "SIGTERM" | "SIGKILL", downMs?: number): Promise<void>;
}

/** Options of {@linkcode startNatsServer}. */
export interface StartOptions {
  /** Also serve the HTTP monitoring endpoint (`/varz`, `/connz`). Default false. */
  monitor?: boolean;
  /** Enable JetStream. Default true. */
  jetstream?: boolean;
  /**
   * A configuration file to start with (`-c`), e.g. one that
   * `renderServerConfig()` wrote; the address, port and store stay those
   * of the command line.
   */
  configFile?: string;
}

/**
 * Starts `nats-server` (from PATH, or `CORTEX_NATS_SERVER`) with JetStream on
 * a free port of 127.0.0.1, its store in a temporary folder that `stop()`
 * (or `await using`) removes.
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
          ...natsServerArgs(port, store).filter((arg) =>
            options.jetstream !== false || arg !== "--jetstream"
          ),
          ...monitorArgs,
          ...(options.configFile ? ["-c", options.configFile] : []),
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
  const kill = async (signal: "SIGTERM" | "SIGKILL" = "SIGTERM") => {
    try {
      child.kill(signal);
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
    async restart(signal = "SIGTERM", downMs = 0) {
      await kill(signal);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await spawn();
    },
    [Symbol.asyncDispose]: stop,
  };
}
