/**
 * nats-server for the tools and the tests: its command line (loopback only,
 * JetStream on), its version, what to tell a user who has none installed,
 * and {@linkcode startNatsServer}, the one helper that runs a throwaway
 * server on a free port and cleans it up.
 *
 * @module
 */
import { freePort, waitForPort } from "./ports.ts";

/** The port NATS clients try by default. */
export const DEFAULT_NATS_PORT = 4222;

/**
 * nats-server's arguments: loopback only, JetStream on, its store under
 * `dataDir` (one folder per port, so two servers never share a store).
 *
 * @example
 * ```ts
 * natsServerArgs(4222, ".data"); // [..., "--store_dir", ".data/nats/4222"]
 * ```
 */
export function natsServerArgs(port: number, dataDir: string): string[] {
  return [
    "--addr",
    "127.0.0.1",
    "--port",
    String(port),
    "--jetstream",
    "--store_dir",
    `${dataDir}/nats/${port}`,
  ];
}

/**
 * The message for a `deno task dev` user without nats-server: what is
 * missing and the three ways on.
 */
export function natsServerMissing(binary: string): string {
  const which = binary === "nats-server"
    ? "nats-server was not found on PATH"
    : `nats-server was not found at CORTEX_NATS_SERVER=${binary}`;
  return [
    `${which}, and NATS_URL is not set, so deno task dev has no NATS server to use.`,
    "Install nats-server:",
    "  Debian/Ubuntu:  sudo apt-get install nats-server",
    "  macOS:          brew install nats-server",
    "  elsewhere:      https://docs.nats.io/running-a-nats-service/introduction/installation",
    "or point CORTEX_NATS_SERVER at the binary, or set NATS_URL to a running server:",
    "  NATS_URL=nats://127.0.0.1:4222 deno task dev",
  ].join("\n");
}

/**
 * The version `binary --version` reports, e.g. `v2.10.24`.
 *
 * @throws {Deno.errors.NotFound} when there is no such binary, and
 * {@linkcode Deno.errors.NotCapable} when this process may not run it.
 * @example
 * ```ts
 * await natsServerVersion("nats-server"); // "v2.10.24"
 * ```
 */
export async function natsServerVersion(binary: string): Promise<string> {
  const { stdout } = await new Deno.Command(binary, {
    args: ["--version"],
    stdin: "null",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(stdout).trim()
    .replace(/^nats-server:\s*/, "");
}

/** A running nats-server started by {@linkcode startNatsServer}. */
export interface NatsServer extends AsyncDisposable {
  /** `nats://127.0.0.1:<port>` */
  url: string;
  /** The port it listens on, on 127.0.0.1. */
  port: number;
  /** The server's process id (it changes on restart). */
  readonly pid: number;
  /** `http://127.0.0.1:<port>` of its monitoring endpoint, when asked for. */
  monitorUrl?: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
  /**
   * Stops the server and starts it again on the same port and store:
   * politely (SIGTERM, the default), or as a crash (SIGKILL), after
   * `downMs` (default 0) without a server.
   */
  restart(signal?: "SIGTERM" | "SIGKILL", downMs?: number): Promise<void>;
}

/** Options of {@linkcode startNatsServer}. */
export interface StartOptions {
  /** Also serve the HTTP monitoring endpoint (`/varz`, `/connz`). Default false. */
  monitor?: boolean;
  /** Enable JetStream. Default true. */
  jetstream?: boolean;
  /**
   * A configuration file to start with (`-c`), e.g. one that
   * `renderServerConfig()` wrote; the address, port and store stay those
   * of the command line.
   */
  configFile?: string;
}

/**
 * Starts `binary` with `args`, its output discarded.
 *
 * @throws when nats-server is not installed, saying how to install it.
 */
function spawnServer(binary: string, args: string[]): Deno.ChildProcess {
  try {
    return new Deno.Command(binary, { args, stdout: "null", stderr: "null" })
      .spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        "nats-server not found on PATH: install it (apt-get install nats-server) or set CORTEX_NATS_SERVER",
      );
    }
    throw error;
  }
}

/** Signals `child` (SIGKILL after 5 s if SIGTERM is not enough) and waits for it to exit. */
async function stopServer(
  child: Deno.ChildProcess,
  signal: "SIGTERM" | "SIGKILL",
): Promise<void> {
  try {
    child.kill(signal);
  } catch {
    return; // already gone
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 5_000);
  await child.status;
  clearTimeout(timer);
}

/**
 * Starts `nats-server` (from PATH, or `CORTEX_NATS_SERVER`) with JetStream on
 * a free port of 127.0.0.1, its store in a temporary folder that `stop()`
 * (or `await using`) removes.
 *
 * @throws when nats-server is not installed, saying how to install it.
 * @example
 * ```ts
 * await using nats = await startNatsServer();
 * const nc = await connect({ servers: nats.url });
 * ```
 */
