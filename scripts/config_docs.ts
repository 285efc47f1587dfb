/**
 * Renders the settings tables of `docs/configuration.md` from the settings
 * lists the processes read (the same lists their `--allow-env` flags come
 * from), so the doc cannot drift from the code.
 *
 * `deno task docs` rewrites the generated section of the doc;
 * `tests/unit/config_docs_test.ts` fails when it differs from the rendering.
 *
 * @module
 */
import type { Setting } from "../src/config.ts";
import { SCHEDULER_SETTINGS } from "../src/scheduler/config.ts";
import { WORKER_SETTINGS } from "../src/worker/config.ts";
import { DEV_ENV_NAMES, DEV_SETTINGS } from "./dev_config.ts";
import { SUBMIT_SETTINGS } from "../src/submit/config.ts";

/** The line that opens the generated section of the doc. */
export const BEGIN = "<!-- generated: settings -->";
/** The line that closes it. */
export const END = "<!-- end -->";
/** The doc whose generated section this renders. */
export const CONFIG_DOC = new URL("../docs/configuration.md", import.meta.url);

type Settings = Record<string, Setting<unknown>>;

/** One process and the settings list it reads, in the doc's order. */
interface ProcessSettings {
  title: string;
  settings: Settings;
  /** Variables read besides `settings`, described by the scheduler's list. */
  alsoReads?: readonly string[];
}

const PROCESSES: ProcessSettings[] = [
  {
    title: "Scheduler (`deno task scheduler`), with its dashboard",
    settings: SCHEDULER_SETTINGS,
  },
  { title: "Echo worker (`deno task worker:echo`)", settings: WORKER_SETTINGS },
  { title: "Submit CLI (`deno task submit`)", settings: SUBMIT_SETTINGS },
  {
    title: "Dev launcher (`deno task dev`)",
    settings: DEV_SETTINGS,
    alsoReads: DEV_ENV_NAMES,
  },
];

/** How a default reads in the doc: `(none)` for an empty one, `on`/`off` for a flag. */
function formatDefault(value: unknown): string {
  const shown = Array.isArray(value)
    ? value.join(",")
    : typeof value === "boolean"
    ? (value ? "on" : "off")
    : String(value);
  return shown === "" ? "(none)" : `\`${shown}\``;
}

/** A markdown table cell: pipes escaped, lines joined. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** A markdown table padded the way `deno fmt` pads one, so fmt leaves it be. */
function table(header: string[], rows: string[][]): string[] {
  const width = (s: string) => [...s].length;
  const widths = header.map((h, i) =>
    Math.max(3, width(h), ...rows.map((r) => width(r[i])))
  );
  const line = (cells: string[]) =>
    `| ${
      cells.map((c, i) => c + " ".repeat(widths[i] - width(c))).join(" | ")
    } |`;
  return [
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
  ];
}

function rows(process: ProcessSettings): string[][] {
  const settings = Object.values(process.settings);
  const own = new Set(settings.map((s) => s.env));
  const byEnv = new Map<string, Setting<unknown>>(
    Object.values(SCHEDULER_SETTINGS as Settings).map((s) => [s.env, s]),
  );
  const out = settings.map((s) => [
    `\`${s.env}\``,
    formatDefault(s.default),
    cell(s.describe),
  ]);
  for (const env of process.alsoReads ?? []) {
    if (own.has(env)) continue;
    const setting = byEnv.get(env);
    out.push([
      `\`${env}\``,
      setting ? formatDefault(setting.default) : "(none)",
      cell(
        `read to compute the scheduler's permission flags${
          setting ? `: ${setting.describe}` : ""
        }`,
      ),
    ]);
  }
  return out;
}

/**
 * The generated section of `docs/configuration.md`, markers included: one
 * table per process, every variable it reads with its default and meaning.
 *
 * @example
 * ```ts
 * const section = renderSettingsDocs();
 * section.startsWith(BEGIN); // true
 * ```
 */
export function renderSettingsDocs(): string {
  const out = [BEGIN, ""];
  for (const process of PROCESSES) {
    out.push(`### ${process.title}`, "");
    out.push(...table(["variable", "default", "meaning"], rows(process)), "");
  }
  out.push(END);
  return out.join("\n");
}

/**
 * The generated section of `doc`, markers included, or `undefined` when the
 * markers are missing.
 */
export function generatedSection(doc: string): string | undefined {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END, start);
  if (start < 0 || end < 0) return undefined;
  return doc.slice(start, end + END.length);
}

/**
 * `doc` with its generated section replaced by `section`.
 *
 * @throws {Error} when `doc` has no `BEGIN` … `END` markers.
 */
export function replaceGenerated(doc: string, section: string): string {
  const old = generatedSection(doc);
  if (old === undefined) {
    throw new Error(
      `${CONFIG_DOC.pathname} has no "${BEGIN}" … "${END}" section; add the two marker lines where the tables go`,
    );
  }
  return doc.replace(old, () => section);
}

if (import.meta.main) {
  const doc = await Deno.readTextFile(CONFIG_DOC);
  const updated = replaceGenerated(doc, renderSettingsDocs());
  if (updated === doc) {
    console.log(`${CONFIG_DOC.pathname} is up to date`);
  } else {
    await Deno.writeTextFile(CONFIG_DOC, updated);
    console.log(`${CONFIG_DOC.pathname}: settings tables rewritten`);
  }
}
