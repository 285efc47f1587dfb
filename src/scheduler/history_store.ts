/**
 * Where the job history keeps its jobs: an SQLite database (Deno's
 * built-in `node:sqlite`), in a file, not on the heap. Up to 250,000 jobs
 * stay for long; kept on the heap (256 bytes a job at best) they made the
 * scheduler's memory grow with every job up to the capacity, 46 MB more
 * at 200,000 than at 20,000 (see docs/performance.md). In the file they
 * cost the process only SQLite's page cache ({@linkcode CACHE_KIB}).
 *
 * The file is a cache of what the scheduler heard since it started, not a
 * record: it is emptied when opened and deleted when closed, its writes
 * are not synced, and it is locked (SQLite's exclusive locking mode) for
 * as long as the store is open, so a second process opening it is refused
 * instead of reading or emptying it (see {@linkcode HistoryFileInUse}).
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { JobState, JobSummary } from "../contract/mod.ts";
import {
  CONTAINS_FUNCTION,
  HISTORY_TEXT_CHARS,
  type HistoryQuery,
  historyWhere,
  type Position,
  TEXT_SEPARATOR,
  WORKER_SEPARATOR,
} from "./history_query.ts";

/** One failure of a job at a worker: what a worker's detail lists. */
export interface HistoryError {
  /** The job's id. */
  jobId: string;
  /** The worker the attempt ran on. */
  workerId: string;
  /** How it ended. */
  state: JobState;
  /** Why. */
  error: string;
  /** Epoch ms. */
  at: number;
}

/** What the store keeps of a job besides its summary. */
export interface HistoryText {
  /** The payload preview, cut to the searched length. */
  payload: string;
  /** The output preview, cut to the searched length. */
  output: string;
  /** Every worker that made an attempt, when more than the final one; else `null`. */
  workers: readonly string[] | null;
  /** Failed attempts, newest last; `null`: none. */
  errors: readonly HistoryError[] | null;
}

/** A job to write. */
export interface HistoryRow {
  /** Its row, as the API shows it. */
  summary: JobSummary;
  /** What is searched and listed besides. */
  text: HistoryText;
  /** Probably held already (a guess that only saves a statement). */
  held?: boolean;
}

/**
 * SQLite's page cache, in KiB: what the store holds in the process at
 * most (SQLite's default). Already full at 20,000 jobs (a 2.7 MB file), so
 * the process does not grow with the history: with 8 MiB (room for the id
 * index of 250,000 jobs) scripts/bench/history_memory.ts's resident set at
 * 200,000 jobs was 95.1 MB instead of 86.9, for pages the operating system
 * caches anyway.
 */
export const CACHE_KIB = 2048;

/** The store's file is open in another process (or another store). */
export class HistoryFileInUse extends Error {
  /** `path` is the file that is locked. */
  constructor(readonly path: string) {
    super(`the history file ${path} is in use by another scheduler`);
    this.name = "HistoryFileInUse";
  }
}

const COLUMNS =
  "job_id, submitted_at, topic, state, priority, worker_id, execution_ms, round_trip_ms, finished_at, error, dead, discarded";
/** Written, in the order of the statements' parameters: the id last. */
const WRITTEN = [
  ...COLUMNS.split(", ").slice(1),
  "text",
  "workers",
  "errors",
];

const SCHEMA = `
  DROP TABLE IF EXISTS jobs;
  CREATE TABLE jobs (
    submitted_at REAL NOT NULL,
    job_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    state TEXT NOT NULL,
    priority TEXT NOT NULL,
    worker_id TEXT NOT NULL,
    execution_ms REAL NOT NULL,
    round_trip_ms REAL,
    finished_at REAL,
    error TEXT NOT NULL,
    dead INTEGER NOT NULL,
    discarded INTEGER NOT NULL,
    text TEXT NOT NULL,
    workers TEXT,
    errors TEXT,
    PRIMARY KEY (submitted_at, job_id)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX jobs_by_id ON jobs (job_id);
`;

/** A row as SQLite returns it. */
type Row = Record<string, string | number | null>;

/** Most distinct search statements kept prepared. */
const MAX_PREPARED = 64;

