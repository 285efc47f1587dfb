/// <reference lib="dom" />
/**
 * Which view the page shows, from the address's hash (`#queues`,
 * `#search`, `#dead-letters`, `#audit`, `#worker/<id>`), so each view has a link and the browser's
 * back button works.
 *
 * @module
 */
import { useEffect, useState } from "preact/hooks";

/** A view of the page. */
export type Route =
  | { view: "overview" }
  | { view: "queues" }
  | { view: "search" }
  | { view: "audit" }
  | { view: "dead-letters" }
  | { view: "worker"; workerId: string };

/** The route a hash stands for; anything unknown is the overview. */
export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#\/?/, "");
  if (h === "queues") return { view: "queues" };
  if (h === "search") return { view: "search" };
  if (h === "audit") return { view: "audit" };
  if (h === "dead-letters") return { view: "dead-letters" };
  if (h.startsWith("worker/")) {
    return {
      view: "worker",
      workerId: decodeURIComponent(h.slice("worker/".length)),
    };
  }
  return { view: "overview" };
}

/** The link to a worker's detail. */
export function workerHref(workerId: string): string {
  return `#worker/${encodeURIComponent(workerId)}`;
}

/** The current route, kept in step with the address. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}
