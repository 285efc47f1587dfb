import {
  authOptions,
  type NatsAuth,
  NO_AUTH,
  redactUrl,
} from "../../src/bus/connect.ts";
import { ConfigError, loadConfig, NATS_AUTH } from "../../src/config.ts";
import { credentialFiles, permissionFlags } from "../../scripts/permissions.ts";
import { assertEquals, assertMatch, assertOk } from "../assert.ts";

const auth = (extra: Partial<NatsAuth>): NatsAuth => ({ ...NO_AUTH, ...extra });

async function refusal(a: NatsAuth, servers = ["nats://127.0.0.1:4222"]) {
  try {
    await authOptions(a, servers);
  } catch (error) {
    assertOk(error instanceof ConfigError, String(error));
    return error.message;
  }
  throw new Error("accepted");
}

Deno.test("credentials: a password in NATS_URL is never shown", () => {
  assertEquals(
    redactUrl("nats://me:pw@10.0.0.1:4222,tls://u:p@h:4443"),
    "nats://***@10.0.0.1:4222,tls://***@h:4443",
  );
  assertEquals(redactUrl("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
});

Deno.test("credentials: NATS_PASSWORD is taken as it is and never repeated", () => {
  const values = loadConfig(
    NATS_AUTH,
    (name) => ({ NATS_USER: "ops", NATS_PASSWORD: "  spaced secret " })[name],
  );
  assertEquals(values.natsPassword, "  spaced secret ");
  assertOk(NATS_AUTH.natsPassword.secret);
});

Deno.test("credentials: one kind at a time; TLS for tls:// URLs and TLS files", async () => {
  assertMatch(
    await refusal(auth({ natsNkey: "a", natsUser: "u" })),
    /NATS_NKEY and NATS_USER are both set/,
  );
  assertMatch(
    await refusal(auth({ natsPassword: "p" })),
    /NATS_PASSWORD is set without NATS_USER/,
  );
  assertMatch(
    await refusal(auth({ natsCert: "c.pem" })),
    /NATS_CERT and NATS_KEY go together/,
  );
  const user = await authOptions(auth({ natsUser: "u", natsPassword: "p" }), [
    "tls://10.0.0.1:4443",
  ]);
  assertOk(user.authenticator);
  assertEquals(user.tls, {});
});

Deno.test("credentials: the launcher grants reading exactly the files named", () => {
  const env: Record<string, string> = {
    NATS_NKEY: "/etc/cortex/worker.nk",
    NATS_CA: "/etc/cortex/ca.pem",
    NATS_PASSWORD: "not-a-file",
  };
  const files = credentialFiles((n) => env[n]);
  assertEquals(files, ["/etc/cortex/worker.nk", "/etc/cortex/ca.pem"]);
  const flags = (process: "scheduler" | "worker:echo" | "submit") =>
    permissionFlags(process, {
      natsUrl: "nats://127.0.0.1:4222",
      dashboard: true,
      dashboardHost: "127.0.0.1",
      dashboardPort: 8080,
      credentialFiles: files,
    });
  assertOk(
    flags("worker:echo").includes(
      "--allow-read=/etc/cortex/worker.nk,/etc/cortex/ca.pem",
    ),
    flags("worker:echo").join(" "),
  );
  assertMatch(
    flags("scheduler").join(" "),
    /--allow-read=\/etc\/cortex\/worker\.nk,\/etc\/cortex\/ca\.pem,\S*dashboard\/dist/,
  );
  for (const process of ["scheduler", "worker:echo", "submit"] as const) {
    const envFlag = flags(process).find((f) => f.startsWith("--allow-env="))!;
    for (
      const name of [
        "NATS_CREDS",
        "NATS_NKEY",
        "NATS_USER",
        "NATS_PASSWORD",
        "NATS_CA",
        "NATS_CERT",
        "NATS_KEY",
      ]
    ) {
      assertOk(envFlag.split(/[=,]/).includes(name), `${process}: ${name}`);
    }
  }
});