function summaryOf(r: Row): JobSummary {
  const row: JobSummary = {
    jobId: r.job_id as string,
    topic: r.topic as string,
    state: r.state as JobState,
    priority: r.priority as string,
    workerId: r.worker_id as string,
    executionMs: r.execution_ms as number,
    roundTripMs: r.round_trip_ms as number | null,
    submittedAt: r.submitted_at as number,
    finishedAt: r.finished_at as number | null,
    error: r.error as string,
  };
  if (r.dead === 1) row.deadLettered = true;
  if (r.discarded === 1) row.discarded = true;
  return row;
}

/**
 * What a text search tests: the payload, the output unless it repeats the
 * payload (an echo), and the start of the error, apart.
 */
function searched(error: string, t: HistoryText): string {
  let text = t.payload;
  if (t.output !== "" && t.output !== t.payload) {
    text += TEXT_SEPARATOR + t.output;
  }
  if (error !== "") {
    text += TEXT_SEPARATOR +
      (error.length > HISTORY_TEXT_CHARS
        ? error.slice(0, HISTORY_TEXT_CHARS)
        : error);
  }
  return text;
}

/** Errors as stored: `[workerId, state, error, at]` each, as JSON. */
function errorsOf(jobId: string, stored: unknown): HistoryError[] {
  if (typeof stored !== "string") return [];
  return (JSON.parse(stored) as [string, JobState, string, number][]).map((
    [workerId, state, error, at],
  ) => ({ jobId, workerId, state, error, at }));
}

/**
 * The store. Writes go in batches, one transaction each
 * ({@linkcode HistoryStore.write}); reads are synchronous queries.
 *
 * @example
 * ```ts
 * const store = new HistoryStore(); // in memory; or a file's path
 * store.write([{ summary, text }]);
 * store.search({ topic: "job.echo" }, 50);
 * store.close();
 * ```
 */
export class HistoryStore {
  /** The file, or `":memory:"`. */
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #update: StatementSync;
  readonly #insert: StatementSync;
  readonly #byId: StatementSync;
  readonly #prepared = new Map<string, StatementSync>();
  #size = 0;
  #closed = false;

