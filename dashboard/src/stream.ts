/// <reference lib="dom" />
/**
 * The connection to `/api/events`: an EventSource that feeds the store,
 * reports whether it is live, and reconnects (resuming from the last event
 * id) when the browser's own retry gives up.
 *
 * @module
 */
import type { DashboardEvent } from "../../src/contract/mod.ts";
import { accessToken } from "./api.ts";
import type { DashboardStore } from "./store.ts";

/** What the connection indicator shows. */
export type Connection = "connecting" | "live" | "reconnecting";

/**
 * Keeps `store` fed until `signal` aborts.
 *
 * @example
 * ```ts
 * connectStream(store, (state) => setConnection(state), controller.signal);
 * ```
 */
export function connectStream(
  store: DashboardStore,
  onConnection: (state: Connection) => void,
  signal: AbortSignal,
): void {
  let lastEventId = "";
  let source: EventSource | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const open = () => {
    const params = new URLSearchParams();
    const token = accessToken();
    if (token) params.set("token", token);
    // A new EventSource does not send Last-Event-ID; the query carries it.
    if (lastEventId) params.set("lastEventId", lastEventId);
    const query = params.size > 0 ? `?${params}` : "";
    source = new EventSource(`/api/events${query}`);
    const onEvent = (e: MessageEvent<string>) => {
      lastEventId = e.lastEventId || lastEventId;
      store.apply(JSON.parse(e.data) as DashboardEvent);
    };
    source.addEventListener("snapshot", onEvent);
    source.addEventListener("delta", onEvent);
    source.addEventListener("bulk", onEvent);
    source.onopen = () => onConnection("live");
    source.onerror = () => {
      onConnection("reconnecting");
      if (source?.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. the server was down and answered an
        // error page): start over ourselves.
        clearTimeout(retry);
        retry = setTimeout(open, 2000);
      }
    };
  };

  onConnection("connecting");
  open();
  signal.addEventListener("abort", () => {
    clearTimeout(retry);
    source?.close();
  }, { once: true });
}
