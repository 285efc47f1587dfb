/**
 * The safety policy: which topics a job may be sent to.
 *
 * @module
 */
import type { JobRequest } from "../bus/messages.ts";
import { reservedPrefix, subjectMatches } from "../bus/subjects.ts";
import { remembered } from "./remembered.ts";

/** A safety decision: allowed, or denied with a reason. */
export type Verdict = { allowed: true } | { allowed: false; reason: string };

/** Decides whether a job may run at all. */
export interface SafetyChecker {
  /** The verdict on `job`; a denial's reason becomes the DENIED result's error. */
  check(job: JobRequest): Verdict;
}

/** Why the NATS namespaces are reserved, for the denial's reason. */
const RESERVED_WHY: Record<string, string> = {
  "$": " (the NATS server's and JetStream's APIs)",
  "_INBOX": " (replies to requests in flight)",
};

/** Topics denied whatever the configuration says. */
export const ALWAYS_DENIED = ["sys.destroy"];

/** Options for {@linkcode SubjectPolicy}. */
export interface SubjectPolicyOptions {
  /** Extra patterns to deny (NATS `*` and `>` wildcards). */
  deny?: string[];
  /** When non-empty, only topics matching one of these are allowed. */
  allow?: string[];
}

/**
 * A policy over the job's topic: `sys.destroy` and every other topic in the
 * reserved namespaces (`sys.`, `$`, `_INBOX`: see `RESERVED_PREFIXES`) are
 * denied, then the configured deny patterns,
 * then (if any are configured) everything outside the allow patterns.
 *
 * @example
 * ```ts
 * const policy = new SubjectPolicy({ deny: ["job.admin.>"] });
 * policy.check(job).allowed;
 * ```
 */
export class SubjectPolicy implements SafetyChecker {
  readonly #deny: string[];
  readonly #allow: string[];
  /** The policy is fixed and topics repeat: each topic is judged once. */
  readonly #verdict = remembered((topic) => this.#judge(topic));

  /** A policy with {@linkcode ALWAYS_DENIED} and `options`' patterns. */
  constructor(options: SubjectPolicyOptions = {}) {
    this.#deny = [...ALWAYS_DENIED, ...(options.deny ?? [])];
    this.#allow = options.allow ?? [];
  }

  /** The verdict on `job`'s topic, judged once per topic and remembered. */
  check(job: JobRequest): Verdict {
    return this.#verdict(job.topic);
  }

  #judge(topic: string): Verdict {
    for (const pattern of this.#deny) {
      if (subjectMatches(pattern, topic)) {
        return {
          allowed: false,
          reason:
            `topic "${topic}" is denied by safety policy (pattern "${pattern}")`,
        };
      }
    }
    const reserved = reservedPrefix(topic);
    if (reserved) {
      return {
        allowed: false,
        reason: `topic "${topic}" is in the reserved ${reserved} namespace${
          RESERVED_WHY[reserved] ?? ""
        }`,
      };
    }
    if (
      this.#allow.length > 0 &&
      !this.#allow.some((pattern) => subjectMatches(pattern, topic))
    ) {
      return {
        allowed: false,
        reason:
          `topic "${topic}" matches no allowed pattern (CORTEX_SAFETY_ALLOW=${
            this.#allow.join(",")
          })`,
      };
    }
    return { allowed: true };
  }
}
