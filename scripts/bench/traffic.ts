/**
 * Scenario 1's two CortexOS drivers (the SDK's `submitMany` and the raw
 * driver) in alternating rounds on one scheduler and two echo workers, with
 * the socket system calls each process makes per job, counted by
 * `perf stat` on the kernel's syscall tracepoints (no slowdown, unlike
 * strace): whether a driver changes how jobs bunch into socket writes, and
 * so what every process downstream pays per job. Needs `perf` and root (or
 * `perf_event_paranoid` ≤ 1); `--no-perf` measures CPU only.
 *
 * ```sh
 * deno run --no-prompt --allow-run=deno,nats-server,cat,perf --allow-net=127.0.0.1 --allow-write=/tmp --allow-env=CORTEX_NATS_SERVER scripts/bench/traffic.ts [jobs] [rounds] [warm-up jobs] [--no-perf] [--raw-first]
 * # 20,000 jobs, 4 rounds, 40,000 warm-up jobs through each driver (0: none,
 * # and the first round runs on cold processes)
 * ```
 *
 * @module
 */
import { connect } from "@nats-io/transport-node";
import { startNatsServer } from "../support/nats_server.ts";
import { Cortex } from "./cluster.ts";
import { figures } from "./load.ts";
import { CpuWindow } from "./proc.ts";
import {
  loadOf,
  ping,
  rawCortex,
  rawCortexDriver,
  type Runner,
} from "./runs.ts";

const CALLS = [
  "write",
  "writev",
  "sendto",
  "sendmsg",
  "read",
  "readv",
  "recvfrom",
  "recvmsg",
  "epoll_wait",
  "epoll_pwait",
  "futex",
];
const TRACEPOINT = "syscalls:sys_enter_";

/** Starts counting the system calls of `pid`; the counts come when stopped. */
function countCalls(pid: number): () => Promise<Record<string, number>> {
  const child = new Deno.Command("perf", {
    args: [
      "stat",
      "-x",
      ",",
      "-e",
      CALLS.map((c) => TRACEPOINT + c).join(","),
      "-p",
      String(pid),
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  return async () => {
    child.kill("SIGINT");
    const text = new TextDecoder().decode((await child.output()).stderr);
    const counts: Record<string, number> = {};
    for (const line of text.split("\n")) {
      const [count, , event] = line.split(",");
      if (event?.startsWith(TRACEPOINT) && Number(count) > 0) {
        counts[event.slice(TRACEPOINT.length)] = Number(count);
      }
    }
    return counts;
  };
}

const flags = Deno.args.filter((a) => a.startsWith("--"));
const [jobs = 20_000, rounds = 4, warmup = 40_000] = Deno.args
  .filter((a) => !a.startsWith("--")).map(Number);
const perf = !flags.includes("--no-perf");

const nats = await startNatsServer();
const nc = await connect({ servers: nats.url, name: "bench-client" });
const cortex = await Cortex.start(nats);
try {
  const pids: Record<string, number> = {
    client: Deno.pid,
    nats: nats.pid,
    ...cortex.pids(),
  };
  const drivers: { name: string; run: Runner }[] = [
    { name: "SDK submitMany", run: (l) => rawCortex(nc, l) },
    { name: "raw driver", run: (l) => rawCortexDriver(nc, l) },
  ];
  if (flags.includes("--raw-first")) drivers.reverse();
  for (const d of drivers) {
    await ping(d.name, async (l) => figures(await d.run(l)));
    if (warmup > 0) await d.run(loadOf(warmup, 100));
  }
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < drivers.length; k++) {
      const d = drivers[round % 2 === 0 ? k : drivers.length - 1 - k];
      const stops = perf
        ? Object.entries(pids).map(([name, pid]) =>
          [name, countCalls(pid)] as const
        )
        : [];
      // perf attaches to the processes' threads before the run starts.
      if (perf) await new Promise((r) => setTimeout(r, 300));
      const window = new CpuWindow({ ...pids, client: "self" });
      await window.start();
      const r = figures(await d.run(loadOf(jobs, 100)));
      const cores = await window.stop();
      const us = Object.entries(cores).map(([name, c]) =>
        `${name} ${Math.round(c / r.jobs_per_s * 1e6)}`
      );
      console.log(
        `round ${
          round + 1
        }, ${d.name}: ${r.jobs_per_s} jobs/s, p50 ${r.p50_ms} ms, ${r.missing} missing; CPU µs a job: ${
          us.join(", ")
        }`,
      );
      for (const [name, stop] of stops) {
        const perJob = Object.entries(await stop()).map(([call, n]) =>
          `${call} ${(n / r.completed).toFixed(3)}`
        );
        console.log(`  ${name}, calls a job: ${perJob.join(", ")}`);
      }
    }
  }
} finally {
  await nc.close();
  await cortex.stop();
  await nats.stop();
}
