/**
 * The one place configuration is read: `NATS_URL` and the `CORTEX_*`
 * environment variables, parsed and validated at start.
 *
 * Each process declares the variables it reads as a list of {@linkcode Setting}s;
 * the launcher derives the process's `--allow-env` list from the same list, so
 * the permission and the loader cannot disagree.
 *
 * @module
 */

/** A configuration value that is missing its expected shape. */
export class ConfigError extends Error {
  /** Shown before the message in logs and stack traces. */
  override name = "ConfigError";
}

/** One environment variable: its name, default, parser and documentation. */
export interface Setting<T> {
  /** The variable's name, e.g. `CORTEX_JOB_TIMEOUT_MS`. */
  readonly env: string;
  /** The value when the variable is unset or empty. */
  readonly default: T;
  /** What it means, for docs/configuration.md. */
  readonly describe: string;
  /** Parses the raw value; throws a message saying what is expected. */
  readonly parse: (raw: string) => T;
  /**
   * A secret (a password): an error about it never repeats the value, and
   * nothing logs it.
   */
  readonly secret?: boolean;
}

/** The values a group of settings holds, by the group's keys. */
export type Values<S extends Record<string, Setting<unknown>>> = {
  [K in keyof S]: S[K] extends Setting<infer T> ? T : never;
};

/** A whole number within `[min, max]`. */
export function int(
  env: string,
  defaultValue: number,
  describe: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): Setting<number> {
  return {
    env,
    default: defaultValue,
    describe,
    parse(raw) {
      const value = Number(raw.trim());
      if (!/^-?\d+$/.test(raw.trim()) || value < min || value > max) {
        throw new ConfigError(
          `expected a whole number from ${min} to ${max}`,
        );
      }
      return value;
    },
  };
}

/**
 * A number from 0 to 1 (a probability, a share), written as a decimal:
 * `0`, `0.25`, `1`.
 *
 * @example
 * ```ts
 * const settings = { failRate: fraction("CORTEX_ECHO_FAIL_RATE", 0, "chance of failure") };
 * loadConfig(settings, () => "0.5").failRate; // 0.5
 * ```
 */
export function fraction(
  env: string,
  defaultValue: number,
  describe: string,
): Setting<number> {
  return {
    env,
    default: defaultValue,
    describe,
    parse(raw) {
      const text = raw.trim();
      const value = Number(text);
      // Number() accepts "", "0x1" and "1e-1": a decimal is what the doc shows.
      if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text) || !(value >= 0 && value <= 1)) {
        throw new ConfigError("expected a number from 0 to 1, such as 0.25");
      }
      return value;
    },
  };
}

/** Free text; a value of only white space is refused. */
export function text(
  env: string,
  defaultValue: string,
  describe: string,
): Setting<string> {
  return {
    env,
    default: defaultValue,
    describe,
    parse(raw) {
      if (raw.trim() === "") {
        throw new ConfigError("expected a non-empty value");
      }
      return raw.trim();
    },
  };
}

/** A comma-separated list; blank items are dropped. */
export function list(
  env: string,
  defaultValue: string[],
  describe: string,
  check?: (item: string) => string | undefined,
): Setting<string[]> {
  return {
    env,
    default: defaultValue,
    describe,
    parse(raw) {
      const items = raw.split(",").map((s) => s.trim()).filter(Boolean);
      for (const item of items) {
        const problem = check?.(item);
        if (problem) throw new ConfigError(`"${item}": ${problem}`);
      }
      return items;
    },
  };
}

const TRUE_WORDS = ["1", "true", "on", "yes"];
const FALSE_WORDS = ["0", "false", "off", "no"];

/**
 * On or off: `1`, `true`, `on`, `yes` or `0`, `false`, `off`, `no`, in any
 * case.
 *
 * @example
 * ```ts
 * const settings = { dashboard: flag("CORTEX_DASHBOARD", true, "serve the dashboard") };
 * loadConfig(settings, () => "off").dashboard; // false
 * ```
 */
export function flag(
  env: string,
  defaultValue: boolean,
  describe: string,
): Setting<boolean> {
  return {
    env,
    default: defaultValue,
    describe,
    parse(raw) {
      const word = raw.trim().toLowerCase();
      if (TRUE_WORDS.includes(word)) return true;
      if (FALSE_WORDS.includes(word)) return false;
      throw new ConfigError(
        `expected on or off (${TRUE_WORDS.join(", ")} / ${
          FALSE_WORDS.join(", ")
        })`,
      );
    },
  };
}

/** One of a fixed set of words. */
export function oneOf<const W extends string>(
  env: string,
  defaultValue: W,
  words: readonly W[],
  describe: string,
): Setting<W> {
  return {
    env,
    default: defaultValue,
    describe,
    parse(raw) {
      const word = raw.trim().toLowerCase() as W;
      if (!words.includes(word)) {
        throw new ConfigError(`expected one of ${words.join(", ")}`);
      }
      return word;
    },
  };
}

/** The NATS server(s) to connect to: `nats://host:port`, comma-separated. */
export function natsUrl(): Setting<string> {
  return {
    env: "NATS_URL",
    default: "nats://127.0.0.1:4222",
    describe: "NATS server URL(s), comma-separated",
    parse(raw) {
      const urls = raw.split(",").map((s) => s.trim()).filter(Boolean);
      if (urls.length === 0) throw new ConfigError("expected a nats:// URL");
      for (const url of urls) natsHostPort(url);
      return urls.join(",");
    },
  };
}

