import type { Command } from 'commander';
import { InvalidInputError } from '../core/errors.ts';
import type { Scenario } from '../core/model.ts';
import { loadScenarioFile } from '../config/load.ts';
import { maintenanceJson, maintenanceText, runMaintenance } from '../migrate/run.ts';
import { whatIfWindows } from '../migrate/whatif.ts';
import { whatIfInput } from '../migrate/run.ts';

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
      const outcome = { input, whatif: whatIfWindows(input) };
      const { whatif, migration, initialPlacement } = maintenanceJson(outcome);
      const json = { scenario: scenario.name, whatif, migration: { phases: migration.phases }, initialPlacement };
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
