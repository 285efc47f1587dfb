/**
 * The NATS side of `deno task dev`: the nkeys of each role, and the
 * nats-server (or loopback cluster) it runs under `tether.ts`, supervised
 * like every other child.
 *
 * @module
 */
import { DEV_NKEYS_DIR, type DEV_SETTINGS } from "../dev_config.ts";
import { ensureRoleNkeys, writeServerConfig } from "../nkeys.ts";
import type { RoleName } from "../../src/bus/roles.ts";
import type { Values } from "../../src/config.ts";
import type { ChildSpec, SupervisedProcess } from "./supervisor.ts";
import { ROOT } from "../permissions.ts";
import {
  clusterNodeArgs,
  DEFAULT_NATS_PORT,
  natsServerArgs,
  natsServerMissing,
  natsServerVersion,
  waitForMetaLeader,
} from "../support/nats_server.ts";
import { freePort, waitForPort } from "../support/ports.ts";

/** What the NATS helpers need of dev: its settings, its voice, its supervisor and its way out. */
export interface DevNatsContext {
  /** dev's settings. */
  config: Values<typeof DEV_SETTINGS>;
  /** Writes one of dev's own lines. */
  say: (message: string) => void;
  /** Starts a child under supervision. */
  supervise: (spec: ChildSpec) => SupervisedProcess;
  /** Stops everything and exits `code`. */
  shutdown: (code: number, reason: string) => Promise<void>;
}

/**
 * The nkey seed file of each role, made once into `.data/nkeys`, and the
 * server configuration admitting exactly them (rewritten each start, so it
 * follows src/bus/roles.ts); exits 1 when a seed file is unusable.
 */
export async function prepareNkeys(
  { say }: DevNatsContext,
): Promise<
  { seedFiles: Record<RoleName, string>; configFile: string }
> {
  const dir = `${ROOT}/${DEV_NKEYS_DIR}`;
  try {
    const keys = await ensureRoleNkeys(dir);
    const configFile = await writeServerConfig(dir, keys.users);
    say(
      keys.created.length > 0
        ? `made nkeys for ${keys.created.join(", ")} in ${DEV_NKEYS_DIR}`
        : `using the nkeys in ${DEV_NKEYS_DIR}`,
    );
    return { seedFiles: keys.seedFiles, configFile };
  } catch (error) {
    console.error(
      `cannot prepare the nkeys in ${DEV_NKEYS_DIR}: ${
        (error as Error).message
      }\n(CORTEX_DEV_AUTH=off starts nats-server without authentication)`,
    );
    Deno.exit(1);
  }
}

/**
 * Starts nats-server on 127.0.0.1 (through `tether.ts`, so it dies with us)
 * and returns its URL; exits 1 when there is no nats-server to start.
 * With `configFile`, the server reads it (the nkeys it admits). With
 * CORTEX_DEV_NATS_CLUSTER above 1, starts that many clustered nodes and
 * returns every node's URL, comma-separated, once the cluster has a
 * JetStream meta leader (`seedFile`: the nkey to ask with).
 */
