/**
 * The dashboard's defences: where it may listen without a token, the bearer
 * token check, the same-origin rule for writes, and the response headers
 * that keep a hostile payload from ever running as script.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";

/** The dashboard cannot start as configured. */
export class DashboardConfigError extends Error {
  override name = "DashboardConfigError";
}

/**
 * Whether `host` is a loopback address, reachable only from this machine.
 *
 * @example
 * ```ts
 * isLoopback("127.0.0.1"); // true
 * isLoopback("0.0.0.0"); // false
 * ```
 */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Refuses a binding beyond loopback without a token: anyone who can reach
 * the port could otherwise watch every payload and submit jobs.
 *
 * @throws {DashboardConfigError} saying which settings to change.
 */
export function checkBinding(host: string, token: string): void {
  if (!isLoopback(host) && token === "") {
    throw new DashboardConfigError(
      `CORTEX_DASHBOARD_HOST=${host} is reachable from other machines, so the dashboard needs CORTEX_DASHBOARD_TOKEN (a long random secret); set it, or listen on 127.0.0.1, or set CORTEX_DASHBOARD=off`,
    );
  }
}

/** Compares in time independent of where the strings first differ. */
function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  }
  return diff === 0;
}

/**
 * Requires `token` as `Authorization: Bearer <token>`, or as `?token=` (for
 * EventSource, which cannot set headers). An empty token lets everything
 * through: the dashboard is then on loopback only.
 */
export function requireToken(token: string): MiddlewareHandler {
  return async (c, next) => {
    if (token === "") return await next();
    const header = c.req.header("authorization") ?? "";
    const presented = header.toLowerCase().startsWith("bearer ")
      ? header.slice(7).trim()
      : c.req.query("token") ?? "";
    if (!timingSafeEqual(presented, token)) {
      return c.json(
        {
          error:
            "this dashboard requires its token: send Authorization: Bearer <CORTEX_DASHBOARD_TOKEN>, or open the dashboard as /?token=<token>",
        },
        401,
        { "www-authenticate": 'Bearer realm="cortex-dashboard"' },
      );
    }
    return await next();
  };
}

/**
 * Lets a state-changing request through only when it is JSON and comes from
 * the dashboard's own pages. A cross-site form cannot send JSON without a
 * CORS preflight we never grant, and browsers mark cross-site requests with
 * `Sec-Fetch-Site` and `Origin`, so either mismatch is refused. Clients that
 * send neither header (curl, scripts) are not browsers and pass.
 */
export function sameOriginJson(): MiddlewareHandler {
  return async (c, next) => {
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      return c.json(
        { error: "send the job as JSON, with Content-Type: application/json" },
        415,
      );
    }
    const site = c.req.header("sec-fetch-site");
    if (site !== undefined && site !== "same-origin" && site !== "none") {
      return c.json(
        { error: `cross-site request refused (Sec-Fetch-Site: ${site})` },
        403,
      );
    }
    const origin = c.req.header("origin");
    if (origin !== undefined) {
      const url = new URL(c.req.url);
      const host = c.req.header("host") ?? url.host;
      if (origin !== `${url.protocol}//${host}`) {
        return c.json(
          { error: `cross-origin request refused (Origin: ${origin})` },
          403,
        );
      }
    }
    return await next();
  };
}

/** The Content-Security-Policy: our own script and styles only, nothing inline. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Adds the security headers to every response. */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const h = c.res.headers;
    h.set("content-security-policy", CONTENT_SECURITY_POLICY);
    h.set("x-content-type-options", "nosniff");
    h.set("referrer-policy", "no-referrer");
    h.set("x-frame-options", "DENY");
    h.set("cross-origin-opener-policy", "same-origin");
  };
}
