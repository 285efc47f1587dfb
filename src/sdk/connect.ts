/**
 * `connect()`: the SDK's way in, reading the same variables (and
 * credentials) the CortexOS processes read.
 *
 * @module
 */
import { connectNats, type NatsAuth, natsAuthFromEnv } from "../bus/connect.ts";
import {
  DURABILITY,
  type Durability,
  resolveDurability,
  watchDurability,
} from "../bus/durable/mode.ts";
import { type EnvReader, loadConfig } from "../config.ts";
import { logger } from "../log.ts";
import { Cortex } from "./cortex.ts";
import type { ConnectOptions, Credentials } from "./types.ts";

/** Reads a variable; one this process may not read (no `--allow-env` for it) is unset. */
const readEnv: EnvReader = (name) => {
  try {
    return Deno.env.get(name);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) return undefined;
    throw error;
  }
};

function authOf(credentials: Credentials): NatsAuth {
  return {
    natsCreds: credentials.credsFile ?? "",
    natsNkey: credentials.nkeyFile ?? "",
    natsUser: credentials.user ?? "",
    natsPassword: credentials.password ?? "",
    natsCa: credentials.caFile ?? "",
    natsCert: credentials.certFile ?? "",
    natsKey: credentials.keyFile ?? "",
  };
}

/**
 * Connects to CortexOS's NATS and resolves the mode (durable or core) as
 * the processes do.
 *
 * @throws {NatsUnreachable} when NATS cannot be reached (at once: it does
 * not wait for a server to come up), or refuses the credentials.
 * @throws {DurabilityUnavailable} for `durability: "jetstream"` on a server
 * without JetStream.
 * @example
 * ```ts
 * const cortex = await connect();
 * const outcome = await cortex.submit("job.echo", { hello: "world" });
 * console.log(outcome.status, outcome.json());
 * await cortex.close();
 * ```
 */
export async function connect(options: ConnectOptions = {}): Promise<Cortex> {
  const servers = options.servers ?? readEnv("NATS_URL") ??
    "nats://127.0.0.1:4222";
  const url = Array.isArray(servers) ? servers.join(",") : servers;
  const setting = options.durability ??
    loadConfig({ durability: DURABILITY }, readEnv).durability;
  const name = options.name ?? `cortex-sdk-${crypto.randomUUID().slice(0, 8)}`;
  const log = options.log ?? logger("sdk");
  const nc = await connectNats({
    url,
    name,
    log,
    waitForServer: false,
    auth: options.credentials
      ? authOf(options.credentials)
      : natsAuthFromEnv(readEnv),
  });
  let durability: Durability;
  try {
    durability = (await resolveDurability(nc, setting)).mode;
  } catch (error) {
    await nc.close();
    throw error;
  }
  watchDurability(nc, durability, log);
  const cortex = new Cortex(nc, durability, log, name);
  await cortex.ready;
  return cortex;
}
