/**
 * Finds processes below a child of ours, to crash one of them on purpose
 * (tests, deno task chaos).
 *
 * @module
 */

/**
 * The pid of the process under `pid` (at any depth) whose command line
 * contains `needle`: the real `deno run` behind a `deno task`, to crash it.
 */
export async function descendantPid(
  pid: number,
  needle: string,
): Promise<number | undefined> {
  const children = new Map<number, number[]>();
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      // The command name (field 2) may hold spaces; ppid follows its ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...children.get(ppid) ?? [], Number(entry.name)]);
    } catch {
      // the process ended meanwhile
    }
  }
  const queue = [...children.get(pid) ?? []];
  while (queue.length > 0) {
    const next = queue.shift()!;
    try {
      const cmdline = await Deno.readTextFile(`/proc/${next}/cmdline`);
      if (cmdline.includes(needle)) return next;
    } catch {
      // gone
    }
    queue.push(...children.get(next) ?? []);
  }
  return undefined;
}
