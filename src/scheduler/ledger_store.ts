/**
 * The ledger in its KV bucket ({@linkcode LEDGER_BUCKET}): create an entry
 * once, read it with its revision, change it with a compare-and-set (read
 * again and retry when another replica wrote in between), and watch every
 * entry. The changes themselves are the pure functions of `ledger.ts`.
 *
 * Every read asks the bucket's stream leader (`$JS.API.STREAM.MSG.GET`),
 * which answers with every write acknowledged before it: each read here
 * decides something (the read before or after a lost compare-and-set, the
 * checks of a retry, cancel or discard by hand, a create over a deleted
 * key) or is shown as the job's state now (the dashboard's look-up of a
 * job its table no longer holds). A direct get (`$JS.API.DIRECT.GET`; the
 * bucket is made with `allow_direct`, as nats.js makes buckets) is
 * answered by any replica of the bucket from its own store (NATS ADR-31,
 * "JetStream Direct Get"), which may not have applied the latest writes:
 * on a loopback cluster under load, 6 to 52 of 4,000 direct gets right
 * after a write missed it, and no leader read did
 * (`tests/integration/cluster_ledger_test.ts`, three runs). Not measured:
 * a leader elected a moment ago, which may still be applying its
 * predecessor's last writes. A leader read works on a bucket made with or
 * without `allow_direct`.
 *
 * @module
 */
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { JetStreamClient, KV } from "../bus/durable/client_types.ts";
import { LEDGER_BUCKET, ledgerKey } from "../bus/durable/layout.ts";
import type { StoredPublisher } from "../bus/durable/stored_publish.ts";
import { isFinal } from "../contract/mod.ts";
import { decodeEntry, encodeEntry, type LedgerEntry } from "./ledger.ts";

/** What the bucket is made with. */
export interface LedgerSettings {
  /** How long an entry is kept after its last write, in ms (`CORTEX_HISTORY_MS`). */
  historyMs: number;
  /** Replicas of the bucket (`CORTEX_STREAM_REPLICAS`). */
  replicas: number;
}

/** An entry with the revision it was read at. */
export interface Revised {
  /** The entry. */
  entry: LedgerEntry;
  /** Its revision: what a compare-and-set expects. */
  revision: number;
}

/** The answer of {@linkcode LedgerStore.change}. */
export interface Changed {
  /** The entry as it is now. */
  entry: LedgerEntry;
  /** Whether this call wrote it (false: the change was fenced). */
  changed: boolean;
}

/** Compare-and-set rounds before giving up: replicas rarely write one job at once. */
const CAS_ROUNDS = 20;

/**
 * Most entries remembered as this store last wrote them (see
 * {@linkcode LedgerStore.change}): above the jobs a replica has in flight
 * in a busy run (its consumers hold up to 1,024 messages each). Past it the
 * memory is dropped whole, not entry by entry: it is only a shortcut.
 */
const WRITTEN_MAX = 4_096;

function isWrongSequence(error: unknown): boolean {
  return error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}

/**
 * The job ledger.
 *
 * @example
 * ```ts
 * const ledger = await LedgerStore.open(js, { historyMs: 86_400_000, replicas: 1 });
 * if (!(await ledger.create(entry))) console.log("admitted before");
 * ```
 */
export class LedgerStore {
  /**
   * The bucket, read from its stream leader: every read through it sees
   * each write acknowledged before it.
   */
  readonly kv: KV;

  /**
   * The entries of unfinished jobs as this store last wrote them or its
   * watch last delivered them, with their revisions: the next change of
   * such a job tries its compare-and-set on it without reading the entry
   * first (one request fewer per job, whichever replica created the job
   * or restarted since). A write by anyone else since makes that
   * compare-and-set fail, and the change reads the entry as before.
   */
  readonly #written = new Map<string, Revised>();

  /**
   * Writes entries without nats.js's per-request cost when given (see
   * `stored_publish.ts`); the bucket's own `create`/`update` otherwise.
   */
  readonly #stored?: StoredPublisher;

