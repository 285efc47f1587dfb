/**
 * The SDK is imported by path from a user's folder, where our deno.json's
 * import map does not apply: every module `mod.ts` reaches must name its
 * packages in full (`npm:…@version`), at the versions deno.json gives, so
 * the project and the SDK load one copy of each package.
 */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { startNatsServer } from "../../scripts/support/nats_server.ts";
import { startTask } from "../processes.ts";

const root = new URL("../../", import.meta.url);

interface Graph {
  modules: {
    specifier: string;
    dependencies?: { specifier: string }[];
  }[];
}

Deno.test("mod.ts's module graph: no bare specifiers, and deno.json's versions", async () => {
  const { stdout, code } = await new Deno.Command("deno", {
    args: ["info", "--json", "mod.ts"],
    cwd: root,
    stderr: "inherit",
  }).output();
  assertEquals(code, 0);
  const graph = JSON.parse(new TextDecoder().decode(stdout)) as Graph;
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", root)),
  ) as { imports: Record<string, string> };
  const pinned = new Set(Object.values(config.imports));
  const bare: string[] = [];
  const unpinned: string[] = [];
  let local = 0;
  for (const module of graph.modules) {
    if (!module.specifier.startsWith("file:")) continue;
    local++;
    const file = module.specifier.slice(root.href.length);
    for (const { specifier } of module.dependencies ?? []) {
      if (specifier.startsWith(".") || specifier.startsWith("node:")) continue;
      if (!specifier.startsWith("npm:")) bare.push(`${file}: ${specifier}`);
      else if (!pinned.has(specifier)) unpinned.push(`${file}: ${specifier}`);
    }
  }
  assertOk(local > 10, `only ${local} local modules: is deno info right?`);
  assertEquals(bare, [], "bare specifiers need our import map");
  assertEquals(unpinned, [], "not the version deno.json gives");
});

Deno.test("mod.ts imported by path from a folder with no deno.json: a user's script serves and submits through a real scheduler", async () => {
  await using nats = await startNatsServer();
  await using scheduler = startTask("scheduler", [], {
    NATS_URL: nats.url,
    CORTEX_DASHBOARD: "off",
  });
  await scheduler.waitFor(/serving sys\.job\.submit/, 60_000);
  const folder = await Deno.makeTempDir({ prefix: "cortex-user-" });
  try {
    const mod = new URL("mod.ts", root).pathname;
    await Deno.writeTextFile(
      `${folder}/hash.ts`,
      `import { connect } from ${JSON.stringify(mod)};
const cortex = await connect();
await cortex.worker("job.userhash", async (job) =>
  new Uint8Array(await crypto.subtle.digest("SHA-256", job.payload)));
const outcome = await cortex.submit("job.userhash", "abc", { timeoutMs: 20_000 });
const hex = [...outcome.output].map((b) => b.toString(16).padStart(2, "0")).join("");
console.log(outcome.status, hex);
await cortex.close();
`,
    );
    const host = new URL(nats.url).host;
    const { code, stdout, stderr } = await new Deno.Command("deno", {
      // The flags the issue gives a user's client: the NATS address and
      // the variables the SDK reads, nothing else.
      args: ["run", `--allow-net=${host}`, "--allow-env", "hash.ts"],
      cwd: folder,
      env: { NATS_URL: nats.url },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(stdout);
    assertEquals(code, 0, new TextDecoder().decode(stderr));
    // SHA-256("abc"), as FIPS 180-2 gives it.
    assertMatch(
      out,
      /^COMPLETED ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad$/m,
    );
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("deno publish --dry-run passes: slow types, documentation, licence and included files", async () => {
  // --allow-dirty: a working copy with uncommitted changes is still checked
  // (CI's fresh clone is clean anyway).
  const { stdout, stderr, code } = await new Deno.Command("deno", {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: root,
  }).output();
  const text = new TextDecoder().decode(stdout) +
    new TextDecoder().decode(stderr);
  assertEquals(code, 0, text);
  assertMatch(text, /Dry run complete/);
});
