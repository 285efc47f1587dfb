/**
 * Who may do what on the bus: the NATS subject permissions of each CortexOS
 * role, and the nats-server configuration that grants them to nkeys.
 *
 * This module is the one definition: `deno task nkeys` and `deno task dev`
 * render their server configuration from it, and docs/security.md lists
 * {@linkcode renderRolesMarkdown}'s output (a test fails when they differ).
 *
 * Job topics are any subject outside the reserved prefixes (`sys.`, `$`,
 * `_INBOX`) and `cortex.` (durable mode's own streams), so they cannot be
 * listed; the permissions are written the other way round:
 *
 * - the scheduler may publish anything except what only workers say
 *   (heartbeats, attempt reports) and the server's own `$SYS.>`;
 * - a worker and a client may publish only the subjects listed for them,
 *   so no job topic; a worker may subscribe to any subject except the
 *   reserved ones (that is how it takes jobs of any topic in core mode).
 *
 * One worker credential serves every pool: nothing here names a pool.
 *
 * @module
 */
import {
  CANCELLED,
  DRAIN,
  HEARTBEAT_ALL,
  RESULT,
  RETRY,
  SUBMIT,
} from "./subjects.ts";
import {
  ATTEMPT_SUBJECT,
  LEDGER_BUCKET,
  WORK_STREAM,
} from "./durable/layout.ts";

/** The roles a credential can hold. */
export const ROLE_NAMES = ["scheduler", "worker", "client"] as const;

/** One role: `scheduler`, `worker` or `client`. */
export type RoleName = typeof ROLE_NAMES[number];

/** Subjects allowed, and (within those) denied, for one direction. */
export interface SubjectRules {
  /** Subjects or patterns allowed (NATS wildcards). */
  readonly allow: readonly string[];
  /** Subjects or patterns denied even though `allow` covers them. */
  readonly deny?: readonly string[];
}

/** A role's permissions: what it may publish and subscribe to, and why. */
export interface Role {
  /** One line: who holds it. */
  readonly describe: string;
  /** What it may publish. */
  readonly publish: SubjectRules;
  /** What it may subscribe to. */
  readonly subscribe: SubjectRules;
}

/** Replies to the requests a process makes (JetStream API calls, PubAcks, pulls). */
const INBOX = "_INBOX.>";
/** The JetStream API, `$JS.API.…`. */
const API = "$JS.API";
/** The ledger bucket's stream. */
const LEDGER_STREAM = `KV_${LEDGER_BUCKET}`;

/**
 * Subjects a worker may not listen to: the bus's own (submissions,
 * results, retries: `sys.job.>`; heartbeats: `sys.heartbeat.>`), JetStream's
 * and the server's APIs and stored subjects, and durable mode's streams.
 * Of `sys.` only the scheduler's notices are left open: the roll call
 * (`sys.rollcall`), cancels (`sys.cancel`) and drains (`sys.drain`), see
 * subjects.ts; which is why `sys.>` is not denied whole: a deny wins over
 * every allow. Only the scheduler may publish them.
 */
const RESERVED_FOR_LISTENING = [
  "sys.job.>",
  "sys.heartbeat.>",
  "$JS.>",
  "$KV.>",
  "$O.>",
  "$SYS.>",
  "cortex.>",
];

/** Every role's permissions, by name. */
export const ROLES: Readonly<Record<RoleName, Role>> = {
  scheduler: {
    describe:
      "the scheduler (and the dashboard inside its process): takes submissions, dispatches jobs to any topic, owns the streams and the ledger",
    publish: {
      // Any job topic (they cannot be listed), results of refused jobs,
      // the dashboard's submissions, and every JetStream call it makes:
      // streams, consumers, ledger puts, acks.
      allow: [">"],
      // What only workers say, and the server's own system subjects.
      deny: [HEARTBEAT_ALL, ATTEMPT_SUBJECT, "$SYS.>"],
    },
    // Drain notices: every replica shows a worker draining, whichever
    // replica asked it.
    subscribe: {
      allow: [SUBMIT, RESULT, HEARTBEAT_ALL, RETRY, DRAIN, CANCELLED, INBOX],
    },
  },
  worker: {
    describe:
      "any worker of any pool: takes jobs, publishes results, attempt reports and heartbeats",
    publish: {
      allow: [
        RESULT,
        HEARTBEAT_ALL,
        ATTEMPT_SUBJECT,
        // Durable mode: ask which jobs were cancelled before it listened
        // (a scheduler answers), find the work stream, make or update its
        // topic's consumer and read it, pull jobs, and ack, nak or extend
        // them.
        CANCELLED,
        `${API}.INFO`,
        `${API}.STREAM.INFO.${WORK_STREAM}`,
        `${API}.CONSUMER.CREATE.${WORK_STREAM}.>`,
        `${API}.CONSUMER.INFO.${WORK_STREAM}.*`,
        `${API}.CONSUMER.MSG.NEXT.${WORK_STREAM}.*`,
        `$JS.ACK.${WORK_STREAM}.>`,
      ],
    },
    subscribe: {
      // Job topics in core mode (any topic, in its pool's queue group),
      // replies (durable mode's pulled jobs arrive on an inbox) and the
      // scheduler's notices: the roll call (sys.rollcall), answered with a
      // heartbeat, cancels (sys.cancel) and drains (sys.drain).
      allow: [">"],
      deny: RESERVED_FOR_LISTENING,
    },
  },
  client: {
    describe:
      "whoever submits jobs (deno task submit, an SDK, the Go MVP's client): submits, reads results and the ledger",
    publish: {
      allow: [
        SUBMIT,
        // Retry by hand (`deno task submit --retry`): the scheduler answers.
        RETRY,
        // Durable mode: is JetStream there; read a job's ledger entry
        // (a direct get, or a stream message get on older buckets).
        `${API}.INFO`,
        `${API}.STREAM.INFO.${LEDGER_STREAM}`,
        `${API}.DIRECT.GET.${LEDGER_STREAM}.>`,
        `${API}.STREAM.MSG.GET.${LEDGER_STREAM}`,
      ],
    },
    subscribe: { allow: [RESULT, INBOX] },
  },
};

