/**
 * Regenerates `src/gen/` from `proto/` with buf and protoc-gen-es.
 *
 * `--check` generates into a temporary folder instead and fails when the
 * result differs from the committed `src/gen/` (drift).
 *
 * @module
 */

const BUF = [
  "run",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
  "npm:@bufbuild/buf",
  "generate",
];

async function buf(output: string): Promise<void> {
  const { code, stderr } = await new Deno.Command("deno", {
    args: [...BUF, "--output", output],
    stdout: "inherit",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `buf generate failed (exit ${code}):\n${
        new TextDecoder().decode(stderr)
      }`,
    );
  }
}

async function listFiles(root: string, dir = ""): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(`${root}/${dir}`)) {
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory) files.push(...await listFiles(root, path));
    else files.push(path);
  }
  return files.sort();
}

async function drift(expected: string, actual: string): Promise<string[]> {
  const [want, have] = await Promise.all([
    listFiles(expected),
    listFiles(actual).catch((): string[] => []),
  ]);
  const problems: string[] = [];
  for (const file of new Set([...want, ...have])) {
    if (!want.includes(file)) problems.push(`${file}: not generated any more`);
    else if (!have.includes(file)) problems.push(`${file}: missing`);
    else if (
      await Deno.readTextFile(`${expected}/${file}`) !==
        await Deno.readTextFile(`${actual}/${file}`)
    ) problems.push(`${file}: differs`);
  }
  return problems;
}

if (Deno.args.includes("--check")) {
  const tmp = await Deno.makeTempDir({ prefix: "cortex-gen-" });
  try {
    await buf(tmp);
    const problems = await drift(`${tmp}/src/gen`, "src/gen");
    if (problems.length > 0) {
      console.error(
        `src/gen/ is out of date with proto/ — run \`deno task gen\` and commit:\n  ${
          problems.join("\n  ")
        }`,
      );
      Deno.exit(1);
    }
    console.log("src/gen/ matches proto/");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
} else {
  await buf(".");
  console.log("regenerated src/gen/ from proto/");
}
