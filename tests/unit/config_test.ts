import {
  ConfigError,
  fraction,
  int,
  list,
  loadConfig,
  natsHostPorts,
  natsUrl,
  oneOf,
} from "../../src/config.ts";
import { SCHEDULER_SETTINGS } from "../../src/scheduler/config.ts";
import { assertEquals, assertThrows } from "../assert.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("defaults apply when a variable is unset or empty", () => {
  const config = loadConfig(
    SCHEDULER_SETTINGS,
    env({ CORTEX_JOB_TIMEOUT_MS: "" }),
  );
  assertEquals(config.natsUrl, "nats://127.0.0.1:4222");
  assertEquals(config.jobTimeoutMs, 60_000);
  assertEquals(config.maxPayloadBytes, 64 * 1024);
  assertEquals(config.dashboardHost, "127.0.0.1");
});

Deno.test("a bad value names the variable, its value and what is expected", () => {
  assertThrows(
    () =>
      loadConfig(SCHEDULER_SETTINGS, env({ CORTEX_JOB_TIMEOUT_MS: "soon" })),
    /CORTEX_JOB_TIMEOUT_MS="soon": expected a whole number from 1 to/,
  );
  assertThrows(
    () => loadConfig({ p: int("P", 1, "", 0, 10) }, env({ P: "11" })),
    /P="11": expected a whole number from 0 to 10/,
  );
  assertThrows(
    () => loadConfig({ l: oneOf("L", "a", ["a", "b"], "") }, env({ L: "c" })),
    /expected one of a, b/,
  );
  assertThrows(
    () => loadConfig(SCHEDULER_SETTINGS, env({ CORTEX_SAFETY_DENY: "job..x" })),
    /CORTEX_SAFETY_DENY=.*"job..x": not a NATS subject pattern/,
  );
  assertThrows(
    () => loadConfig({ n: natsUrl() }, env({ NATS_URL: "http://x:1" })),
    /NATS_URL="http:\/\/x:1": "http:\/\/x:1" is not a URL like nats:\/\/127.0.0.1:4222/,
  );
});

Deno.test("lists split on commas and NATS URLs yield host:port for permissions", () => {
  assertEquals(loadConfig({ l: list("L", [], "") }, env({ L: " a, ,b " })).l, [
    "a",
    "b",
  ]);
  assertEquals(natsHostPorts("nats://10.0.0.1:4333,localhost"), [
    "10.0.0.1:4333",
    "localhost:4222",
  ]);
  assertThrows(() => natsHostPorts("nats://"), /not a URL/);
  assertEquals(new ConfigError("x").name, "ConfigError");
});

Deno.test("a fraction is a decimal from 0 to 1; anything else names what is expected", () => {
  const settings = { rate: fraction("CORTEX_RATE", 0, "a chance") };
  for (
    const [raw, value] of [["0", 0], ["1", 1], ["0.25", 0.25], [".5", 0.5]]
  ) {
    assertEquals(
      loadConfig(settings, env({ CORTEX_RATE: raw as string })).rate,
      value,
    );
  }
  for (const raw of ["1.5", "-0.1", "half", "1e-1", "0x1", "50%"]) {
    assertThrows(
      () => loadConfig(settings, env({ CORTEX_RATE: raw })),
      /CORTEX_RATE=.*: expected a number from 0 to 1/,
    );
  }
});
