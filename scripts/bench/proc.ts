/**
 * What the benchmark reads about a process from Linux's `/proc`: CPU time
 * (`/proc/<pid>/stat` utime + stime) and memory (`/proc/<pid>/status`
 * VmRSS and VmHWM, the resident set now and at its peak).
 *
 * @module
 */
import { cpuUsage } from "node:process";

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ: 100 on Linux). */
export const CLOCK_TICKS = 100;

/** CPU seconds (user + system, all threads) from a `/proc/<pid>/stat` line. */
export function parseCpuSeconds(stat: string): number {
  // The command name (field 2) may hold spaces and parentheses: fields are
  // counted from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`not a /proc/<pid>/stat line: ${stat.slice(0, 80)}`);
  }
  return (utime + stime) / CLOCK_TICKS;
}

/** Resident memory of a process, in bytes. */
export interface Memory {
  /** VmRSS: resident now. */
  rss: number;
  /** VmHWM: the peak resident set since the process started. */
  hwm: number;
}

/** VmRSS and VmHWM from a `/proc/<pid>/status` text. */
export function parseMemory(status: string): Memory {
  const kb = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
    if (!match) throw new Error(`no ${name} in /proc/<pid>/status`);
    return Number(match[1]) * 1024;
  };
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

/**
 * The text of `/proc/<pid>/<file>` for each pid, in order.
 *
 * Deno grants `/proc/<pid>/…` only with --allow-all, so the files are read
 * by `cat` (the benchmark runs with `--allow-run=…,cat` instead).
 */
export function readProc(pids: number[], file: string): Promise<string[]> {
  return readFiles(pids.map((pid) => `/proc/${pid}/${file}`));
}

/** The text of each of `paths`, read by `cat` (see {@linkcode readProc}). */
export async function readFiles(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    const { code, stdout, stderr } = await new Deno.Command("cat", {
      args: [path],
    }).output();
    if (code !== 0) {
      throw new Error(
        `cannot read ${path}: ${new TextDecoder().decode(stderr)}`,
      );
    }
    out.push(new TextDecoder().decode(stdout));
  }
  return out;
}

/** CPU seconds used by each of `pids` so far; "self" is this process. */
export async function cpuSeconds(
  pids: (number | "self")[],
): Promise<number[]> {
  const others = pids.filter((p): p is number => p !== "self");
  const stats = await readProc(others, "stat");
  let k = 0;
  return pids.map((pid) => {
    if (pid !== "self") return parseCpuSeconds(stats[k++]);
    const used = cpuUsage();
    return (used.user + used.system) / 1e6;
  });
}

/** The resident memory of process `pid` now. */
export async function memory(pid: number): Promise<Memory> {
  return parseMemory((await readProc([pid], "status"))[0]);
}

/**
 * Measures the CPU several processes use over a window: `start()` then
 * `stop()` gives each one's share of a core (1.0 = one core busy).
 */
export class CpuWindow {
  readonly #names: string[];
  readonly #pids: (number | "self")[];
  #start: number[] = [];
  #startedAt = 0;

  constructor(pids: Record<string, number | "self">) {
    this.#names = Object.keys(pids);
    this.#pids = Object.values(pids);
  }

  async start(): Promise<void> {
    this.#start = await cpuSeconds(this.#pids);
    this.#startedAt = performance.now();
  }

  /** Each process's CPU use since `start()`, in cores. */
  async stop(): Promise<Record<string, number>> {
    const seconds = (performance.now() - this.#startedAt) / 1000;
    const now = await cpuSeconds(this.#pids);
    const out: Record<string, number> = {};
    this.#names.forEach((name, i) => {
      const used = now[i] - this.#start[i];
      out[name] = seconds > 0 ? used / seconds : 0;
    });
    return out;
  }
}
