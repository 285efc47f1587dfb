/// <reference lib="dom" />
/**
 * The dashboard's HTTP calls, with the access token when the server needs one.
 *
 * @module
 */
import type {
  ActionResponse,
  AuditResponse,
  BulkActionName,
  BulkFilter,
  BulkProgress,
  BulkResponse,
  DeadLettersResponse,
  DiscardReply,
  JobDetail,
  JobsResponse,
  JobState,
  JobSummary,
  RetryResponse,
  SubmitResponse,
  WorkerDetail,
} from "../../src/contract/mod.ts";

const TOKEN_KEY = "cortex-dashboard-token";

/**
 * The access token: taken from `?token=` once (then removed from the address
 * bar, so it is not shared by a copied link) and kept for this tab only.
 */
export function accessToken(): string {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete("token");
    history.replaceState(null, "", url);
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

/** An API call that did not succeed; `message` is the server's explanation. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const token = accessToken();
  const headers = new Headers(init.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  const res = await fetch(path, { ...init, headers });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    throw new ApiError(res.status, body.error ?? `HTTP ${res.status}`);
  }
  return body as T;
}

/** Filters of {@linkcode fetchJobs}. */
export interface JobFilter {
  status: string;
  topic: string;
  q: string;
  /** Dead-lettered jobs only (failed every attempt; durable mode). */
  deadLettered: boolean;
}

/** The most recent jobs matching `filter`, newest first. */
export async function fetchJobs(
  filter: JobFilter,
  limit = 200,
  signal?: AbortSignal,
): Promise<JobSummary[]> {
  const params = new URLSearchParams({ limit: String(limit) });
  if (filter.status) params.set("status", filter.status);
  if (filter.topic) params.set("topic", filter.topic);
  if (filter.q) params.set("q", filter.q);
  if (filter.deadLettered) params.set("deadLettered", "true");
  const body = await call<{ jobs: JobSummary[] }>(`/api/jobs?${params}`, {
    signal,
  });
  return body.jobs;
}

/** One job's detail. */
export function fetchJob(
  jobId: string,
  signal?: AbortSignal,
): Promise<JobDetail> {
  return call<JobDetail>(`/api/jobs/${encodeURIComponent(jobId)}`, { signal });
}

/** Starts a job that ended FAILED or TIMEOUT again (durable mode). */
export function retryJob(jobId: string): Promise<RetryResponse> {
  return call<RetryResponse>(`/api/jobs/${encodeURIComponent(jobId)}/retry`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
}

/** Cancels a job not yet final: it ends CANCELLED. */
export function cancelJob(jobId: string): Promise<ActionResponse> {
  return call<ActionResponse>(
    `/api/jobs/${encodeURIComponent(jobId)}/cancel`,
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    },
  );
}

/** Asks a worker to drain (finish what it holds, take nothing new), or to resume. */
export function drainWorker(
  workerId: string,
  resume = false,
): Promise<ActionResponse> {
  return call<ActionResponse>(
    `/api/workers/${encodeURIComponent(workerId)}/drain`,
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(resume ? { resume: true } : {}),
    },
  );
}

/** What the submit form sends. */
export interface SubmitRequest {
  topic: string;
  payload: string;
  priority: string;
  count: number;
}

/** Submits jobs through the scheduler. */
export function submitJobs(request: SubmitRequest): Promise<SubmitResponse> {
  return call<SubmitResponse>("/api/jobs", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(request),
  });
}

/** The filters of the search view, as `GET /api/jobs` takes them ("" for none). */
export interface SearchFilter {
  idPrefix: string;
  topic: string;
  status: string;
  worker: string;
  /** `datetime-local` values, the browser's local time. */
  since: string;
  until: string;
  text: string;
}

function searchParams(filter: Partial<SearchFilter>, cursor?: string) {
  const params = new URLSearchParams({ limit: "50" });
  for (
    const key of ["idPrefix", "topic", "status", "worker", "text"] as const
  ) {
    const value = filter[key]?.trim();
    if (value) params.set(key, value);
  }
  for (const key of ["since", "until"] as const) {
    const value = filter[key];
    // datetime-local has no zone: the browser reads it as local time.
    if (value) params.set(key, String(new Date(value).getTime()));
  }
  if (cursor) params.set("cursor", cursor);
  return params;
}

/** One page of a search through history. */
export function searchJobs(
  filter: Partial<SearchFilter>,
  cursor?: string,
  signal?: AbortSignal,
): Promise<JobsResponse> {
  return call<JobsResponse>(`/api/jobs?${searchParams(filter, cursor)}`, {
    signal,
  });
}

/** A worker, one page of the jobs it ran, and its errors. */
export function fetchWorker(
  workerId: string,
  cursor?: string,
  signal?: AbortSignal,
): Promise<WorkerDetail> {
  return call<WorkerDetail>(
    `/api/workers/${encodeURIComponent(workerId)}?${searchParams({}, cursor)}`,
    { signal },
  );
}

/** The audit log, newest first. */
export function fetchAudit(signal?: AbortSignal): Promise<AuditResponse> {
  return call<AuditResponse>("/api/audit", { signal });
}

const JSON_POST = {
  method: "POST",
  headers: { "content-type": "application/json" },
} as const;

/** Dead letters grouped by error, with up to 20 jobs per group. */
export function fetchDeadLetters(
  signal?: AbortSignal,
): Promise<DeadLettersResponse> {
  return call<DeadLettersResponse>("/api/dead-letters", { signal });
}

/** Retries (or discards) every job of a dead-letter group, in the background. */
export function actOnGroup(
  groupId: string,
  action: "retry" | "discard",
): Promise<BulkResponse> {
  return call<BulkResponse>(
    `/api/dead-letters/${encodeURIComponent(groupId)}/${action}`,
    { ...JSON_POST, body: "{}" },
  );
}

/** Takes one job off the dead-letter list. */
export function discardJob(jobId: string): Promise<DiscardReply> {
  return call<DiscardReply>(
    `/api/jobs/${encodeURIComponent(jobId)}/discard`,
    { ...JSON_POST, body: "{}" },
  );
}

/** The bulk filter of a search's filter: every field of it, plus error text. */
export function bulkFilter(
  filter: Partial<SearchFilter>,
  error: string,
): BulkFilter {
  const out: BulkFilter = {};
  if (filter.status) out.status = [filter.status as JobState];
  for (const key of ["topic", "idPrefix", "worker", "text"] as const) {
    const value = filter[key]?.trim();
    if (value) out[key] = value;
  }
  if (filter.since) out.since = new Date(filter.since).getTime();
  if (filter.until) out.until = new Date(filter.until).getTime();
  if (error.trim()) out.error = error.trim();
  return out;
}

/** A bulk action by filter: a count (dry run) or a start. */
export function bulkAction(
  action: BulkActionName,
  filter: BulkFilter,
  dryRun: boolean,
): Promise<BulkResponse> {
  return call<BulkResponse>("/api/jobs/bulk", {
    ...JSON_POST,
    body: JSON.stringify({ action, filter, dryRun }),
  });
}

/** The progress of a bulk action. */
export function fetchBulk(
  href: string,
  signal?: AbortSignal,
): Promise<BulkProgress> {
  return call<BulkProgress>(href, { signal });
}

/** Stops a bulk action; resolves with its progress once it has stopped. */
export function stopBulk(href: string): Promise<BulkProgress> {
  return call<BulkProgress>(`${href}/stop`, { ...JSON_POST, body: "{}" });
}
