/**
 * A probe run with exactly the flags `permissionFlags()` gives a process, to
 * show from outside what that process may and may not do.
 *
 * Arguments are `kind:target` (`read:/etc/hostname`, `write:/tmp/x`,
 * `net:127.0.0.1:4222`, `env:HOME`, `run:true`). For each it really tries the
 * operation and prints one JSON object: target → `"allowed"` (Deno let it
 * through, whatever happened next, e.g. a refused connection) or `"denied"`.
 *
 * @module
 */

async function attempt(kind: string, target: string): Promise<void> {
  switch (kind) {
    case "read":
      await Deno.readFile(target);
      return;
    case "write":
      await Deno.writeTextFile(target, "probe");
      return;
    case "net": {
      const at = target.lastIndexOf(":");
      const conn = await Deno.connect({
        hostname: target.slice(0, at),
        port: Number(target.slice(at + 1)),
      });
      conn.close();
      return;
    }
    case "env":
      Deno.env.get(target);
      return;
    case "run":
      await new Deno.Command(target).output();
      return;
    default:
      throw new Error(`unknown probe kind ${kind}`);
  }
}

const out: Record<string, string> = {};
for (const arg of Deno.args) {
  const at = arg.indexOf(":");
  const [kind, target] = [arg.slice(0, at), arg.slice(at + 1)];
  try {
    await attempt(kind, target);
    out[arg] = "allowed";
  } catch (error) {
    out[arg] = error instanceof Deno.errors.NotCapable ? "denied" : "allowed";
  }
}
console.log(JSON.stringify(out));
