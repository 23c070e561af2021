// `http_requests_total` and `http_request_duration_seconds` (by method, route pattern and status):
// plain numbers per label set, turned into Prometheus samples only when /metrics is scraped, through
// prom-client's registry (which still formats, adds the default labels and serves them).
//
// Hand-written because prom-client's own Counter and Histogram check and hash the labels on every
// observation, even through a child bound to them: about 1.4 µs a request, the gateway's largest
// single cost on a cached page after the token check (`tools/bench/profile-gateway.ts edge`; #15 item
// 3 compares that page with a minimal server). Here a request is one Map lookup by a string key, a
// few additions and a search of 13 bucket bounds.
import type { Registry } from 'prom-client';

export interface RequestLabels {
  method: string;
  route: string;
  status_code: string;
}

interface Series {
  labels: RequestLabels;
  count: number;
  sum: number;
  /** Observations per bucket (not cumulative); the last slot is the +Inf bucket. */
  buckets: Float64Array;
}

export const DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const REQUESTS = 'http_requests_total';
const DURATION = 'http_request_duration_seconds';

export class RequestMetrics {
  private readonly series = new Map<string, Series>();

  constructor(registry: Registry) {
    const values = () => [...this.series.values()];
    // prom-client's Metric interface, which its registry reads (get) and resets (reset).
    registry.registerMetric({
      name: REQUESTS,
      help: 'HTTP requests answered, by route and status',
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({
        name: REQUESTS,
        help: 'HTTP requests answered, by route and status',
        type: 'counter',
        aggregator: 'sum',
        values: values().map((series) => ({ labels: { ...series.labels }, value: series.count })),
      }),
      reset: () => this.series.clear(),
    } as never);
    registry.registerMetric({
      name: DURATION,
      help: 'Time to answer, by route and status',
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({
        name: DURATION,
        help: 'Time to answer, by route and status',
        type: 'histogram',
        aggregator: 'sum',
        values: values().flatMap(histogramSamples),
      }),
      reset: () => this.series.clear(),
    } as never);
  }

  /** One answered request. */
  observe(labels: RequestLabels, seconds: number): void {
    const key = `${labels.method} ${labels.route} ${labels.status_code}`;
    let series = this.series.get(key);
    if (!series) {
      series = {
        labels: { ...labels },
        count: 0,
        sum: 0,
        buckets: new Float64Array(DURATION_BUCKETS_SECONDS.length + 1),
      };
      this.series.set(key, series);
    }
    series.count++;
    series.sum += seconds;
    let bucket = 0;
    while (bucket < DURATION_BUCKETS_SECONDS.length && seconds > (DURATION_BUCKETS_SECONDS[bucket] as number)) bucket++;
    series.buckets[bucket] = (series.buckets[bucket] ?? 0) + 1;
  }
}

/** Prometheus histogram samples of one label set: cumulative buckets, +Inf, sum and count. */
function histogramSamples(series: Series) {
  const samples: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
  let cumulative = 0;
  for (let index = 0; index <= DURATION_BUCKETS_SECONDS.length; index++) {
    cumulative += series.buckets[index] as number;
    const le = index < DURATION_BUCKETS_SECONDS.length ? (DURATION_BUCKETS_SECONDS[index] as number) : '+Inf';
    samples.push({ labels: { ...series.labels, le }, value: cumulative, metricName: `${DURATION}_bucket` });
  }
  samples.push({ labels: { ...series.labels }, value: series.sum, metricName: `${DURATION}_sum` });
  samples.push({ labels: { ...series.labels }, value: series.count, metricName: `${DURATION}_count` });
  return samples;
}
