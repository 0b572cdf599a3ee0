import type { Command } from 'commander';
import { InvalidInputError } from '../core/errors.ts';
import type { Scenario } from '../core/model.ts';
import { loadScenarioFile } from '../config/load.ts';
import { maintenanceJson, runMaintenance, whatIfInput, type MaintenanceOutcome } from '../migrate/run.ts';
import { phaseStarts, whatIfWindows, type WhatIfReport } from '../migrate/whatif.ts';
import type { MigrationPlan } from '../migrate/plan.ts';
import { table } from './format.ts';

/** `--inject-failure phase=N` as a phase number; only for scenarios with `maintenance:`. */
export function parseInjectFailure(text: string | undefined, scenario: Scenario): number | undefined {
  if (text === undefined) return undefined;
  const m = /^phase=(\d+)$/.exec(text.trim());
  if (!m) throw new InvalidInputError('--inject-failure', `expected phase=N (a phase number from 1), got "${text}"`);
  if (!scenario.maintenance) throw new InvalidInputError('--inject-failure', `scenario "${scenario.name}" has no maintenance: section, so there is no phase to fail`);
  const n = Number(m[1]);
  if (n < 1) throw new InvalidInputError('--inject-failure', 'phases are numbered from 1');
  return n;
}

/** The maintenance part of `simulate`: rank windows, run the chosen plan; the JSON keys and the text to print. */
export async function runMaintenanceForSimulate(scenario: Scenario, injectFailurePhase: number | undefined, log: (s: string) => void): Promise<{ json: Record<string, unknown>; text: string }> {
  const started = Date.now();
  log(`headroom: maintenance: ranking candidate windows and running the chosen plan${injectFailurePhase ? ` (phase ${injectFailurePhase}'s gate set to fail)` : ''}\n`);
  const outcome = await runMaintenance(scenario, injectFailurePhase !== undefined ? { injectFailurePhase } : {});
  log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s\n\n`);
  return { json: maintenanceJson(outcome), text: maintenanceText(outcome) };
}

/** `headroom whatif SCENARIO`: the ranked windows and the chosen plan, without executing it. */
export function maintenanceCommand(program: Command, writeOut: (path: string, text: string) => void): void {
  program
    .command('whatif')
    .description('rank the candidate windows of a scenario\'s maintenance: change from the forecast (peak load vs capacity left, SLO attainment, extra cost, cross-zone traffic) and show the chosen phased plan')
    .argument('<scenario>', 'scenario YAML file with a maintenance: section')
    .option('--json <file>', 'write whatif.candidates, whatif.chosen and the chosen plan\'s phases to FILE ("-" for standard output)')
    .option('--top <n>', 'rows of the ranked table to print', '12')
    .action((file: string, flags: { json?: string; top: string }) => {
      const top = Number(flags.top);
      if (!Number.isInteger(top) || top < 1) throw new InvalidInputError('--top', `expected a whole number of at least 1, got "${flags.top}"`);
      const scenario = loadScenarioFile(file);
      if (!scenario.maintenance) throw new InvalidInputError(file, 'the scenario has no maintenance: section (see examples/maintenance.yaml)');
      const input = whatIfInput(scenario);
      const whatif = whatIfWindows(input);
      const returnPlan = whatif.chosen?.returnPlan;
      const outcome: MaintenanceOutcome = { input, whatif, ...(returnPlan ? { returnPlan } : {}) };
      const { whatif: ranked, migration, initialPlacement } = maintenanceJson(outcome);
      const json = { scenario: scenario.name, whatif: ranked, migration: { phases: migration.phases }, initialPlacement };
      if (flags.json === '-') {
        process.stdout.write(JSON.stringify(json, null, 2) + '\n');
        return;
      }
      process.stdout.write(maintenanceText(outcome, top));
      if (flags.json) {
        writeOut(flags.json, JSON.stringify(json, null, 2) + '\n');
        process.stderr.write(`wrote ${flags.json}\n`);
      }
    });
}

const iso = (t: number) => new Date(t * 1000).toISOString();

const shortTime = (t: number) => iso(t).slice(0, 16).replace('T', ' ');

/** The ranked what-if table (the first `limit` rows). */
export function whatIfTable(report: WhatIfReport, limit = 12): string {
  const rows = report.candidates.slice(0, limit).map((c, i) => [
    String(i + 1),
    shortTime(c.startSeconds),
    shortTime(c.planStartSeconds),
    String(c.plan.phases.length),
    c.peakDemandRps.toFixed(0),
    `${(c.neededCpuMillicores / 1000).toFixed(1)}/${(c.capacityLeftCpuMillicores / 1000).toFixed(0)}`,
    `${(c.sloAttainment * 100).toFixed(3)}%`,
    c.cost.toFixed(2),
    c.crossZoneGiB.toFixed(2),
    c.maxAddedLatencyMs.toFixed(1),
    c.holds ? (c === report.chosen ? 'chosen' : 'ok') : [...c.failingSlos.map((f) => `${f.service} (${f.steps})`), ...c.problems].join('; '),
  ]);
  return table(['rank', 'window start (UTC)', 'plan start', 'phases', 'peak req/s', 'vCPU need/left', 'SLO att.', 'extra cost', 'x-zone GiB', '+lat ms', 'failing SLOs / notes'], rows, [1, 2, 10]);
}

/** The chosen plan's phases: time, what each does, its gate. */
export function phaseTable(outcome: MaintenanceOutcome): string {
  const chosen = outcome.whatif.chosen;
  if (!chosen) return '';
  const soak = outcome.input.settings.gate.soakSeconds;
  const rowsOf = (phases: MigrationPlan['phases'], starts: readonly number[]) =>
    phases.map((p, i) => [String(p.number), shortTime(starts[i]).slice(11), p.kind, String(p.actions.length), `${p.waitSeconds.toFixed(0)}+${soak}`, p.description]);
  const rows = rowsOf(chosen.plan.phases, phaseStarts(chosen.plan, chosen.planStartSeconds));
  const back = outcome.returnPlan;
  if (back && back.phases.length) {
    rows.push(['', '', '', '', '', `window ${shortTime(chosen.startSeconds).slice(11)}–${shortTime(chosen.endSeconds).slice(11)}: ${outcome.input.settings.change.pools.join(', ')} down; then the move back`]);
    rows.push(...rowsOf(back.phases, phaseStarts(back, chosen.endSeconds)));
  }
  return table(['phase', 'start', 'kind', 'actions', 'wait+soak s', 'what it does (undo: the same actions reversed)'], rows, [1, 2, 5]);
}

export function maintenanceText(outcome: MaintenanceOutcome, limit = 12): string {
  const s = outcome.input.settings;
  const c = s.change;
  const lines: string[] = [];
  lines.push(
    `What-if: ${c.kind} of ${c.scope} "${c.name}" (pools ${c.pools.join(', ')})${c.durationSeconds !== undefined ? ` for ${(c.durationSeconds / 3600).toFixed(1)} h` : ''}; ` +
      `${outcome.whatif.candidates.length} candidate starts every ${(s.everySeconds / 3600).toFixed(1)} h from ${shortTime(s.fromSeconds)} UTC; forecast ${outcome.input.forecast.model}`,
  );
  lines.push('', whatIfTable(outcome.whatif, limit), '');
  const chosen = outcome.whatif.chosen;
  if (chosen) {
    lines.push(`chosen: ${shortTime(chosen.startSeconds)} UTC (plan starts ${shortTime(chosen.planStartSeconds)}, ${chosen.plan.phases.length} phases, ${(chosen.plan.leadSeconds / 60).toFixed(0)} min); targets: ${s.targetPools.join(', ')}`);
    lines.push('', phaseTable(outcome), '');
  } else lines.push(outcome.whatif.reason ?? 'no candidate', '');
  const run = outcome.run;
  if (run) {
    const applied = run.log.filter((e) => e.kind === 'apply').length;
    const undone = run.log.filter((e) => e.kind === 'rollback').length;
    lines.push(`migration: ${run.status} (${applied} actions applied, ${undone} rolled back)${run.reason ? `: ${run.reason}` : ''}`);
    if (run.returnStatus) lines.push(`move back after the window: ${run.returnStatus}${run.returnReason ? `: ${run.returnReason}` : ''}`);
  }
  if (outcome.postponed) lines.push(outcome.postponed);
  return lines.join('\n') + '\n';
}