export async function startNatsServer(
  options: StartOptions = {},
): Promise<NatsServer> {
  const binary = Deno.env.get("CORTEX_NATS_SERVER") ?? "nats-server";
  const port = freePort();
  const monitorPort = options.monitor ? freePort() : undefined;
  const monitorArgs = monitorPort ? ["-m", String(monitorPort)] : [];
  const store = await Deno.makeTempDir({ prefix: "cortex-nats-" });
  let child: Deno.ChildProcess;

  const spawn = async () => {
    child = spawnServer(binary, [
      ...natsServerArgs(port, store).filter((arg) =>
        options.jetstream !== false || arg !== "--jetstream"
      ),
      ...monitorArgs,
      ...(options.configFile ? ["-c", options.configFile] : []),
    ]);
    await waitForPort(port);
  };
  const kill = (signal: "SIGTERM" | "SIGKILL" = "SIGTERM") =>
    stopServer(child, signal);

  await spawn();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await kill();
    await Deno.remove(store, { recursive: true }).catch(() => {});
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid() {
      return child.pid;
    },
    monitorUrl: monitorPort ? `http://127.0.0.1:${monitorPort}` : undefined,
    stop,
    async restart(signal = "SIGTERM", downMs = 0) {
      await kill(signal);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await spawn();
    },
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * nats-server's arguments for node `index` of a loopback cluster: the
 * single server's (its own client port and store), plus its route port,
 * the cluster's name, a route to every other node and a server name
 * (JetStream in a cluster needs one per node).
 *
 * @example
 * ```ts
 * clusterNodeArgs([{ port: 4222, routePort: 6222 }, { port: 4223, routePort: 6223 }], 0, ".data", "cortex");
 * // [...natsServerArgs(4222, ".data"), "--cluster", "nats://127.0.0.1:6222", ...]
 * ```
 */
export function clusterNodeArgs(
  nodes: readonly { port: number; routePort: number }[],
  index: number,
  dataDir: string,
  clusterName: string,
): string[] {
  const node = nodes[index];
  return [
    ...natsServerArgs(node.port, dataDir),
    "--server_name",
    `${clusterName}-${index + 1}`,
    "--cluster_name",
    clusterName,
    "--cluster",
    `nats://127.0.0.1:${node.routePort}`,
    "--routes",
    nodes.filter((_, i) => i !== index)
      .map((other) => `nats://127.0.0.1:${other.routePort}`).join(","),
  ];
}

/** A running loopback cluster started by {@linkcode startNatsCluster}. */
export interface NatsCluster extends AsyncDisposable {
  /** Every node's URL, comma-separated: what NATS_URL takes. */
  url: string;
  /** Each node, in order; each can be stopped or restarted on its own. */
  nodes: NatsServer[];
  /** Stops every node and removes their stores. */
  stop(): Promise<void>;
}

/** Options of {@linkcode startNatsCluster}. */
export interface ClusterOptions {
  /** Nodes to start. Default 3. */
  size?: number;
  /** `--cluster_name`. Default `cortex`. */
  name?: string;
  /**
   * The longest to wait for a JetStream meta leader and then for every node
   * to take a replica. Default 60 s.
   */
  readyTimeoutMs?: number;
}

/**
 * Starts a loopback cluster of `size` nats-server nodes (from PATH, or
 * `CORTEX_NATS_SERVER`), each with its own client and route ports and its
 * own JetStream store in one temporary folder, routed to each other; resolves
 * once the cluster has a JetStream meta leader (`$JS.API.INFO` answers
 * without error) and places a stream on every node, so streams of any
 * replica count can be created at once.
 *
 * @throws when nats-server is not installed, or the cluster is not ready
 * within `readyTimeoutMs`.
 * @example
 * ```ts
 * await using cluster = await startNatsCluster({ size: 3 });
 * const nc = await connect({ servers: cluster.url.split(",") });
 * await cluster.nodes[1].restart("SIGKILL", 1_000);
 * ```
 */
export async function startNatsCluster(
  options: ClusterOptions = {},
): Promise<NatsCluster> {
  const binary = Deno.env.get("CORTEX_NATS_SERVER") ?? "nats-server";
  const size = options.size ?? 3;
  const name = options.name ?? "cortex";
  const store = await Deno.makeTempDir({ prefix: "cortex-nats-cluster-" });
  const ports: { port: number; routePort: number }[] = [];
  for (let i = 0; i < size; i++) {
    ports.push({ port: freePort(), routePort: freePort() });
  }
  const children: Deno.ChildProcess[] = [];
  const spawn = (index: number) => {
    children[index] = spawnServer(
      binary,
      clusterNodeArgs(ports, index, store, name),
    );
  };
  const kill = (index: number, signal: "SIGTERM" | "SIGKILL") =>
    stopServer(children[index], signal);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(ports.map((_, i) => kill(i, "SIGTERM")));
    await Deno.remove(store, { recursive: true }).catch(() => {});
  };
  try {
    for (let i = 0; i < size; i++) spawn(i);
    for (const { port } of ports) await waitForPort(port);
    const urls = ports.map(({ port }) => `nats://127.0.0.1:${port}`);
    const until = Date.now() + (options.readyTimeoutMs ?? 60_000);
    await waitForMetaLeader(urls, until - Date.now());
    await waitForPlacement(urls, size, until - Date.now());
  } catch (error) {
    await stop();
    throw error;
  }
  const nodes: NatsServer[] = ports.map(({ port }, index) => ({
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid() {
      return children[index].pid;
    },
    // One node stopped alone keeps the shared store; the cluster's stop removes it.
    stop: () => kill(index, "SIGTERM"),
    async restart(signal = "SIGTERM", downMs = 0) {
      await kill(index, signal);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      spawn(index);
      await waitForPort(port);
    },
    [Symbol.asyncDispose]: () => kill(index, "SIGTERM"),
  }));
  return {
    url: nodes.map((node) => node.url).join(","),
    nodes,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * Asks JetStream `ask.subject` with `ask.body` every 200 ms over its own
 * connection (as `seed`'s nkey user, if given) until it answers without an
 * error; throws `failure` with the last answer when `timeoutMs` passes first.
 */
async function untilAnswered(
  servers: string[],
  timeoutMs: number,
  seed: string | undefined,
  ask: { subject: string; body: string; timeoutMs: number },
  failure: string,
): Promise<void> {
  // Imported here so the single-server helpers stay free of a NATS client.
  const { connect, nkeyAuthenticator } = await import(
    "@nats-io/transport-node"
  );
  const deadline = Date.now() + timeoutMs;
  const nc = await connect({
    servers,
    maxReconnectAttempts: -1,
    ...(seed
      ? { authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)) }
      : {}),
  });
  let last = "no answer";
  try {
    while (Date.now() < deadline) {
      try {
        const reply = await nc.request(ask.subject, ask.body, {
          timeout: ask.timeoutMs,
        });
        const answer = reply.json<{ error?: { description?: string } }>();
        if (!answer.error) return;
        last = answer.error.description ?? JSON.stringify(answer.error);
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await nc.close();
  }
  throw new Error(`${failure} after ${timeoutMs} ms (${last})`);
}

/**
 * Resolves once a stream of `replicas` replicas can be placed: made (then
 * deleted). The meta leader places replicas only on nodes it has heard
 * statistics from, which each node sends periodically; a node whose first
 * was sent before its routes were up is passed over ("no suitable peers for
 * placement") until its next. CI saw that last over 20 s on nats-server
 * 2.9.10.
 *
 * @throws naming the last answer when `timeoutMs` passes first.
 */
async function waitForPlacement(
  servers: string[],
  replicas: number,
  timeoutMs: number,
): Promise<void> {
  const name = "CORTEX_PLACEMENT_PROBE";
  const body = JSON.stringify({
    name,
    subjects: ["_cortex.placement.probe"],
    num_replicas: replicas,
    storage: "memory",
  });
  await untilAnswered(
    servers,
    timeoutMs,
    undefined,
    { subject: `$JS.API.STREAM.CREATE.${name}`, body, timeoutMs: 2_000 },
    `the nats-server cluster could not place a stream of ${replicas} replicas`,
  );
  await untilAnswered(
    servers,
    10_000,
    undefined,
    { subject: `$JS.API.STREAM.DELETE.${name}`, body: "", timeoutMs: 2_000 },
    "the placement probe stream could not be deleted",
  );
}

/**
 * Resolves once `$JS.API.INFO` answers without error on `servers`: the
 * cluster has elected a JetStream meta leader. A freshly routed cluster
 * answers "JetStream not enabled" or times out until then. `seed` is an
 * nkey user seed to connect with, for a server that admits only nkeys.
 *
 * @throws naming the last answer when `timeoutMs` passes first.
 * @example
 * ```ts
 * await waitForMetaLeader(["nats://127.0.0.1:4222"], 30_000);
 * ```
 */
export function waitForMetaLeader(
  servers: string[],
  timeoutMs: number,
  seed?: string,
): Promise<void> {
  return untilAnswered(
    servers,
    timeoutMs,
    seed,
    { subject: "$JS.API.INFO", body: "", timeoutMs: 1_000 },
    "the nats-server cluster had no JetStream meta leader",
  );
}
