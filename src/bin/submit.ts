/**
 * `deno task submit`: submits jobs, waits for their results and prints them.
 *
 * Exit code: 0 when every job COMPLETED, 1 when any ended otherwise, 2 when a
 * result never arrived, NATS could not be reached, or the arguments are wrong.
 *
 * @module
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { connectNats, NatsUnreachable } from "../bus/connect.ts";
import {
  type Durability,
  DurabilityUnavailable,
  resolveDurability,
} from "../bus/durable/mode.ts";
import { ConfigError, loadConfig } from "../config.ts";
import { logger, setupLogging } from "../log.ts";
import { Cortex } from "../sdk/cortex.ts";
import { SUBMIT_SETTINGS } from "../submit/config.ts";
import {
  parseSubmitArgs,
  type SubmitOptions,
  USAGE,
  UsageError,
} from "../submit/options.ts";
import { Output } from "../submit/output.ts";
import { retryByHand } from "../submit/retry.ts";
import { submitJobs } from "../submit/run.ts";

async function main(): Promise<number> {
  let options: SubmitOptions | "help";
  let config;
  try {
    options = await parseSubmitArgs(Deno.args);
    config = loadConfig(SUBMIT_SETTINGS);
  } catch (error) {
    if (
      error instanceof UsageError || error instanceof ConfigError ||
      error instanceof TypeError
    ) {
      console.error(`submit: ${error.message}\n(see deno task submit --help)`);
      return 2;
    }
    throw error;
  }
  if (options === "help") {
    console.log(USAGE);
    return 0;
  }
  await setupLogging({
    level: config.logLevel === "info" ? "warning" : config.logLevel,
  });
  const log = logger("submit");
  let nc: NatsConnection;
  try {
    nc = await connectNats({
      url: config.natsUrl,
      name: "cortex-submit",
      log,
      waitForServer: false,
    });
  } catch (error) {
    if (!(error instanceof NatsUnreachable)) throw error;
    console.error(`submit: ${error.message}`);
    return 2;
  }
  if (options.retry !== undefined) {
    try {
      return await retryByHand(nc, options.retry, {
        json: options.json,
        by: "cortex-submit",
      });
    } finally {
      await nc.close();
    }
  }
  let durability: Durability;
  try {
    durability = (await resolveDurability(nc, config.durability)).mode;
  } catch (error) {
    if (!(error instanceof DurabilityUnavailable)) throw error;
    console.error(`submit: ${error.message}`);
    await nc.close();
    return 2;
  }
  const out = new Output();
  const senderId = `submit-${crypto.randomUUID().slice(0, 8)}`;
  const cortex = new Cortex(nc, durability, log, senderId);
  try {
    return await submitJobs(cortex, options, out);
  } finally {
    out.flush();
    await cortex.close();
  }
}

Deno.exit(await main());
