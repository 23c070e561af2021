// `bun run doctor --kubernetes` as a user runs it: on the shipped overlays (each must fit its budget,
// autoscaling included), on a fixture overlay whose client autoscaler breaks it, and on rendered YAML
// from stdin. No cluster and no database: the manifests are all it reads.
import { describe, expect, test } from 'bun:test';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../../shared/env.ts';
import { renderKustomization } from '../deploy/kustomize.ts';
import type { Finding } from './findings.ts';

const OVERLAYS_DIR = join(REPOSITORY_ROOT, 'deploy/kubernetes/overlays');
const OVER_BUDGET_FIXTURE = join(import.meta.dir, 'fixtures/client-autoscaler-over-budget');

function runDoctor(args: string[], stdin?: string) {
  const result = Bun.spawnSync(['bun', '--no-env-file', join(REPOSITORY_ROOT, 'tools/doctor/doctor-cli.ts'), ...args], {
    env: { PATH: process.env.PATH ?? '' },
    stdin: stdin === undefined ? 'ignore' : new TextEncoder().encode(stdin),
  });
  return { exitCode: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

const findingsOf = (stdout: string) => (JSON.parse(stdout) as { findings: Finding[] }).findings;

describe('bun run doctor --kubernetes', () => {
  for (const overlay of readdirSync(OVERLAYS_DIR)) {
    test(`the shipped ${overlay} overlay fits its budget at every autoscaler's maximum: exit 0`, () => {
      const result = runDoctor(['--kubernetes', join(OVERLAYS_DIR, overlay), '--json']);
      expect(findingsOf(result.stdout)).toEqual([]);
      expect(result.exitCode).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(report.workers.map((worker: { service: string }) => worker.service)).toEqual(['auth', 'user', 'client']);
      expect(report.limits.length).toBeGreaterThan(0);
    });
  }

  test('an overlay whose client autoscaler may reach 20 pods: exit 1, naming the client worker and the fix', () => {
    const result = runDoctor(['--kubernetes', OVER_BUDGET_FIXTURE]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('client   pool 2 × 20 pods (HorizontalPodAutoscaler/client maxReplicas) = 40');
    expect(result.stdout).toContain('ERROR   POOLS_OVER_BUDGET [client]');
    // 2 × 4 + 2 × 3 = 14 for the others, so client may have (40 − 3 − 14) / 2 = 11 pods.
    expect(result.stdout).toContain('fix: Lower HorizontalPodAutoscaler/client maxReplicas from 20 to 11 or less');

    const json = findingsOf(runDoctor(['--kubernetes', OVER_BUDGET_FIXTURE, '--json']).stdout);
    expect(json.map((finding) => `${finding.severity}:${finding.code}:${finding.service}`)).toEqual([
      'error:POOLS_OVER_BUDGET:client',
    ]);
  });

  test('rendered YAML on stdin; PgBouncer pods that together exceed the database are an error too', () => {
    const production = renderKustomization(join(OVERLAYS_DIR, 'production'));
    expect(runDoctor(['--kubernetes', '-'], production).exitCode).toBe(0);

    const unsplit = production
      .replace('MAX_DB_CONNECTIONS: "20"', 'MAX_DB_CONNECTIONS: "40"')
      .replace('DEFAULT_POOL_SIZE: "20"', 'DEFAULT_POOL_SIZE: "40"');
    const result = runDoctor(['--kubernetes', '-', '--json'], unsplit);
    expect(result.exitCode).toBe(1);
    const finding = findingsOf(result.stdout).find((candidate) => candidate.code === 'POOLER_OVER_DATABASE');
    // 60 − 3 headroom split over 2 pods.
    expect(finding?.fix).toContain('MAX_DB_CONNECTIONS 28 or less per pod');
  });

  test('a deployment with no autoscaler counts its replicas, and a missing worker is an error', () => {
    const production = renderKustomization(join(OVERLAYS_DIR, 'production'));
    const documents = production.split(/^---$/m);
    const withoutClientHpa = documents
      .filter(
        (document) => !(document.includes('kind: HorizontalPodAutoscaler') && /\n {2}name: client\n/.test(document)),
      )
      .join('---');
    const report = JSON.parse(runDoctor(['--kubernetes', '-', '--json'], withoutClientHpa).stdout);
    const client = report.workers.find((worker: { service: string }) => worker.service === 'client');
    expect(client).toMatchObject({ replicas: 2, replicasSource: 'Deployment/client replicas' });

    const withoutUser = documents
      .filter((document) => !(document.includes('kind: Deployment') && document.includes('workers/user/server.ts')))
      .join('---');
    const missing = runDoctor(['--kubernetes', '-', '--json'], withoutUser);
    expect(missing.exitCode).toBe(1);
    expect(findingsOf(missing.stdout).map((finding) => `${finding.code}:${finding.service}`)).toContain(
      'WORKER_NOT_DEPLOYED:user',
    );
  });
});
