/**
 * `deno task worker <file>` against a real nats-server and scheduler: the
 * SHA-256 example, and worker files outside the project whose header
 * declares what they may do; Deno denies anything else.
 */
import { connect } from "../../mod.ts";
import { ROOT } from "../../scripts/permissions.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { runTask, startTask } from "../processes.ts";
import { assertEquals, assertMatch } from "../assert.ts";

Deno.test("worker file: sha256, and a file outside the project gets exactly what it declares", async () => {
  await using nats = await startNatsServer();
  const env = { NATS_URL: nats.url, CORTEX_DASHBOARD: "off" };
  await using scheduler = startTask("scheduler", [], env);
  await scheduler.waitFor(/serving sys\.job\.submit/, 60_000);

  // A local HTTP server the outside file declares; a port it does not.
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(null, { status: 204 }),
  );
  const declared = `127.0.0.1:${server.addr.port}`;
  const dir = await Deno.makeTempDir({ prefix: "cortex-worker-file-" });
  const secret = `${dir}/secret.txt`;
  await Deno.writeTextFile(secret, "not yours");
  // The HTTP checker example, with its header naming the test's server.
  const example = await Deno.readTextFile(`${ROOT}/examples/http_check.ts`);
  const file = `${dir}/checker.ts`;
  await Deno.writeTextFile(
    file,
    example
      .replace(
        /^\/\/ @cortex-permissions .*$/m,
        `// @cortex-permissions {"net": ["${declared}"]}`,
      )
      .replace('from "../mod.ts"', `from "${ROOT}/mod.ts"`) +
      // A second topic trying what it did not declare: a file, and a host
      // its own check would refuse, reached without the check.
      `\nawait cortex.worker("job.sneak", async (job) => {
  const what = job.text();
  if (what === "read") return await Deno.readTextFile(${
        JSON.stringify(secret)
      });
  return (await fetch(what)).status;
});\n`,
  );

  await using sha = startTask("worker", ["examples/sha256.ts"], env);
  await sha.waitFor(
    /permissions held: read=none write=none net=127\.0\.0\.1:\d+ env=/,
  );
  await using outside = startTask("worker", [file], env);
  const held = await outside.waitFor(/permissions held:/);
  assertMatch(held, new RegExp(`net=127\\.0\\.0\\.1:\\d+,${declared} `));
  assertMatch(held, /read=none write=none/);
  await sha.waitFor(/taking job\.sha256/, 60_000);
  await outside.waitFor(/taking job\.sneak/, 60_000);

  const cortex = await connect({ servers: nats.url });
  try {
    const hashed = await cortex.submit("job.sha256", "hello", {
      timeoutMs: 30_000,
    });
    assertEquals(hashed.status, "COMPLETED");
    assertEquals(
      hashed.text(),
      "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    );

    const ok = await cortex.submit("job.http_check", `http://${declared}/`, {
      timeoutMs: 30_000,
    });
    assertEquals(ok.status, "COMPLETED", ok.error);
    assertEquals(ok.json<{ status: number }>().status, 204);

    // Not declared (nor the bus): Deno denies it before connecting.
    const other = `http://127.0.0.1:${
      server.addr.port === 8081 ? 8082 : 8081
    }/`;
    const refused = await cortex.submit("job.http_check", other, {
      timeoutMs: 30_000,
    });
    assertEquals(refused.status, "FAILED");
    assertMatch(refused.error, /is not declared/);

    const fetched = await cortex.submit("job.sneak", other, {
      timeoutMs: 30_000,
    });
    assertEquals(fetched.status, "FAILED");
    assertMatch(fetched.error, /NotCapable|Requires net access/);
    const read = await cortex.submit("job.sneak", "read", {
      timeoutMs: 30_000,
    });
    assertEquals(read.status, "FAILED");
    assertMatch(read.error, /NotCapable|Requires read access/);
  } finally {
    await cortex.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("worker file: a bad header exits 2 with a clear message", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cortex-worker-file-" });
  try {
    const file = `${dir}/bad.ts`;
    await Deno.writeTextFile(file, '// @cortex-permissions {"run": ["sh"]}\n');
    const { code, stderr } = await runTask("worker", [file], {
      NATS_URL: "nats://127.0.0.1:1",
    });
    assertEquals(code, 2);
    assertMatch(stderr, /bad\.ts: @cortex-permissions: unknown key "run"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("worker file: Ctrl-C drains it (the job in flight finishes, the worker leaves) with no signal handling in the file", async () => {
  await using nats = await startNatsServer();
  const env = { NATS_URL: nats.url, CORTEX_DASHBOARD: "off" };
  await using scheduler = startTask("scheduler", [], env);
  await scheduler.waitFor(/serving sys\.job\.submit/, 60_000);
  const dir = await Deno.makeTempDir({ prefix: "cortex-worker-file-" });
  const file = `${dir}/slow.ts`;
  await Deno.writeTextFile(
    file,
    `import { connect } from "${ROOT}/mod.ts";
const cortex = await connect();
await cortex.worker("job.slow", async (job) => {
  job.log.info("started {id}", { id: job.id });
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  return "finished " + job.text();
}, { id: "slow-1" });
`,
  );
  await using worker = startTask("worker", [file], env);
  await worker.waitFor(/taking job\.slow/, 60_000);
  await scheduler.waitFor(/worker slow-1 \(slow\) joined/);

  const cortex = await connect({ servers: nats.url });
  try {
    const outcome = cortex.submit("job.slow", "one", { timeoutMs: 30_000 });
    await worker.waitFor(/started /);
    worker.kill("SIGINT");
    const done = await outcome;
    assertEquals([done.status, done.text()], ["COMPLETED", "finished one"]);
    assertEquals(done.attempts, 1);
    assertEquals((await worker.status).code, 0);
    await worker.waitFor(/SIGINT: shutting down/);
    await scheduler.waitFor(/worker slow-1 \(slow\) left/);
  } finally {
    await cortex.close();
    await Deno.remove(dir, { recursive: true });
  }
});
