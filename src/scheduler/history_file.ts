/**
 * Which file a scheduler's history lives in: one per scheduler name in the
 * history folder (`CORTEX_HISTORY_DIR`), `<name>.sqlite`, or, while
 * another scheduler on the machine holds that one, `<name>-2.sqlite`,
 * `<name>-3.sqlite`, … So two schedulers never share a file (each file is
 * locked while open), a scheduler that is restarted reuses its own (and
 * empties it), and unnamed replicas started side by side (tests, `deno
 * task dev`'s cluster) each get one without being configured.
 *
 * @module
 */
import { HistoryFileInUse, HistoryStore } from "./history_store.ts";

/** Files tried per name before giving up: the schedulers one machine runs, with room. */
export const HISTORY_FILES_PER_NAME = 16;

/** No history file could be opened; the message says why and what to do. */
export class HistoryFileError extends Error {
  /** `message` names the folder and the way out. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "HistoryFileError";
  }
}

/** `name` as a file name: anything but letters, digits, `.`, `_` and `-` becomes `_`. */
export function historyFileName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_");
  return safe === "" ? "scheduler" : safe;
}

/**
 * Opens a fresh history store in `dir` (made if missing) for the
 * scheduler called `name`.
 *
 * @throws {HistoryFileError} when the folder cannot be made or written, or
 * every file of the name is in use.
 * @example
 * ```ts
 * const store = openHistoryStore(".data/history", "scheduler-1");
 * store.path; // ".data/history/scheduler-1.sqlite"
 * ```
 */
export function openHistoryStore(dir: string, name: string): HistoryStore {
  const base = `${dir.replace(/\/+$/, "") || "/"}/${historyFileName(name)}`;
  try {
    Deno.mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new HistoryFileError(
      `cannot make the history folder ${dir} (${
        (error as Error).message
      }): set CORTEX_HISTORY_DIR to a folder the scheduler may write`,
      { cause: error },
    );
  }
  for (let k = 1; k <= HISTORY_FILES_PER_NAME; k++) {
    const path = k === 1 ? `${base}.sqlite` : `${base}-${k}.sqlite`;
    try {
      return open(path);
    } catch (error) {
      if (error instanceof HistoryFileInUse) continue;
      throw new HistoryFileError(
        `cannot open the history file ${path} (${
          (error as Error).message
        }): set CORTEX_HISTORY_DIR to a folder the scheduler may write`,
        { cause: error },
      );
    }
  }
  throw new HistoryFileError(
    `every history file of "${name}" in ${dir} is in use (${HISTORY_FILES_PER_NAME} schedulers of that name on this machine?): give this one another CORTEX_SCHEDULER_ID or CORTEX_HISTORY_DIR`,
  );
}

/** A store at `path`; a file that is not a database (damaged, or not ours) is replaced once. */
function open(path: string): HistoryStore {
  try {
    return new HistoryStore(path);
  } catch (error) {
    if (
      error instanceof HistoryFileInUse || !(error instanceof Error) ||
      !/not a database|malformed/.test(error.message)
    ) throw error;
  }
  Deno.removeSync(path);
  return new HistoryStore(path);
}
