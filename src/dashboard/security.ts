/**
 * The dashboard's defences: where it may listen without a token, the bearer
 * token check, the same-origin rule for writes, and the response headers
 * that keep a hostile payload from ever running as script.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { timingSafeEqual } from "hono/utils/buffer";
import { sha256 } from "hono/utils/crypto";

/** The dashboard cannot start as configured. */
export class DashboardConfigError extends Error {
  /** Always `"DashboardConfigError"`. */
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

/**
 * Whether `presented` is `expectedDigest`'s token, in time that depends on
 * neither where they differ nor how long the token is: Hono's compare runs
 * over the longer of its two inputs, so it is given digests of equal length.
 */
async function tokenMatches(
  presented: string,
  expectedDigest: string | null,
): Promise<boolean> {
  const digest = await sha256(presented);
  if (digest === null || expectedDigest === null) return false;
  return await timingSafeEqual(digest, expectedDigest);
}

/**
 * Requires `token` as `Authorization: Bearer <token>`, or as `?token=` (for
 * EventSource, which cannot set headers). An empty token lets everything
 * through: the dashboard is then on loopback only.
 */
export function requireToken(token: string): MiddlewareHandler {
  // Hashed once: only the presented token's length shows in the timing.
  const expected = sha256(token);
  return async (c, next) => {
    if (token === "") return await next();
    const header = c.req.header("authorization") ?? "";
    const presented = header.toLowerCase().startsWith("bearer ")
      ? header.slice(7).trim()
      : c.req.query("token") ?? "";
    if (!await tokenMatches(presented, await expected)) {
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

/**
 * Adds the security headers to every response, and only these:
 * `Content-Security-Policy` (our own script and styles only, nothing
 * inline: `default-src 'none'; script-src 'self'; ...`),
 * `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
 * `X-Frame-Options: DENY` and `Cross-Origin-Opener-Policy: same-origin`.
 *
 * Hono's `secureHeaders` adds more by default; those are turned off so the
 * set stays the one the README documents (`Strict-Transport-Security` in
 * particular would pin browsers to HTTPS on a server that speaks only HTTP).
 *
 * @example
 * ```ts
 * app.use("*", securityHeaders());
 * ```
 */
export function securityHeaders(): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
    xContentTypeOptions: "nosniff",
    referrerPolicy: "no-referrer",
    xFrameOptions: "DENY",
    crossOriginOpenerPolicy: "same-origin",
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: false,
    originAgentCluster: false,
    strictTransportSecurity: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
}
