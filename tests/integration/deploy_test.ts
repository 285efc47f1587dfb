/**
 * docs/deploy.md's cluster, started from its own files: three nats-server
 * nodes from deploy/nats/cluster.conf (copied as is, as an install would),
 * each with the environment deploy/nats/node.env describes (loopback
 * addresses and a temporary store substituted), TLS on client and route
 * connections from a throwaway CA, and the roles' nkeys from
 * `deno task nkeys`. A scheduler, a worker and the submit CLI, each with
 * its own role's seed over `tls://`, run jobs on it with streams of three
 * replicas.
 */
import { ROOT } from "../../scripts/permissions.ts";
import { freePort, waitForPort } from "../../scripts/support/ports.ts";
import { runTask, startTask } from "../processes.ts";
import { assertEquals, assertMatch, assertOk } from "../assert.ts";

/** The variables deploy/nats/node.env sets, every one of them. */
const NODE_ENV_NAMES = [
  "NATS_SERVER_NAME",
  "NATS_LISTEN",
  "NATS_MONITOR_LISTEN",
  "NATS_CLUSTER_LISTEN",
  "NATS_ROUTE_1",
  "NATS_ROUTE_2",
  "NATS_ROUTE_3",
  "NATS_STORE_DIR",
  "NATS_MAX_FILE_STORE",
];

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

Deno.test("deploy: three nodes from deploy/nats/cluster.conf (TLS, routes, nkeys) run jobs with streams of three replicas", async () => {
  const etc = await Deno.makeTempDir({ prefix: "cortex-deploy-" });
  const nodes: Deno.ChildProcess[] = [];
  try {
    // What an install does: the seeds and authorization.conf from
    // `deno task nkeys`, the certificates, cluster.conf copied beside them.
    const made = await runTask("nkeys", [etc]);
    assertEquals(made.code, 0, made.stderr);
    await makeCertificates(`${etc}/tls`);
    await Deno.copyFile(
      `${ROOT}/deploy/nats/cluster.conf`,
      `${etc}/cluster.conf`,
    );

    // node.env names every variable the test sets, and no other.
    const example = await Deno.readTextFile(`${ROOT}/deploy/nats/node.env`);
    const named = [...example.matchAll(/^([A-Z_0-9]+)=/gm)].map((m) => m[1]);
    assertEquals(named.sort(), [...NODE_ENV_NAMES].sort());

    const ports = [0, 1, 2].map(() => ({
      client: freePort(),
      route: freePort(),
      monitor: freePort(),
    }));
    const routes = Object.fromEntries(
      ports.map((
        p,
        i,
      ) => [`NATS_ROUTE_${i + 1}`, `nats-route://127.0.0.1:${p.route}`]),
    );
    ports.forEach((p, i) => {
      const env: Record<string, string> = {
        NATS_SERVER_NAME: `cortex-${i + 1}`,
        NATS_LISTEN: `127.0.0.1:${p.client}`,
        NATS_MONITOR_LISTEN: `127.0.0.1:${p.monitor}`,
        NATS_CLUSTER_LISTEN: `127.0.0.1:${p.route}`,
        ...routes,
        NATS_STORE_DIR: `${etc}/store-${i + 1}`,
        NATS_MAX_FILE_STORE: "1GB",
      };
      nodes.push(
        new Deno.Command(Deno.env.get("CORTEX_NATS_SERVER") ?? "nats-server", {
          // As deploy/systemd/nats-server.service runs it: in the
          // configuration's folder, which its relative paths start from.
          args: ["-c", "cluster.conf", "-l", `node-${i + 1}.log`],
          cwd: etc,
          env,
          stdin: "null",
          stdout: "null",
          stderr: "null",
        }).spawn(),
      );
    });
    for (const p of ports) await waitForPort(p.client);

    const natsUrl = ports.map((p) => `tls://127.0.0.1:${p.client}`).join(",");
    const env = (role: string) => ({
      NATS_URL: natsUrl,
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
    await using worker = startTask("worker:echo", [], env("worker"));
    await worker.waitFor(/taking/, 30_000);
    const run = await runTask(
      "submit",
      ["--count", "50", "--concurrency", "10", "--timeout", "60s"],
      env("client"),
    );
    assertEquals(run.code, 0, run.stdout + run.stderr);
    assertMatch(run.stdout, /50 COMPLETED/);

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
