/**
 * The history's files (here rather than in tests/unit for the file
 * system): one per scheduler name, never shared, emptied when opened and
 * deleted when closed; the last test with real schedulers.
 */
import { DatabaseSync } from "node:sqlite";
import { assertEquals, assertOk, assertStrictEquals } from "../assert.ts";
import {
  HISTORY_FILES_PER_NAME,
  HistoryFileError,
  historyFileName,
  openHistoryStore,
} from "../../src/scheduler/history_file.ts";
import type { HistoryStore } from "../../src/scheduler/history_store.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { dashboardUrl, runTask, startTask } from "../processes.ts";

const row = (jobId: string, at: number) => ({
  summary: {
    jobId,
    topic: "job.echo",
    state: "COMPLETED" as const,
    priority: "unspecified",
    workerId: "w1",
    executionMs: 1,
    roundTripMs: null,
    submittedAt: at,
    finishedAt: at + 1,
    error: "",
  },
  text: { payload: "", output: "", workers: null, errors: null },
});

const ids = (jobs: { jobId: string }[]) => jobs.map((j) => j.jobId);

Deno.test("history files: one per scheduler name, a second scheduler of the same name gets the next, a closed one is deleted", () => {
  const dir = Deno.makeTempDirSync();
  const a = openHistoryStore(`${dir}/history`, "scheduler");
  const b = openHistoryStore(`${dir}/history`, "scheduler");
  const c = openHistoryStore(`${dir}/history`, "dev-scheduler-1");
  assertEquals(
    [a.path, b.path, c.path],
    [
      `${dir}/history/scheduler.sqlite`,
      `${dir}/history/scheduler-2.sqlite`,
      `${dir}/history/dev-scheduler-1.sqlite`,
    ],
  );
  // b's file is locked: opening it directly is refused, not shared.
  const intruder = new DatabaseSync(b.path);
  let refused = "";
  try {
    intruder.exec("SELECT count(*) FROM jobs");
  } catch (error) {
    refused = (error as Error).message;
  }
  intruder.close();
  assertEquals(refused, "database is locked");
  a.close();
  assertOk(!existsSync(a.path));
  // The name is free again: the next scheduler of it takes it.
  const d = openHistoryStore(`${dir}/history`, "scheduler");
  assertStrictEquals(d.path, a.path);
  for (const s of [b, c, d]) s.close();
  assertEquals([...Deno.readDirSync(`${dir}/history`)], []);
  assertStrictEquals(historyFileName("../etc/pass wd"), "__etc_pass_wd");
  assertStrictEquals(historyFileName(""), "scheduler");
});

Deno.test("history files: when every file of a name is in use, the error says what to do", () => {
  const dir = Deno.makeTempDirSync();
  const open: HistoryStore[] = [];
  try {
    for (let i = 0; i < HISTORY_FILES_PER_NAME; i++) {
      open.push(openHistoryStore(dir, "s"));
    }
    let error: unknown;
    try {
      openHistoryStore(dir, "s");
    } catch (e) {
      error = e;
    }
    assertOk(error instanceof HistoryFileError);
    assertOk(/CORTEX_SCHEDULER_ID or CORTEX_HISTORY_DIR/.test(error.message));
  } finally {
    for (const s of open) s.close();
  }
});

Deno.test("history files: a file left by a killed scheduler is emptied; one that is not a database is replaced", () => {
  const dir = Deno.makeTempDirSync();
  // What a scheduler killed with SIGKILL leaves: a file with jobs in it.
  const left = new DatabaseSync(`${dir}/scheduler.sqlite`);
  left.exec("CREATE TABLE jobs (job_id TEXT); INSERT INTO jobs VALUES ('x')");
  left.close();
  const store = openHistoryStore(dir, "scheduler");
  assertStrictEquals(store.size, 0);
  assertEquals(store.search({}, 10), []);
  store.write([row("fresh", 1)]);
  assertEquals(ids(store.search({}, 10)), ["fresh"]);
  store.close();
  Deno.writeTextFileSync(`${dir}/other.sqlite`, "not a database at all");
  const replaced = openHistoryStore(dir, "other");
  replaced.write([row("a", 1)]);
  assertStrictEquals(replaced.size, 1);
  replaced.close();
});

Deno.test("history files: two real schedulers in one history folder each keep their own, search their own jobs, and leave none behind", async () => {
  await using nats = await startNatsServer();
  const dir = Deno.makeTempDirSync({ prefix: "cortex-history-" });
  const env = {
    NATS_URL: nats.url,
    CORTEX_DURABILITY: "none",
    CORTEX_DASHBOARD_PORT: "0",
    CORTEX_HISTORY_DIR: dir,
  };
  const kept = /dashboard history kept in (\S+)/;
  {
    await using first = startTask("scheduler", [], env);
    const firstFile = kept.exec(await first.waitFor(kept, 60_000))![1];
    await first.waitFor(/serving sys\.job\.submit/, 60_000);
    await using second = startTask("scheduler", [], env);
    const secondFile = kept.exec(await second.waitFor(kept, 60_000))![1];
    assertEquals([firstFile, secondFile], [
      `${dir}/scheduler.sqlite`,
      `${dir}/scheduler-2.sqlite`,
    ]);
    await using worker = startTask("worker:echo", [], {
      ...env,
      CORTEX_ECHO_MIN_MS: "0",
      CORTEX_ECHO_MAX_MS: "0",
    });
    await worker.waitFor(/taking job\.echo/, 60_000);
    const submit = await runTask(
      "submit",
      ["--count", "3", "--timeout", "30s"],
      { NATS_URL: nats.url },
    );
    assertEquals(submit.code, 0, submit.stdout + submit.stderr);
    // Core mode: each took some of the submissions (one queue group);
    // each searches its own file, and between them they hold all three.
    const seen = new Set<string>();
    for (const scheduler of [first, second]) {
      const url = await dashboardUrl(scheduler);
      const page = await (await fetch(`${url}/api/jobs?status=completed`))
        .json() as { jobs: { jobId: string }[] };
      for (const job of page.jobs) seen.add(job.jobId);
    }
    assertStrictEquals(seen.size, 3);
  }
  // Stopped: their files are gone with them.
  assertEquals([...Deno.readDirSync(dir)], []);
});

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
