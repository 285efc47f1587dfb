/**
 * Nobody on the bus without a role, proved against a real nats-server in
 * the configuration `deno task nkeys` writes: anonymous connections are
 * refused; the client's and the worker's nkeys are refused by the server
 * on the subjects their roles leave out; with each role's nkey the real
 * scheduler, echo worker and submit CLI complete jobs in core and durable
 * mode; and no secret reaches a log line or an error message.
 */
import { connect } from "@nats-io/transport-node";
import {
  type NatsConnection,
  PermissionViolationError,
} from "@nats-io/nats-core";
import { nkeys } from "@nats-io/nats-core";
import { ConfigError } from "../../src/config.ts";
import {
  authOptions,
  connectNats,
  type NatsAuth,
  NatsAuthError,
  NO_AUTH,
} from "../../src/bus/connect.ts";
import type { RoleName } from "../../src/bus/roles.ts";
import { Kvm } from "@nats-io/kv";
import { LEDGER_BUCKET, ledgerKey } from "../../src/bus/durable/layout.ts";
import { logger } from "../../src/log.ts";
import { ensureRoleNkeys, writeServerConfig } from "../../scripts/nkeys.ts";
import {
  type NatsServer,
  startNatsServer,
} from "../../scripts/support/nats_server.ts";
import { assertEquals, assertMatch, assertOk, eventually } from "../assert.ts";
import { runTask, startTask } from "../processes.ts";

const log = logger("test");

/** The message of the ConfigError `authOptions(a)` throws. */
async function fileRefusal(a: NatsAuth): Promise<string> {
  try {
    await authOptions(a, ["nats://127.0.0.1:4222"]);
  } catch (error) {
    assertOk(error instanceof ConfigError, String(error));
    return error.message;
  }
  throw new Error("accepted");
}

const auth = (extra: Partial<NatsAuth>): NatsAuth => ({ ...NO_AUTH, ...extra });

/** A server admitting one nkey per role, and each role's seed file. */
async function securedServer(): Promise<
  AsyncDisposable & {
    nats: NatsServer;
    seedFiles: Record<RoleName, string>;
    seeds: string[];
  }