  /**
   * Opens (creating it if need be), locks and empties the database at
   * `path` (default: one in memory).
   *
   * @throws {HistoryFileInUse} when another process (or store) holds it.
   * @throws {Error} from SQLite when the file cannot be opened or is not
   * a database (SQLite's message says which).
   */
  constructor(path = ":memory:") {
    this.path = path;
    const db = new DatabaseSync(path);
    this.#db = db;
    try {
      // Exclusive: the first write takes the lock and keeps it until
      // close. Not synced, no journal on disk: the file is a cache that
      // is emptied at every start; the journal in memory still lets a
      // failed batch roll back.
      db.exec(`PRAGMA page_size = 8192;
        PRAGMA locking_mode = EXCLUSIVE;
        PRAGMA journal_mode = MEMORY;
        PRAGMA synchronous = OFF;
        PRAGMA temp_store = MEMORY;
        PRAGMA cache_size = -${CACHE_KIB};
        BEGIN EXCLUSIVE;`);
      db.exec(SCHEMA);
      db.exec("COMMIT");
    } catch (error) {
      db.close();
      if (error instanceof Error && /database is locked/.test(error.message)) {
        throw new HistoryFileInUse(path);
      }
      throw error;
    }
    db.function(
      CONTAINS_FUNCTION,
      { deterministic: true },
      (haystack, needle) =>
        String(haystack).toLowerCase().includes(String(needle)) ? 1 : 0,
    );
    const set = WRITTEN.map((c) => `${c} = ?`).join(", ");
    this.#update = db.prepare(`UPDATE jobs SET ${set} WHERE job_id = ?`);
    // OR IGNORE: a job held already (its id in the index) is left to the
    // update, without an error thrown and caught per job.
    this.#insert = db.prepare(
      `INSERT OR IGNORE INTO jobs (${WRITTEN.join(", ")}, job_id)
        VALUES (${WRITTEN.map(() => "?").join(", ")}, ?)`,
    );
    this.#byId = db.prepare(
      `SELECT ${COLUMNS}, errors FROM jobs WHERE job_id = ?`,
    );
  }

  /** Jobs held. */
  get size(): number {
    return this.#size;
  }

  /**
   * Writes each job's row (a new one, or over the one held with its id),
   * all in one transaction; nothing is written when one fails. A row said
   * to be `held` is tried as an update first, any other as an insert
   * first: one statement a job when the guess is right, two when not.
   *
   * @throws {Error} from SQLite (e.g. the disk is full).
   */
  write(rows: Iterable<HistoryRow>): void {
    if (this.#closed) return;
    const db = this.#db;
    const update = this.#update, insert = this.#insert;
    let added = 0;
    db.exec("BEGIN");
    try {
      for (const { summary: s, text: t, held } of rows) {
        const values = [
          s.submittedAt,
          s.topic,
          s.state,
          s.priority,
          s.workerId,
          s.executionMs,
          s.roundTripMs,
          s.finishedAt,
          s.error,
          s.deadLettered === true ? 1 : 0,
          s.discarded === true ? 1 : 0,
          searched(s.error, t),
          t.workers === null
            ? null
            : `${WORKER_SEPARATOR}${
              t.workers.join(WORKER_SEPARATOR)
            }${WORKER_SEPARATOR}`,
          t.errors === null ? null : JSON.stringify(
            t.errors.map((e) => [e.workerId, e.state, e.error, e.at]),
          ),
          s.jobId,
        ];
        if (held) {
          if (update.run(...values).changes === 0) {
            insert.run(...values);
            added++;
          }
        } else if (insert.run(...values).changes === 1) {
          added++;
        } else {
          update.run(...values);
        }
      }
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
    this.#size += added;
  }

  /** Drops the `count` earliest submitted jobs. */
  dropOldest(count: number): void {
    if (this.#closed || count <= 0) return;
    const { changes } = this.#statement(
      `DELETE FROM jobs WHERE (submitted_at, job_id) IN
        (SELECT submitted_at, job_id FROM jobs ORDER BY submitted_at, job_id LIMIT ?)`,
    ).run(count);
    this.#size -= Number(changes);
  }

  /** One job's row, if held. */
  get(jobId: string): JobSummary | undefined {
    if (this.#closed) return undefined;
    const row = this.#byId.get(jobId) as Row | undefined;
    return row ? summaryOf(row) : undefined;
  }

  /**
   * Up to `limit` jobs matching `query`, newest first (by submission time,
   * then id), strictly older than `cursor` when given.
   */
  search(query: HistoryQuery, limit: number, cursor?: Position): JobSummary[] {
    if (this.#closed) return [];
    const where = historyWhere(query, cursor);
    const rows = this.#statement(
      `SELECT ${COLUMNS} FROM jobs WHERE ${where.sql}
        ORDER BY submitted_at DESC, job_id DESC LIMIT ?`,
    ).all(...where.params, limit) as Row[];
    return rows.map(summaryOf);
  }

  /** The failed attempts remembered of `jobId`, oldest first. */
  attemptErrors(jobId: string): HistoryError[] {
    if (this.#closed) return [];
    const row = this.#byId.get(jobId) as Row | undefined;
    return row ? errorsOf(jobId, row.errors) : [];
  }

  /** The newest `limit` failures at `workerId`, newest first. */
  errorsAt(workerId: string, limit: number): HistoryError[] {
    if (this.#closed) return [];
    const out: HistoryError[] = [];
    const rows = this.#statement(
      `SELECT job_id, errors FROM jobs
        WHERE errors IS NOT NULL AND (worker_id = ? OR instr(workers, ?) > 0)
        ORDER BY submitted_at DESC, job_id DESC`,
    ).iterate(
      workerId,
      `${WORKER_SEPARATOR}${workerId}${WORKER_SEPARATOR}`,
    ) as Iterable<Row>;
    for (const row of rows) {
      const errors = errorsOf(row.job_id as string, row.errors);
      for (let j = errors.length - 1; j >= 0; j--) {
        if (errors[j].workerId === workerId && out.length < limit) {
          out.push(errors[j]);
        }
      }
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * Closes the database; a file is deleted first (while still locked, so
   * no other store can have opened it in between). Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.path !== ":memory:") {
      try {
        Deno.removeSync(this.path);
      } catch {
        // Already gone, or not ours to delete: the next start empties it.
      }
    }
    this.#db.close();
  }

  #statement(sql: string): StatementSync {
    let statement = this.#prepared.get(sql);
    if (!statement) {
      if (this.#prepared.size >= MAX_PREPARED) this.#prepared.clear();
      statement = this.#db.prepare(sql);
      this.#prepared.set(sql, statement);
    }
    return statement;
  }
}
