/**
 * The top self-time functions of V8 CPU profiles (`deno run --cpu-prof`),
 * to read what a process spent its time on during the benchmark.
 *
 *   deno run --allow-read profile_top.ts FILE.cpuprofile… [--top N]
 *
 * Prints the top N functions by self time, then self time by origin (the
 * NATS client, protobuf-es, the socket write, GC, CortexOS's folders…).
 *
 * @module
 */

interface ProfileNode {
  id: number;
  callFrame: {
    functionName: string;
    url: string;
    lineNumber: number;
  };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** One function's self time. */
export interface SelfTime {
  name: string;
  ms: number;
  share: number;
}

/** Self time by function (name + file:line), largest first. */
export function selfTimes(profile: Profile): SelfTime[] {
  const byNode = new Map<number, string>();
  for (const node of profile.nodes) {
    const f = node.callFrame;
    const file = f.url.replace(
      /^.*\/(node_modules\/\.deno\/|src\/|scripts\/)/,
      "$1",
    )
      .replace(/^node_modules\/\.deno\/[^/]+\/node_modules\//, "");
    byNode.set(
      node.id,
      `${f.functionName || "(anonymous)"} ${
        file ? `${file}:${f.lineNumber + 1}` : ""
      }`
        .trim(),
    );
  }
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const name = byNode.get(id) ?? "?";
    totals.set(name, (totals.get(name) ?? 0) + us);
    all += us;
  });
  return [...totals].map(([name, us]) => ({
    name,
    ms: us / 1000,
    share: all > 0 ? us / all : 0,
  })).sort((a, b) => b.ms - a.ms);
}

/** Where a function comes from, for the summary by origin. */
function origin(functionName: string, url: string): string {
  if (/^\((idle|program|garbage collector)\)$/.test(functionName)) {
    return functionName;
  }
  if (functionName === "writeBuffer") return "socket write (writeBuffer)";
  if (url.includes("@bufbuild")) return "protobuf-es";
  if (url.includes("@nats-io")) return "NATS client";
  if (url.includes("deno_node")) return "Node compatibility";
  if (url === "" || url.startsWith("ext:")) return "Deno runtime";
  const m = /\/src\/([a-z_]+)\//.exec(url);
  return m ? `CortexOS src/${m[1]}` : "other";
}

/** Self time by origin (package or source folder), busy time only. */
export function byOrigin(profile: Profile): SelfTime[] {
  const byNode = new Map<number, string>();
  for (const node of profile.nodes) {
    byNode.set(
      node.id,
      origin(node.callFrame.functionName, node.callFrame.url),
    );
  }
  const totals = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const kind = byNode.get(id) ?? "other";
    if (kind === "(idle)") return;
    const us = profile.timeDeltas[i] ?? 0;
    totals.set(kind, (totals.get(kind) ?? 0) + us);
    busy += us;
  });
  return [...totals].map(([name, us]) => ({
    name,
    ms: us / 1000,
    share: busy > 0 ? us / busy : 0,
  })).sort((a, b) => b.ms - a.ms);
}

if (import.meta.main) {
  const args = [...Deno.args];
  let top = 25;
  const i = args.indexOf("--top");
  if (i >= 0) {
    top = Number(args[i + 1]);
    args.splice(i, 2);
  }
  for (const file of args) {
    const profile = JSON.parse(await Deno.readTextFile(file)) as Profile;
    const times = selfTimes(profile);
    const total = times.reduce((s, t) => s + t.ms, 0);
    console.log(`\n${file}: ${(total / 1000).toFixed(1)} s sampled`);
    for (const t of times.slice(0, top)) {
      console.log(
        `${t.ms.toFixed(0).padStart(8)} ms ${
          (t.share * 100).toFixed(1).padStart(5)
        } %  ${t.name}`,
      );
    }
    console.log("by origin, share of busy time:");
    for (const t of byOrigin(profile)) {
      console.log(
        `${t.ms.toFixed(0).padStart(8)} ms ${
          (t.share * 100).toFixed(1).padStart(5)
        } %  ${t.name}`,
      );
    }
  }
}