> {
  const dir = await Deno.makeTempDir({ prefix: "cortex-nkeys-" });
  const keys = await ensureRoleNkeys(dir);
  const configFile = await writeServerConfig(dir, keys.users);
  const nats = await startNatsServer({ configFile });
  const seeds = await Promise.all(
    Object.values(keys.seedFiles).map(async (f) =>
      (await Deno.readTextFile(f)).trim()
    ),
  );
  return {
    nats,
    seedFiles: keys.seedFiles,
    seeds,
    async [Symbol.asyncDispose]() {
      await nats.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const nkeyAuth = (file: string): NatsAuth => ({ ...NO_AUTH, natsNkey: file });

/** Connects with `role`'s nkey. */
function connectAs(
  url: string,
  seedFiles: Record<RoleName, string>,
  role: RoleName,
): Promise<NatsConnection> {
  return connectNats({
    url,
    name: `test-${role}`,
    log,
    waitForServer: false,
    auth: nkeyAuth(seedFiles[role]),
  });
}

/**
 * Publishes to `subject` and resolves with the server's refusal: the
 * permission violation it reports for exactly that publish.
 */
async function publishRefused(
  nc: NatsConnection,
  subject: string,
): Promise<PermissionViolationError> {
  const refused = (async () => {
    for await (const status of nc.status()) {
      if (
        status.type === "error" &&
        status.error instanceof PermissionViolationError &&
        status.error.subject === subject &&
        status.error.operation === "publish"
      ) return status.error;
    }
    throw new Error("connection closed without a refusal");
  })();
  nc.publish(subject, new TextEncoder().encode("forged"));
  await nc.flush();
  const timeout = AbortSignal.timeout(10_000);
  return await Promise.race([
    refused,
    new Promise<never>((_, reject) =>
      timeout.addEventListener(
        "abort",
        () =>
          reject(new Error(`no permission violation for ${subject} in 10 s`)),
      )
    ),
  ]);
}

// A server refusing credentials closes the socket, and nats.js's Node
// transport (3.4) may then see a connection reset on a socket it no longer
// listens to: an uncaught ECONNRESET, harmless, that would fail this file.
// connectNats guards its own connects; this covers the plain client below.
globalThis.addEventListener("error", (event) => {
  if ((event.error as { code?: string })?.code === "ECONNRESET") {
    event.preventDefault();
  }
});

Deno.test("auth: an anonymous connection is refused, with or without waiting for the server", async () => {
  await using secured = await securedServer();
  const url = secured.nats.url;
  for (const waitForServer of [false, true]) {
    let error: unknown;
    try {
      const nc = await connectNats({
        url,
        name: "anonymous",
        log,
        waitForServer,
        auth: NO_AUTH,
      });
      await nc.close();
    } catch (e) {
      error = e;
    }
    assertOk(error instanceof NatsAuthError, String(error));
    assertMatch(error.message, /refused no credentials/);
    assertMatch(error.message, /Authorization Violation/);
  }
  // And a plain nats.js client, as any outsider would connect.
  let raw: unknown;
  try {
    await (await connect({ servers: url })).close();
  } catch (e) {
    raw = e;
  }
  assertMatch(String(raw), /Authorization Violation/i);
});

Deno.test("auth: the client's nkey may not publish to a job topic, results or heartbeats", async () => {
  await using secured = await securedServer();
  const { nats, seedFiles } = secured;
  const client = await connectAs(nats.url, seedFiles, "client");
  const scheduler = await connectAs(nats.url, seedFiles, "scheduler");
  const worker = await connectAs(nats.url, seedFiles, "worker");
  try {
    // Listeners that would see a forged message get through.
    const seen: string[] = [];
    for (
      const [nc, subject] of [
        [worker, "job.echo"],
        [scheduler, "sys.job.result"],
        [scheduler, "sys.heartbeat.>"],
      ] as const
    ) {
      nc.subscribe(subject, { callback: (_e, m) => void seen.push(m.subject) });
      await nc.flush();
    }
    for (
      const subject of ["job.echo", "sys.job.result", "sys.heartbeat.echo"]
    ) {
      const refusal = await publishRefused(client, subject);
      assertMatch(refusal.message, /Permissions Violation for Publish/);
    }
    // A submission goes through: the same connection is still usable.
    const got = scheduler.subscribe("sys.job.submit", { max: 1 });
    await scheduler.flush();
    client.publish("sys.job.submit", new Uint8Array([1]));
    await client.flush();
    for await (const m of got) assertEquals(m.subject, "sys.job.submit");
    await Promise.all([worker.flush(), scheduler.flush()]);
    assertEquals(seen, []);
  } finally {
    await Promise.all([client.close(), scheduler.close(), worker.close()]);
  }
});

Deno.test("auth: the worker's nkey may not publish to a job topic or submit; it may report", async () => {
  await using secured = await securedServer();
  const { nats, seedFiles } = secured;
  const worker = await connectAs(nats.url, seedFiles, "worker");
  const scheduler = await connectAs(nats.url, seedFiles, "scheduler");
  try {
    for (const subject of ["job.echo", "job.admin.wipe", "sys.job.submit"]) {
      const refusal = await publishRefused(worker, subject);
      assertMatch(refusal.message, /Permissions Violation for Publish/);
    }
    const results = scheduler.subscribe("sys.job.result", { max: 1 });
    await scheduler.flush();
    worker.publish("sys.job.result", new Uint8Array([1]));
    for await (const m of results) assertEquals(m.subject, "sys.job.result");
  } finally {
    await Promise.all([worker.close(), scheduler.close()]);
  }
});

Deno.test("auth: only the scheduler's nkey may send cancel and drain notices; a worker hears them and may ask which jobs were cancelled", async () => {
  await using secured = await securedServer();
  const { nats, seedFiles } = secured;
  const worker = await connectAs(nats.url, seedFiles, "worker");
  const client = await connectAs(nats.url, seedFiles, "client");
  const scheduler = await connectAs(nats.url, seedFiles, "scheduler");
  try {
    for (const subject of ["sys.cancel", "sys.drain"]) {
      for (const nc of [worker, client]) {
        const refusal = await publishRefused(nc, subject);
        assertMatch(refusal.message, /Permissions Violation for Publish/);
      }
      const heard = worker.subscribe(subject, { max: 1 });
      await worker.flush();
      scheduler.publish(subject, new Uint8Array([1]));
      for await (const m of heard) assertEquals(m.subject, subject);
    }
    const asked = scheduler.subscribe("sys.cancelled", { max: 1 });
    await scheduler.flush();
    worker.publish("sys.cancelled", new Uint8Array(0));
    for await (const m of asked) assertEquals(m.subject, "sys.cancelled");
  } finally {
    await Promise.all([worker.close(), client.close(), scheduler.close()]);
  }
});

for (const durability of ["none", "jetstream"] as const) {
  Deno.test(`auth: with each role's nkey, scheduler, echo worker and submit complete jobs (CORTEX_DURABILITY=${durability})`, async () => {
    await using secured = await securedServer();
    const { nats, seedFiles, seeds } = secured;
    const base = {
      NATS_URL: nats.url,
      CORTEX_DURABILITY: durability,
      CORTEX_DASHBOARD: "off",
      CORTEX_ECHO_MIN_MS: "0",
      CORTEX_ECHO_MAX_MS: "10",
    };
    await using scheduler = startTask("scheduler", [], {
      ...base,
      NATS_NKEY: seedFiles.scheduler,
    });
    await scheduler.waitFor(/serving sys\.job\.submit/);
    await using worker = startTask("worker:echo", [], {
      ...base,
      NATS_NKEY: seedFiles.worker,
    });
    await worker.waitFor(/taking \S+ in queue group|taking job\.echo/);
    await worker.waitFor(
      new RegExp(`durability: ${durability === "none" ? "core" : "jetstream"}`),
    );

    const run = await runTask(
      "submit",
      ["--count", "20", "--concurrency", "5", "--timeout", "30s"],
      { ...base, NATS_NKEY: seedFiles.client },
    );
    assertEquals(run.code, 0, run.stdout + run.stderr);
    assertEquals(run.stdout.match(/^\S+\s+COMPLETED\s/gm)?.length ?? 0, 20);

    // No violation anywhere: each role holds what its process needs.
    const lines = [...scheduler.lines, ...worker.lines, run.stdout, run.stderr];
    assertOk(
      !lines.some((l) => /Permissions Violation/i.test(l)),
      lines.filter((l) => /Violation/i.test(l)).join("\n"),
    );
    // And no seed in any line.
    for (const seed of seeds) {
      assertOk(!lines.some((l) => l.includes(seed)), "a seed was logged");
    }
    await eventually(
      () => scheduler.lines.some((l) => /permissions held/.test(l)),
      {
        what: "the scheduler's permissions line",
      },
    );

    if (durability === "jetstream") {
      // The client may read the ledger (what submit does for outcomes it
      // missed), and may not write it.
      const jobId = /^(\S+)\s+COMPLETED\s/m.exec(run.stdout)![1];
      const client = await connectAs(nats.url, seedFiles, "client");
      try {
        const kv = await new Kvm(client).open(LEDGER_BUCKET);
        const entry = await kv.get(ledgerKey(jobId));
        assertOk(entry && entry.length > 0, `no ledger entry for ${jobId}`);
        const refusal = await publishRefused(
          client,
          `$KV.${LEDGER_BUCKET}.${ledgerKey(jobId)}`,
        );
        assertMatch(refusal.message, /Permissions Violation for Publish/);
      } finally {
        await client.close();
      }
    }
  });
}

Deno.test("auth: a password never shows: not in a refusal, not in the permissions line, not from a URL", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cortex-userpass-" });
  const password = "s3cret-Pa55word-do-not-log";
  const configFile = `${dir}/nats.conf`;
  await Deno.writeTextFile(
    configFile,
    `authorization: { users: [ { user: "ops", password: ${
      JSON.stringify(password)
    } } ] }\n`,
  );
  try {
    await using nats = await startNatsServer({ configFile });
    const wrong = "wr0ng-Pa55word-do-not-log";
    const refused = await runTask("submit", [], {
      NATS_URL: nats.url,
      NATS_USER: "ops",
      NATS_PASSWORD: wrong,
    });
    assertEquals(refused.code, 2, refused.stdout + refused.stderr);
    assertMatch(refused.stderr, /refused NATS_USER=ops with NATS_PASSWORD/);
    assertOk(!(refused.stdout + refused.stderr).includes(wrong));

    // The password inside NATS_URL: redacted in the refusal.
    const port = nats.port;
    const inUrl = await runTask("submit", [], {
      NATS_URL: `nats://ops:${wrong}@127.0.0.1:${port}`,
    });
    assertEquals(inUrl.code, 2, inUrl.stdout + inUrl.stderr);
    assertOk(!(inUrl.stdout + inUrl.stderr).includes(wrong), inUrl.stderr);

    await using scheduler = startTask("scheduler", [], {
      NATS_URL: nats.url,
      NATS_USER: "ops",
      NATS_PASSWORD: password,
      CORTEX_DASHBOARD: "off",
    });
    await scheduler.waitFor(/serving sys\.job\.submit/);
    const held = scheduler.lines.find((l) => /permissions held/.test(l));
    assertOk(held, scheduler.lines.join("\n"));
    assertMatch(held, /NATS_PASSWORD/); // the variable's name, not its value
    assertOk(
      !scheduler.lines.some((l) => l.includes(password)),
      "the password was logged",
    );
    const ok = await runTask("submit", ["--no-wait"], {
      NATS_URL: nats.url,
      NATS_USER: "ops",
      NATS_PASSWORD: password,
    });
    assertEquals(ok.code, 0, ok.stdout + ok.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("auth: an nkey seed file becomes an authenticator; a bad one is named, not shown", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const seed = new TextDecoder().decode(nkeys.createUser().getSeed());
    await Deno.writeTextFile(`${dir}/ok.nk`, seed + "\n");
    const options = await authOptions(auth({ natsNkey: `${dir}/ok.nk` }), [
      "nats://127.0.0.1:4222",
    ]);
    assertOk(options.authenticator);
    assertEquals(options.tls, undefined);

    const secretish = "SUNOTASEEDBUTSECRETCONTENT";
    await Deno.writeTextFile(`${dir}/bad.nk`, secretish);
    const bad = await fileRefusal(auth({ natsNkey: `${dir}/bad.nk` }));
    assertMatch(bad, /^NATS_NKEY=.*bad\.nk: not an nkey user seed/);
    assertOk(!bad.includes(secretish), bad);

    const missing = await fileRefusal(auth({ natsNkey: `${dir}/none.nk` }));
    assertMatch(missing, /NATS_NKEY=.*none\.nk: cannot read it: No such file/);

    const creds = await fileRefusal(auth({ natsCreds: `${dir}/ok.nk` }));
    assertMatch(creds, /NATS_CREDS=.*: not a \.creds file/);
    assertOk(!creds.includes(seed), creds);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
