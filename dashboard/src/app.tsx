/// <reference lib="dom" />
/**
 * The dashboard page: header with the connection indicator, counters,
 * workers, the jobs feed, the submit form and a job's detail.
 *
 * @module
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { JobSummary } from "../../src/contract/mod.ts";
import { fetchJobs, type JobFilter } from "./api.ts";
import { Counters } from "./counters.tsx";
import { JobDetailPanel } from "./job_detail.tsx";
import { JobsFeed } from "./jobs_feed.tsx";
import { QueuesPanels } from "./queues_view.tsx";
import { SearchView } from "./search_view.tsx";
import { AuditView } from "./audit_view.tsx";
import { BulkFeed } from "./bulk_progress.tsx";
import { DeadLettersView } from "./dead_letters_view.tsx";
import { WorkerView } from "./worker_view.tsx";
import { type Route, useRoute } from "./route.ts";
import { DashboardStore } from "./store.ts";
import { type Connection, connectStream } from "./stream.ts";
import { SubmitForm } from "./submit_form.tsx";
import { WorkersTable } from "./workers_table.tsx";

const NO_FILTER: JobFilter = {
  status: "",
  topic: "",
  q: "",
  deadLettered: false,
};
/** How long after a sampled delta the feed says so and backfills. */
const SAMPLED_MS = 3000;

/** Re-renders every `ms`, for "3 s ago" columns. */
function useTick(ms: number): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), ms);
    return () => clearInterval(timer);
  }, [ms]);
}

const VIEWS: { view: Route["view"]; label: string; href: string }[] = [
  { view: "overview", label: "Overview", href: "#" },
  { view: "queues", label: "Queues", href: "#queues" },
  { view: "search", label: "Search", href: "#search" },
  { view: "dead-letters", label: "Dead letters", href: "#dead-letters" },
  { view: "audit", label: "Audit", href: "#audit" },
];

/** The links between views; the current one is marked for screen readers too. */
function Nav({ route }: { route: Route }) {
  return (
    <nav class="views" aria-label="views">
      {VIEWS.map(({ view, label, href }) => (
        <a
          key={view}
          href={href}
          class={route.view === view ? "current" : ""}
          aria-current={route.view === view ? "page" : undefined}
          data-view-link={view}
        >
          {label}
        </a>
      ))}
    </nav>
  );
}

/** The whole page. */
export function App() {
  const store = useMemo(() => new DashboardStore(), []);
  const [, setVersion] = useState(0);
  const [connection, setConnection] = useState<Connection>("connecting");
  const [filter, setFilter] = useState<JobFilter>(NO_FILTER);
  const [paused, setPaused] = useState(false);
  const [selected, setSelected] = useState<string | undefined>();
  const frozen = useRef<JobSummary[]>([]);
  const route = useRoute();
  useTick(1000);

  useEffect(() => {
    const controller = new AbortController();
    const unsubscribe = store.subscribe(() => setVersion((v) => v + 1));
    connectStream(store, setConnection, controller.signal);
    return () => {
      unsubscribe();
      controller.abort();
    };
  }, [store]);

  // The stream brings the newest jobs; a filter may want older ones the
  // server still holds, and a flood may have left rows behind: backfill.
  const sampled = Date.now() - store.sampledAt < SAMPLED_MS;
  const filtered = filter.status !== "" || filter.topic !== "" ||
    filter.q !== "";
  useEffect(() => {
    if (!filtered && !sampled) return;
    const controller = new AbortController();
    const load = () =>
      fetchJobs(filter, 200, controller.signal).then(
        (jobs) => store.mergeJobs(jobs),
        () => {/* the stream still runs; the next change retries */},
      );
    const timer = setTimeout(load, 150);
    const again = sampled ? setInterval(load, 2000) : undefined;
    return () => {
      clearTimeout(timer);
      clearInterval(again);
      controller.abort();
    };
  }, [filter.status, filter.topic, filter.q, filtered, sampled, store]);

  const pause = (p: boolean) => {
    frozen.current = store.jobs;
    setPaused(p);
  };
  const jobs = paused ? frozen.current : store.jobs;
  const topics = [...store.topics].sort();

  return (
    <div class="layout">
      <header class="topbar">
        <div class="brand">
          <span class="logo" aria-hidden="true" />
          <h1>CortexOS</h1>
          <span class="muted">job control plane</span>
        </div>
        <Nav route={route} />
        <span
          class={`connection connection-${connection}`}
          role="status"
          data-connection={connection}
        >
          <span class="dot" aria-hidden="true" />
          {connection === "live"
            ? "Live"
            : connection === "connecting"
            ? "Connecting…"
            : "Reconnecting…"}
        </span>
      </header>
      {route.view === "queues" && (
        <main data-view="queues">
          <h2 class="view-title">Queues</h2>
          <QueuesPanels queues={store.queues} />
        </main>
      )}
      {route.view === "search" && (
        <main data-view="search">
          <BulkFeed.Provider value={store.bulk}>
            <SearchView onSelect={setSelected} />
          </BulkFeed.Provider>
        </main>
      )}
      {route.view === "dead-letters" && (
        <main data-view="dead-letters">
          <BulkFeed.Provider value={store.bulk}>
            <DeadLettersView />
          </BulkFeed.Provider>
        </main>
      )}
      {route.view === "audit" && (
        <main data-view="audit">
          <AuditView />
        </main>
      )}
      {route.view === "worker" && (
        <main data-view="worker">
          <WorkerView
            workerId={route.workerId}
            now={store.serverNow()}
            onSelect={setSelected}
          />
        </main>
      )}
      <main data-view="overview" hidden={route.view !== "overview"}>
        <Counters counters={store.counters} throughput={store.throughput} />
        <WorkersTable workers={store.workers} now={store.serverNow()} />
        <div class="columns">
          <JobsFeed
            jobs={jobs}
            topics={topics}
            filter={filter}
            onFilter={setFilter}
            paused={paused}
            onPause={pause}
            sampled={sampled}
            selected={selected}
            onSelect={setSelected}
          />
          <SubmitForm topics={topics} />
        </div>
      </main>
      {selected && (
        <JobDetailPanel
          jobId={selected}
          summary={store.job(selected)}
          onClose={() => setSelected(undefined)}
        />
      )}
    </div>
  );
}
