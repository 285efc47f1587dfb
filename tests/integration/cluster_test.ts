/**
 * A three-node loopback JetStream cluster under load: the durable scheduler
 * and an echo worker on every node's URL, streams with three replicas, one
 * node SIGKILLed once a quarter of the results are in and restarted on its
 * store. Every job must complete exactly once, none missing, and every
 * process connected to the killed node must reconnect to another (the
 * time each took is reported, from their logs' lines).
 */
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNatsCluster } from "../../scripts/support/nats_server.ts";
import { startTask } from "../../scripts/support/tasks.ts";
import {
  connectedTo,
  type ConnectionEvent,
  reconnectsAfter,
  watchConnection,
} from "../../scripts/support/connections.ts";
import {
  ATTEMPT_STREAM,
  LEDGER_BUCKET,
  SUBMIT_STREAM,
  WORK_STREAM,
} from "../../src/bus/durable/layout.ts";
import { assertEquals, assertOk } from "../assert.ts";
import { watchLeaders } from "../cluster_leaders.ts";

const JOBS = 300;

Deno.test("a 3-node cluster loses no job when one node is SIGKILLed mid-load", async () => {
  const started = performance.now();
  await using cluster = await startNatsCluster({ size: 3 });
  const env = {
    NATS_URL: cluster.url,
    CORTEX_DURABILITY: "jetstream",
    CORTEX_STREAM_REPLICAS: "3",
    CORTEX_DASHBOARD: "off",
    CORTEX_ECHO_MIN_MS: "5",
    CORTEX_ECHO_MAX_MS: "5",
    CORTEX_ACK_WAIT_MS: "3000",
    CORTEX_RETRY_BASE_MS: "100",
    CORTEX_RETRY_MAX_MS: "1000",
    CORTEX_HEARTBEAT_MS: "1000",
  };
  const connections: ConnectionEvent[] = [];
  await using scheduler = startTask("scheduler", [], env, {
    onLine: watchConnection("scheduler", connections),
  });
  await scheduler.waitFor(/durability: jetstream/, 30_000);
  await scheduler.waitFor(/serving/, 30_000);
  await using worker = startTask("worker:echo", [], {
    ...env,
    CORTEX_WORKER_ID: "cluster-echo-1",
  }, { onLine: watchConnection("worker", connections) });
  await worker.waitFor(/taking/, 30_000);

  // Every stream and the ledger's bucket are replicated on all three nodes.
  const nc = await connect({ servers: cluster.url.split(",") });
  try {
    const jsm = await jetstreamManager(nc);
    for (
      const stream of [
        SUBMIT_STREAM,
        WORK_STREAM,
        ATTEMPT_STREAM,
        `KV_${LEDGER_BUCKET}`,
      ]
    ) {
      const info = await jsm.streams.info(stream);
      assertEquals(info.config.num_replicas, 3, stream);
    }
  } finally {
    await nc.close();
  }

  // The node killed: any one will do; the one the scheduler or the worker
  // is connected to (the most of them), so a process must move.
  const on = connectedTo(connections);
  const victim = [0, 1, 2].reduce((best, i) =>
    (on.get(cluster.nodes[i].port)?.length ?? 0) >
        (on.get(cluster.nodes[best].port)?.length ?? 0)
      ? i
      : best
  );
  const victimName = `cortex-${victim + 1}`;
  const survivors = cluster.nodes.filter((_, i) => i !== victim);

  // The submit CLI's per-job lines, and the victim killed once a quarter
  // of them are in.
  const outcomes = new Map<string, string[]>();
  const failures: string[] = [];
  let struck: Promise<void> | undefined;
  let struckAt = 0;
  let struckAtEpoch = 0;
  const leaders = await watchLeaders(survivors.map((node) => node.url));
  const submitConnection = watchConnection("submit", connections);
  let elected: Promise<number | undefined> | undefined;
  let caughtUp: Promise<number | undefined> | undefined;
  let lastLineAt = 0;
  let longestGap = 0;
  const submit = startTask(
    "submit",
    [
      "--count",
      String(JOBS),
      "--concurrency",
      "20",
      "--timeout",
      "120s",
      "--json",
    ],
    // Debug: the CLI shows warnings only at its default level, and its
    // connection's "connected" and "reconnected" lines are info.
    { ...env, CORTEX_LOG_LEVEL: "debug" },
    {
      onLine: (line) => {
        submitConnection(line);
        if (!line.startsWith("{")) return;
        const parsed = JSON.parse(line);
        if (parsed.summary || parsed.job_id === undefined) return;
        const now = performance.now();
        if (struckAt > 0) {
          longestGap = Math.max(
            longestGap,
            now - Math.max(lastLineAt, struckAt),
          );
        }
        lastLineAt = now;
        outcomes.set(parsed.job_id, [
          ...outcomes.get(parsed.job_id) ?? [],
          parsed.status,
        ]);
        if (parsed.status !== "COMPLETED") failures.push(line);
        if (!struck && outcomes.size >= JOBS / 4) {
          struckAt = now;
          struckAtEpoch = Date.now();
          struck = cluster.nodes[victim].restart("SIGKILL", 1_000).then(
            () => {
              caughtUp = leaders.caughtUp(
                victimName,
                performance.now(),
                30_000,
              );
            },
          );
          elected = leaders.settled(now, 30_000);
        }
      },
    },
  );
  const status = await submit.status;
  await struck;
  const electedMs = await elected;
  // A node that comes back catches up without operator action: within 30 s
  // of its restart it leads or is a current replica of every stream
  // (issue 13), watched from the restart on, under the load.
  const caughtUpMs = await caughtUp;
  await leaders.close();
  // JetStream's own part of the gap: the assets the killed node led have
  // no leader until nats-server elects another (4-9 s in 2.9).
  const led = [...leaders.before].filter(([, node]) => node === victimName)
    .map(([asset]) => asset);
  // Each process on the killed node: from the kill to the time its
  // "reconnected" line gives.
  const moved = [...reconnectsAfter(connections, struckAtEpoch)];
  const report = `jobs ${outcomes.size}; ${victimName} killed, ${
    moved.length === 0
      ? "no process was on it"
      : `reconnected after ${
        moved.map(([who, ms]) =>
          `${who} ${ms === undefined ? "never" : `${(ms / 1000).toFixed(3)} s`}`
        ).join(", ")
      }`
  }; longest gap after the kill ${
    (longestGap / 1000).toFixed(2)
  } s; the killed node led ${
    led.join(", ") || "nothing"
  }, every asset had a leader again ${
    electedMs === undefined ? "never" : `${(electedMs / 1000).toFixed(2)} s`
  } after it; back on every stream ${
    caughtUpMs === undefined
      ? "not within 30 s"
      : `${(caughtUpMs / 1000).toFixed(2)} s after its restart`
  }; whole test ${((performance.now() - started) / 1000).toFixed(1)} s`;
  console.log(report);
  assertOk(struck !== undefined, "the node was killed mid-load");
  assertOk(caughtUpMs !== undefined, `the node caught up: ${report}`);
  for (const [who, ms] of moved) {
    assertOk(ms !== undefined, `${who} reconnected: ${report}`);
  }
  assertEquals(outcomes.size, JOBS, report + "\n" + submit.lines.join("\n"));
  for (const [id, statuses] of outcomes) {
    assertEquals(statuses, ["COMPLETED"], `${id}: ${failures.join("\n")}`);
  }
  assertEquals(status.code, 0, submit.lines.join("\n"));
});