/** One user of the server configuration: an nkey's public key and its role. */
export interface NkeyUser {
  /** The public user key, `U…`. */
  readonly nkey: string;
  /** The role it holds. */
  readonly role: RoleName;
}

/** A nats-server configuration string: JSON-quoted, so `$JS…` is not a variable. */
const q = (s: string) => JSON.stringify(s);

/**
 * `subjects`, each JetStream API subject followed by its twin in
 * `jsDomain` (`$JS.API.INFO` and `$JS.hub.API.INFO`): a leaf node maps its
 * clients' `$JS.API` requests to the cluster's domain before it checks
 * their permissions (deploy/nats/leaf.conf).
 */
function withDomain(subjects: readonly string[], jsDomain?: string): string[] {
  if (!jsDomain) return [...subjects];
  return subjects.flatMap((s) =>
    s.startsWith(`${API}.`)
      ? [s, `$JS.${jsDomain}.API.${s.slice(API.length + 1)}`]
      : [s]
  );
}

function renderRules(
  rules: SubjectRules,
  indent: string,
  jsDomain?: string,
): string {
  const list = (subjects: readonly string[]) =>
    withDomain(subjects, jsDomain).map(q).join(", ");
  const lines = [`${indent}allow: [${list(rules.allow)}]`];
  if (rules.deny?.length) lines.push(`${indent}deny: [${list(rules.deny)}]`);
  return lines.join("\n");
}

/**
 * The permissions block of `role`, as nats-server's configuration writes
 * it; with `jsDomain`, each JetStream API subject also in that domain (a
 * leaf node's configuration).
 *
 * @example
 * ```ts
 * renderPermissions("client");
 * // permissions: {
 * //   publish: { allow: ["sys.job.submit", …] } …
 * ```
 */
export function renderPermissions(
  role: RoleName,
  indent = "",
  jsDomain?: string,
): string {
  const r = ROLES[role];
  const i1 = indent + "  ";
  const i2 = i1 + "  ";
  return [
    `${indent}permissions: {`,
    `${i1}publish: {`,
    renderRules(r.publish, i2, jsDomain),
    `${i1}}`,
    `${i1}subscribe: {`,
    renderRules(r.subscribe, i2, jsDomain),
    `${i1}}`,
    `${indent}}`,
  ].join("\n");
}

/**
 * The `authorization` block that admits exactly `users`, each with its
 * role's permissions; nobody else (no anonymous access). With `jsDomain`,
 * the JetStream API subjects are allowed in that domain too: a leaf
 * node's block, whose clients' requests go to the cluster's domain.
 *
 * @throws {Error} when `users` is empty: such a server would admit anyone.
 */
export function renderAuthorization(
  users: readonly NkeyUser[],
  jsDomain?: string,
): string {
  if (users.length === 0) {
    throw new Error("an authorization block needs at least one user");
  }
  const entries = users.map((u) =>
    [
      `    {`,
      `      # ${u.role}`,
      `      nkey: ${q(u.nkey)}`,
      renderPermissions(u.role, "      ", jsDomain),
      `    }`,
    ].join("\n")
  );
  return [`authorization: {`, `  users: [`, ...entries, `  ]`, `}`].join(
    "\n",
  );
}

/** Options of {@linkcode renderServerConfig}. */
export interface ServerConfigOptions {
  /** Who may connect. */
  users: readonly NkeyUser[];
  /** `host:port` to listen on; omitted: set on the command line. */
  listen?: string;
  /** JetStream's store folder; omitted: JetStream is set on the command line. */
  storeDir?: string;
}

/**
 * A whole nats-server configuration file: listen address, JetStream and
 * the {@linkcode renderAuthorization} block.
 *
 * @example
 * ```ts
 * renderServerConfig({ users: [{ nkey: "UA…", role: "client" }], listen: "127.0.0.1:4222", storeDir: "/var/lib/nats" });
 * ```
 */
export function renderServerConfig(options: ServerConfigOptions): string {
  const lines = [
    "# CortexOS nats-server configuration: every connection needs an nkey,",
    "# each nkey holds one role (src/bus/roles.ts, docs/security.md).",
  ];
  if (options.listen) lines.push(`listen: ${q(options.listen)}`);
  if (options.storeDir) {
    lines.push(`jetstream: {`, `  store_dir: ${q(options.storeDir)}`, `}`);
  }
  lines.push(renderAuthorization(options.users));
  return lines.join("\n") + "\n";
}

/**
 * docs/security.md's list of every role's subjects, rendered from
 * {@linkcode ROLES}.
 */
export function renderRolesMarkdown(): string {
  const list = (items: readonly string[] | undefined) =>
    items?.length ? items.map((s) => `\`${s}\``).join(", ") : "(nothing)";
  const out: string[] = [];
  for (const name of ROLE_NAMES) {
    const r = ROLES[name];
    out.push(
      `### \`${name}\``,
      "",
      `${r.describe[0].toUpperCase()}${r.describe.slice(1)}.`,
      "",
      `- publish allow: ${list(r.publish.allow)}`,
      `- publish deny: ${list(r.publish.deny)}`,
      `- subscribe allow: ${list(r.subscribe.allow)}`,
      `- subscribe deny: ${list(r.subscribe.deny)}`,
      "",
    );
  }
  return out.join("\n").trimEnd();
}
