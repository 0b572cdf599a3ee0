#!/usr/bin/env node
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { isUserError, InvalidInputError } from '../core/errors.ts';
import type { Scenario } from '../core/model.ts';
import { loadScenarioFile } from '../config/load.ts';
import { scenarioFromTraces } from '../config/traces.ts';
import { checkScenario } from '../capacity/scenarioChecks.ts';
import { renderReport } from '../sim/report.ts';
import { ALL_POLICIES, runScenario } from '../sim/run.ts';
import type { PolicyName, SimulationResult } from '../sim/types.ts';
import { comparisonTable, invoiceTable, resultJson } from './format.ts';
import { graphReport, type GraphFlags } from './graph.ts';
import { addServiceCommands } from './service.ts';
import { addRequestCommands } from './requests.ts';
import { invoicedPolicy } from '../sim/invoiced.ts';
import { reservationTable } from './reservations.ts';
import { maintenanceCommand, parseInjectFailure, runMaintenanceForSimulate } from './maintenance.ts';
import { allocateCommand } from './allocate.ts';
import { poolReportText } from './poolsFormat.ts';
import { alertsCsv, alertsJson, invoiceLinesCsv, invoicesCsv, invoicesJson, usageCsv } from '../billing/export.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEMO_SCENARIO = resolve(repoRoot, 'examples/demo.yaml');

interface RunFlags {
  json?: string;
  report?: string;
  policies?: string;
  quiet?: boolean;
  invoicesDir?: string;
  injectFailure?: string;
}

function writeOut(path: string, text: string): void {
  const abs = resolve(path);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, text);
}

function parsePolicies(text: string | undefined): PolicyName[] | undefined {
  if (!text) return undefined;
  const names = text.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!(ALL_POLICIES as readonly string[]).includes(n)) throw new InvalidInputError('--policies', `unknown policy "${n}" (expected ${ALL_POLICIES.join(', ')})`);
  }
  return names as PolicyName[];
}

