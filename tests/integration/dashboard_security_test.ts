/**
 * The dashboard's start-up rules and Host allowlist, on a real
 * `deno task scheduler` over a real nats-server.
 */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { freePort } from "../../scripts/support/ports.ts";
import { startTask } from "../processes.ts";

/**
 * GET `path` over a plain TCP connection with exactly `headers`: fetch()
 * sets the Host header itself, and a rebinding page's request is what we
 * must send here.
 */
async function rawGet(
  hostname: string,
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname, port });
  try {
    const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\n${head}connection: close\r\n\r\n`,
      ),
    );
    const text = await new Response(conn.readable).text();
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
    return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  } catch (error) {
    try {
      conn.close();
    } catch {
      // closed already
    }
    throw error;
  }
}

Deno.test("CORTEX_DASHBOARD_HOST=::1: the scheduler starts and serves /healthz over [::1], and nothing for another Host", async () => {
  await using nats = await startNatsServer();
  const port = freePort();
  await using scheduler = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DASHBOARD_HOST: "::1",
    CORTEX_DASHBOARD_PORT: String(port),
  });
  const line = await scheduler.waitFor(/dashboard listening on|error/i);
  const base = `http://[::1]:${port}/`;
  assertOk(line.includes(base), scheduler.lines.join("\n"));
  const health = await fetch(`${base}healthz`);
  assertEquals(health.status, 200);
  assertEquals((await health.json()).bus.connected, true);
  // DNS rebinding: the name resolves to ::1, but the Host header says whose page it is.
  const rebound = await rawGet("::1", port, "/api/jobs", {
    host: "evil.example",
  });
  assertEquals(rebound.status, 421);
  assertMatch(rebound.body, /CORTEX_DASHBOARD_ALLOWED_HOSTS/);
  const own = await rawGet("::1", port, "/api/jobs", {
    host: `[::1]:${port}`,
  });
  assertEquals(own.status, 200);
});

Deno.test("CORTEX_DASHBOARD_HOST=::: every interface needs a token, as 0.0.0.0 does", async () => {
  await using nats = await startNatsServer();
  await using scheduler = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DASHBOARD_HOST: "::",
    CORTEX_DASHBOARD_PORT: String(freePort()),
  });
  const status = await scheduler.status;
  assertEquals(status.code, 2, scheduler.lines.join("\n"));
  assertOk(
    scheduler.lines.some((l) => /CORTEX_DASHBOARD_TOKEN/.test(l)),
    scheduler.lines.join("\n"),
  );
});

Deno.test("a 5-character token: the scheduler refuses to start, exit 2, without showing it", async () => {
  await using nats = await startNatsServer();
  await using scheduler = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DASHBOARD_PORT: String(freePort()),
    CORTEX_DASHBOARD_TOKEN: "Zq9#k",
  });
  const status = await scheduler.status;
  assertEquals(status.code, 2, scheduler.lines.join("\n"));
  const output = scheduler.lines.join("\n");
  assertMatch(
    output,
    /CORTEX_DASHBOARD_TOKEN is 5 characters long; it must have at least 16/,
  );
  assertOk(!output.includes("Zq9#k"), output);
  assertOk(!/connected to NATS/.test(output), "refused before touching NATS");
});

Deno.test("with a token on 0.0.0.0, a valid token for another Host still gets 421; an allowed name gets in", async () => {
  await using nats = await startNatsServer();
  const port = freePort();
  const token = "integration-secret-token";
  await using scheduler = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DASHBOARD_HOST: "0.0.0.0",
    CORTEX_DASHBOARD_PORT: String(port),
    CORTEX_DASHBOARD_TOKEN: token,
    CORTEX_DASHBOARD_ALLOWED_HOSTS: `dash.example:${port}`,
  });
  await scheduler.waitFor(/dashboard listening on/);
  const get = async (host: string) =>
    (await rawGet("127.0.0.1", port, "/api/workers", {
      host,
      authorization: `Bearer ${token}`,
    })).status;
  assertEquals(await get("evil.example"), 421);
  assertEquals(await get(`dash.example:${port}`), 200);
  assertEquals(await get(`127.0.0.1:${port}`), 200);
});
