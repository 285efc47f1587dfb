/**
 * The dashboard's defences: where it may listen without a token, how long a
 * token must be, the Host allowlist that turns DNS rebinding away, the bearer
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
  const h = host.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * The name part of a `Host` header or allowlist entry, lower case, without
 * port, brackets or a final dot: `[::1]:8080` is `::1`, `Example.COM.:80` is
 * `example.com`. A bare IPv6 address (more than one colon) is kept whole.
 *
 * @example
 * ```ts
 * hostName("[::1]:8080"); // "::1"
 * hostName("dash.example:8080"); // "dash.example"
 * ```
 */
export function hostName(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end < 0 ? h : h.slice(1, end);
  }
  const colon = h.indexOf(":");
  if (colon >= 0 && h.indexOf(":", colon + 1) < 0) h = h.slice(0, colon);
  return h.replace(/\.$/, "");
}

/** What a refused Host is shown as: never more than 100 characters of it. */
function shownHost(host: string): string {
  return host.length > 100 ? `${host.slice(0, 100)}…` : host;
}

/**
 * Answers only requests addressed to this dashboard by name: loopback names
 * (`127.x.x.x`, `localhost`, `[::1]`) and `names` (the configured listen
 * address and `CORTEX_DASHBOARD_ALLOWED_HOSTS`; ports are ignored). Any
 * other `Host` gets 421 whatever else the request carries, a valid token
 * included: a page on `evil.example` whose name was rebound to 127.0.0.1
 * sends `Host: evil.example`, and must get nothing. Mount it before every
 * route, so that static files and `/healthz` are covered too.
 *
 * @example
 * ```ts
 * app.use("*", allowHosts(["dash.example"]));
 * ```
 */
export function allowHosts(names: readonly string[]): MiddlewareHandler {
  const allowed = new Set(names.map(hostName).filter((n) => n !== ""));
  const fits = (host: string) => {
    const name = hostName(host);
    return isLoopback(name) || allowed.has(name);
  };
  const known = [
    "127.0.0.1",
    "localhost",
    "[::1]",
    ...[...allowed].filter((n) => !isLoopback(n))
      .map((n) => n.includes(":") ? `[${n}]` : n),
  ];
  return async (c, next) => {
    // Deno.serve builds the URL from the Host header; app.request() and
    // proxies may give only one of the two, so both must fit.
    const header = c.req.header("host");
    const urlHost = new URL(c.req.url).host;
    const refused = header !== undefined && !fits(header)
      ? header
      : !fits(urlHost)
      ? urlHost
      : undefined;
    if (refused === undefined) return await next();
    return c.json(
      {
        error: `Host "${
          shownHost(refused)
        }" is not a name this dashboard answers to (it answers to ${
          known.join(", ")
        }); to reach it by that name, add the name to CORTEX_DASHBOARD_ALLOWED_HOSTS`,
      },
      421,
    );
  };
}

/**
 * The shortest token accepted: 16 characters. A shorter one could be
 * guessed by a patient client; `openssl rand -hex 32` makes a good one.
 */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Refuses a binding beyond loopback without a token (anyone who can reach
 * the port could otherwise watch every payload and submit jobs), and a token
 * shorter than {@linkcode MIN_TOKEN_LENGTH}, wherever the dashboard listens.
 * IPv6 addresses follow the IPv4 rule: `::1` is loopback, `::` is not.
 *
 * @throws {DashboardConfigError} saying which settings to change; the
 * message never holds the token itself.
 * @example
 * ```ts
 * checkBinding("127.0.0.1", ""); // fine: loopback only
 * checkBinding("::", ""); // throws: every interface needs a token
 * ```
 */
export function checkBinding(host: string, token: string): void {
  if (token !== "" && token.length < MIN_TOKEN_LENGTH) {
    throw new DashboardConfigError(
      `CORTEX_DASHBOARD_TOKEN is ${token.length} characters long; it must have at least ${MIN_TOKEN_LENGTH} (a long random secret, e.g. from \`openssl rand -hex 32\`)`,
    );
  }
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
