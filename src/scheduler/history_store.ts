/**
 * Where the job history keeps its jobs: an SQLite database (Deno's
 * built-in `node:sqlite`), in a file, not on the heap. Up to 250,000 jobs
 * stay for long; kept on the heap (256 bytes a job at best) they made the
 * scheduler's memory grow with every job up to the capacity, 46 MB more
 * at 200,000 than at 20,000 (see docs/performance.md). In the file they
 * cost the process only SQLite's page cache ({@linkcode CACHE_KIB}) and
 * the table that finds a job by id ({@linkcode IdTable}, 12 bytes a slot).
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
import type { JobSummary } from "../contract/mod.ts";
import {
  CONTAINS_FUNCTION,
  type HistoryQuery,
  historyWhere,
  type Position,
  WORKER_SEPARATOR,
} from "./history_query.ts";
import {
  COLUMNS,
  errorsOf,
  type HistoryError,
  type HistoryRow,
  putRowValues,
  type Row,
  summaryOf,
  WRITTEN,
} from "./history_rows.ts";
import { idHash, IdTable } from "./history_ids.ts";

export type { HistoryError, HistoryRow, HistoryText } from "./history_rows.ts";

/**
 * SQLite's page cache, in KiB: what the store holds in the process at
 * most (SQLite's default). Full at about 20,000 jobs (a 2.0 MB file), so
 * the process does not grow with the history: with 8 MiB,
 * scripts/bench/history_memory.ts's resident set at 200,000 jobs was 95.1
 * MB instead of 86.9 (with the index on the id the file had then), for
 * pages the operating system caches anyway.
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
`;

/** The values of one row in an insert: the key's two and the others. */
const ROW_VALUES = WRITTEN.length + 2;

/** Most distinct search statements kept prepared. */
const MAX_PREPARED = 64;

/**
 * New jobs inserted by one statement: run once per row, a statement cost
 * about half more per row than one of 8 to 64 rows (3.0 against 2.0 µs of
 * CPU, 2026-12-02; see docs/performance.md, "Round 5").
 */
