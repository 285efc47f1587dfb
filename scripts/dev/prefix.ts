/**
 * Shows a child process's output line by line (see `../support/lines.ts`) behind a short, coloured name,
 * so several processes can share one terminal.
 *
 * @module
 */

const COLOURS = [36, 35, 33, 32, 34, 96, 95, 93, 92, 94];

/** Options for {@linkcode linePrefixer}. */
export interface PrefixOptions {
  /** Use ANSI colour. Default false. */
  colour?: boolean;
  /** Width the names are padded to, so the lines align. Default the name's. */
  width?: number;
  /** Which colour of the palette (cycled). Default 0. */
  index?: number;
}

/**
 * A function turning one line into `name | line`, the name coloured when
 * asked.
 *
 * @example
 * ```ts
 * const prefix = linePrefixer("nats", { width: 9 });
 * prefix("ready"); // "nats      | ready"
 * ```
 */
export function linePrefixer(
  name: string,
  options: PrefixOptions = {},
): (line: string) => string {
  const label = name.padEnd(options.width ?? name.length);
  if (!options.colour) return (line) => `${label} | ${line}`;
  const code = COLOURS[(options.index ?? 0) % COLOURS.length];
  return (line) => `\x1b[${code}m${label} |\x1b[0m ${line}`;
}
