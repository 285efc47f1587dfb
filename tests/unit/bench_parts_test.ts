import { fieldRange, readIndex, writeIndex } from "../../scripts/bench/wire.ts";
import { parseCpuSeconds, parseMemory } from "../../scripts/bench/proc.ts";
import { figures, Requests } from "../../scripts/bench/load.ts";
import { parseBenchArgs } from "../../scripts/bench/args.ts";
import { assertEquals, assertOk, assertThrows } from "../assert.ts";

Deno.test("the bench's requests carry their index in the job id, found again in answers", () => {
  const requests = new Requests("btest", "job.echo");
  const bytes = requests.make(1234567);
  assertOk(requests.indexAt(bytes, [10, 1]) === 1234567);
  assertOk(requests.indexAt(bytes, [11, 1]) === -1); // not a result
  assertOk(new Requests("other", "job.echo").indexAt(bytes, [10, 1]) === -1);
  const range = fieldRange(bytes, 10, 1)!;
  assertOk(
    new TextDecoder().decode(bytes.subarray(...range)) === "btest-1234567",
  );
});

Deno.test("writeIndex and readIndex round-trip 7 digits", () => {
  const bytes = new Uint8Array(9);
  writeIndex(bytes, 2, 42);
  assertOk(new TextDecoder().decode(bytes.subarray(2)) === "0000042");
  assertOk(readIndex(bytes, 9) === 42);
  assertOk(readIndex(new Uint8Array(9), 9) === -1);
});

Deno.test("/proc parsers read CPU ticks past a command name with spaces, and memory", () => {
  const stat =
    "4242 (deno (x) y) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0 20 0 7 0 100 0 0";
  assertOk(parseCpuSeconds(stat) === 4);
  const mem = parseMemory(
    "Name:\tdeno\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n",
  );
  assertOk(mem.rss === 1024 * 1024 && mem.hwm === 2048 * 1024);
});

Deno.test("figures of several runs are those of one run made of them", () => {
  const f = figures([
    { jobs: 2, completed: 2, seconds: 1, rtts: Float64Array.from([1, 3]) },
    { jobs: 3, completed: 2, seconds: 1, rtts: Float64Array.from([2, 4]) },
  ]);
  assertOk(f.jobs === 5 && f.completed === 4 && f.missing === 1);
  assertOk(f.jobs_per_s === 2 && f.p50_ms === 2 && f.max_ms === 4);
});

Deno.test("bench flags: --json takes an optional file; anything else is refused", () => {
  assertEquals(parseBenchArgs([]), {
    quick: false,
    json: undefined,
    profile: undefined,
    only: undefined,
  });
  assertEquals(parseBenchArgs(["--quick", "--json", "--profile", "p"]), {
    quick: true,
    json: { file: undefined },
    profile: "p",
    only: undefined,
  });
  assertEquals(parseBenchArgs(["--json", "out.json", "--quick"]), {
    quick: true,
    json: { file: "out.json" },
    profile: undefined,
    only: undefined,
  });
  assertEquals(parseBenchArgs(["--json=out.json"]), {
    quick: false,
    json: { file: "out.json" },
    profile: undefined,
    only: undefined,
  });
  assertEquals(parseBenchArgs(["--only", "durable", "--quick"]), {
    quick: true,
    json: undefined,
    profile: undefined,
    only: "durable",
  });
  assertEquals(parseBenchArgs(["--only", "operator"]), {
    quick: false,
    json: undefined,
    profile: undefined,
    only: "operator",
  });
  assertEquals(parseBenchArgs(["-h"]), "help");
  assertThrows(
    () => parseBenchArgs(["--only", "fast"]),
    /core, durable or operator/,
  );
  assertThrows(() => parseBenchArgs(["--fast"]), /Unknown option/);
  assertThrows(() => parseBenchArgs(["stray"]), /unknown argument stray/);
  assertThrows(() => parseBenchArgs(["--profile"]), /argument missing/);
});
