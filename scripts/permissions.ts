/**
 * The Deno permissions of each CortexOS process, computed from the
 * configuration it will run with: net only to its NATS server(s) and own
 * listener, env only for the variables it reads, read only where it must.
 *
 * `launch.ts`, `dev.ts`, the benchmark and the tests all start processes with
 * these flags, so there is one definition of least privilege.
 *
 * @module
 */
import {
  envNames,
  hostPort,
  NATS_AUTH_FILE_SETTINGS,
  natsHostPorts,
  type Setting,
} from "../src/config.ts";
import { DEFAULT_DIST_DIR } from "../src/dashboard/assets.ts";
import { SCHEDULER_SETTINGS } from "../src/scheduler/config.ts";
import { WORKER_SETTINGS } from "../src/worker/config.ts";
import { SUBMIT_SETTINGS } from "../src/submit/config.ts";

/** A process the launcher can start. */
export type ProcessName = "scheduler" | "worker:echo" | "submit" | "worker";

/**
 * The entry module of each process, relative to the project root. A
 * `worker`'s entry is the file it is given (its first argument); this one
 * is only preloaded before it, to log what it holds.
 */
export const ENTRY: Record<ProcessName, string> = {
  "scheduler": "src/bin/scheduler.ts",
  "worker:echo": "src/bin/worker_echo.ts",
  "submit": "src/bin/submit.ts",
  "worker": "src/bin/worker_file.ts",
};

/**
 * V8 settings of each process, passed as `--v8-flags`.
 *
 * The scheduler allocates briskly (a decoded packet per submission and per
 * result) and keeps every job for a while in its bounded table. Left to its
 * defaults V8 grows the young generation to 16 MB per semi-space and the old
 * generation by up to 4x per collection, so the resident set climbed for
 * 100k+ jobs after the table was full (105 MB at 20k jobs, 184 MB at 200k
 * in `deno task bench` scenario 4) although what it holds stays the same.
 * Capping the semi-spaces at 8 MB and growing the old generation by 50 % at
 * a time keeps it flat (95 -> 101 MB over the same run) at a cost within the
 * benchmark's noise.
 */
export const V8_FLAGS: Record<ProcessName, string[]> = {
  "scheduler": ["--max-semi-space-size=8", "--heap-growing-percent=50"],
  "worker:echo": [],
  "submit": [],
  "worker": [],
};

/** The project root, as an absolute path. */
export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** The folder of the dashboard's built assets, which the scheduler reads (besides its history folder). */
export const DASHBOARD_DIST: string = DEFAULT_DIST_DIR;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * `--allow-net` entries for NATS: `host:port` each; a host name (not an IP
 * address) also needs the bare name, because Deno checks the DNS lookup
 * without a port.
 */
export function natsNet(natsUrl: string): string[] {
  const out = new Set<string>();
  for (const hostPort of natsHostPorts(natsUrl)) {
    out.add(hostPort);
    const host = hostPort.slice(0, hostPort.lastIndexOf(":"));
    if (!IPV4.test(host) && !host.startsWith("[")) out.add(host);
  }
  return [...out];
}

/**
 * The variables `launch.ts` reads to compute a process's flags: the
 * `--allow-env` of the `scheduler`, `worker:echo` and `submit` tasks.
 */
export const LAUNCH_ENV_NAMES: readonly string[] = [
  SCHEDULER_SETTINGS.natsUrl.env,
  SCHEDULER_SETTINGS.dashboard.env,
  SCHEDULER_SETTINGS.dashboardHost.env,
  SCHEDULER_SETTINGS.dashboardPort.env,
  SCHEDULER_SETTINGS.historyDir.env,
  ...NATS_AUTH_FILE_SETTINGS.map((s) => s.env),
];

/** What the flags depend on; read from the environment by default. */
export interface LaunchEnv {
  natsUrl: string;
  dashboard: boolean;
  dashboardHost: string;
  dashboardPort: number;
  /**
   * The folder of the dashboard's history (`CORTEX_HISTORY_DIR`): the one
   * place the scheduler may write, and only with its dashboard on.
   * Default: the setting's default.
   */
  historyDir?: string;
  /**
   * The credential files named by NATS_CREDS, NATS_NKEY, NATS_CA,
   * NATS_CERT and NATS_KEY: the process may read these (and no others
   * for NATS). Default none.
   */
  credentialFiles?: string[];
}

/**
 * A setting's value, or its default when it is unset or unusable: the
 * process started with these flags then says what is wrong with it.
 */