export const INSERT_ROWS = 32;

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
  readonly #move: StatementSync;
  readonly #insert: StatementSync;
  /** {@linkcode INSERT_ROWS} rows at once. */
  readonly #insertMany: StatementSync;
  /** The parameters of the statement of many inserts, refilled for each. */
  readonly #inserts: (string | number | null)[] = new Array(
    INSERT_ROWS * ROW_VALUES,
  ).fill(null);
  /** The parameters of an update, refilled for each. */
  readonly #one: (string | number | null)[] = new Array(ROW_VALUES).fill(null);
  readonly #byId: StatementSync;
  /** Each held job's id (hashed) → its submission time: no index on the id in the file. */
  readonly #ids = new IdTable();
  readonly #prepared = new Map<string, StatementSync>();
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
    const at = "WHERE submitted_at = ? AND job_id = ?";
    // Two updates: setting submitted_at, part of the key, moves the row
    // (a delete and an insert) even to where it is.
    this.#update = db.prepare(`UPDATE jobs SET ${set} ${at}`);
    this.#move = db.prepare(`UPDATE jobs SET submitted_at = ?, ${set} ${at}`);
    const into = `INSERT INTO jobs (submitted_at, ${WRITTEN.join(", ")}, job_id)
        VALUES `;
    const row = `(?, ${WRITTEN.map(() => "?").join(", ")}, ?)`;
    this.#insert = db.prepare(into + row);
    this.#insertMany = db.prepare(
      into + Array(INSERT_ROWS).fill(row).join(", "),
    );
    this.#byId = db.prepare(`SELECT ${COLUMNS}, errors FROM jobs ${at}`);
  }

  /** Jobs held. */
  get size(): number {
    return this.#ids.size;
  }

  /**
   * Makes room for `jobs` in the table of ids at once, so it does not grow
   * (and the process with it) as they come: what a history holds at most.
   */
  reserve(jobs: number): void {
    this.#ids.reserve(jobs);
  }

  /**
   * Writes each job's row (a new one, or over the one held with its id),
   * all in one transaction; nothing is written when one fails.
   *
   * @throws {Error} from SQLite (e.g. the disk is full).
   */
  write(rows: Iterable<HistoryRow>): void {
    if (this.#closed) return;
    const db = this.#db, ids = this.#ids;
    // New jobs wait in #inserts, their values in the statement's order,
    // and go INSERT_ROWS at a time; their hashes say when an update must
    // wait for them (a job id held twice in one batch).
    const inserts = this.#inserts, insertHashes: number[] = [];
    const insertWaiting = () => {
      for (let i = 0; i < insertHashes.length; i++) {
        const at = i * ROW_VALUES;
        this.#insert.run(...inserts.slice(at, at + ROW_VALUES));
      }
      insertHashes.length = 0;
    };
    const one = this.#one;
    db.exec("BEGIN");
    try {
      for (const { summary: s, text: t } of rows) {
        const hash = idHash(s.jobId), submittedAt = s.submittedAt;
        let slot = ids.first(hash);
        if (slot >= 0) {
          // Held twice in this batch: its insert goes first.
          if (insertHashes.includes(hash)) insertWaiting();
          // The update statements' parameters: the values, then the key.
          putRowValues(one, 0, s, t);
          one[ROW_VALUES - 1] = s.jobId;
        }
        for (; slot >= 0; slot = ids.next(slot)) {
          const was = ids.at(slot);
          one[ROW_VALUES - 2] = was;
          const { changes } = was === submittedAt
            ? this.#update.run(...one)
            : this.#move.run(submittedAt, ...one);
          if (changes === 0) continue; // another id of the same hash
          ids.set(slot, submittedAt);
          break;
        }
        if (slot < 0) {
          const at = insertHashes.length * ROW_VALUES;
          inserts[at] = submittedAt;
          putRowValues(inserts, at + 1, s, t);
          inserts[at + ROW_VALUES - 1] = s.jobId;
          insertHashes.push(hash);
          ids.add(hash, submittedAt);
          if (insertHashes.length === INSERT_ROWS) {
            this.#insertMany.run(...inserts);
            insertHashes.length = 0;
          }
        }
      }
      insertWaiting();
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      this.#reread();
      throw error;
    }
  }

  /** Drops the `count` earliest submitted jobs. */
  dropOldest(count: number): void {
    if (this.#closed || count <= 0) return;
    // The last job dropped, then every job up to it: one range of the
    // key, not `count` look-ups of it.
    const last = this.#statement(
      `SELECT submitted_at, job_id FROM jobs
        ORDER BY submitted_at, job_id LIMIT 1 OFFSET ?`,
    ).get(count - 1) as Row | undefined;
    const dropped = last
      ? this.#statement(
        `DELETE FROM jobs WHERE (submitted_at, job_id) <= (?, ?)
          RETURNING submitted_at, job_id`,
      ).all(last.submitted_at, last.job_id) as Row[]
      : this.#statement("DELETE FROM jobs RETURNING submitted_at, job_id")
        .all() as Row[];
    for (const r of dropped) {
      this.#ids.remove(idHash(r.job_id as string), r.submitted_at as number);
    }
  }

  /** One job's row, if held. */
  get(jobId: string): JobSummary | undefined {
    const row = this.#row(jobId);
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
    const row = this.#row(jobId);
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

  /** `jobId`'s row, found through the table of ids. */
  #row(jobId: string): Row | undefined {
    if (this.#closed) return undefined;
    const ids = this.#ids;
    for (let s = ids.first(idHash(jobId)); s >= 0; s = ids.next(s)) {
      const row = this.#byId.get(ids.at(s), jobId) as Row | undefined;
      if (row) return row;
    }
    return undefined;
  }

  /** Fills the table of ids again from the file (after a write rolled back). */
  #reread(): void {
    this.#ids.clear();
    const rows = this.#statement("SELECT submitted_at, job_id FROM jobs")
      .iterate() as Iterable<Row>;
    for (const r of rows) {
      this.#ids.add(idHash(r.job_id as string), r.submitted_at as number);
    }
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
