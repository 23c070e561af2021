// `bun run doctor [--json] [--live]`: what every worker will connect to, in which mode, with which
// pool, from which file, and whether it all fits the connection budget. Exits 1 on errors, so it can
// guard a deploy. `--kubernetes <overlay folder | - for stdin>` checks Kubernetes manifests instead.
import { parseArgs } from 'node:util';
import { BUDGET_HEADROOM } from '../../shared/connection-budget.ts';
import { maskSecretsInUrl } from '../../shared/env-layers.ts';
import { collectWorkerReports } from './collect.ts';
import { type Budget, budgetUse, diagnose, type Finding, type ServiceReport } from './findings.ts';
import { runKubernetesDoctor } from './kubernetes-doctor.ts';
import { runLiveChecks } from './live-checks.ts';

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean' },
    live: { type: 'boolean' },
    root: { type: 'string' },
    kubernetes: { type: 'string' },
  },
});

if (flags.kubernetes !== undefined) process.exit(await runKubernetesDoctor(flags.kubernetes, { json: flags.json }));

const collected = collectWorkerReports({ rootDir: flags.root });
const reports = collected.map((entry) => entry.report);
const configured = collected.find((entry) => entry.config?.DB_CONNECTION_BUDGET)?.config;
let budget: Budget | undefined = configured?.DB_CONNECTION_BUDGET
  ? { connections: configured.DB_CONNECTION_BUDGET, source: 'DB_CONNECTION_BUDGET' }
  : undefined;
const findings: Finding[] = [];
if (flags.live) {
  const live = await runLiveChecks(reports);
  findings.push(...live.findings);
  budget ??= live.budget;
}
findings.unshift(...diagnose(reports, budget));
const errors = findings.filter((finding) => finding.severity === 'error').length;
const used = budgetUse(reports);

const publicReport = (report: ServiceReport) => ({
  ...report,
  databaseUrl: report.databaseUrl && maskSecretsInUrl(report.databaseUrl),
  directUrl: report.directUrl && maskSecretsInUrl(report.directUrl),
  redisUrl: report.redisUrl && maskSecretsInUrl(report.redisUrl),
  overrides: report.overrides.map((override) => ({
    ...override,
    winnerValue: maskSecretsInUrl(override.winnerValue),
    loserValue: maskSecretsInUrl(override.loserValue),
  })),
});

if (flags.json) {
  console.log(
    JSON.stringify(
      { services: reports.map(publicReport), budget: { used, headroom: BUDGET_HEADROOM, ...budget }, findings, errors },
      null,
      2,
    ),
  );
} else {
  const label = { transaction: 'TRANSACTION POOLER', session: 'SESSION POOLER', direct: 'DIRECT' } as const;
  for (const report of reports.map(publicReport)) {
    console.log(`\n${report.service}`);
    if (report.configError || report.databaseUrlUnset) {
      console.log(report.configError ? '  configuration invalid (see findings)' : '  DATABASE_URL  (not set)');
      continue;
    }
    console.log(`  DATABASE_URL  ${report.databaseUrl ?? '(not set)'}  from ${report.databaseUrlSource ?? '-'}`);
    if (report.mode) console.log(`  mode          ${label[report.mode]} (${report.modeReason})`);
    console.log(
      `  pool          ${report.poolSize ?? '-'} × ${report.replicas} replica(s), acquire timeout ${report.poolTimeoutSeconds}s, idle ${report.idleTimeoutSeconds ?? '-'}s`,
    );
    console.log(`  DIRECT_URL    ${report.directUrl ?? '(not set)'}`);
    for (const override of report.overrides) {
      console.log(`  override      ${override.winner} overrides ${override.key} from ${override.loser}`);
    }
  }
  const budgetText = budget
    ? `${used} + ${BUDGET_HEADROOM} headroom of ${budget.connections} (${budget.source})`
    : `${used} (no budget known)`;
  console.log(`\nconnection budget: ${budgetText}`);
  console.log('\nfindings:');
  for (const finding of findings) {
    console.log(
      `  ${finding.severity.toUpperCase().padEnd(7)} ${finding.code}${finding.service ? ` [${finding.service}]` : ''}: ${finding.message}`,
    );
    if (finding.severity !== 'info' || finding.code !== 'LIVE_REACHABLE') console.log(`          fix: ${finding.fix}`);
  }
  console.log(`\n${errors} error(s)`);
}
process.exit(errors > 0 ? 1 : 0);
