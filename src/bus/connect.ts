// deno-lint-ignore-file no-import-prefix -- part of mod.ts, imported by path without our import map (tests/integration/sdk_package_test.ts)
/**
 * The one way a CortexOS process connects to NATS: a named connection that
 * reconnects forever, every quarter second with jitter, and logs its lifecycle.
 *
 * It proves who it is the way the `nats` CLI does, from `NATS_CREDS`,
 * `NATS_NKEY`, `NATS_USER` + `NATS_PASSWORD`, and TLS (`tls://` URLs,
 * `NATS_CA`, `NATS_CERT` + `NATS_KEY`): see docs/security.md. No secret (a
 * password, a seed, a key, a password in a URL) is ever logged or put in an
 * error message; files are named by their path only.
 *
 * @module
 */
import { connect } from "npm:@nats-io/transport-node@^3.4.0";
import {
  AuthorizationError,
  credsAuthenticator,
  nkeyAuthenticator,
  nkeys,
  usernamePasswordAuthenticator,
} from "npm:@nats-io/nats-core@^3.4.0";
import type * as nats from "npm:@nats-io/nats-core@^3.4.0";
import {
  ConfigError,
  type EnvReader,
  loadConfig,
  NATS_AUTH,
  type Values,
} from "../config.ts";
import type { Logger } from "../log.ts";

/** An open NATS client connection: `@nats-io/nats-core`'s own type. */
export type NatsConnection = nats.NatsConnection;
/** nats.js's connection options: `@nats-io/nats-core`'s own type. */
export type ConnectionOptions = nats.ConnectionOptions;

/** Options for {@linkcode connectNats}. */
export interface ConnectOptions {
  /** `NATS_URL`: one URL or several, comma-separated. */
  url: string;
  /** The connection name the server shows (e.g. `cortex-scheduler`). */
  name: string;
  /** Where connection changes (lost, back, closed) are logged. */
  log: Logger;
  /**
   * Keep trying when the server is not up yet (services: true), or fail at
   * once with {@linkcode NatsUnreachable} (CLIs: false). Default true.
   */
  waitForServer?: boolean;
  /**
   * The credentials to connect with. Default: read from the environment
   * with {@linkcode natsAuthFromEnv}, so every process accepts them.
   */
  auth?: NatsAuth;
  /**
   * Wait between reconnect attempts, in ms, ±40 % jitter so a fleet does not
   * return in step. Default 250: a server back from a restart has everyone
   * again within about a second (exponential growth to 5 s took 3.4 s).
   */
  reconnectWaitMs?: number;
}

/** What {@linkcode NATS_AUTH} holds: the credential settings' values. */
export type NatsAuth = Values<typeof NATS_AUTH>;

/** No credentials at all: an anonymous connection. */
export const NO_AUTH: NatsAuth = {
  natsCreds: "",
  natsNkey: "",
  natsUser: "",
  natsPassword: "",
  natsCa: "",
  natsCert: "",
  natsKey: "",
};

/**
 * The credential settings from the environment. A variable this process
 * may not read (its `--allow-env` omits it) counts as unset.
 *
 * @throws {ConfigError} naming a variable whose value is not usable (a
 * password is never repeated).
 */
export function natsAuthFromEnv(
  get: EnvReader = (name) => {
    try {
      return Deno.env.get(name);
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) return undefined;
      throw error;
    }
  },
): NatsAuth {
  return loadConfig(NATS_AUTH, get);
}

/** Which kind of credential `auth` holds, for messages: never a secret. */
export function describeAuth(auth: NatsAuth): string {
  if (auth.natsCreds) return `NATS_CREDS=${auth.natsCreds}`;
  if (auth.natsNkey) return `NATS_NKEY=${auth.natsNkey}`;
  if (auth.natsUser) return `NATS_USER=${auth.natsUser} with NATS_PASSWORD`;
  return "no credentials (NATS_CREDS, NATS_NKEY and NATS_USER are unset)";
}

/**
 * `url` with any `user:password@` replaced by `***@`: the form that may be
 * logged or shown.
 *
 * @example
 * ```ts
 * redactUrl("nats://me:pw@10.0.0.1:4222"); // "nats://***@10.0.0.1:4222"
 * ```
 */
export function redactUrl(url: string): string {
  return url.replace(/(^|,|\/\/)([^/@,\s]*)@/g, "$1***@");
}

