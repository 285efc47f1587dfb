/**
 * The system under fault: a nats-server with JetStream, a durable scheduler
 * and echo workers, each a real process started as the README starts it
 * (`deno task …`), with ways to crash each the hard way (SIGKILL to the
 * `deno run` process itself, not its launcher, which would drain politely).
 *
 * @module
 */
import { type NatsServer, startNatsServer } from "../support/nats_server.ts";
import { descendantPid } from "../support/process_tree.ts";
import { startTask, type TaskProcess } from "../support/tasks.ts";

/** What a stack is started with. */
export interface StackOptions {
  /** Echo workers to start. */
  workers: number;
  /** Added to every process's environment (e.g. `CORTEX_ECHO_FAIL_RATE`). */
  env?: Record<string, string>;
  /** Called with every line a process writes, prefixed with its name. */
  onLine?: (line: string) => void;
}

/** A running stack. */
export interface Stack extends AsyncDisposable {
  /** The server's URL, for clients. */
  readonly natsUrl: string;
  /** The environment every CortexOS process of the stack runs with. */
  readonly env: Record<string, string>;
  /** Crashes the scheduler (SIGKILL) and starts it again after `downMs`. */
  crashScheduler(downMs: number): Promise<void>;
  /** Crashes worker `index` (SIGKILL); it is not restarted. */
  crashWorker(index: number): Promise<void>;
  /** Crashes nats-server (SIGKILL) and starts it again on its store after `downMs`. */
  crashNats(downMs: number): Promise<void>;
}

/** The environment of a durable stack on `natsUrl`, fast enough for a fault run. */
export function stackEnv(
  natsUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    NATS_URL: natsUrl,
    CORTEX_DURABILITY: "jetstream",
    CORTEX_DASHBOARD: "off",
    CORTEX_ECHO_MIN_MS: "5",
    CORTEX_ECHO_MAX_MS: "20",
    CORTEX_WORKER_CONCURRENCY: "8",
    CORTEX_ACK_WAIT_MS: "3000",
    CORTEX_RETRY_BASE_MS: "100",
    CORTEX_RETRY_MAX_MS: "1000",
    CORTEX_HEARTBEAT_MS: "1000",
    ...extra,
  };
}

async function crash(task: TaskProcess, entry: string): Promise<void> {
  const pid = await descendantPid(task.pid, entry);
  if (pid === undefined) {
    throw new Error(`no ${entry} process under ${task.name}`);
  }
  // Through kill(1): Deno.kill of a pid that is not our child needs every
  // run permission, `kill` needs only itself.
  await new Deno.Command("kill", { args: ["-KILL", String(pid)] }).output();
  await task.status;
}

/**
 * Starts nats-server, the scheduler and `workers` echo workers; resolves
 * when all serve.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const nats: NatsServer = await startNatsServer();
  const env = stackEnv(nats.url, options.env);
  const say = (name: string) => (line: string) =>
    options.onLine?.(`${name.padEnd(9)} | ${line}`);
  const startScheduler = async () => {
    const task = startTask("scheduler", [], env, { onLine: say("scheduler") });
    await task.waitFor(/durability: jetstream/, 30_000);
    await task.waitFor(/serving/, 30_000);
    return task;
  };
  let scheduler = await startScheduler();
  const workers: TaskProcess[] = [];
  for (let i = 0; i < options.workers; i++) {
    const worker = startTask("worker:echo", [], {
      ...env,
      CORTEX_WORKER_ID: `chaos-echo-${i + 1}`,
    }, { onLine: say(`worker${i + 1}`) });
    await worker.waitFor(/taking/, 30_000);
    workers.push(worker);
  }
  const stop = async () => {
    for (const task of [...workers, scheduler]) {
      task.kill("SIGTERM");
      await task.status;
    }
    await nats.stop();
  };
  return {
    natsUrl: nats.url,
    env,
    async crashScheduler(downMs) {
      await crash(scheduler, "src/bin/scheduler.ts");
      await new Promise((r) => setTimeout(r, downMs));
      scheduler = await startScheduler();
    },
    async crashWorker(index) {
      await crash(workers[index], "src/bin/worker_echo.ts");
    },
    async crashNats(downMs) {
      await nats.restart("SIGKILL", downMs);
    },
    [Symbol.asyncDispose]: stop,
  };
}
