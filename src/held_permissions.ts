/**
 * What Deno permissions this process holds, so a running process can say it
 * (one log line at start) and an operator can check least privilege.
 *
 * Deno does not list a scoped grant's entries, so each kind is reported as
 * `all` (granted without scope), the given probe targets it is granted (the
 * host:ports, paths or variables the process means to use), or `none`.
 *
 * @module
 */
import type { Logger } from "./log.ts";

/** The permission kinds reported, in order. */
export const PERMISSION_KINDS = [
  "read",
  "write",
  "net",
  "env",
  "run",
  "ffi",
  "sys",
] as const;

/** One Deno permission kind. */
export type PermissionKind = typeof PERMISSION_KINDS[number];

/** Targets to check per kind: paths, `host:port`s, variable or command names. */
export type PermissionProbes = Partial<
  Record<"read" | "write" | "net" | "env" | "run", string[]>
>;

function descriptor(
  kind: PermissionKind,
  target: string,
): Deno.PermissionDescriptor {
  switch (kind) {
    case "read":
    case "write":
      return { name: kind, path: target };
    case "net":
      return { name: "net", host: target };
    case "env":
      return { name: "env", variable: target };
    case "run":
      return { name: "run", command: target };
    default:
      return { name: kind };
  }
}

/**
 * For each kind: `"all"`, the comma-separated probe targets granted, or
 * `"none"`. Queries only; never prompts.
 *
 * @example
 * ```ts
 * const held = await heldPermissions({ net: ["127.0.0.1:4222"] });
 * held.net; // "127.0.0.1:4222" when run with --allow-net=127.0.0.1:4222
 * ```
 */
export async function heldPermissions(
  probes: PermissionProbes = {},
): Promise<Record<PermissionKind, string>> {
  const out = {} as Record<PermissionKind, string>;
  for (const kind of PERMISSION_KINDS) {
    const whole = await Deno.permissions.query({ name: kind });
    if (whole.state === "granted") {
      out[kind] = "all";
      continue;
    }
    const targets = (probes as Record<string, string[] | undefined>)[kind] ??
      [];
    const granted: string[] = [];
    for (const target of targets) {
      const status = await Deno.permissions.query(descriptor(kind, target));
      if (status.state === "granted") granted.push(target);
    }
    out[kind] = granted.length > 0 ? granted.join(",") : "none";
  }
  return out;
}

/**
 * Logs (at info) one line with {@linkcode heldPermissions}, e.g.
 * `permissions held: read=none write=none net=127.0.0.1:4222 env=NATS_URL run=none ffi=none sys=none`.
 *
 * @example
 * ```ts
 * await logHeldPermissions(log, { net: ["127.0.0.1:4222"], env: ["NATS_URL"] });
 * ```
 */
export async function logHeldPermissions(
  log: Logger,
  probes: PermissionProbes = {},
): Promise<void> {
  const held = await heldPermissions(probes);
  log.info(
    `permissions held: ${
      PERMISSION_KINDS.map((kind) => `${kind}=${held[kind]}`).join(" ")
    }`,
    { permissions: held },
  );
}
