// `bun run doctor --kubernetes <overlay folder | manifest file | ->`: the connection budget of a
// Kubernetes deployment before it is applied. A folder is rendered with `kubectl kustomize`; `-` reads
// rendered YAML from stdin (`kubectl kustomize deploy/kubernetes/overlays/production | bun run doctor --kubernetes -`).
// Returns the exit code: 1 when a finding is an error, so it can guard a deploy.
import { readFileSync, statSync } from 'node:fs';
import { BUDGET_HEADROOM } from '../../shared/connection-budget.ts';
import { parseManifests, renderKustomization } from '../deploy/kustomize.ts';
import { budgetLimits, kubernetesBudgetUse, kubernetesFindings, readKubernetesBudget } from './kubernetes-budget.ts';

async function readManifestText(source: string): Promise<string> {
  if (source === '-') return await Bun.stdin.text();
  return statSync(source).isDirectory() ? renderKustomization(source) : readFileSync(source, 'utf8');
}

export async function runKubernetesDoctor(source: string, options: { json?: boolean } = {}): Promise<number> {
  const budget = readKubernetesBudget(parseManifests(await readManifestText(source)));
  const findings = kubernetesFindings(budget);
  const errors = findings.filter((finding) => finding.severity === 'error').length;
  const used = kubernetesBudgetUse(budget);
  const limits = budgetLimits(budget);
  if (options.json) {
    console.log(
      JSON.stringify({ source, ...budget, used, headroom: BUDGET_HEADROOM, limits, findings, errors }, null, 2),
    );
    return errors > 0 ? 1 : 0;
  }
  console.log(`kubernetes: ${source === '-' ? 'manifests from stdin' : source}\n`);
  for (const worker of budget.workers) {
    console.log(
      `  ${worker.service.padEnd(8)} pool ${worker.poolSize} × ${worker.replicas} pods (${worker.replicasSource}) = ${worker.poolSize * worker.replicas}`,
    );
  }
  const { pooler } = budget;
  console.log(
    pooler
      ? `  pooler   PgBouncer ${pooler.pods} pods (${pooler.podsSource}) × default_pool_size ${pooler.poolSize}, max_db_connections ${pooler.maxDbConnections ?? 'unlimited'}`
      : '  pooler   none in the manifests (a managed pooler, or direct)',
  );
  console.log(`  database DB_CONNECTION_BUDGET ${budget.databaseConnections ?? 'not set'}`);
  const tightest = limits[0];
  console.log(
    `\nconnection budget: ${used} + ${BUDGET_HEADROOM} headroom${tightest ? ` of ${tightest.connections} (${tightest.source})` : ' (no limit known)'}`,
  );
  console.log('\nfindings:');
  for (const finding of findings) {
    console.log(
      `  ${finding.severity.toUpperCase().padEnd(7)} ${finding.code}${finding.service ? ` [${finding.service}]` : ''}: ${finding.message}`,
    );
    console.log(`          fix: ${finding.fix}`);
  }
  if (findings.length === 0) console.log('  none: every pool fits, autoscaling included');
  console.log(`\n${errors} error(s)`);
  return errors > 0 ? 1 : 0;
}
