/**
 * docs/deploy.md's cluster, started from its own files: three nats-server
 * nodes from deploy/nats/cluster.conf (copied as is, as an install would),
 * each with the environment deploy/nats/node.env describes (loopback
 * addresses and a temporary store substituted), TLS on client and route
 * connections from a throwaway CA, and the roles' nkeys from
 * `deno task nkeys`; and a leaf node from deploy/nats/leaf.conf. A
 * scheduler and the submit CLI on the cluster, each with its own role's
 * seed over `tls://`, and the only worker on the leaf node run jobs with
 * streams of three replicas.
 */
import { ROOT } from "../../scripts/permissions.ts";
import { envNames } from "../../src/config.ts";
import { SCHEDULER_SETTINGS } from "../../src/scheduler/config.ts";
import { WORKER_SETTINGS } from "../../src/worker/config.ts";
import { freePort, waitForPort } from "../../scripts/support/ports.ts";
import { runTask, startTask } from "../processes.ts";
import { assertEquals, assertMatch, assertOk, eventually } from "../assert.ts";

/** The variables deploy/nats/node.env sets, every one of them. */
const NODE_ENV_NAMES = [
  "NATS_SERVER_NAME",
  "NATS_LISTEN",
  "NATS_MONITOR_LISTEN",
  "NATS_CLUSTER_LISTEN",
  "NATS_ROUTE_1",
  "NATS_ROUTE_2",
  "NATS_ROUTE_3",
  "NATS_LEAF_LISTEN",
  "NATS_STORE_DIR",
  "NATS_MAX_FILE_STORE",
];

/** The variables deploy/nats/leaf.env sets. */
const LEAF_ENV_NAMES = [
  "NATS_SERVER_NAME",
  "NATS_LISTEN",
  "NATS_HUB_1",
  "NATS_HUB_2",
  "NATS_HUB_3",
];

/** The names `KEY=` lines of `file` set. */
async function envFileNames(file: string): Promise<string[]> {
  const text = await Deno.readTextFile(file);
  return [...text.matchAll(/^([A-Z_0-9]+)=/gm)].map((m) => m[1]).sort();
}

/**
 * The arguments after the binary of `unit`'s ExecStart (a file in
 * deploy/systemd), and its WorkingDirectory.
 */
async function unitCommand(
  unit: string,
): Promise<{ args: string[]; cwd: string }> {
  const text = await Deno.readTextFile(`${ROOT}/deploy/systemd/${unit}`);
  const exec = text.match(/^ExecStart=(.*)$/m)?.[1].trim().split(/\s+/);
  const cwd = text.match(/^WorkingDirectory=(.*)$/m)?.[1].trim();
  assertOk(exec && cwd, `${unit} has ExecStart and WorkingDirectory`);
  return { args: exec.slice(1), cwd };
}

/**
 * Starts nats-server as `unit` (deploy/systemd) does: its ExecStart's
 * arguments, in a copy of its WorkingDirectory (`etc`), with `env` (what
 * its EnvironmentFile holds), logging to `<etc>/<log>`.
 */
