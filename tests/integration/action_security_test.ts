/**
 * The token, content-type and same-origin rules of the action routes
 * (`POST /api/jobs/:id/cancel`, `POST /api/workers/:id/drain`) on a real
 * `deno task scheduler` with a dashboard token, over a real nats-server.
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { dashboardUrl, startTask } from "../processes.ts";

const TOKEN = "integration-action-token";
const ROUTES = ["/api/jobs/job-x/cancel", "/api/workers/echo-x/drain"];

Deno.test("action routes: no token 401, not JSON 415, cross-site or cross-origin 403, bad bodies 400/413; through every rule: 404 for an unknown id", async () => {
  await using nats = await startNatsServer();
  await using scheduler = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DASHBOARD_PORT: "0",
    CORTEX_DASHBOARD_TOKEN: TOKEN,
  });
  const url = await dashboardUrl(scheduler);
  const auth = { authorization: `Bearer ${TOKEN}` };
  const json = { "content-type": "application/json" };
  const send = async (
    path: string,
    headers: Record<string, string>,
    body = "{}",
  ) => {
    const res = await fetch(`${url}${path}`, { method: "POST", headers, body });
    return { status: res.status, text: await res.text() };
  };
  for (const path of ROUTES) {
    const cases: [string, Record<string, string>, string, number, RegExp?][] = [
      ["no token", json, "{}", 401],
      [
        "a wrong token",
        {
          ...json,
          authorization: "Bearer not-the-token-at-all",
        },
        "{}",
        401,
      ],
      [
        "a form post",
        {
          ...auth,
          "content-type": "application/x-www-form-urlencoded",
        },
        "a=1",
        415,
        /Content-Type: application\/json/,
      ],
      [
        "a cross-site fetch",
        {
          ...auth,
          ...json,
          "sec-fetch-site": "cross-site",
        },
        "{}",
        403,
        /cross-site/,
      ],
      [
        "another origin",
        {
          ...auth,
          ...json,
          origin: "http://evil.example",
        },
        "{}",
        403,
        /cross-origin/,
      ],
      ["a JSON array", { ...auth, ...json }, "[]", 400, /JSON object/],
      ["not JSON", { ...auth, ...json }, "{", 400, /not valid JSON/],
      ["a big body", { ...auth, ...json }, `{"x":"${"y".repeat(2_000)}"}`, 413],
      ["the rules kept", { ...auth, ...json }, "{}", 404, /no (job|worker)/],
      ["an empty body", { ...auth, ...json }, "", 404],
      [
        "its own origin",
        {
          ...auth,
          ...json,
          origin: url,
          "sec-fetch-site": "same-origin",
        },
        "{}",
        404,
      ],
    ];
    for (const [what, headers, body, status, error] of cases) {
      const got = await send(path, headers, body);
      assertEquals(got.status, status, `${path}, ${what}: ${got.text}`);
      if (error) assertMatch(got.text, error);
    }
  }
  // Refusals after the token check are audited; those before are not.
  const audit = await (await fetch(`${url}/api/audit`, { headers: auth }))
    .json();
  const actions = audit.entries.map((e: { action: string }) => e.action);
  assertEquals(actions.includes("cancel"), true, JSON.stringify(actions));
  assertEquals(actions.includes("drain"), true, JSON.stringify(actions));
});
