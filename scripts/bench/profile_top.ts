/**
 * The top self-time functions of V8 CPU profiles (`deno run --cpu-prof`),
 * to read what a process spent its time on during the benchmark.
 *
 *   deno run --allow-read profile_top.ts FILE.cpuprofile… [--top N]
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
    const busy = times.filter((t) =>
      !/^\((idle|program|garbage collector)\)/.test(t.name)
    );
    const total = times.reduce((s, t) => s + t.ms, 0);
    console.log(`\n${file}: ${(total / 1000).toFixed(1)} s sampled`);
    for (const t of times.slice(0, top)) {
      console.log(
        `${t.ms.toFixed(0).padStart(8)} ms ${
          (t.share * 100).toFixed(1).padStart(5)
        } %  ${t.name}`,
      );
    }
    void busy;
  }
}