async function startServer(
  unit: string,
  etc: string,
  log: string,
  env: Record<string, string>,
): Promise<Deno.ChildProcess> {
  const { args, cwd } = await unitCommand(unit);
  assertEquals(cwd, "/etc/cortex/nats", `${unit}'s WorkingDirectory`);
  return new Deno.Command(Deno.env.get("CORTEX_NATS_SERVER") ?? "nats-server", {
    args: [...args, "-l", log],
    cwd: etc,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** Runs `openssl args…` in `cwd`; throws with its output when it fails. */
async function openssl(cwd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdin: "null" })
    .output();
  if (!out.success) {
    throw new Error(
      `openssl ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/**
 * The CA and the node certificate docs/deploy.md describes, for 127.0.0.1
 * (the doc's are for each node's own name and address). `localhost` too:
 * Deno's TLS client checks an IP address's certificate against that name.
 */
async function makeCertificates(tlsDir: string): Promise<void> {
  await Deno.mkdir(tlsDir, { recursive: true });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  await openssl(tlsDir, [
    "req",
    "-x509",
    ...ec,
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=cortex-test-ca",
    "-keyout",
    "ca-key.pem",
    "-out",
    "ca.pem",
  ]);
  await openssl(tlsDir, [
    "req",
    ...ec,
    "-nodes",
    "-subj",
    "/CN=cortex-node",
    "-keyout",
    "node-key.pem",
    "-out",
    "node.csr",
  ]);
  await Deno.writeTextFile(
    `${tlsDir}/node.ext`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n",
  );
  await openssl(tlsDir, [
    "x509",
    "-req",
    "-in",
    "node.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca-key.pem",
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    "node.ext",
    "-out",
    "node.pem",
  ]);
}

Deno.test("deploy: three nodes from deploy/nats/cluster.conf (TLS, routes, nkeys) and a leaf node from leaf.conf run jobs, its worker on the leaf", async () => {
  const etc = await Deno.makeTempDir({ prefix: "cortex-deploy-" });
  const nodes: Deno.ChildProcess[] = [];
  try {
    // What an install does: the seeds and authorization.conf from
    // `deno task nkeys`, the certificates, cluster.conf copied beside them.
    const made = await runTask("nkeys", [etc]);
    assertEquals(made.code, 0, made.stderr);
    await makeCertificates(`${etc}/tls`);
    for (const conf of ["cluster.conf", "leaf.conf"]) {
      await Deno.copyFile(`${ROOT}/deploy/nats/${conf}`, `${etc}/${conf}`);
    }

    // The env files name every variable the test sets, and no other.
    assertEquals(
      await envFileNames(`${ROOT}/deploy/nats/node.env`),
      [...NODE_ENV_NAMES].sort(),
    );
    assertEquals(
      await envFileNames(`${ROOT}/deploy/nats/leaf.env`),
      [...LEAF_ENV_NAMES].sort(),
    );
    // The scheduler's and workers' env files name only settings they read.
    for (
      const [file, settings] of [
        ["scheduler.env", envNames(SCHEDULER_SETTINGS)],
        ["worker.env", envNames(WORKER_SETTINGS)],
      ] as const
    ) {
      const unknown = (await envFileNames(`${ROOT}/deploy/cortex/${file}`))
        .filter((name) => !settings.includes(name));
      assertEquals(
        unknown,
        [],
        `deploy/cortex/${file} names no unknown setting`,
      );
    }

    const ports = [0, 1, 2].map(() => ({
      client: freePort(),
      route: freePort(),
      monitor: freePort(),
      leaf: freePort(),
    }));
    const routes = Object.fromEntries(
      ports.map((
        p,
        i,
      ) => [`NATS_ROUTE_${i + 1}`, `nats-route://127.0.0.1:${p.route}`]),
    );
    for (const [i, p] of ports.entries()) {
      const env: Record<string, string> = {
        NATS_SERVER_NAME: `cortex-${i + 1}`,
        NATS_LISTEN: `127.0.0.1:${p.client}`,
        NATS_MONITOR_LISTEN: `127.0.0.1:${p.monitor}`,
        NATS_CLUSTER_LISTEN: `127.0.0.1:${p.route}`,
        ...routes,
        NATS_LEAF_LISTEN: `127.0.0.1:${p.leaf}`,
        NATS_STORE_DIR: `${etc}/store-${i + 1}`,
        NATS_MAX_FILE_STORE: "1GB",
      };
      nodes.push(
        await startServer("nats-server.service", etc, `node-${i + 1}.log`, env),
      );
    }
    const leafPort = freePort();
    nodes.push(
      await startServer("nats-leaf.service", etc, "leaf.log", {
        NATS_SERVER_NAME: "worker-host-1",
        NATS_LISTEN: `127.0.0.1:${leafPort}`,
        ...Object.fromEntries(
          ports.map((
            p,
            i,
          ) => [`NATS_HUB_${i + 1}`, `nats-leaf://127.0.0.1:${p.leaf}`]),
        ),
      }),
    );
    await waitForPort(leafPort);
    // The leaf node has connected to a hub node (until then a client of
    // it reaches no JetStream).
    await eventually(async () => {
      for (const p of ports) {
        const leafz = await (await fetch(`http://127.0.0.1:${p.monitor}/leafz`))
          .json().catch(() => ({}));
        if ((leafz.leafnodes ?? 0) > 0) return true;
      }
      return undefined;
    }, { what: "the leaf node connected to the cluster", timeoutMs: 20_000 });
    for (const p of ports) await waitForPort(p.client);

    const natsUrl = ports.map((p) => `tls://127.0.0.1:${p.client}`).join(",");
    const env = (role: string, url = natsUrl) => ({
      NATS_URL: url,
      NATS_NKEY: `${etc}/${role}.nk`,
      NATS_CA: `${etc}/tls/ca.pem`,
      CORTEX_DURABILITY: "jetstream",
      CORTEX_STREAM_REPLICAS: "3",
      CORTEX_DASHBOARD: "off",
      CORTEX_ECHO_MIN_MS: "5",
      CORTEX_ECHO_MAX_MS: "5",
    });
    await using scheduler = startTask("scheduler", [], env("scheduler"));
    await scheduler.waitFor(/serving sys\.job\.submit/, 60_000);
    // The only worker, on the leaf node, without TLS (loopback: a CA
    // given would make the client ask for TLS).
    await using worker = startTask(
      "worker:echo",
      [],
      { ...env("worker", `nats://127.0.0.1:${leafPort}`), NATS_CA: "" },
    );
    await worker.waitFor(/taking/, 30_000);
    const run = await runTask(
      "submit",
      ["--count", "50", "--concurrency", "10", "--timeout", "60s"],
      env("client"),
    );
    assertEquals(run.code, 0, run.stdout + run.stderr);
    assertMatch(run.stdout, /50 COMPLETED/);
    assertOk(
      worker.lines.some((l) => /taking job\.echo from stream/.test(l)),
      worker.lines.join("\n"),
    );

    // Every node serves its monitoring endpoint, and each holds a replica
    // of CortexOS's streams (3 replicas over 3 nodes).
    for (const p of ports) {
      const jsz = await (await fetch(
        `http://127.0.0.1:${p.monitor}/jsz?streams=true`,
      )).json();
      assertOk(
        (jsz.streams ?? 0) >= 4,
        `node on ${p.client} holds ${jsz.streams} streams`,
      );
    }
  } finally {
    for (const node of nodes) {
      try {
        node.kill("SIGTERM");
      } catch { /* gone */ }
      await node.status;
    }
    await Deno.remove(etc, { recursive: true }).catch(() => {});
  }
});