  /**
   * A store over an open bucket, writing through `stored` when given.
   * `kv` must read from the stream leader: opened with `allow_direct:
   * false`, as {@linkcode LedgerStore.open} does.
   */
  constructor(kv: KV, stored?: StoredPublisher) {
    this.kv = kv;
    this.#stored = stored;
  }

  /**
   * A compare-and-set of `jobId`'s key: stored only when the key's last
   * revision is `revision` (0: the key has none). Resolves to the new
   * revision; rejects with a wrong-sequence `JetStreamApiError` otherwise.
   */
  #put(jobId: string, bytes: Uint8Array, revision: number): Promise<number> {
    const key = ledgerKey(jobId);
    if (!this.#stored) {
      return revision === 0
        ? this.kv.create(key, bytes)
        : this.kv.update(key, bytes, revision);
    }
    // The bucket's subject for a key, as nats.js's KV writes it (a bucket
    // opened here has no JetStream domain or API prefix).
    return this.#stored.publish(`$KV.${LEDGER_BUCKET}.${key}`, bytes, {
      expectLastSubjectSequence: revision,
    }).then((ack) => ack.seq);
  }

  /**
   * Entries this store wrote that its watch has not delivered yet, by
   * revision: the watch applies them as written instead of decoding the
   * bytes it gets back (one JSON decode per write saved). Bounded like
   * {@linkcode LedgerStore.#written}: past it, the watch decodes.
   */
  readonly #unseen = new Map<number, LedgerEntry>();

  #remember(entry: LedgerEntry, revision: number): void {
    if (this.#unseen.size >= WRITTEN_MAX) this.#unseen.clear();
    this.#unseen.set(revision, entry);
    this.#learn(entry, revision);
  }

  /** Keeps `entry` at `revision` for the next change, unless a later one is kept. */
  #learn(entry: LedgerEntry, revision: number): void {
    const held = this.#written.get(entry.jobId);
    if (held && held.revision >= revision) return;
    if (isFinal(entry.state)) {
      this.#written.delete(entry.jobId);
      return;
    }
    if (this.#written.size >= WRITTEN_MAX) this.#written.clear();
    this.#written.set(entry.jobId, { entry, revision });
  }

  /**
   * Opens the bucket, making it (history 1, entries kept `historyMs`,
   * direct gets allowed where the server has them) when missing. A bucket
   * made before, with or without direct gets, is opened as it is.
   */
  static async open(
    js: JetStreamClient,
    settings: LedgerSettings,
    stored?: StoredPublisher,
  ): Promise<LedgerStore> {
    const kvm = new Kvm(js);
    // Made as before (with direct gets where the server has them), so a
    // bucket made by an earlier version and a new one are alike.
    await kvm.create(LEDGER_BUCKET, {
      history: 1,
      ttl: settings.historyMs,
      replicas: settings.replicas,
    });
    // Then bound without direct gets: its `get` is a `STREAM.MSG.GET`,
    // which only the stream leader answers.
    const leader = await kvm.open(LEDGER_BUCKET, { allow_direct: false });
    return new LedgerStore(leader, stored);
  }

  /** Writes a new entry; false when its job id has one already. */
  async create(entry: LedgerEntry): Promise<boolean> {
    const bytes = encodeEntry(entry);
    try {
      this.#remember(entry, await this.#put(entry.jobId, bytes, 0));
      return true;
    } catch (error) {
      if (!isWrongSequence(error)) throw error;
    }
    if (!this.#stored) return false;
    // The key has a last message. nats.js's create also writes over a
    // delete or purge marker; so does this, so a key is admitted exactly
    // as before.
    const got = await this.kv.get(ledgerKey(entry.jobId));
    if (got?.operation !== "DEL" && got?.operation !== "PURGE") return false;
    try {
      this.#remember(entry, await this.#put(entry.jobId, bytes, got.revision));
      return true;
    } catch (error) {
      if (isWrongSequence(error)) return false;
      throw error;
    }
  }

  /**
   * The entry of `jobId` with its revision, or `undefined`, as the stream
   * leader holds it: every write acknowledged before the call is in it.
   */
  async get(jobId: string): Promise<Revised | undefined> {
    const got = await this.kv.get(ledgerKey(jobId));
    if (!got || got.operation !== "PUT") return undefined;
    const entry = decodeEntry(got.value);
    return entry && { entry, revision: got.revision };
  }

  /**
   * Applies `change` to the entry of `jobId` with a compare-and-set: when
   * another writer got there first, reads again and applies `change` to
   * what it wrote. `change` returning `undefined` (fenced) writes nothing.
   * `undefined` when the ledger has no entry for `jobId`.
   *
   * An entry this store wrote last is changed without reading it first;
   * the compare-and-set on its revision succeeds only when nobody wrote
   * since (so it was the entry as it is). When that fails, or when the
   * change is fenced on it (the ledger may hold a newer entry that is
   * not), the entry is read and the change applied as usual.
   *
   * Those reads ask the stream leader ({@linkcode LedgerStore.get}): a
   * fenced change writes nothing, so nothing else would catch a read that
   * missed the latest write. With direct gets, a replica's result
   * published on core NATS right after its final write reached the other
   * replica, whose read still showed the job running: it was fenced as
   * "dispatched to the durable work stream" and counted misrouted.
   */
  async change(
    jobId: string,
    change: (entry: LedgerEntry) => LedgerEntry | undefined,
  ): Promise<Changed | undefined> {
    const written = this.#written.get(jobId);
    if (written) {
      this.#written.delete(jobId);
      const next = change(written.entry);
      if (next) {
        try {
          const revision = await this.#put(
            jobId,
            encodeEntry(next),
            written.revision,
          );
          this.#remember(next, revision);
          return { entry: next, changed: true };
        } catch (error) {
          if (!isWrongSequence(error)) throw error;
        }
      }
    }
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const got = await this.get(jobId);
      if (!got) return undefined;
      const next = change(got.entry);
      if (!next) return { entry: got.entry, changed: false };
      try {
        const revision = await this.#put(
          jobId,
          encodeEntry(next),
          got.revision,
        );
        this.#remember(next, revision);
        return { entry: next, changed: true };
      } catch (error) {
        if (!isWrongSequence(error)) throw error;
      }
    }
    throw new Error(
      `the ledger entry of job ${jobId} changed under each of ${CAS_ROUNDS} attempts to update it`,
    );
  }

  /**
   * Calls `apply` with every entry: first those in the bucket now
   * (`initial`), then each write as it happens, until `signal` aborts.
   * The bucket keeps one revision a key, so a write replaced before the
   * watch reached it is skipped: each key's writes come in order, and
   * its last always.
   * Resolves once the watch is set up; `onLoaded` is called when the
   * entries held at the start have all been applied.
   */
  async watch(
    apply: (entry: LedgerEntry, initial: boolean) => void,
    options: {
      signal: AbortSignal;
      onLoaded?: (count: number) => void;
      onError?: (error: unknown) => void;
    },
  ): Promise<void> {
    const status = await this.kv.status();
    const initialThrough = status.streamInfo.state.last_seq;
    const watch = await this.kv.watch();
    options.signal.addEventListener("abort", () => watch.stop(), {
      once: true,
    });
    let loaded = initialThrough === 0 || status.values === 0;
    let count = 0;
    if (loaded) options.onLoaded?.(0);
    (async () => {
      for await (const got of watch) {
        const initial = got.revision <= initialThrough;
        if (got.operation === "PUT") {
          const own = this.#unseen.get(got.revision);
          if (own) this.#unseen.delete(got.revision);
          const entry = own ?? decodeEntry(got.value);
          if (entry) {
            if (!own) this.#learn(entry, got.revision);
            apply(entry, initial);
          }
          if (initial) count++;
        }
        if (!loaded && (!initial || got.revision >= initialThrough)) {
          loaded = true;
          options.onLoaded?.(count);
        }
      }
    })().catch((error) => options.onError?.(error));
  }
}