export async function startNats(
  context: DevNatsContext,
  configFile?: string,
  seedFile?: string,
): Promise<string> {
  const { config, say, supervise, shutdown } = context;
  const binary = config.natsServer;
  let version: string;
  try {
    version = await natsServerVersion(binary);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      console.error(natsServerMissing(binary));
      Deno.exit(1);
    }
    if (error instanceof Deno.errors.NotCapable) {
      console.error(
        `CORTEX_NATS_SERVER=${binary}: deno task dev may run only "deno" and the "nats-server" found on PATH.\n` +
          `Put its folder first on PATH instead, e.g. PATH=${
            binary.replace(/\/[^/]*$/, "") || "/"
          }:$PATH deno task dev`,
      );
      Deno.exit(1);
    }
    throw error;
  }
  if (config.natsCluster > 1) {
    return await startNatsCluster(
      context,
      binary,
      version,
      configFile,
      seedFile,
    );
  }
  const port = freePort(DEFAULT_NATS_PORT);
  if (port !== DEFAULT_NATS_PORT) {
    say(`port ${DEFAULT_NATS_PORT} is taken; nats-server uses ${port}`);
  }
  const store = `${ROOT}/.data`;
  say(
    `starting nats-server ${version} on 127.0.0.1:${port}, JetStream store in ${store}`,
  );
  say(
    configFile
      ? `nats-server admits only the nkeys in ${DEV_NKEYS_DIR}, each with its role's permissions (docs/security.md)`
      : "nats-server admits anyone (CORTEX_DEV_AUTH=off)",
  );
  supervise({
    name: "nats",
    command: "deno",
    args: [
      "run",
      "--no-prompt",
      `--allow-run=${binary}`,
      `${ROOT}/scripts/dev/tether.ts`,
      binary,
      ...natsServerArgs(port, store),
      ...(configFile ? ["-c", configFile] : []),
    ],
    // SIGKILL would leave nats-server behind; tether.ts kills it on SIGQUIT.
    killSignal: "SIGQUIT",
  });
  try {
    await waitForPort(port, AbortSignal.timeout(30_000));
  } catch {
    await shutdown(
      1,
      `nats-server did not listen on 127.0.0.1:${port} in 30 s`,
    );
  }
  return `nats://127.0.0.1:${port}`;
}

/**
 * Starts `config.natsCluster` nats-server nodes routed to each other on
 * loopback (client ports from 4222, route ports from 6222, a store each
 * under `.data/cluster/nats/<port>`), all with the same `configFile`; resolves with
 * every URL, comma-separated, once JetStream has a meta leader.
 */
async function startNatsCluster(
  { config, say, supervise, shutdown }: DevNatsContext,
  binary: string,
  version: string,
  configFile: string | undefined,
  seedFile: string | undefined,
): Promise<string> {
  const nodes: { port: number; routePort: number }[] = [];
  for (let i = 0; i < config.natsCluster; i++) {
    nodes.push({
      port: freePort(DEFAULT_NATS_PORT + i),
      routePort: freePort(6222 + i),
    });
  }
  // Apart from the single server's store (.data/nats/4222): a node
  // started on a single server's store would hold its unreplicated streams.
  const store = `${ROOT}/.data/cluster`;
  const urls = nodes.map(({ port }) => `nats://127.0.0.1:${port}`);
  say(
    `starting a ${nodes.length}-node nats-server ${version} cluster on ${
      urls.join(", ")
    } (routes on ${
      nodes.map((n) => n.routePort).join(", ")
    }), JetStream stores in ${store}/nats/<port>`,
  );
  say(
    configFile
      ? `every node admits only the nkeys in ${DEV_NKEYS_DIR}, each with its role's permissions (docs/security.md)`
      : "every node admits anyone (CORTEX_DEV_AUTH=off)",
  );
  nodes.forEach((_, index) =>
    supervise({
      name: `nats-${index + 1}`,
      command: "deno",
      args: [
        "run",
        "--no-prompt",
        `--allow-run=${binary}`,
        `${ROOT}/scripts/dev/tether.ts`,
        binary,
        ...clusterNodeArgs(nodes, index, store, "cortex-dev"),
        ...(configFile ? ["-c", configFile] : []),
      ],
      killSignal: "SIGQUIT",
    })
  );
  try {
    for (const { port } of nodes) {
      await waitForPort(port, AbortSignal.timeout(30_000));
    }
    const seed = seedFile
      ? (await Deno.readTextFile(seedFile)).trim()
      : undefined;
    await waitForMetaLeader(urls, 30_000, seed);
  } catch (error) {
    await shutdown(
      1,
      `the nats-server cluster did not come up: ${(error as Error).message}`,
    );
  }
  say(`the cluster has a JetStream meta leader: ${urls.join(",")}`);
  return urls.join(",");
}