async function runAndReport(scenario: Scenario, flags: RunFlags, defaultReport?: string): Promise<SimulationResult> {
  checkScenario(scenario);
  const policies = parsePolicies(flags.policies);
  const injectFailurePhase = parseInjectFailure(flags.injectFailure, scenario);
  const sim = scenario.simulation;
  const log = (s: string) => {
    if (!flags.quiet) process.stderr.write(s);
  };
  log(
    `headroom: replaying "${scenario.name}": ${scenario.workloads.length} workloads, ${scenario.pools.length} pools, ` +
      `${(sim.warmupSeconds / 86400).toFixed(1)} days of history then ${(sim.durationSeconds / 86400).toFixed(1)} days evaluated at ${sim.stepSeconds}s steps\n`,
  );
  const started = Date.now();
  const replayed = await runScenario(scenario, {
    policies,
    onProgress: (p) => {
      const done = p.doneSteps === p.totalSteps;
      if (process.stderr.isTTY) {
        const bar = Math.round((p.doneSteps / p.totalSteps) * 20);
        log(`\r  ${p.policy.padEnd(10)} [${'#'.repeat(bar)}${'.'.repeat(20 - bar)}] ${p.doneSteps}/${p.totalSteps} steps${done ? '\n' : ''}`);
      } else if (done) {
        log(`  ${p.policy.padEnd(10)} ${p.totalSteps} steps replayed\n`);
      }
    },
  });
  log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s\n\n`);
  const maintenance = scenario.maintenance ? await runMaintenanceForSimulate(scenario, injectFailurePhase, log) : undefined;
  const result: SimulationResult = maintenance ? { ...replayed, maintenance: maintenance.json } : replayed;
  process.stdout.write(`Replay of real traces, scenario "${scenario.name}" (${result.evaluatedSteps} steps of ${sim.stepSeconds} s)\n\n`);
  process.stdout.write(comparisonTable(result) + '\n\n');
  for (const n of result.notes) process.stdout.write(`  ${n}\n`);
  if (maintenance) process.stdout.write(`\n${maintenance.text}`);
  const invoiced = invoicedPolicy(result);
  if (invoiced?.billing) process.stdout.write(`\n${invoiceTable(invoiced)}\n`);
  for (const p of result.policies) if (p.reservations) process.stdout.write(`\n${reservationTable(p)}\n`);
  const pools = invoiced ? poolReportText(invoiced) : '';
  if (pools) process.stdout.write(`\n${pools}`);
  if (flags.invoicesDir) {
    for (const p of result.policies) {
      if (!p.billing) continue;
      const dir = resolve(flags.invoicesDir, p.metrics.name);
      writeOut(resolve(dir, 'invoices.csv'), invoicesCsv(p.billing.invoices));
      writeOut(resolve(dir, 'invoice-lines.csv'), invoiceLinesCsv(p.billing.invoices));
      writeOut(resolve(dir, 'invoices.json'), JSON.stringify(invoicesJson(p.billing.invoices), null, 2) + '\n');
      writeOut(resolve(dir, 'usage.csv'), usageCsv(p.billing.usage));
      writeOut(resolve(dir, 'alerts.csv'), alertsCsv(p.billing.alerts));
      writeOut(resolve(dir, 'alerts.json'), JSON.stringify(alertsJson(p.billing.alerts), null, 2) + '\n');
    }
    log(`\nwrote invoices, usage and alerts per policy under ${flags.invoicesDir}\n`);
  }
  if (flags.json) {
    writeOut(flags.json, JSON.stringify(resultJson(result), null, 2) + '\n');
    log(`\nwrote ${flags.json}\n`);
  }
  const reportPath = flags.report ?? defaultReport;
  if (reportPath) {
    writeOut(reportPath, renderReport(result));
    log(`${flags.json ? '' : '\n'}wrote report ${reportPath}\n`);
  }
  return result;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('headroom')
    .description('Predictive capacity allocation: forecast demand, size for SLOs, allocate at least cost, act ahead of load.')
    .showHelpAfterError()
    .exitOverride();

  const common = (cmd: Command) =>
    cmd
      .option('--json <file>', 'write machine-readable results (per policy: name, cost, sloAttainment, ...) to FILE')
      .option('--report <file>', 'write an HTML report with charts to FILE')
      .option('--policies <list>', `comma-separated subset of ${ALL_POLICIES.join(',')}`)
      .option('--invoices-dir <dir>', 'write each policy\'s invoices (CSV, JSON), invoice lines, hourly usage and alerts to DIR/<policy>/')
      .option('-q, --quiet', 'no progress output');

  common(program.command('demo').description('replay the bundled real traces (examples/demo.yaml) through every policy and compare them')).action(
    async (flags: RunFlags) => {
      await runAndReport(loadScenarioFile(DEMO_SCENARIO), flags, flags.report ?? 'out/demo-report.html');
    },
  );

  common(
    program
      .command('simulate')
      .description('replay a scenario file, or a default scenario built around trace CSVs, through every policy')
      .argument('[scenario]', 'scenario YAML file')
      .addOption(new Option('--trace <file...>', 'timestamp,value CSV(s) to build a default scenario around (instead of a scenario file)'))
      .option('--write-scenario <file>', 'with --trace: also write the generated scenario as YAML to FILE, to edit and reuse')
      .option('--inject-failure <phase=N>', 'with maintenance: make phase N\'s health gate fail (the move rolls back)'),
  ).action(async (file: string | undefined, flags: RunFlags & { trace?: string[]; writeScenario?: string }) => {
    if (file && flags.trace) throw new InvalidInputError('simulate', 'give a scenario file or --trace, not both');
    if (!file && !flags.trace) throw new InvalidInputError('simulate', 'give a scenario file or at least one --trace FILE.csv');
    if (file) {
      await runAndReport(loadScenarioFile(file), flags);
      return;
    }
    const { scenario, yaml } = scenarioFromTraces(flags.trace!);
    if (flags.writeScenario) writeOut(flags.writeScenario, yaml);
    await runAndReport(scenario, flags);
  });

  program
    .command('graph')
    .description('show the dependency graph of Kubernetes manifests or a scenario: services, requests, edges and ratios, topological order, and each service\'s demand for given entry rates')
    .argument('<file>', 'Kubernetes manifests (multi-document YAML) or a scenario YAML file')
    .option('--entry <service=rps...>', 'external demand in requests per second at an entry point, e.g. frontend=100 (repeatable)')
    .option('--ratios <profile>', 'manifests: call ratios from auto, online-boutique or unit', 'auto')
    .option('--locustfile <file>', 'manifests: read the online-boutique task weights from this locustfile')
    .option('--cart-lines <n>', 'manifests: distinct products per cart in the online-boutique derivation (default 3)')
    .option('--no-redirects', 'manifests: the online-boutique load generator does not follow redirects')
    .option('--json <file>', 'write the graph as JSON to FILE ("-" for standard output)')
    .action((file: string, flags: GraphFlags) => {
      const { text, json } = graphReport(file, { ...flags, ratios: flags.ratios === 'auto' ? undefined : flags.ratios });
      if (flags.json === '-') {
        process.stdout.write(JSON.stringify(json, null, 2) + '\n');
        return;
      }
      process.stdout.write(text);
      if (flags.json) {
        writeOut(flags.json, JSON.stringify(json, null, 2) + '\n');
        process.stderr.write(`wrote ${flags.json}\n`);
      }
    });

  allocateCommand(program, writeOut);
  maintenanceCommand(program, writeOut);
  addServiceCommands(program);
  addRequestCommands(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (isUserError(e)) {
      process.stderr.write(`headroom: error: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`headroom: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}

const invokedDirectly = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
