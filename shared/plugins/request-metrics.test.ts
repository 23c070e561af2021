// The hand-written request metrics must expose exactly what prom-client's own Counter and Histogram
// would for the same observations: same samples, same values, same default labels.
import { describe, expect, test } from 'bun:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { DURATION_BUCKETS_SECONDS, RequestMetrics } from './request-metrics.ts';

const OBSERVATIONS: [string, string, string, number][] = [
  ['GET', '/api/v1/clients/*', '200', 0.0004],
  ['GET', '/api/v1/clients/*', '200', 0.001], // on a bound: counted in that bucket (le)
  ['GET', '/api/v1/clients/*', '200', 0.03],
  ['GET', '/api/v1/clients/*', '503', 12], // past the last bound: +Inf only
  ['POST', '/api/v1/auth/login', '401', 0.2],
  ['GET', 'unmatched', '404', 0],
];

/** The metric lines, sorted: the two implementations may order samples and labels differently. */
const lines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^(\w+)(?:\{(.*)\})? (.+)$/.exec(line);
      if (!match) throw new Error(`not a sample: ${line}`);
      const labels = (match[2] ?? '').split(',').filter(Boolean).sort().join(',');
      return `${match[1]}{${labels}} ${Number(match[3])}`;
    })
    .sort();

describe('RequestMetrics', () => {
  test('exposes the same samples as prom-client’s Counter and Histogram', async () => {
    const ours = new Registry();
    ours.setDefaultLabels({ service: 'gateway' });
    const metrics = new RequestMetrics(ours);

    const reference = new Registry();
    reference.setDefaultLabels({ service: 'gateway' });
    const labelNames = ['method', 'route', 'status_code'];
    const counter = new Counter({ name: 'http_requests_total', help: 'x', labelNames, registers: [reference] });
    const histogram = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'x',
      labelNames,
      buckets: DURATION_BUCKETS_SECONDS,
      registers: [reference],
    });

    for (const [method, route, status_code, seconds] of OBSERVATIONS) {
      metrics.observe({ method, route, status_code }, seconds);
      counter.inc({ method, route, status_code });
      histogram.observe({ method, route, status_code }, seconds);
    }
    const expected = lines(await reference.metrics());
    expect(expected.length).toBeGreaterThan(50);
    expect(lines(await ours.metrics())).toEqual(expected);
    expect(await ours.metrics()).toContain('# TYPE http_request_duration_seconds histogram');
    expect(await ours.metrics()).toContain('# TYPE http_requests_total counter');
  });

  test('resetting the registry starts every series again', async () => {
    const registry = new Registry();
    const metrics = new RequestMetrics(registry);
    metrics.observe({ method: 'GET', route: '/x', status_code: '200' }, 0.01);
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('route="/x"');
  });
});
