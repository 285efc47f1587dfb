// deno-lint-ignore-file no-import-prefix -- part of mod.ts, imported by path without our import map (tests/integration/sdk_package_test.ts)
/**
 * The one logger setup: LogTape, one line per record on standard error (so a
 * CLI's standard output stays its results), as text or JSON lines.
 *
 * @module
 */
import {
  configure,
  getJsonLinesFormatter,
  getLogger,
  getTextFormatter,
  type LogRecord,
} from "npm:@logtape/logtape@^2.4.2";

/** A record's severity, as LogTape names it. */
export type LogLevel =
  | "trace"
  | "debug"
  | "info"
  | "warning"
  | "error"
  | "fatal";

/**
 * What CortexOS code logs through: the part of LogTape's logger it uses, so
 * the public signatures do not depend on LogTape's whole API.
 */
export interface Logger {
  /** Logs `message`, where `{key}` stands for `properties.key`. */
  debug(message: string, properties?: Record<string, unknown>): void;
  /** Logs `message`, where `{key}` stands for `properties.key`. */
  info(message: string, properties?: Record<string, unknown>): void;
  /** Logs `message`, where `{key}` stands for `properties.key`. */
  warn(message: string, properties?: Record<string, unknown>): void;
  /** Logs `message`, where `{key}` stands for `properties.key`. */
  error(message: string, properties?: Record<string, unknown>): void;
  /** Whether a record at `level` would be written (to skip costly messages). */
  isEnabledFor(level: LogLevel): boolean;
}

/** Options for {@linkcode setupLogging}. */
export interface LogOptions {
  /** Lowest level written. Default `"info"`. */
  level?: LogLevel;
  /** `"text"` (default) or `"json"` lines. */
  format?: "text" | "json";
}

const encoder = new TextEncoder();

/**
 * Configures LogTape for the whole process. Call once, from a `main.ts`.
 *
 * @example
 * ```ts
 * await setupLogging({ level: "debug" });
 * getLogger(["cortex", "scheduler"]).info("ready");
 * ```
 */
export async function setupLogging(options: LogOptions = {}): Promise<void> {
  const format = options.format === "json"
    ? getJsonLinesFormatter()
    : getTextFormatter({ timestamp: "time", category: ".", value: "bare" });
  const stderr = (record: LogRecord) => {
    Deno.stderr.writeSync(encoder.encode(format(record)));
  };
  await configure({
    reset: true,
    sinks: { stderr },
    loggers: [
      {
        category: ["cortex"],
        lowestLevel: options.level ?? "info",
        sinks: ["stderr"],
      },
      {
        category: ["logtape", "meta"],
        lowestLevel: "warning",
        sinks: ["stderr"],
      },
    ],
  });
}

/** The logger of one CortexOS component, e.g. `logger("scheduler")`. */
export function logger(...category: string[]): Logger {
  return getLogger(["cortex", ...category]);
}

/**
 * The message of a thrown value, for a log line: an `Error`'s message, or
 * the value as text.
 *
 * @example
 * ```ts
 * errorMessage(new Error("gone")); // "gone"
 * ```
 */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