/** NATS could not be reached at `url`. */
export class NatsUnreachable extends Error {
  /** Shown before the message in logs and stack traces. */
  override name = "NatsUnreachable";
  /** The URL(s), with any password in them replaced by `***`. */
  readonly url: string;
  /**
   * An error for `url` (kept, redacted, as {@linkcode NatsUnreachable.url}),
   * with `cause` the client's error and a message that says what to do.
   * `message` replaces the default one.
   */
  constructor(url: string, cause: unknown, message?: string) {
    const shown = redactUrl(url);
    super(
      message ??
        `cannot reach NATS at ${shown} (${
          cause instanceof Error ? cause.message : String(cause)
        }): start nats-server, or set NATS_URL to a running one`,
      { cause },
    );
    this.url = shown;
  }
}

/**
 * NATS at `url` is there but will not let this process in: its
 * credentials were refused, or are missing, or a credential file named
 * cannot be used. A kind of {@linkcode NatsUnreachable}, so every caller
 * that reports one reports this too; retrying does not help.
 */
export class NatsAuthError extends NatsUnreachable {
  /** Shown before the message in logs and stack traces. */
  override name = "NatsAuthError";
}

async function readCredentialFile(env: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    // The OS's reason (not found, permission denied) and the path: never
    // the content.
    const why = error instanceof Deno.errors.NotCapable
      ? "this process may not read it (run it through deno task, which grants exactly the files named)"
      : error instanceof Error
      ? error.message.replace(/:.*$/, "")
      : String(error);
    throw new ConfigError(`${env}=${path}: cannot read it: ${why}`);
  }
}

/**
 * The nats.js connection options `auth` asks for: an authenticator (one
 * kind only: creds, nkey, or user and password) and TLS when a URL is
 * `tls://` or a TLS file is named. Reads the files named.
 *
 * @throws {ConfigError} naming the variable whose file cannot be read or
 * does not hold what it should (never what it does hold).
 */
export async function authOptions(
  auth: NatsAuth,
  servers: string[],
): Promise<Partial<ConnectionOptions>> {
  const kinds = [auth.natsCreds && "NATS_CREDS", auth.natsNkey && "NATS_NKEY"]
    .concat(auth.natsUser ? ["NATS_USER"] : []).filter(Boolean);
  if (kinds.length > 1) {
    throw new ConfigError(
      `${kinds.join(" and ")} are both set: set only one kind of credential`,
    );
  }
  if (auth.natsPassword && !auth.natsUser) {
    throw new ConfigError("NATS_PASSWORD is set without NATS_USER");
  }
  const out: Partial<nats.ConnectionOptions> = {};
  if (auth.natsCreds) {
    const text = await readCredentialFile("NATS_CREDS", auth.natsCreds);
    if (!/-----BEGIN NATS USER JWT-----/.test(text)) {
      throw new ConfigError(
        `NATS_CREDS=${auth.natsCreds}: not a .creds file (no "BEGIN NATS USER JWT" section)`,
      );
    }
    out.authenticator = credsAuthenticator(new TextEncoder().encode(text));
  } else if (auth.natsNkey) {
    const seed = (await readCredentialFile("NATS_NKEY", auth.natsNkey)).trim();
    try {
      if (!seed.startsWith("SU")) throw new Error("not a user seed");
      nkeys.fromSeed(new TextEncoder().encode(seed));
    } catch {
      throw new ConfigError(
        `NATS_NKEY=${auth.natsNkey}: not an nkey user seed (a file holding one line that starts with SU)`,
      );
    }
    out.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  } else if (auth.natsUser) {
    out.authenticator = usernamePasswordAuthenticator(
      auth.natsUser,
      auth.natsPassword,
    );
  }
  if (auth.natsCert && !auth.natsKey || auth.natsKey && !auth.natsCert) {
    throw new ConfigError("NATS_CERT and NATS_KEY go together: set both");
  }
  const tlsUrl = servers.some((s) => s.startsWith("tls://"));
  if (tlsUrl || auth.natsCa || auth.natsCert) {
    const tls: nats.TlsOptions = {};
    if (auth.natsCa) tls.ca = await readCredentialFile("NATS_CA", auth.natsCa);
    if (auth.natsCert) {
      tls.cert = await readCredentialFile("NATS_CERT", auth.natsCert);
      tls.key = await readCredentialFile("NATS_KEY", auth.natsKey);
    }
    out.tls = tls;
  }
  return out;
}

