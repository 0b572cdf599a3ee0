import type { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { InvalidInputError } from '../core/errors.ts';
import type { Pool, Workload } from '../core/model.ts';
import type { Driver } from './driver.ts';
import { KubernetesDriver, kubernetesConfigSchema } from './kubernetes.ts';
import { SimulatorDriver } from './simulator.ts';
import { WebhookDriver, webhookConfigSchema } from './webhook.ts';

/**
 * Drivers by name, for the control plane: one validated config picks the
 * driver and carries its settings, e.g.
 *
 *   driver: { name: kubernetes, kubernetes: { context: prod, workloads: [...] } }
 *   driver: { name: webhook, webhook: { url: https://..., secretEnv: HEADROOM_WEBHOOK_SECRET } }
 *   driver: { name: simulator }
 */
export const driverConfigSchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('simulator') }).strict(),
  z.object({ name: z.literal('kubernetes'), kubernetes: kubernetesConfigSchema }).strict(),
  z.object({ name: z.literal('webhook'), webhook: webhookConfigSchema }).strict(),
]);

export type DriverConfig = z.input<typeof driverConfigSchema>;
export type DriverName = z.output<typeof driverConfigSchema>['name'];

/** What some drivers need beyond their config. */
export interface DriverContext {
  /** The simulator's cluster: the scenario's pools and workloads, its start time and initial state. */
  readonly simulator?: {
    readonly pools: readonly Pool[];
    readonly workloads: readonly Workload[];
    readonly startSeconds: number;
    readonly initial?: { nodesByPool?: Record<string, number>; instances?: Record<string, Record<string, number>> };
  };
  /** Clock (epoch seconds). */
  readonly now?: () => number;
  /** Environment for secrets named by `secretEnv`; defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** A loaded kubeconfig, instead of the one the config names. */
  readonly kubeConfig?: KubeConfig;
}

/** Validate a driver config, throwing InvalidInputError naming the field (`where` prefixes the path). */
export function parseDriverConfig(raw: unknown, where = 'driver'): z.output<typeof driverConfigSchema> {
  const parsed = driverConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
    throw new InvalidInputError(`${where}${path}`, issue.message);
  }
  return parsed.data;
}

/** The driver a config names, built and ready to use. */
export function createDriver(raw: unknown, context: DriverContext = {}, where = 'driver'): Driver {
  const config = parseDriverConfig(raw, where);
  switch (config.name) {
    case 'simulator': {
      const sim = context.simulator;
      if (!sim) throw new InvalidInputError(where, "the simulator driver needs the scenario's pools and workloads");
      return new SimulatorDriver(sim.pools, sim.workloads, sim.startSeconds, sim.initial);
    }
    case 'kubernetes':
      return new KubernetesDriver(config.kubernetes, { kubeConfig: context.kubeConfig, now: context.now });
    case 'webhook':
      return new WebhookDriver(config.webhook, { now: context.now, env: context.env });
  }
}
