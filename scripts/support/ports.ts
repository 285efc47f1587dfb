/**
 * Loopback ports for the processes the tools and the tests start: a free
 * one to listen on, and a wait until something listens.
 *
 * @module
 */

/**
 * A free TCP port on 127.0.0.1 (bound, then released): `preferred` when it
 * is free, else one the system picks.
 *
 * @example
 * ```ts
 * const port = freePort(); // any free port
 * const nats = freePort(4222); // 4222, unless it is taken
 * ```
 */
export function freePort(preferred = 0): number {
  for (const port of preferred === 0 ? [0] : [preferred, 0]) {
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
 * Resolves once something accepts TCP connections on 127.0.0.1:`port`.
 *
 * @throws an error naming the port when `signal` (default: a 10 s timeout)
 * aborts first.
 * @example
 * ```ts
 * await waitForPort(4222, AbortSignal.timeout(15_000));
 * ```
 */
export async function waitForPort(
  port: number,
  signal: AbortSignal = AbortSignal.timeout(10_000),
): Promise<void> {
  while (!signal.aborted) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch (error) {
      if (!(error instanceof Deno.errors.ConnectionRefused)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listening on 127.0.0.1:${port}`, {
    cause: signal.reason,
  });
}
