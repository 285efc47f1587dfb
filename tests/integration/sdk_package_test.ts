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

/** The README's code block that starts with the comment `// <name>:`. */
async function readmeBlock(name: string): Promise<string> {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const block = new RegExp("```ts\\n(// " + name + ":[^]*?)```").exec(readme);
  assertOk(block, `no \`// ${name}:\` code block in README.md`);
  return block[1];
}

Deno.test("the README's worker file and client, as written, from a folder with no deno.json: deno task worker and deno run --allow-net --allow-env", async () => {
  await using nats = await startNatsServer();
  const env = { NATS_URL: nats.url, CORTEX_DASHBOARD: "off" };
  await using scheduler = startTask("scheduler", [], env);
  await scheduler.waitFor(/serving sys\.job\.submit/, 60_000);
  const folder = await Deno.makeTempDir({ prefix: "cortex-user-" });
  try {
    // Imported by path, as the README says a user's folder does.
    const mod = JSON.stringify(new URL("mod.ts", root).pathname);
    for (const name of ["sha.ts", "client.ts"]) {
      const code = (await readmeBlock(name)).replace('"./mod.ts"', mod);
      await Deno.writeTextFile(`${folder}/${name}`, code);
    }
    await using worker = startTask("worker", [`${folder}/sha.ts`], env);
    await worker.waitFor(/permissions held: read=none write=none net=/);
    await worker.waitFor(/taking job\.sha256/, 60_000);

    const host = new URL(nats.url).host;
    const { code, stdout, stderr } = await new Deno.Command("deno", {
      // The flags the issue gives a user's client: the NATS address and
      // the variables the SDK reads, nothing else.
      args: ["run", `--allow-net=${host}`, "--allow-env", "client.ts"],
      cwd: folder,
      env: { NATS_URL: nats.url },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(code, 0, new TextDecoder().decode(stderr));
    // SHA-256("hello"), as `sha256sum` gives it.
    assertMatch(
      new TextDecoder().decode(stdout),
      /^COMPLETED 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824$/m,
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
