/**
 * A history search as SQL: the `WHERE` clause and its parameters for a
 * {@linkcode HistoryQuery} over the history store's `jobs` table, built
 * here so the matching rules (what "contains, any case" means) are one
 * pure function, testable without a database.
 *
 * @module
 */

/** What a search keeps; every filter given must match. */
export interface HistoryQuery {
  /** Ids that start with this. */
  idPrefix?: string;
  /** Ids that contain this, any case. */
  idContains?: string;
  /** This topic exactly. */
  topic?: string;
  /** Any of these states. */
  states?: ReadonlySet<string>;
  /** Made an attempt at, or ended on, this worker. */
  worker?: string;
  /** Submitted at or after (epoch ms). */
  since?: number;
  /** Submitted before (epoch ms). */
  until?: number;
  /** Payload, output or error contains this, any case. */
  text?: string;
  /** On the dead-letter list (true: dead-lettered, not discarded) or not (false). */
  deadLettered?: boolean;
  /** The error contains this, any case. */
  error?: string;
}

/** A position in the order (submittedAt, jobId), newest first. */
export type Position = [number, string];

/** Characters of the payload, the output and the error that are searched. */
export const HISTORY_TEXT_CHARS = 256;

/**
 * Separates the workers of a job in the store's `workers` column (and
 * opens and closes it), so one worker is found with `instr`: a control
 * character no worker id written by a worker's heartbeat would hold.
 */
export const WORKER_SEPARATOR = "\u001f";

/**
 * Separates the payload, the output and the error in the store's `text`
 * column, so a search tests one column: a needle could match across two
 * of them only by holding this control character itself.
 */
export const TEXT_SEPARATOR = "\u001f";

/**
 * The SQL function, registered by the store, that tells whether its first
 * argument contains its second in any case, as JavaScript's
 * `toLowerCase()` sees it (the second given lower-cased).
 */
export const CONTAINS_FUNCTION = "cortex_contains";

/**
 * Longest needle matched with SQLite's `LIKE`; a longer one (or one with
 * other than ASCII letters) goes through {@linkcode CONTAINS_FUNCTION}.
 * SQLite refuses `LIKE` patterns over 50,000 bytes by default.
 */
const MAX_LIKE = 1000;

/** A `WHERE` clause (`"1"` when nothing filters) and its parameters, in order. */
export interface HistoryWhere {
  /** SQL over the `jobs` table's columns. */
  sql: string;
  /** The values of its `?` placeholders, in order. */
  params: (string | number)[];
}

/** Every character is ASCII. */
const ASCII = /^[^\u0080-\uffff]*$/;

/**
 * `column` contains `needle` in any case. SQLite's `LIKE` folds ASCII
 * letters only, which is what JavaScript's case-insensitive match does for
 * an ASCII needle (it never folds a letter beyond ASCII into one within);
 * any other needle is matched by the registered JavaScript function.
 */
function contains(
  column: string,
  needle: string,
  params: (string | number)[],
): string {
  if (ASCII.test(needle) && needle.length <= MAX_LIKE) {
    params.push(`%${needle.replace(/[\\%_]/g, "\\$&")}%`);
    return `${column} LIKE ? ESCAPE '\\'`;
  }
  params.push(needle.toLowerCase());
  return `${CONTAINS_FUNCTION}(${column}, ?)`;
}

/**
 * The `WHERE` clause of `query`, after `cursor` (strictly older) when given.
 *
 * @example
 * ```ts
 * const { sql, params } = historyWhere({ topic: "job.echo", text: "inv" });
 * db.prepare(`SELECT * FROM jobs WHERE ${sql}`).all(...params);
 * ```
 */
export function historyWhere(
  query: HistoryQuery,
  cursor?: Position,
): HistoryWhere {
  const and: string[] = [];
  const params: (string | number)[] = [];
  if (cursor) {
    and.push("(submitted_at, job_id) < (?, ?)");
    params.push(cursor[0], cursor[1]);
  }
  if (query.since !== undefined) {
    and.push("submitted_at >= ?");
    params.push(query.since);
  }
  if (query.until !== undefined) {
    and.push("submitted_at < ?");
    params.push(query.until);
  }
  if (query.idPrefix) {
    // Case-sensitive, as startsWith is (LIKE is not).
    and.push("instr(job_id, ?) = 1");
    params.push(query.idPrefix);
  }
  if (query.idContains) and.push(contains("job_id", query.idContains, params));
  if (query.topic) {
    and.push("topic = ?");
    params.push(query.topic);
  }
  if (query.states && query.states.size > 0) {
    and.push(`state IN (${[...query.states].map(() => "?").join(", ")})`);
    params.push(...query.states);
  }
  if (query.deadLettered !== undefined) {
    and.push(
      query.deadLettered
        ? "(dead = 1 AND discarded = 0)"
        : "(dead = 0 OR discarded = 1)",
    );
  }
  if (query.error) and.push(contains("error", query.error, params));
  if (query.worker) {
    and.push("(worker_id = ? OR instr(workers, ?) > 0)");
    params.push(
      query.worker,
      `${WORKER_SEPARATOR}${query.worker}${WORKER_SEPARATOR}`,
    );
  }
  if (query.text) {
    if (query.text.length > HISTORY_TEXT_CHARS) {
      // Only the first HISTORY_TEXT_CHARS characters are kept: no match.
      and.push("0");
    } else {
      // One column holds the payload, the output and the error, apart
      // (see TEXT_SEPARATOR): one test a job, over less text.
      and.push(contains("text", query.text, params));
    }
  }
  return { sql: and.length === 0 ? "1" : and.join(" AND "), params };
}