/**
 * The `host:port` of one NATS URL (`nats://h:p`, `h:p`, or `h`), as Deno's
 * `--allow-net` wants it.
 *
 * @throws {ConfigError} when the URL is not a usable NATS address.
 */
export function natsHostPort(url: string): string {
  const withScheme = url.includes("://") ? url : `nats://${url}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw new ConfigError(`"${url}" is not a URL like nats://127.0.0.1:4222`);
  }
  if (!["nats:", "tls:"].includes(parsed.protocol) || !parsed.hostname) {
    throw new ConfigError(`"${url}" is not a URL like nats://127.0.0.1:4222`);
  }
  return `${parsed.hostname}:${parsed.port || "4222"}`;
}

/**
 * `host:port` (or `host` alone when `port` is 0 or unset), with an IPv6
 * address in brackets, as `--allow-net`, permission queries and URLs want
 * it: `::1` and 8080 make `[::1]:8080`, not the ambiguous `::1:8080`.
 *
 * @example
 * ```ts
 * hostPort("::1", 8080); // "[::1]:8080"
 * hostPort("127.0.0.1"); // "127.0.0.1"
 * ```
 */
export function hostPort(host: string, port = 0): string {
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return port === 0 ? h : `${h}:${port}`;
}

/** Every host:port of a comma-separated `NATS_URL`. */
export function natsHostPorts(urls: string): string[] {
  return urls.split(",").map((s) => natsHostPort(s.trim()));
}

/** Reads the environment through `get` (default `Deno.env.get`). */
export type EnvReader = (name: string) => string | undefined;

/**
 * Reads and validates every setting in `settings`.
 *
 * @throws {ConfigError} naming the first variable whose value is not usable,
 * what it holds and what it expects.
 * @example
 * ```ts
 * const config = loadConfig({ port: int("CORTEX_PORT", 8080, "HTTP port") });
 * ```
 */
export function loadConfig<S extends Record<string, Setting<unknown>>>(
  settings: S,
  get: EnvReader = (name) => Deno.env.get(name),
): Values<S> {
  const out: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(settings)) {
    const raw = get(setting.env);
    if (raw === undefined || raw === "") {
      out[key] = setting.default;
      continue;
    }
    try {
      out[key] = setting.parse(raw);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      const shown = setting.secret ? "(hidden)" : JSON.stringify(raw);
      throw new ConfigError(`${setting.env}=${shown}: ${why}`);
    }
  }
  return out as Values<S>;
}

/** The environment variable names a group of settings reads. */
export function envNames(
  settings: Record<string, Setting<unknown>>,
): string[] {
  return Object.values(settings).map((s) => s.env);
}

/**
 * A secret, such as a password, taken exactly as given (white space
 * included): it is never trimmed, refused, repeated in an error or logged.
 */
export function secret(env: string, describe: string): Setting<string> {
  return { env, default: "", describe, secret: true, parse: (raw) => raw };
}

/**
 * How a process proves who it is to NATS, read from the variables the
 * `nats` CLI reads: a `.creds` file, an nkey seed file, a user and password,
 * and TLS files. Files are named, never inlined, so a secret never sits in
 * the environment (except `NATS_PASSWORD`, as the CLI has it) and the
 * process's `--allow-read` grows by exactly these files.
 */
export const NATS_AUTH = {
  natsCreds: text(
    "NATS_CREDS",
    "",
    "a NATS .creds file (user JWT and nkey seed) to connect with",
  ),
  natsNkey: text(
    "NATS_NKEY",
    "",
    "a file holding an nkey seed (SU…) to connect with; deno task dev makes .data/nkeys/<role>.nk",
  ),
  natsUser: text("NATS_USER", "", "user name to connect to NATS with"),
  natsPassword: secret(
    "NATS_PASSWORD",
    "password of NATS_USER (never logged)",
  ),
  natsCa: text(
    "NATS_CA",
    "",
    "a PEM file of the CA that signed the NATS server's certificate (implies TLS)",
  ),
  natsCert: text(
    "NATS_CERT",
    "",
    "a PEM client certificate for TLS (with NATS_KEY)",
  ),
  natsKey: text("NATS_KEY", "", "the PEM private key of NATS_CERT"),
};

/** The files {@linkcode NATS_AUTH} names: the only ones a process reads to connect. */
export const NATS_AUTH_FILE_SETTINGS: readonly Setting<string>[] = [
  NATS_AUTH.natsCreds,
  NATS_AUTH.natsNkey,
  NATS_AUTH.natsCa,
  NATS_AUTH.natsCert,
  NATS_AUTH.natsKey,
];

const LOG_LEVELS = ["trace", "debug", "info", "warning", "error"] as const;

/** Settings every process reads. */
export const COMMON = {
  natsUrl: natsUrl(),
  ...NATS_AUTH,
  logLevel: oneOf(
    "CORTEX_LOG_LEVEL",
    "info",
    LOG_LEVELS,
    "lowest level logged",
  ),
  logFormat: oneOf(
    "CORTEX_LOG_FORMAT",
    "text",
    ["text", "json"] as const,
    "log line format",
  ),
};

/**
 * {@linkcode loadConfig}, but a bad value ends the process with exit code 2
 * and a message naming the variable, for `main.ts` files.
 */
export function loadConfigOrExit<S extends Record<string, Setting<unknown>>>(
  settings: S,
): Values<S> {
  try {
    return loadConfig(settings);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`configuration error: ${error.message}`);
    Deno.exit(2);
  }
}
