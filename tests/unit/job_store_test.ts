import { NoRespondersError } from "@nats-io/nats-core";
import type { JetStreamClient, PubAck } from "@nats-io/jetstream";
import { JobStore, NO_STREAM } from "../../src/sdk/wire.ts";
import { assertEquals } from "../assert.ts";

/** A publish that follows a script: "ok", or "none" for no responders. */
function scripted(steps: ("ok" | "none")[]) {
  const calls: string[] = [];
  const js: Pick<JetStreamClient, "publish"> = {
    publish(_subject, _data, options) {
      calls.push(options?.msgID ?? "");
      const step = steps.shift() ?? "ok";
      if (step === "none") {
        return Promise.reject(new NoRespondersError("sys.job.submit"));
      }
      return Promise.resolve(
        { stream: "CORTEX_SUBMIT", seq: calls.length } as PubAck,
      );
    },
  };
  return { js, calls };
}

Deno.test("a job store says no stream when the first publish finds none", async () => {
  const { js, calls } = scripted(["none"]);
  assertEquals(await new JobStore(js).store("a", new Uint8Array()), NO_STREAM);
  assertEquals(calls, ["a"]);
});

Deno.test("a job store waits out a leaderless stream once the stream has stored a job", async () => {
  const { js, calls } = scripted(["ok", "none", "none", "none", "ok"]);
  const store = new JobStore(js);
  assertEquals(await store.store("a", new Uint8Array()), undefined);
  assertEquals(await store.store("b", new Uint8Array()), undefined);
  assertEquals(calls, ["a", "b", "b", "b", "b"]);
});
