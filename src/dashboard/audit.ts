/**
 * The audit log: every write through the API (`POST /api/…`), with what was
 * asked, of which job or topic, by which filter, how many jobs it touched,
 * when, from where and how it ended. Kept in memory, the newest
 * {@linkcode AUDIT_CAPACITY}, for `GET /api/audit` and the audit view, and
 * written to the scheduler's log, which outlives the process.
 *
 * A route says what it did with {@linkcode noteAudit}; the middleware
 * records every write, noted or not, once its answer is made.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AuditEntry, AuditSource } from "../contract/mod.ts";
import type { Logger } from "../log.ts";

/** Entries kept: an operator's day of actions, in a few hundred KiB. */
export const AUDIT_CAPACITY = 1000;

/** What a route knows of what it did. */
export interface AuditNote {
  /** A name for the action: `submit`, `retry`. */
  action: string;
  /** The job or topic acted on. */
  target?: string;
  /** The filter of a bulk action. */
  filter?: Record<string, unknown>;
  /** How many jobs it touched. */
  count?: number;
  /** What came of it, in a few words. */
  outcome?: string;
}

const notes = new WeakMap<Request, AuditNote>();

/**
 * Tells the audit log what the request in `c` did.
 *
 * @example
 * ```ts
 * noteAudit(c, { action: "retry", target: id, count: 1, outcome: "retried" });
 * ```
 */
export function noteAudit(c: Context, note: AuditNote): void {
  notes.set(c.req.raw, note);
}

/**
 * Where the request in `c` came from: peer address, `Origin`, user agent.
 *
 * @example
 * ```ts
 * audit.record({ ...entry, from: auditSource(c) });
 * ```
 */
export function auditSource(c: Context): AuditSource {
  const info = c.env as Partial<Deno.ServeHandlerInfo> | undefined;
  const addr = info?.remoteAddr as Deno.NetAddr | undefined;
  return {
    address: addr?.hostname ? `${addr.hostname}:${addr.port}` : "",
    origin: c.req.header("origin") ?? "",
    userAgent: (c.req.header("user-agent") ?? "").slice(0, 120),
  };
}

/**
 * The audit log.
 *
 * @example
 * ```ts
 * const audit = new AuditLog(log);
 * app.use("/api/*", audit.middleware());
 * audit.entries();
 * ```
 */
export class AuditLog {
  readonly #log: Logger;
  /** Oldest first; a thousand entries shift in no time. */
  readonly #entries: AuditEntry[] = [];
  readonly #capacity: number;

  /** An empty log writing each entry to `log` too. */
  constructor(log: Logger, capacity = AUDIT_CAPACITY) {
    this.#log = log;
    this.#capacity = capacity;
  }

  /** Most entries kept. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Records every request but GET and HEAD, after its answer is made. */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      await next();
      if (c.req.method === "GET" || c.req.method === "HEAD") return;
      const note = notes.get(c.req.raw);
      this.record({
        at: Date.now(),
        action: note?.action ?? `${c.req.method} ${c.req.path}`,
        path: c.req.path,
        target: note?.target ?? "",
        filter: note?.filter ?? null,
        count: note?.count ?? 0,
        status: c.res.status,
        outcome: (note?.outcome ?? "").slice(0, 200),
        from: auditSource(c),
      });
    };
  }

  /** Adds an entry (the oldest is dropped beyond capacity) and logs it. */
  record(entry: AuditEntry): void {
    this.#entries.push(entry);
    while (this.#entries.length > this.#capacity) this.#entries.shift();
    this.#log.info(
      "audit: {action} {target} ({count} jobs) -> {status} from {address}",
      {
        action: entry.action,
        target: entry.target,
        count: entry.count,
        status: entry.status,
        address: entry.from.address || "unknown",
        filter: entry.filter,
        outcome: entry.outcome,
      },
    );
  }

  /** The entries, newest first. */
  entries(): AuditEntry[] {
    return this.#entries.toReversed();
  }
}