function lenient<T>(
  setting: Setting<T>,
  get: (name: string) => string | undefined,
): T {
  const raw = get(setting.env);
  if (!raw) return setting.default;
  try {
    return setting.parse(raw);
  } catch {
    return setting.default;
  }
}

/** The {@linkcode LaunchEnv} from the environment (with the processes' own defaults). */
export function launchEnv(
  get: (name: string) => string | undefined = (n) => Deno.env.get(n),
): LaunchEnv {
  return {
    natsUrl: get("NATS_URL") || SCHEDULER_SETTINGS.natsUrl.default,
    dashboard: lenient(SCHEDULER_SETTINGS.dashboard, get),
    dashboardHost: lenient(SCHEDULER_SETTINGS.dashboardHost, get),
    dashboardPort: lenient(SCHEDULER_SETTINGS.dashboardPort, get),
    historyDir: lenient(SCHEDULER_SETTINGS.historyDir, get),
    credentialFiles: credentialFiles(get),
  };
}

/** The files the NATS credential variables name, as set in the environment. */
export function credentialFiles(
  get: (name: string) => string | undefined = (n) => Deno.env.get(n),
): string[] {
  return NATS_AUTH_FILE_SETTINGS.map((s) => get(s.env)?.trim() ?? "")
    .filter(Boolean);
}

/**
 * The permissions a worker file declares beyond the bus (see
 * {@linkcode parseWorkerDeclaration}); each a list of Deno's scoped
 * entries. Relative paths are relative to the file's folder.
 */
export interface WorkerDeclaration {
  /** `host` or `host:port` entries for `--allow-net`. */
  net?: string[];
  /** Paths for `--allow-read`. */
  read?: string[];
  /** Paths for `--allow-write`. */
  write?: string[];
  /** Variable names for `--allow-env`. */
  env?: string[];
}

/** The keys a worker file may declare. */
export const DECLARABLE: readonly (keyof WorkerDeclaration)[] = [
  "net",
  "read",
  "write",
  "env",
];

/** The marker of a worker file's declaration line. */
export const DECLARATION_MARKER = "@cortex-permissions";

/** A worker file's declaration is not usable; the message says why. */
export class WorkerDeclarationError extends Error {
  /** `message` says what is wrong and how the header should look. */
  constructor(message: string) {
    super(message);
    this.name = "WorkerDeclarationError";
  }
}

/**
 * The permissions a worker file declares, read from its text without
 * running it: one line `// @cortex-permissions {"net": ["host:443"]}` in
 * the comments at the top of the file (before its first line of code).
 * Keys: `net`, `read`, `write`, `env`, each a list of strings; relative
 * `read` and `write` paths are resolved against `dir` (the file's folder).
 * No such line: `{}` (the bus and its settings only).
 *
 * @throws {WorkerDeclarationError} on bad JSON, an unknown key, a value that
 * is not a list of non-empty strings without commas, or two such lines.
 * @example
 * ```ts
 * parseWorkerDeclaration('// @cortex-permissions {"read": ["./data"]}\n', "/w");
 * // { read: ["/w/data"] }
 * ```
 */
