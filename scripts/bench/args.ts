/**
 * The benchmark's command line and the sizes of a full and a quick run.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** The benchmark's `--help` text. */
export const USAGE = `Measure CortexOS against raw NATS baselines, in one run.

usage: deno task bench [--quick] [--only core|durable|operator] [--json [FILE]]
                        [--profile DIR]

  --quick         every scenario small (seconds), e.g. for tests
  --only PART     run only the core-mode scenarios (1-5), only the durable
                  ones (d1-d3, each with its JetStream floor, then the
                  cluster's c1-c3) or only the operator's (o1 search through
                  100,000 jobs, o2 a bulk retry of 10,000 dead letters);
                  default: all three
  --json [FILE]   write the results as one JSON document to FILE (relative
                  to the project root), or to standard output (the table then
                  goes to standard error)
  --profile DIR   run the scheduler and workers of scenarios 1, 2, 5, d1 and d2 with
                  --cpu-prof, writing .cpuprofile files to DIR
  --help          this text`;

/** The sizes of one run. */
export interface Sizes {
  warmup: number;
  /** Scenario 1 runs this many interleaved rounds of its jobs per system (even: every other round runs in reverse order). */
  rounds: number;
  /** Scenario 2 splits its jobs into this many interleaved rounds. */
  latencyRounds: number;
  throughputJobs: number;
  inflight: number;
  latencyJobs: number;
  fleetWorkers: number;
  fleetJobs: number;
  historyCheckpoints: number[];
  historyTableSize: number;
  sseClients: number;
  sseProbes: number;
  sseJobs: number;
  /** Durable d1: jobs per round (rounds as scenario 1's). */
  durableJobs: number;
  /** Durable d2: jobs one at a time (rounds as scenario 2's). */
  durableLatencyJobs: number;
  /** Durable d3: scheduler memory read after this many durable jobs. */
  durableHistoryCheckpoints: number[];
  /** o1: finished jobs written into the ledger before searching it. */
  searchJobs: number;
  /** o1: times each search is made. */
  searchRepeat: number;
  /** o2: dead letters written into the ledger, then retried in bulk. */
  bulkJobs: number;
  /** o2: other jobs outstanding at once while measuring. */
  bulkInflight: number;
  /** o2: other jobs per measuring run. */
  bulkRunJobs: number;
  /** o2: measuring runs before and after the bulk retry (each). */
  bulkRuns: number;
}

/** A full run: the sizes `docs/performance.md` reports. */
export const FULL: Sizes = {
  warmup: 3_000,
  rounds: 4,
  latencyRounds: 4,
  throughputJobs: 20_000,
  inflight: 100,
  latencyJobs: 2_000,
  fleetWorkers: 1_000,
  fleetJobs: 20_000,
  historyCheckpoints: [20_000, 100_000, 200_000],
  historyTableSize: 10_000,
  sseClients: 50,
  sseProbes: 5,
  sseJobs: 20_000,
  durableJobs: 20_000,
  durableLatencyJobs: 2_000,
  durableHistoryCheckpoints: [20_000, 100_000, 200_000],
  searchJobs: 100_000,
  searchRepeat: 20,
  bulkJobs: 10_000,
  bulkInflight: 50,
  bulkRunJobs: 500,
  bulkRuns: 8,
};

/** `--quick`: every scenario small (seconds), e.g. for tests. */
export const QUICK: Sizes = {
  warmup: 300,
  rounds: 1,
  latencyRounds: 1,
  throughputJobs: 2_000,
  inflight: 100,
  latencyJobs: 200,
  fleetWorkers: 200,
  fleetJobs: 2_000,
  historyCheckpoints: [2_000, 6_000, 10_000],
  historyTableSize: 1_000,
  sseClients: 10,
  sseProbes: 2,
  sseJobs: 2_000,
  durableJobs: 2_000,
  durableLatencyJobs: 200,
  durableHistoryCheckpoints: [1_000, 2_000, 4_000],
  searchJobs: 2_000,
  searchRepeat: 3,
  bulkJobs: 500,
  bulkInflight: 50,
  bulkRunJobs: 100,
  bulkRuns: 4,
};

/** What the command line asks for. */
export interface BenchArgs {
  /** `--quick`: run {@linkcode QUICK} instead of {@linkcode FULL}. */
  quick: boolean;
  /** `--json [FILE]`: write JSON, to `file` or (without one) to standard output. */
  json: { file?: string } | undefined;
  /** `--profile DIR`: where the processes write their CPU profiles. */
  profile?: string;
  /** `--only core|durable|operator`: run one part of the scenarios; all when absent. */
  only?: BenchPart;
}

/**
 * The parts of the benchmark: core mode (1–5), durable mode (d1–d3, c1–c3)
 * and the operator's searches and bulk actions (o1–o2).
 */
export type BenchPart = "core" | "durable" | "operator";

/** Every part, in the order a full run runs them. */
export const PARTS: readonly BenchPart[] = ["core", "durable", "operator"];

/**
 * Parses the benchmark's flags (see {@linkcode USAGE}); `--json` takes an
 * optional FILE, as the next argument or after `=`.
 *
 * @throws {TypeError} on an unknown flag, a stray argument, a missing value
 * or an `--only` that names no part.
 * @example
 * ```ts
 * parseBenchArgs(["--quick", "--json", "out.json"]);
 * // { quick: true, json: { file: "out.json" } }
 * ```
 */
export function parseBenchArgs(argv: string[]): BenchArgs | "help" {
  // parseArgs has no optional values: `--json=FILE` becomes `--json FILE`,
  // and a positional right after `--json` is its FILE.
  const args = argv.flatMap((a) =>
    a.startsWith("--json=") ? ["--json", a.slice("--json=".length)] : [a]
  );
  const { values, tokens } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    tokens: true,
    options: {
      quick: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      profile: { type: "string" },
      only: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";
  const only = values.only;
  if (only !== undefined && !PARTS.includes(only as BenchPart)) {
    throw new TypeError(
      `--only takes core, durable or operator, not ${only}`,
    );
  }
  let file: string | undefined;
  tokens.forEach((token, i) => {
    if (token.kind !== "positional") return;
    const before = tokens[i - 1];
    if (before?.kind === "option" && before.name === "json") file = token.value;
    else throw new TypeError(`unknown argument ${token.value}`);
  });
  return {
    quick: values.quick,
    json: values.json ? { file } : undefined,
    profile: values.profile,
    only: only as BenchPart | undefined,
  };
}
