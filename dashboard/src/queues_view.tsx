/// <reference lib="dom" />
/**
 * Queues at a glance: a panel per topic with its figures of the last
 * minute, and charts of its last 15 minutes (throughput and wait), drawn as
 * plain SVG from the scheduler's rolling buckets.
 *
 * @module
 */
import type {
  QueuePanel,
  QueueSeries,
  QueuesView,
} from "../../src/contract/mod.ts";
import { count, duration } from "./format.ts";

const CHART_W = 300;
const CHART_H = 64;

/** Bars of jobs per second in each bucket, failures stacked in their own tone. */
function ThroughputChart(
  { series, bucketMs, topic }: {
    series: QueueSeries;
    bucketMs: number;
    topic: string;
  },
) {
  const perSecond = series.done.map((n) => n / (bucketMs / 1000));
  const peak = Math.max(0.1, ...perSecond);
  const bar = CHART_W / series.done.length;
  const total = series.done.reduce((a, b) => a + b, 0);
  const failed = series.failed.reduce((a, b) => a + b, 0);
  const scale = (n: number) => (n / (bucketMs / 1000) / peak) * (CHART_H - 4);
  return (
    <figure class="chart">
      <figcaption>
        Jobs / s, peak {peak >= 10 ? Math.round(peak) : peak.toFixed(1)}
      </figcaption>
      <svg
        viewBox={`0 0 ${CHART_W} ${CHART_H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${topic}: ${count(total)} jobs ended in 15 minutes, ${
          count(failed)
        } failed; peak ${peak.toFixed(1)} jobs per second`}
        data-chart="throughput"
      >
        <line class="axis" x1="0" y1={CHART_H} x2={CHART_W} y2={CHART_H} />
        {series.done.map((n, i) =>
          n === 0 ? null : (
            <g key={i}>
              <rect
                class="bar-ok"
                x={(i * bar).toFixed(1)}
                width={Math.max(1, bar - 0.5).toFixed(1)}
                y={(CHART_H - scale(n)).toFixed(1)}
                height={scale(n).toFixed(1)}
              />
              {series.failed[i] > 0 && (
                <rect
                  class="bar-bad"
                  x={(i * bar).toFixed(1)}
                  width={Math.max(1, bar - 0.5).toFixed(1)}
                  y={(CHART_H - scale(series.failed[i])).toFixed(1)}
                  height={scale(series.failed[i]).toFixed(1)}
                />
              )}
            </g>
          )
        )}
      </svg>
    </figure>
  );
}

/** Lines of the median and 95th percentile wait in each bucket. */
function WaitChart({ series, topic }: { series: QueueSeries; topic: string }) {
  const values = series.waitP95.filter((v): v is number => v !== null);
  const peak = Math.max(1, ...values);
  const step = CHART_W / Math.max(1, series.waitP95.length - 1);
  const path = (points: (number | null)[]) => {
    let d = "";
    let open = false;
    points.forEach((v, i) => {
      if (v === null) {
        open = false;
        return;
      }
      const x = i * step;
      const y = (CHART_H - 2 - (v / peak) * (CHART_H - 4)).toFixed(1);
      // A bucket between two empty ones is a short dash, not an invisible point.
      const alone = !open && (points[i + 1] ?? null) === null;
      d += alone
        ? `M${Math.max(0, x - 2).toFixed(1)},${y} L${(x + 2).toFixed(1)},${y} `
        : `${open ? "L" : "M"}${x.toFixed(1)},${y} `;
      open = true;
    });
    return d.trim();
  };
  return (
    <figure class="chart">
      <figcaption>
        Wait p50 / <span class="dashed-key">p95</span>, peak {duration(peak)}
      </figcaption>
      <svg
        viewBox={`0 0 ${CHART_W} ${CHART_H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={values.length === 0
          ? `${topic}: no wait measured in 15 minutes`
          : `${topic}: wait over 15 minutes, 95th percentile peak ${
            duration(peak)
          }`}
        data-chart="wait"
      >
        <line class="axis" x1="0" y1={CHART_H} x2={CHART_W} y2={CHART_H} />
        <path class="wait-p50" d={path(series.waitP50)} />
        <path class="wait-p95" d={path(series.waitP95)} />
      </svg>
    </figure>
  );
}

function percent(rate: number | null): string {
  return rate === null ? "—" : `${(rate * 100).toFixed(rate < 0.1 ? 1 : 0)} %`;
}

function quantiles(q: QueuePanel["waitMs"]): string {
  return q === null ? "—" : `${duration(q.p50)} / ${duration(q.p95)}`;
}

/** One topic's panel. */
function Panel(
  { panel, series, bucketMs }: {
    panel: QueuePanel;
    series?: QueueSeries;
    bucketMs: number;
  },
) {
  const failing = panel.failureRate !== null && panel.failureRate > 0.1;
  return (
    <section
      class="panel queue"
      aria-label={`queue ${panel.topic}`}
      data-queue={panel.topic}
    >
      <div class="panel-head">
        <h2 class="mono">{panel.topic}</h2>
        <span class="muted">pool {panel.pool}</span>
      </div>
      <dl class="queue-figures">
        <div>
          <dt>Pending</dt>
          <dd data-figure="pending">{count(panel.pending)}</dd>
        </div>
        <div>
          <dt>Running</dt>
          <dd data-figure="running">{count(panel.running)}</dd>
        </div>
        <div>
          <dt>Done, last min</dt>
          <dd data-figure="done">{count(panel.doneLastMinute)}</dd>
        </div>
        <div>
          <dt>Failure rate</dt>
          <dd data-figure="failure-rate" class={failing ? "tone-bad" : ""}>
            {percent(panel.failureRate)}
            {failing && <span class="flag">high</span>}
          </dd>
        </div>
        <div>
          <dt>Oldest pending</dt>
          <dd data-figure="oldest">{duration(panel.oldestPendingMs)}</dd>
        </div>
        <div>
          <dt>Wait p50 / p95</dt>
          <dd data-figure="wait">{quantiles(panel.waitMs)}</dd>
        </div>
        <div>
          <dt>Run p50 / p95</dt>
          <dd data-figure="run">{quantiles(panel.runMs)}</dd>
        </div>
        <div>
          <dt>Workers online</dt>
          <dd data-figure="workers">{count(panel.workersOnline)}</dd>
        </div>
      </dl>
      {series && (
        <div class="charts">
          <ThroughputChart
            series={series}
            bucketMs={bucketMs}
            topic={panel.topic}
          />
          <WaitChart series={series} topic={panel.topic} />
        </div>
      )}
    </section>
  );
}

/** Every topic's panel, or a word on why there is none. */
export function QueuesPanels({ queues }: { queues?: QueuesView }) {
  if (!queues) return <p class="empty">Waiting for the scheduler…</p>;
  if (queues.panels.length === 0) {
    return (
      <p class="empty">
        No queue yet: panels appear as jobs are dispatched.
      </p>
    );
  }
  return (
    <div class="queues">
      {queues.panels.map((panel) => (
        <Panel
          key={panel.topic}
          panel={panel}
          series={queues.series?.[panel.topic]}
          bucketMs={queues.bucketMs}
        />
      ))}
    </div>
  );
}
