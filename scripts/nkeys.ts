/**
 * `deno task nkeys <dir>`: a ready NATS configuration for a new
 * deployment: one nkey per role (`<dir>/<role>.nk`, the user seed, mode
 * 0600) and `<dir>/nats-server.conf`, which admits exactly those nkeys,
 * each with its role's permissions (src/bus/roles.ts), and enables
 * JetStream. Seeds already there are kept, so running it again after an
 * upgrade only rewrites the configuration; delete a seed to issue a new one.
 *
 * It also writes `<dir>/authorization.conf`, the `authorization` block
 * alone, which a cluster's configuration includes (deploy/nats/cluster.conf,
 * docs/deploy.md), and `<dir>/leaf-authorization.conf`, a leaf node's
 * (deploy/nats/leaf.conf).
 *
 * `deno task dev` uses {@linkcode ensureRoleNkeys} the same way, into
 * `.data/nkeys/`.
 *
 * Usage: `deno task nkeys <dir> [--listen 0.0.0.0:4222] [--store-dir /var/lib/nats]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { nkeys } from "@nats-io/nats-core";
import {
  type NkeyUser,
  renderAuthorization,
  renderServerConfig,
  ROLE_NAMES,
  type RoleName,
} from "../src/bus/roles.ts";

/** The name of the configuration file written beside the seeds. */
export const SERVER_CONFIG_FILE = "nats-server.conf";

/**
 * The name of the file written beside the seeds holding the
 * `authorization` block alone, for a configuration that includes it.
 */
export const AUTHORIZATION_FILE = "authorization.conf";

/**
 * The JetStream domain of a cluster's configuration (deploy/nats/cluster.conf),
 * to which a leaf node maps its clients' JetStream requests.
 */
export const CLUSTER_JS_DOMAIN = "hub";

/**
 * The name of the file written beside the seeds holding a leaf node's
 * `authorization` block (deploy/nats/leaf.conf): the same users, their
 * JetStream API subjects allowed in {@linkcode CLUSTER_JS_DOMAIN} too.
 */
export const LEAF_AUTHORIZATION_FILE = "leaf-authorization.conf";

/** Where each role's seed is, and the users the server admits. */
export interface RoleNkeys {
  /** `<dir>/<role>.nk` of each role: pass it as `NATS_NKEY`. */
  seedFiles: Record<RoleName, string>;
  /** The public key and role of each. */
  users: NkeyUser[];
  /** The roles whose seed was made now (the others were there already). */
  created: RoleName[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The public key of the seed in `file`, or undefined when there is none. */
async function publicKeyOf(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    return nkeys.fromSeed(encoder.encode(text.trim())).getPublicKey();
  } catch {
    throw new Error(
      `${file} is not an nkey user seed: move it away and run again to issue a new one`,
    );
  }
}

/**
 * Makes an nkey user seed per role in `dir` (created, mode 0700) where
 * none is yet, each in `<role>.nk` with mode 0600; keeps those there.
 *
 * @throws when a seed file exists but holds no seed.
 * @example
 * ```ts
 * const { seedFiles } = await ensureRoleNkeys(".data/nkeys");
 * seedFiles.client; // ".data/nkeys/client.nk"
 * ```
 */
export async function ensureRoleNkeys(dir: string): Promise<RoleNkeys> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const seedFiles = {} as Record<RoleName, string>;
  const users: NkeyUser[] = [];
  const created: RoleName[] = [];
  for (const role of ROLE_NAMES) {
    const file = `${dir}/${role}.nk`;
    seedFiles[role] = file;
    let nkey = await publicKeyOf(file);
    if (!nkey) {
      const pair = nkeys.createUser();
      // createNew: never overwrite a seed another run wrote meanwhile.
      await Deno.writeTextFile(
        file,
        decoder.decode(pair.getSeed()) + "\n",
        { mode: 0o600, createNew: true },
      );
      nkey = pair.getPublicKey();
      created.push(role);
    }
    // The mode given at creation is reduced by the umask, never widened;
    // set it outright so a seed is never readable by others.
    await Deno.chmod(file, 0o600);
    users.push({ nkey, role });
  }
  return { seedFiles, users, created };
}

