/**
 * A logger for tests that keeps every line as it would be written, its
 * `{placeholders}` filled from the properties.
 */
import type { Logger } from "../src/log.ts";

/** The logger, and the lines it was given so far. */
export function recordingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const write = (message: string, properties: Record<string, unknown> = {}) =>
    lines.push(
      message.replace(/\{(\w+)\}/g, (_, key) => String(properties[key])),
    );
  const log: Logger = {
    debug: write,
    info: write,
    warn: write,
    error: write,
    isEnabledFor: () => false,
  };
  return { log, lines };
}
