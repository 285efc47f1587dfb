/**
 * Waits for the dashboard's `/healthz` to answer, the sign that the
 * scheduler is up and serving its HTTP side.
 *
 * @module
 */

/**
 * Polls `url` (every 200 ms) until it answers 2xx.
 *
 * @throws the signal's reason when `signal` aborts first, and
 * {@linkcode Deno.errors.NotCapable} when this process may not connect there.
 * @example
 * ```ts
 * await waitForHealthz("http://127.0.0.1:8080/healthz", AbortSignal.timeout(30_000));
 * ```
 */
export async function waitForHealthz(
  url: string,
  signal?: AbortSignal,
): Promise<void> {
  while (true) {
    signal?.throwIfAborted();
    try {
      const response = await fetch(url, { signal });
      await response.body?.cancel();
      if (response.ok) return;
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      signal?.throwIfAborted();
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The address to reach a server listening on `host`: loopback for the
 * wildcard addresses, brackets around an IPv6 address.
 */
export function reachableHost(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
