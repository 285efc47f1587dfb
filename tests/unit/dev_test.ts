import {
  natsServerArgs,
  natsServerMissing,
} from "../../scripts/support/nats_server.ts";
import { reachableHost } from "../../scripts/dev/healthz.ts";
import { linePrefixer } from "../../scripts/dev/prefix.ts";
import {
  defaultBackoffMs,
  describeExit,
} from "../../scripts/dev/supervisor.ts";
import { assertEquals, assertMatch } from "../assert.ts";

Deno.test("dev: lines get a padded name, coloured only when asked", () => {
  assertEquals(
    linePrefixer("nats", { width: 9 })("ready"),
    "nats      | ready",
  );
  assertEquals(
    linePrefixer("echo-1", { width: 9, colour: true, index: 0 })("x"),
    "\x1b[36mecho-1    |\x1b[0m x",
  );
});

Deno.test("dev: restarts back off 0.5 s, 1 s, 2 s… up to 8 s", () => {
  assertEquals(
    [1, 2, 3, 4, 5, 6, 7].map(defaultBackoffMs),
    [500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000],
  );
});

Deno.test("dev: a child's end is described by code or signal", () => {
  assertEquals(
    describeExit({ success: false, code: 3, signal: null }),
    "exit code 3",
  );
  assertEquals(
    describeExit({ success: false, code: 137, signal: "SIGKILL" }),
    "signal SIGKILL",
  );
});

Deno.test("dev: nats-server listens on loopback only, with JetStream, its store per port", () => {
  assertEquals(natsServerArgs(4223, "/p/.data"), [
    "--addr",
    "127.0.0.1",
    "--port",
    "4223",
    "--jetstream",
    "--store_dir",
    "/p/.data/nats/4223",
  ]);
});

Deno.test("dev: a missing nats-server is explained with the ways to get one", () => {
  const message = natsServerMissing("nats-server");
  assertMatch(message, /not found on PATH/);
  assertMatch(message, /sudo apt-get install nats-server/);
  assertMatch(message, /brew install nats-server/);
  assertMatch(message, /NATS_URL=nats:\/\/127\.0\.0\.1:4222 deno task dev/);
  assertMatch(
    natsServerMissing("/opt/nats"),
    /not found at CORTEX_NATS_SERVER=\/opt\/nats/,
  );
});

Deno.test("dev: the dashboard is probed on loopback when it listens on every address", () => {
  assertEquals(reachableHost("0.0.0.0"), "127.0.0.1");
  assertEquals(reachableHost("::"), "127.0.0.1");
  assertEquals(reachableHost("::1"), "[::1]");
  assertEquals(reachableHost("127.0.0.1"), "127.0.0.1");
});
