/**
 * `deno task chaos`: real processes through real faults. For each fault a
 * fresh stack (nats-server with JetStream, a durable scheduler, echo
 * workers) serves the submit CLI waiting for every job, the fault strikes
 * once a quarter of the jobs are done, and the table says per fault how
 * many jobs were accepted, completed, lost and run twice, and how long
 * clients went without a result.
 *
 *   deno task chaos                  every fault, 2,000 jobs each
 *   deno task chaos --quick          every fault, 300 jobs each (in deno task test)
 *   deno task chaos --jobs N --only worker,flaky --json FILE --verbose
 *
 * Exit code 0 when no accepted job was lost or run twice, 1 otherwise.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type Fault, type FaultReport, runFault } from "./chaos/run.ts";

const FAULTS: Fault[] = [
  {
    name: "worker",
    workers: 2,
    strike: (stack) => stack.crashWorker(0),
  },
  {
    name: "scheduler",
    workers: 2,
    strike: (stack) => stack.crashScheduler(2_000),
  },
  {
    name: "nats-server",
    workers: 2,
    strike: (stack) => stack.crashNats(1_000),
  },
  {
    name: "flaky",
    workers: 2,
    env: { CORTEX_ECHO_FAIL_RATE: "0.5" },
    submitArgs: ["--max-attempts", "8"],
  },
];

const USAGE =
  `usage: deno task chaos [--quick] [--jobs N] [--only a,b] [--json FILE] [--verbose]
faults: ${FAULTS.map((f) => f.name).join(", ")}`;

function table(reports: FaultReport[]): string {
  const header = [
    "fault",
    "jobs",
    "accepted",
    "completed",
    "failed",
    "lost",
    "run twice",
    "retried",
    "longest gap s",
    "run s",
  ];
  const rows = reports.map((r) =>
    [
      r.fault,
      r.jobs,
      r.accepted,
      r.completed,
      r.failed,
      r.lost,
      r.twice,
      r.retried,
      r.recoverS === null ? "-" : r.recoverS.toFixed(2),
      r.seconds.toFixed(1),
    ].map(String)
  );
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i].length))
  );
  return [header, ...rows].map((cells) =>
    cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))
      .join("  ")
  ).join("\n");
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      strict: true,
      options: {
        quick: { type: "boolean", default: false },
        jobs: { type: "string" },
        only: { type: "string" },
        json: { type: "string" },
        verbose: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    console.error(`chaos: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const jobs = Number(values.jobs ?? (values.quick ? 300 : 2_000));
  if (!Number.isInteger(jobs) || jobs < 4 || jobs > 100_000) {
    console.error(
      `chaos: --jobs ${values.jobs}: expected 4 to 100000\n${USAGE}`,
    );
    return 2;
  }
  const only = values.only?.split(",").map((s) => s.trim());
  const faults = only ? FAULTS.filter((f) => only.includes(f.name)) : FAULTS;
  if (only && faults.length !== only.length) {
    console.error(`chaos: --only ${values.only}: unknown fault\n${USAGE}`);
    return 2;
  }
  const log = values.verbose ? (line: string) => console.log(line) : undefined;
  const reports: FaultReport[] = [];
  for (const fault of faults) {
    console.log(`chaos: ${fault.name}, ${jobs} jobs…`);
    reports.push(await runFault(fault, jobs, log));
  }
  console.log(`\n${table(reports)}`);
  if (values.json) {
    await Deno.writeTextFile(values.json, JSON.stringify(reports, null, 2));
  }
  return reports.some((r) => r.lost > 0 || r.twice > 0) ? 1 : 0;
}

Deno.exit(await main());
