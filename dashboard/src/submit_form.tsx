/// <reference lib="dom" />
/**
 * The form that submits jobs through the scheduler (`POST /api/jobs`).
 *
 * @module
 */
import { useState } from "preact/hooks";
import { JOB_PRIORITIES, Priority } from "../../src/contract/mod.ts";
import { submitJobs } from "./api.ts";

/** Topic, payload, priority and count; reports what became of the jobs. */
export function SubmitForm({ topics }: { topics: string[] }) {
  const [topic, setTopic] = useState("job.echo");
  const [payload, setPayload] = useState("hello");
  const [priority, setPriority] = useState<string>(
    Priority.INTERACTIVE.toLowerCase(),
  );
  const [count, setCount] = useState(1);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const res = await submitJobs({ topic, payload, priority, count });
      const refused = res.outcomes.find((o) => o.status !== "dispatched");
      setMessage({
        ok: res.refused === 0,
        text: res.refused === 0
          ? `Dispatched ${res.dispatched} job${
            res.dispatched === 1 ? "" : "s"
          }.`
          : `${res.dispatched} dispatched, ${res.refused} refused: ${refused?.status.toUpperCase()}${
            refused?.reason ? ` (${refused.reason})` : ""
          }`,
      });
    } catch (error) {
      setMessage({
        ok: false,
        text: error instanceof Error ? error.message : String(error),
      });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel submit" aria-labelledby="submit-title">
      <header class="panel-head">
        <h2 id="submit-title">Submit jobs</h2>
      </header>
      <form class="form" onSubmit={submit}>
        <label>
          <span>Topic</span>
          <input
            name="topic"
            required
            list="known-topics"
            value={topic}
            onInput={(e) => setTopic(e.currentTarget.value)}
          />
          <datalist id="known-topics">
            {topics.map((t) => <option key={t} value={t} />)}
          </datalist>
        </label>
        <label>
          <span>Payload</span>
          <textarea
            name="payload"
            rows={3}
            value={payload}
            onInput={(e) => setPayload(e.currentTarget.value)}
          />
        </label>
        <div class="form-row">
          <label>
            <span>Priority</span>
            <select
              name="priority"
              value={priority}
              onChange={(e) => setPriority(e.currentTarget.value)}
            >
              {JOB_PRIORITIES.map((p) => p.toLowerCase()).map((p) => (
                <option key={p} value={p}>{p}</option>
              ))}
            </select>
          </label>
          <label>
            <span>Count</span>
            <input
              name="count"
              type="number"
              min={1}
              max={1000}
              value={count}
              onInput={(e) => setCount(Number(e.currentTarget.value) || 1)}
            />
          </label>
        </div>
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? "Submitting…" : "Submit"}
        </button>
        {message && (
          <p
            role="status"
            class={message.ok ? "result ok" : "result bad"}
            data-submit-result
          >
            {message.text}
          </p>
        )}
      </form>
    </section>
  );
}
