// Adding a worker is a folder, one registry entry and its migration: everything else derives from
// shared/services.ts. A fictitious `invoice` worker, added to a copy of the registry, reaches the
// configuration schema, the doctor's connection budget, the dev runner's plan and the gateway's
// upstreams without another edit anywhere.
import { afterAll, describe, expect, test } from 'bun:test';
import { upstreamsFrom } from '../gateway/upstreams.ts';
import { validateConfig } from '../shared/env.ts';
import { SERVICES, type ServiceRegistry } from '../shared/services.ts';
import { planDevProcesses } from './dev/dev-plan.ts';
import { collectWorkerReports } from './doctor/collect.ts';
import { diagnose } from './doctor/findings.ts';
import { configFixture, removeConfigFixtures } from './testing/config-fixture.ts';

afterAll(removeConfigFixtures);

const withInvoices: ServiceRegistry = {
  ...SERVICES,
  invoice: { logName: 'InvoiceService', dir: 'workers/invoice', defaultPort: 3004, pathPrefix: 'invoices' },
};
const TX = 'postgresql://app:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres';

describe('a worker added to the registry', () => {
  test('gets its configuration keys, typed and validated', () => {
    const config = validateConfig('gateway', { INVOICE_REPLICAS: '4', INVOICE_PORT: '3104' }, {}, withInvoices);
    expect(config).toMatchObject({ INVOICE_REPLICAS: 4, INVOICE_PORT: 3104 });
    expect(() => validateConfig('gateway', { INVOICE_REPLICAS: 'many' }, {}, withInvoices)).toThrow('INVOICE_REPLICAS');
    // and, being a worker, needs a database
    expect(() => validateConfig('invoice', {}, {}, withInvoices)).toThrow('DATABASE_URL is required');
  });

  test('counts in the doctor’s connection budget, with its replicas', () => {
    const rootDir = configFixture({
      '.env': `DATABASE_URL=${TX}\nDB_POOL_SIZE=2\nDB_POOL_TIMEOUT=10\n`,
      'workers/invoice/.env': 'INVOICE_REPLICAS=3\n',
    });
    const reports = collectWorkerReports({ rootDir, processEnv: {}, registry: withInvoices }).map(
      (entry) => entry.report,
    );
    expect(reports.map((report) => report.service)).toEqual(['auth', 'user', 'client', 'invoice']);
    // 2 + 2 + 2 + 2 × 3 = 12, + 3 headroom = 15
    const verdict = (connections: number) =>
      diagnose(reports, { connections, source: 'test' }).map((finding) => finding.code);
    expect(verdict(15)).not.toContain('POOLS_OVER_BUDGET');
    expect(verdict(14)).toContain('POOLS_OVER_BUDGET');
  });

  test('is started by the dev runner, replicas included, and the gateway is told where', () => {
    const config = validateConfig('gateway', { INVOICE_REPLICAS: '2' }, {}, withInvoices);
    const plan = planDevProcesses(config, withInvoices);
    const invoices = plan.filter((process) => process.service === 'invoice');
    expect(invoices.map((process) => [process.label, process.entry, process.port])).toEqual([
      ['invoice#1', 'workers/invoice/server.ts', 3004],
      ['invoice#2', 'workers/invoice/server.ts', 3104],
    ]);
    const gateway = plan.find((process) => process.service === 'gateway');
    expect(gateway?.env.INVOICE_SERVICE_URL).toBe('http://127.0.0.1:3004,http://127.0.0.1:3104');
  });

  test('becomes a gateway upstream under its path prefix', () => {
    const config = validateConfig('gateway', { INVOICE_SERVICE_URL: 'http://10.1.0.7:3004' }, {}, withInvoices);
    const invoice = upstreamsFrom(config, withInvoices).find((upstream) => upstream.name === 'invoice');
    expect(invoice?.path).toBe('/api/v1/invoices');
    expect(invoice?.replicas.list().map((replica) => replica.origin)).toEqual(['http://10.1.0.7:3004']);
  });
});

describe('the dev runner’s port scheme', () => {
  test('replica i listens on the base port + 100 × i; collisions are refused', () => {
    const plan = planDevProcesses(validateConfig('gateway', { CLIENT_REPLICAS: '3' }));
    expect(plan.filter((process) => process.service === 'client').map((process) => process.port)).toEqual([
      3003, 3103, 3203,
    ]);
    expect(() => planDevProcesses(validateConfig('gateway', { CLIENT_REPLICAS: '2', USER_PORT: '3103' }))).toThrow(
      'Port 3103',
    );
  });
});
