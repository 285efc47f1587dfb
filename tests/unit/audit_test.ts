import { assertEquals, assertStrictEquals } from "../assert.ts";
import { dashboardFixture } from "../dashboard_fixture.ts";
import type { AuditResponse } from "../../src/contract/mod.ts";

const JSON_HEADERS = { "content-type": "application/json" };

Deno.test("every POST is in the audit log: what, of what, how many, how it ended, from where", async () => {
  using f = dashboardFixture();
  const submitted = await f.app.request("/api/jobs", {
    method: "POST",
    headers: { ...JSON_HEADERS, "user-agent": "audit-test" },
    body: JSON.stringify({ topic: "job.echo", payload: "x", count: 3 }),
  });
  assertStrictEquals(submitted.status, 200);
  const retried = await f.app.request("/api/jobs/nope/retry", {
    method: "POST",
    headers: JSON_HEADERS,
    body: "{}",
  });
  assertStrictEquals(retried.status, 409); // core mode
  const crossSite = await f.app.request("/api/jobs", {
    method: "POST",
    headers: { ...JSON_HEADERS, "sec-fetch-site": "cross-site" },
    body: JSON.stringify({ topic: "job.echo" }),
  });
  assertStrictEquals(crossSite.status, 403);
  await f.app.request("/api/jobs"); // a read is not audited

  const res = await f.app.request("/api/audit");
  assertStrictEquals(res.status, 200);
  const body = await res.json() as AuditResponse;
  assertEquals(
    body.entries.map((e) => [e.action, e.target, e.count, e.status]),
    [
      ["POST /api/jobs", "", 0, 403],
      ["retry", "nope", 0, 409],
      ["submit", "job.echo", 3, 200],
    ],
  );
  const submit = body.entries[2];
  assertStrictEquals(submit.from.userAgent, "audit-test");
  assertStrictEquals(submit.outcome, "3 dispatched, 0 refused");
  assertStrictEquals(submit.filter, null);
  assertStrictEquals(body.capacity, 1000);
});

Deno.test("with a token, the audit log needs it, and a refused knock is not an action", async () => {
  using f = dashboardFixture({ token: "audit-token-0123456789" });
  const knock = await f.app.request("/api/jobs", {
    method: "POST",
    headers: JSON_HEADERS,
    body: JSON.stringify({ topic: "job.echo" }),
  });
  assertStrictEquals(knock.status, 401);
  assertStrictEquals((await f.app.request("/api/audit")).status, 401);
  const res = await f.app.request("/api/audit", {
    headers: { authorization: "Bearer audit-token-0123456789" },
  });
  assertStrictEquals(res.status, 200);
  assertEquals((await res.json() as AuditResponse).entries, []);
});
