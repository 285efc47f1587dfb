/**
 * The browser UI shares the contract (`src/contract/`) with the server but
 * must not bundle protobuf code: the contract imports none, and this proves
 * nothing else drags it in.
 */
import { assertEquals, assertOk } from "../assert.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

Deno.test("the UI bundle holds the job vocabulary and no protobuf code", async () => {
  const out = await Deno.makeTempFile({ suffix: ".js" });
  try {
    const { code, stderr } = await new Deno.Command("deno", {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "-o",
        out,
        `${ROOT}dashboard/src/main.tsx`,
      ],
      cwd: ROOT,
      stdout: "null",
    }).output();
    assertEquals(code, 0, new TextDecoder().decode(stderr));
    const bundle = await Deno.readTextFile(out);
    assertOk(bundle.includes("DISPATCHED"), "the contract's states are in");
    // Unminified, the bundle names each module it took in a comment.
    for (const sign of ["src/gen/", "@bufbuild", "protobuf"]) {
      assertEquals(bundle.includes(sign), false, `"${sign}" in the UI bundle`);
    }
  } finally {
    await Deno.remove(out);
  }
});