/**
 * Connects to NATS. A lost connection is retried forever, every
 * `reconnectWaitMs` (with jitter); disconnect, reconnect and close are
 * logged.
 *
 * @throws {NatsAuthError} when a credential file cannot be used, or the
 * server refuses the credentials (also when `waitForServer` is true:
 * waiting would not change its mind).
 * @throws {NatsUnreachable} when `waitForServer` is false and the first
 * connection fails.
 * @example
 * ```ts
 * const nc = await connectNats({ url: "nats://127.0.0.1:4222", name: "demo", log });
 * await nc.drain();
 * ```
 */
export async function connectNats(
  options: ConnectOptions,
): Promise<NatsConnection> {
  const { url, name, log, waitForServer = true, reconnectWaitMs = 250 } =
    options;
  const backoff = () => reconnectWaitMs * (0.6 + Math.random() * 0.8);
  const servers = url.split(",").map((s) => s.trim());
  const shown = redactUrl(url);
  let auth: NatsAuth;
  let credentials: Partial<nats.ConnectionOptions>;
  try {
    auth = options.auth ?? natsAuthFromEnv();
    credentials = await authOptions(auth, servers);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new NatsAuthError(
      url,
      error,
      `cannot connect to NATS at ${shown}: ${error.message}`,
    );
  }

  let waiting: ReturnType<typeof setInterval> | undefined;
  if (waitForServer) {
    const started = Date.now();
    waiting = setInterval(() => {
      log.warn("still waiting for NATS at {url} ({seconds} s)", {
        url: shown,
        seconds: Math.round((Date.now() - started) / 1000),
      });
    }, 5_000);
  }
  // When the server refuses the credentials it closes the socket, and
  // nats.js's Node transport (3.4) may then get a connection reset on a
  // socket it no longer listens to: an uncaught ECONNRESET that would end
  // the process before the refusal is reported. Only while connecting, and
  // for a moment after a failed connect, since the reset may come later.
  const swallowReset = (event: ErrorEvent) => {
    if ((event.error as { code?: string })?.code === "ECONNRESET") {
      event.preventDefault();
    }
  };
  globalThis.addEventListener("error", swallowReset);
  let nc: NatsConnection;
  let connected = false;
  try {
    nc = await connect({
      ...credentials,
      servers,
      name,
      maxReconnectAttempts: -1,
      reconnectDelayHandler: backoff,
      waitOnFirstConnect: waitForServer,
      timeout: 2_000,
      pingInterval: 10_000,
      // nats.js otherwise makes two Error objects (stack captured) per
      // request, to name the caller should it time out: 16 % of a durable
      // scheduler's CPU (four requests per job). Errors keep their message.
      noAsyncTraces: true,
      // Connect by the name in NATS_URL rather than to the addresses it
      // resolves to: the process's --allow-net lists the name (see
      // scripts/permissions.ts), and those addresses are unknown at launch.
      resolve: false,
    });
    connected = true;
  } catch (error) {
    if (error instanceof AuthorizationError) {
      throw new NatsAuthError(
        url,
        error,
        `NATS at ${shown} refused ${describeAuth(auth)} (${
          error.message.replace(/^'|'$/g, "")
        }): set NATS_NKEY, NATS_CREDS or NATS_USER and NATS_PASSWORD to a credential the server accepts (deno task dev prints the line to use)`,
      );
    }
    throw new NatsUnreachable(url, error);
  } finally {
    clearInterval(waiting);
    const stopSwallowing = () =>
      globalThis.removeEventListener("error", swallowReset);
    if (connected) stopSwallowing();
    else Deno.unrefTimer(setTimeout(stopSwallowing, 2_000));
  }
  log.info("connected to NATS at {server} as {name}", {
    server: nc.getServer(),
    name,
  });
  watchStatus(nc, log);
  return nc;
}

async function watchStatus(nc: NatsConnection, log: Logger): Promise<void> {
  for await (const status of nc.status()) {
    switch (status.type) {
      case "disconnect":
        log.warn("disconnected from NATS at {server}; reconnecting", {
          server: status.server,
        });
        break;
      case "reconnect":
        log.info("reconnected to NATS at {server}", { server: status.server });
        break;
      case "error":
        log.error("NATS error: {error}", { error: status.error.message });
        break;
      case "slowConsumer":
        log.warn("slow consumer on {subject}: {pending} messages pending", {
          subject: status.sub.getSubject(),
          pending: status.pending,
        });
        break;
      case "close":
        log.info("NATS connection closed");
        return;
    }
  }
}