/** Options of {@linkcode writeServerConfig}. */
export interface WriteConfigOptions {
  /** `host:port` to listen on; omitted: the command line says. */
  listen?: string;
  /** JetStream's store; omitted: the command line enables JetStream. */
  storeDir?: string;
}

/**
 * Writes `<dir>/nats-server.conf` admitting `users`, and
 * `<dir>/authorization.conf` with its `authorization` block alone and
 * `<dir>/leaf-authorization.conf` with a leaf node's; returns the first's
 * path.
 *
 * @example
 * ```ts
 * const keys = await ensureRoleNkeys(dir);
 * const conf = await writeServerConfig(dir, keys.users);
 * ```
 */
export async function writeServerConfig(
  dir: string,
  users: readonly NkeyUser[],
  options: WriteConfigOptions = {},
): Promise<string> {
  const file = `${dir}/${SERVER_CONFIG_FILE}`;
  await Deno.writeTextFile(file, renderServerConfig({ users, ...options }));
  await Deno.writeTextFile(
    `${dir}/${AUTHORIZATION_FILE}`,
    [
      "# The CortexOS roles' nkeys and permissions (src/bus/roles.ts), written",
      "# by deno task nkeys; included by deploy/nats/cluster.conf.",
      renderAuthorization(users),
    ].join("\n") + "\n",
  );
  await Deno.writeTextFile(
    `${dir}/${LEAF_AUTHORIZATION_FILE}`,
    [
      "# The CortexOS roles' nkeys and permissions on a leaf node, written by",
      `# deno task nkeys; included by deploy/nats/leaf.conf, which maps $JS.API`,
      `# to the cluster's JetStream domain, ${
        JSON.stringify(CLUSTER_JS_DOMAIN)
      }.`,
      renderAuthorization(users, CLUSTER_JS_DOMAIN),
    ].join("\n") + "\n",
  );
  return file;
}

const USAGE =
  `usage: deno task nkeys <dir> [--listen host:port] [--store-dir path]

Writes one nkey seed per role (scheduler, worker, client) into <dir>/<role>.nk
(mode 0600; seeds already there are kept) and <dir>/nats-server.conf, which
admits exactly those nkeys with their role's permissions and enables JetStream;
and <dir>/authorization.conf, that block alone, which a cluster node's
configuration includes (deploy/nats/cluster.conf, docs/deploy.md), and
<dir>/leaf-authorization.conf, a leaf node's (deploy/nats/leaf.conf).

  --listen     address nats-server listens on (default 127.0.0.1:4222)
  --store-dir  JetStream's store (default <dir>/jetstream)

Then: nats-server -c <dir>/nats-server.conf, and give each process its seed:
  NATS_NKEY=<dir>/scheduler.nk deno task scheduler
  NATS_NKEY=<dir>/worker.nk deno task worker:echo
  NATS_NKEY=<dir>/client.nk deno task submit
See docs/security.md.`;

async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        listen: { type: "string", default: "127.0.0.1:4222" },
        "store-dir": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    console.error(`nkeys: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  const dir = parsed.positionals[0].replace(/\/+$/, "") || "/";
  const keys = await ensureRoleNkeys(dir);
  const conf = await writeServerConfig(dir, keys.users, {
    listen: parsed.values.listen,
    storeDir: parsed.values["store-dir"] ?? `${dir}/jetstream`,
  });
  for (const role of ROLE_NAMES) {
    const made = keys.created.includes(role) ? "new" : "kept";
    console.log(`${role}: ${keys.seedFiles[role]} (${made})`);
  }
  console.log(`server configuration: ${conf}`);
  console.log(`start it: nats-server -c ${conf}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
