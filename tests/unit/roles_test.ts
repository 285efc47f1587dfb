import doc from "../../docs/security.md" with { type: "text" };
import {
  renderAuthorization,
  renderPermissions,
  renderRolesMarkdown,
  renderServerConfig,
  ROLES,
} from "../../src/bus/roles.ts";
import {
  CANCEL,
  CANCELLED,
  DRAIN,
  ROLL_CALL,
  subjectMatches,
} from "../../src/bus/subjects.ts";
import {
  assertEquals,
  assertMatch,
  assertOk,
  assertThrows,
} from "../assert.ts";

/** Whether `rules` let `subject` through: allowed by one pattern, denied by none. */
function allows(
  rules: { allow: readonly string[]; deny?: readonly string[] },
  subject: string,
): boolean {
  return rules.allow.some((p) => subjectMatches(p, subject)) &&
    !(rules.deny ?? []).some((p) => subjectMatches(p, subject));
}

Deno.test("roles: each role's permissions render as nats-server configuration", () => {
  assertEquals(
    renderPermissions("scheduler"),
    `permissions: {
  publish: {
    allow: [">"]
    deny: ["sys.heartbeat.>", "cortex.attempt", "$SYS.>"]
  }
  subscribe: {
    allow: ["sys.job.submit", "sys.job.result", "sys.heartbeat.>", "sys.job.retry", "sys.drain", "sys.cancelled", "_INBOX.>"]
  }
}`,
  );
  assertEquals(
    renderPermissions("worker"),
    `permissions: {
  publish: {
    allow: ["sys.job.result", "sys.heartbeat.>", "cortex.attempt", "sys.cancelled", "$JS.API.INFO", "$JS.API.STREAM.INFO.CORTEX_WORK", "$JS.API.CONSUMER.CREATE.CORTEX_WORK.>", "$JS.API.CONSUMER.INFO.CORTEX_WORK.*", "$JS.API.CONSUMER.MSG.NEXT.CORTEX_WORK.*", "$JS.ACK.CORTEX_WORK.>"]
  }
  subscribe: {
    allow: [">"]
    deny: ["sys.job.>", "sys.heartbeat.>", "$JS.>", "$KV.>", "$O.>", "$SYS.>", "cortex.>"]
  }
}`,
  );
  assertEquals(
    renderPermissions("client"),
    `permissions: {
  publish: {
    allow: ["sys.job.submit", "sys.job.retry", "$JS.API.INFO", "$JS.API.STREAM.INFO.KV_cortex_jobs", "$JS.API.DIRECT.GET.KV_cortex_jobs.>", "$JS.API.STREAM.MSG.GET.KV_cortex_jobs"]
  }
  subscribe: {
    allow: ["sys.job.result", "_INBOX.>"]
  }
}`,
  );
});

Deno.test("roles: only the scheduler may publish a job, to a core topic or the work stream", () => {
  for (
    const subject of [
      "job.echo",
      "job.admin.wipe",
      "ml.train",
      "cortex.work.job.echo",
    ]
  ) {
    assertOk(allows(ROLES.scheduler.publish, subject), subject);
    assertOk(!allows(ROLES.worker.publish, subject), subject);
    assertOk(!allows(ROLES.client.publish, subject), subject);
  }
  for (
    const subject of ["sys.job.result", "sys.heartbeat.echo", "cortex.attempt"]
  ) {
    assertOk(!allows(ROLES.client.publish, subject), subject);
  }
  for (const subject of ["sys.heartbeat.echo", "cortex.attempt"]) {
    assertOk(!allows(ROLES.scheduler.publish, subject), subject);
    assertOk(allows(ROLES.worker.publish, subject), subject);
  }
  // A worker takes jobs of any topic, never submissions or others' replies to the API.
  assertOk(allows(ROLES.worker.subscribe, "job.echo"));
  assertOk(allows(ROLES.worker.subscribe, "ml.train"));
  for (
    const subject of [
      "sys.job.submit",
      "sys.job.result",
      "sys.job.retry",
      "sys.heartbeat.echo",
      "$JS.API.INFO",
      "cortex.work.job.echo",
    ]
  ) {
    assertOk(!allows(ROLES.worker.subscribe, subject), subject);
  }
  // The scheduler's roll call reaches workers; only the scheduler calls it.
  assertOk(allows(ROLES.worker.subscribe, ROLL_CALL));
  assertOk(allows(ROLES.scheduler.publish, ROLL_CALL));
  assertOk(!allows(ROLES.worker.publish, ROLL_CALL));
  assertOk(!allows(ROLES.client.publish, ROLL_CALL));
  assertOk(!allows(ROLES.client.subscribe, "job.echo"));
});

Deno.test("roles: cancel and drain notices reach workers; only the scheduler sends them", () => {
  for (const subject of [CANCEL, DRAIN]) {
    assertOk(allows(ROLES.worker.subscribe, subject), subject);
    assertOk(allows(ROLES.scheduler.publish, subject), subject);
    // A worker cannot cancel another's jobs or drain another worker.
    assertOk(!allows(ROLES.worker.publish, subject), subject);
    assertOk(!allows(ROLES.client.publish, subject), subject);
  }
  assertOk(allows(ROLES.scheduler.subscribe, DRAIN));
  // A worker asks which jobs were cancelled; a scheduler answers.
  assertOk(allows(ROLES.worker.publish, CANCELLED));
  assertOk(allows(ROLES.scheduler.subscribe, CANCELLED));
  assertOk(!allows(ROLES.client.publish, CANCELLED));
});

Deno.test("roles: the server configuration admits exactly the users given, quoting every subject", () => {
  const conf = renderServerConfig({
    users: [{ nkey: "UABC", role: "client" }, { nkey: "UDEF", role: "worker" }],
    listen: "127.0.0.1:4222",
    storeDir: "/var/lib/nats",
  });
  assertMatch(conf, /^listen: "127\.0\.0\.1:4222"$/m);
  assertOk(
    conf.includes('jetstream: {\n  store_dir: "/var/lib/nats"\n}\n'),
    conf,
  );
  assertEquals(conf.match(/nkey: "U[A-Z]+"/g), [
    'nkey: "UABC"',
    'nkey: "UDEF"',
  ]);
  // Unquoted, nats-server would read $JS as a variable.
  assertOk(!/[\[ ]\$/.test(conf), conf);
  assertThrows(() => renderAuthorization([]), /at least one user/);
});

Deno.test("roles: docs/security.md lists every role's subjects exactly as src/bus/roles.ts has them", () => {
  const section = /<!-- generated: roles -->\n([\s\S]*?)\n<!-- end -->/.exec(
    doc,
  )?.[1];
  // deno fmt wraps the doc's lines: compare the words.
  const words = (text = "") => text.split(/\s+/).filter(Boolean).join(" ");
  assertEquals(
    words(section),
    words(renderRolesMarkdown()),
    "docs/security.md differs from src/bus/roles.ts: paste renderRolesMarkdown()'s output between its markers",
  );
});
