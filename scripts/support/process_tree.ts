/**
 * Finds processes below a child of ours, to crash one of them on purpose
 * (tests, deno task chaos). It asks `ps` rather than reading `/proc`, which
 * Deno lets only a process with every permission read.
 *
 * @module
 */

/**
 * The pid of the process under `pid` (at any depth) whose command line
 * contains `needle`: the real `deno run` behind a `deno task`, to crash it.
 * Needs `--allow-run=ps`.
 *
 * @example
 * ```ts
 * const pid = await descendantPid(task.pid, "src/bin/scheduler.ts");
 * if (pid) Deno.kill(pid, "SIGKILL");
 * ```
 */
export async function descendantPid(
  pid: number,
  needle: string,
): Promise<number | undefined> {
  const { stdout } = await new Deno.Command("ps", {
    args: ["-eo", "pid=,ppid=,args="],
    stdin: "null",
    stderr: "null",
  }).output();
  const children = new Map<number, { pid: number; args: string }[]>();
  for (const line of new TextDecoder().decode(stdout).split("\n")) {
    const match = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const [, child, parent, args] = match;
    const list = children.get(Number(parent)) ?? [];
    list.push({ pid: Number(child), args });
    children.set(Number(parent), list);
  }
  const queue = [...children.get(pid) ?? []];
  for (let next = queue.shift(); next; next = queue.shift()) {
    if (next.args.includes(needle)) return next.pid;
    queue.push(...children.get(next.pid) ?? []);
  }
  return undefined;
}
