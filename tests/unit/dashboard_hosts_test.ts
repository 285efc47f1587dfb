import {
  assertEquals,
  assertMatch,
  assertOk,
  assertStrictEquals,
} from "../assert.ts";
import { dashboardFixture } from "../dashboard_fixture.ts";
import {
  checkBinding,
  DashboardConfigError,
  hostName,
  MIN_TOKEN_LENGTH,
} from "../../src/dashboard/security.ts";
import { loadConfig } from "../../src/config.ts";
import { SCHEDULER_SETTINGS } from "../../src/scheduler/config.ts";

const TOKEN = "a-token-of-at-least-16-chars";
const bearer = { authorization: `Bearer ${TOKEN}` };

async function status(
  app: {
    request(path: string, init?: RequestInit): Response | Promise<Response>;
  },
  path: string,
  headers: Record<string, string>,
): Promise<number> {
  const res = await app.request(path, { headers });
  await res.body?.cancel();
  return res.status;
}

Deno.test("hosts: another Host is refused with 421 on every route, even with the valid token", async () => {
  using f = dashboardFixture({
    token: TOKEN,
    distDir: "/nonexistent-cortex-dist",
  });
  for (
    const path of [
      "/",
      "/healthz",
      "/metrics",
      "/api/workers",
      "/api/jobs",
      "/api/events",
      "/app.js",
      "/api/nope",
    ]
  ) {
    for (
      const headers of [{ host: "evil.example" }, {
        host: "evil.example",
        ...bearer,
      }]
    ) {
      const res = await f.app.request(path, { headers });
      assertStrictEquals(res.status, 421, `${path} ${JSON.stringify(headers)}`);
      assertMatch(
        (await res.json()).error,
        /evil\.example.*CORTEX_DASHBOARD_ALLOWED_HOSTS/,
      );
    }
  }
  // A rebinding page's write: refused before the token or the origin check.
  const post = await f.app.request("/api/jobs", {
    method: "POST",
    headers: {
      host: "evil.example:8080",
      origin: "http://evil.example:8080",
      "content-type": "application/json",
      ...bearer,
    },
    body: JSON.stringify({ topic: "job.echo" }),
  });
  assertStrictEquals(post.status, 421);
  await post.body?.cancel();
  assertEquals(f.bus.on("job.echo").length, 0);
  // The URL's host counts as much as the header.
  assertStrictEquals(
    await status(f.app, "http://evil.example/healthz", {}),
    421,
  );
});

Deno.test("hosts: loopback names, with or without port, are served", async () => {
  using f = dashboardFixture({ token: TOKEN });
  for (
    const host of [
      "127.0.0.1",
      "127.0.0.1:8080",
      "127.4.5.6:80",
      "localhost",
      "LOCALHOST:8080",
      "localhost.:8080",
      "[::1]",
      "[::1]:8080",
    ]
  ) {
    assertStrictEquals(await status(f.app, "/healthz", { host }), 200, host);
    assertStrictEquals(
      await status(f.app, "/api/workers", { host, ...bearer }),
      200,
      host,
    );
  }
  // Without the token, the host rule passes and the token rule refuses.
  assertStrictEquals(
    await status(f.app, "/api/workers", { host: "127.0.0.1" }),
    401,
  );
});

Deno.test("hosts: the allowlist adds names, with or without port", async () => {
  using f = dashboardFixture({
    allowedHosts: [
      "dash.example:8080",
      "10.0.0.5",
      "[fd00::7]:8080",
      "fd00::8",
    ],
  });
  for (
    const host of [
      "dash.example",
      "dash.example:8080",
      "DASH.example:9999",
      "10.0.0.5:8080",
      "[fd00::7]:8080",
      "[fd00::8]",
    ]
  ) {
    assertStrictEquals(
      await status(f.app, "/api/workers", { host }),
      200,
      host,
    );
  }
  for (
    const host of [
      "dash.example.evil",
      "evil.dash.example",
      "10.0.0.6",
      "[fd00::9]",
    ]
  ) {
    assertStrictEquals(
      await status(f.app, "/api/workers", { host }),
      421,
      host,
    );
  }
  const refused = await f.app.request("/healthz", {
    headers: { host: "x.example" },
  });
  assertMatch(
    (await refused.json()).error,
    /dash\.example, 10\.0\.0\.5, \[fd00::7\]/,
  );
});

Deno.test("hosts: CORTEX_DASHBOARD_ALLOWED_HOSTS takes names and host:ports, and refuses URLs", () => {
  const env = (value: string) => (name: string) =>
    name === "CORTEX_DASHBOARD_ALLOWED_HOSTS" ? value : undefined;
  assertEquals(
    loadConfig(
      SCHEDULER_SETTINGS,
      env("dash.example, dash.example:8443,[::1]:80,fd00::1,10.1.2.3"),
    ).dashboardAllowedHosts,
    ["dash.example", "dash.example:8443", "[::1]:80", "fd00::1", "10.1.2.3"],
  );
  assertEquals(
    loadConfig(SCHEDULER_SETTINGS, () => undefined).dashboardAllowedHosts,
    [],
  );
  for (const bad of ["http://dash.example", "a b", "user@host", "host/path"]) {
    let error: unknown;
    try {
      loadConfig(SCHEDULER_SETTINGS, env(bad));
    } catch (e) {
      error = e;
    }
    assertOk(error instanceof Error, bad);
    assertMatch(error.message, /CORTEX_DASHBOARD_ALLOWED_HOSTS/);
  }
});

Deno.test("hosts: hostName strips port, brackets, case and a final dot", () => {
  assertStrictEquals(hostName("[::1]:8080"), "::1");
  assertStrictEquals(hostName("::1"), "::1");
  assertStrictEquals(hostName("Dash.Example.:80"), "dash.example");
  assertStrictEquals(hostName("127.0.0.1"), "127.0.0.1");
});

Deno.test("tokens shorter than 16 characters are refused, wherever the dashboard listens", () => {
  for (const host of ["127.0.0.1", "::1", "0.0.0.0", "::"]) {
    for (
      const token of [
        "Zq9#",
        "Zq9#Z",
        "Zq9#".repeat(4).slice(0, MIN_TOKEN_LENGTH - 1),
      ]
    ) {
      let error: unknown;
      try {
        checkBinding(host, token);
      } catch (e) {
        error = e;
      }
      assertOk(error instanceof DashboardConfigError, `${host} ${token}`);
      assertMatch(error.message, /at least 16/);
      assertOk(
        !error.message.includes(token),
        "the message never shows the token",
      );
    }
    checkBinding(host, "a".repeat(MIN_TOKEN_LENGTH));
  }
});

Deno.test("IPv6: ::1 needs no token, :: does, like 127.0.0.1 and 0.0.0.0", () => {
  checkBinding("::1", "");
  checkBinding("[::1]", "");
  let error: unknown;
  try {
    checkBinding("::", "");
  } catch (e) {
    error = e;
  }
  assertOk(error instanceof DashboardConfigError);
  assertMatch(error.message, /CORTEX_DASHBOARD_TOKEN/);
});

Deno.test("POST /api/jobs reads at most 1 MiB of body", async () => {
  using f = dashboardFixture();
  const res = await f.app.request("/api/jobs", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ topic: "job.echo", payload: "x".repeat(2 << 20) }),
  });
  assertStrictEquals(res.status, 413);
  assertMatch((await res.json()).error, /over 1048576 bytes/);
  assertEquals(f.bus.on("job.echo").length, 0);
});
