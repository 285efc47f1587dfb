/**
 * What `deno task dev` needs to run its own nats-server: a port (4222 when
 * free), the command line (JetStream on, store in the project's git-ignored
 * `.data/`), readiness, and what to tell a user who has none installed.
 *
 * @module
 */

/** The port NATS clients try by default. */
export const DEFAULT_NATS_PORT = 4222;

/**
 * `preferred` when nothing listens on 127.0.0.1:`preferred`, else a free
 * port the system picks.
 *
 * @example
 * ```ts
 * const port = freeNatsPort(); // 4222, unless it is taken
 * ```
 */
export function freeNatsPort(preferred = DEFAULT_NATS_PORT): number {
  for (const port of [preferred, 0]) {
    try {
      const listener = Deno.listen({ hostname: "127.0.0.1", port });
      const chosen = (listener.addr as Deno.NetAddr).port;
      listener.close();
      return chosen;
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    }
  }
  throw new Error("unreachable: port 0 is always free");
}

/**
 * nats-server's arguments: loopback only, JetStream on, its store under
 * `dataDir` (one folder per port, so two dev sessions never share a store).
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
 * The message for a user without nats-server: what is missing and the three
 * ways on.
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
 * Resolves once something accepts TCP connections on 127.0.0.1:`port`.
 *
 * @throws the signal's reason when `signal` aborts first.
 * @example
 * ```ts
 * await waitForPort(4222, AbortSignal.timeout(15_000));
 * ```
 */
export async function waitForPort(
  port: number,
  signal?: AbortSignal,
): Promise<void> {
  while (true) {
    signal?.throwIfAborted();
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch (error) {
      if (!(error instanceof Deno.errors.ConnectionRefused)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