export function parseWorkerDeclaration(
  text: string,
  dir: string,
): WorkerDeclaration {
  let found: string | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#!")) continue;
    // Only the leading comments count: a marker further down (in a string,
    // say) is not a declaration.
    if (!line.startsWith("//")) break;
    const at = line.indexOf(DECLARATION_MARKER);
    if (at < 0) continue;
    if (found !== undefined) {
      throw new WorkerDeclarationError(
        `${DECLARATION_MARKER} appears twice; declare everything in one line`,
      );
    }
    found = line.slice(at + DECLARATION_MARKER.length).trim();
  }
  if (found === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(found);
  } catch (error) {
    throw new WorkerDeclarationError(
      `${DECLARATION_MARKER}: not JSON (${
        (error as Error).message
      }); expected e.g. {"net": ["example.com:443"], "read": ["./data"]}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new WorkerDeclarationError(
      `${DECLARATION_MARKER}: expected a JSON object, e.g. {"net": ["example.com:443"]}`,
    );
  }
  const out: WorkerDeclaration = {};
  for (const [key, entries] of Object.entries(value)) {
    if (!(DECLARABLE as readonly string[]).includes(key)) {
      throw new WorkerDeclarationError(
        `${DECLARATION_MARKER}: unknown key ${JSON.stringify(key)}; known: ${
          DECLARABLE.join(", ")
        }`,
      );
    }
    if (
      !Array.isArray(entries) ||
      !entries.every((e) =>
        typeof e === "string" && e.trim() !== "" && !e.includes(",")
      )
    ) {
      throw new WorkerDeclarationError(
        `${DECLARATION_MARKER}: ${key} must be a list of non-empty strings without commas`,
      );
    }
    const k = key as keyof WorkerDeclaration;
    out[k] = k === "read" || k === "write"
      ? entries.map((p: string) => resolvePath(dir, p.trim()))
      : entries.map((e: string) => e.trim());
  }
  return out;
}

function resolvePath(dir: string, path: string): string {
  if (path.startsWith("/")) return path;
  const joined = `${dir.replace(/\/$/, "")}/${path}`;
  return new URL(`file://${joined}`).pathname.replace(/\/$/, "") || "/";
}

/** The `deno run` permission flags of `process`. */
export function permissionFlags(
  process: ProcessName,
  env: LaunchEnv,
  args: string[] = [],
  declared: WorkerDeclaration = {},
): string[] {
  const net = natsNet(env.natsUrl);
  const flags = ["--no-prompt"];
  const read = [...(env.credentialFiles ?? [])];
  const write: string[] = [];
  switch (process) {
    case "scheduler": {
      if (env.dashboard) {
        net.push(hostPort(env.dashboardHost, env.dashboardPort));
        read.push(DASHBOARD_DIST);
        // The history's SQLite file (SQLite opens it for both).
        const history = env.historyDir ?? SCHEDULER_SETTINGS.historyDir.default;
        read.push(history);
        write.push(history);
      }
      flags.push(`--allow-env=${envNames(SCHEDULER_SETTINGS).join(",")}`);
      break;
    }
    case "worker:echo":
      flags.push(`--allow-env=${envNames(WORKER_SETTINGS).join(",")}`);
      break;
    case "submit": {
      flags.push(`--allow-env=${envNames(SUBMIT_SETTINGS).join(",")}`);
      read.push(...payloadFiles(args));
      break;
    }
    case "worker": {
      // The SDK reads the worker settings (NATS_URL, the credentials,
      // CORTEX_DURABILITY, logging); the preload reads the declaration.
      const names = [
        ...envNames(WORKER_SETTINGS),
        WORKER_DECLARED_ENV,
        ...(declared.env ?? []),
      ];
      flags.push(`--allow-env=${[...new Set(names)].join(",")}`);
      net.push(...(declared.net ?? []));
      read.push(...(declared.read ?? []));
      write.push(...(declared.write ?? []));
      break;
    }
  }
  if (read.length > 0) flags.push(`--allow-read=${read.join(",")}`);
  if (write.length > 0) flags.push(`--allow-write=${write.join(",")}`);
  flags.push(`--allow-net=${net.join(",")}`);
  return flags;
}

/** The files a submit command line names with `--payload-file`. */
function payloadFiles(args: string[]): string[] {
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--payload-file" && args[i + 1]) files.push(args[++i]);
    else if (args[i].startsWith("--payload-file=")) {
      files.push(args[i].slice("--payload-file=".length));
    }
  }
  return files;
}

/**
 * The variable through which the launcher tells a worker file's preload
 * what the file declared, so its `permissions held` line covers it.
 */
export const WORKER_DECLARED_ENV = "CORTEX_WORKER_DECLARED";

/**
 * The whole `deno run …` argument list that starts `process`. For
 * `worker`, `args[0]` is the worker file (an absolute path), run with the
 * project's `deno.json` (so a file outside the project resolves the SDK's
 * imports) after the logging preload; `declared` is what it declares.
 */
export function denoArgs(
  process: ProcessName,
  env: LaunchEnv,
  args: string[] = [],
  declared: WorkerDeclaration = {},
): string[] {
  const v8 = V8_FLAGS[process];
  const flags = [
    "run",
    ...permissionFlags(process, env, args, declared),
    ...(v8.length > 0 ? [`--v8-flags=${v8.join(",")}`] : []),
  ];
  if (process === "worker") {
    const [file, ...rest] = args;
    return [
      ...flags,
      `--config=${ROOT}/deno.json`,
      `--preload=${ROOT}/${ENTRY.worker}`,
      file,
      ...rest,
    ];
  }
  return [...flags, `${ROOT}/${ENTRY[process]}`, ...args];
}
