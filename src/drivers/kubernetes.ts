import { ApiException, AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderMiddleware, setHeaderOptions, type ConfigurationOptions, type ObservableMiddleware, type V1Deployment, type V1ObjectMeta, type V1StatefulSet } from '@kubernetes/client-node';
import { z } from 'zod';
import { DriverError, InvalidInputError } from '../core/errors.ts';
import type { Action, InstanceResources, ResizeWorkloadAction } from '../core/plan.ts';
import { rememberResult, type ActionResult, type Driver, type ObservedState } from './driver.ts';
import { cpuMillicoresOf, cpuQuantity, memoryMiBOf, memoryQuantity } from '../core/kubeQuantity.ts';

/**
 * The Kubernetes driver: headroom workloads are Deployments or StatefulSets,
 * acted on through the official client (@kubernetes/client-node):
 * - scaleWorkload → the object's `scale` subresource (PUT with the object's
 *   resourceVersion, so a concurrent change is a 409 and the action is retried);
 * - resizeWorkload → a strategic merge patch of one container's resources;
 * - migrate → the target pool's object grows, then the source's shrinks;
 * - scaleNodes → with `nodeActions: clusterApi`, the scale subresource of the
 *   pool's Cluster API MachineDeployment; otherwise nodes are the cluster
 *   autoscaler's (or Karpenter's) business: rejected with a clear permanent
 *   error, or, with `nodeActions: delegate`, acknowledged without an API call;
 * - reserve, createPool, dismantlePool → rejected, or acknowledged when delegated.
 *
 * Idempotent per action id: each object carries the ids applied to it in the
 * annotation `headroom.dev/applied-actions` (the latest 32), so a repeated id
 * (also from another process after a crash) is answered without acting.
 */

export const APPLIED_ANNOTATION = 'headroom.dev/applied-actions';
/** An intended replica count, written before a relative change (a migration or a shared object) is applied. */
export const INTENT_ANNOTATION = 'headroom.dev/pending-action';
const APPLIED_KEPT = 32;

const dns1123Label = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a DNS-1123 label (lower-case letters, digits and "-", at most 63)');
const dns1123Subdomain = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a DNS-1123 subdomain (lower-case letters, digits, "-" and ".")');

export const workloadMappingSchema = z
  .object({
    /** The headroom workload. */
    workload: z.string().min(1),
    /** The pool whose instances this object runs; absent: the object runs the workload's instances of every pool (replicas = their sum). */
    pool: z.string().min(1).optional(),
    namespace: dns1123Label,
    kind: z.enum(['Deployment', 'StatefulSet']),
    name: dns1123Subdomain,
    /** Container whose resources `resizeWorkload` sets; absent: the only container, or the one named like the object. */
    container: z.string().min(1).optional(),
  })
  .strict();

export const kubernetesConfigSchema = z
  .object({
    /** Path of a kubeconfig file; absent: $KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
    kubeconfig: z.string().min(1).optional(),
    context: z.string().min(1).optional(),
    /** Send every write with dryRun=All: validated by the API server, never persisted. */
    dryRun: z.boolean().default(false),
    fieldManager: z.string().min(1).max(128).default('headroom'),
    /** Per API request, in milliseconds; a request without an answer by then is retryable. */
    requestTimeoutMs: z.number().int().positive().max(300_000).default(30_000),
    /**
     * What node actions do. reject: fail (permanent). delegate: succeed without a call, because an
     * autoscaler provisions nodes for pending pods. clusterApi: scaleNodes sets the replicas of the
     * pool's Cluster API MachineDeployment (`nodePools`); the other node actions fail.
     */
    nodeActions: z.enum(['reject', 'delegate', 'clusterApi']).default('reject'),
    /** With nodeActions clusterApi: the MachineDeployment of each pool. */
    nodePools: z
      .array(z.object({ pool: z.string().min(1), namespace: dns1123Label, name: dns1123Subdomain }).strict())
      .default([]),
    /** Node label naming a node's pool (e.g. karpenter.sh/nodepool, cloud.google.com/gke-nodepool, eks.amazonaws.com/nodegroup); absent: nodes are not observed. */
    nodePoolLabel: z.string().min(1).optional(),
    workloads: z.array(workloadMappingSchema).min(1, 'map at least one workload to a Kubernetes object'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.nodeActions === 'clusterApi' && c.nodePools.length === 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['nodePools'], message: 'nodeActions clusterApi needs the MachineDeployment of each pool in nodePools' });
    }
    if (c.nodeActions !== 'clusterApi' && c.nodePools.length > 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['nodePools'], message: 'nodePools is used only with nodeActions: clusterApi' });
    }
    c.nodePools.forEach((p, index) => {
      if (c.nodePools.findIndex((o) => o.pool === p.pool) !== index) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['nodePools', index, 'pool'], message: `pool "${p.pool}" is mapped twice` });
    });
    const byWorkload = new Map<string, { pooled: boolean; index: number }[]>();
    const objects = new Map<string, number>();
    c.workloads.forEach((m, index) => {
      const list = byWorkload.get(m.workload) ?? [];
      if (list.some((e) => e.pooled !== (m.pool !== undefined))) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['workloads', index, 'pool'], message: `workload "${m.workload}" mixes an object for all pools with per-pool objects: give every mapping a pool, or one mapping without` });
      }
      if (c.workloads.findIndex((o) => o.workload === m.workload && o.pool === m.pool) !== index) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['workloads', index], message: `workload "${m.workload}"${m.pool ? ` in pool "${m.pool}"` : ''} is mapped twice` });
      }
      const object = `${m.kind} ${m.namespace}/${m.name}`;
      if (objects.has(object)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['workloads', index, 'name'], message: `${object} is already mapped (workloads[${objects.get(object)}])` });
      objects.set(object, index);
      list.push({ pooled: m.pool !== undefined, index });
      byWorkload.set(m.workload, list);
    });
  });

export type KubernetesConfig = z.input<typeof kubernetesConfigSchema>;
type Mapping = z.output<typeof workloadMappingSchema>;
/** An object with a scale subresource that the driver writes. */
interface Target {
  readonly kind: 'Deployment' | 'StatefulSet' | 'MachineDeployment';
  readonly namespace: string;
  readonly name: string;
}
/** A Cluster API MachineDeployment, as far as the driver reads it. */
interface MachineDeploymentObject {
  metadata?: V1ObjectMeta;
  spec?: { replicas?: number };
  status?: { replicas?: number; readyReplicas?: number };
}
type AppsObject = V1Deployment | V1StatefulSet;
type ScalableObject = AppsObject | MachineDeploymentObject;
const CAPI = { group: 'cluster.x-k8s.io', version: 'v1beta1', plural: 'machinedeployments' } as const;

/** Pool key under which an object mapped for every pool is observed. */
export const ALL_POOLS = '*';

/** Parse a config, throwing InvalidInputError that names the field. */
export function parseKubernetesConfig(raw: unknown, where = 'kubernetes driver config'): z.output<typeof kubernetesConfigSchema> {
  const parsed = kubernetesConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
    throw new InvalidInputError(`${where}${path}`, issue.message);
  }
  return parsed.data;
}

/** The kubeconfig the config names (file and context), or the default one. */
export function loadKubeConfig(config: { kubeconfig?: string; context?: string }): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
    else kc.loadFromDefault();
  } catch (e) {
    throw new InvalidInputError(config.kubeconfig ?? 'kubeconfig', `cannot be loaded: ${e instanceof Error ? e.message : String(e)}`);
  }
  // With nothing to load, the client falls back to http://localhost:8080, which no real cluster serves: say so now.
  const fallback = kc.getCurrentCluster();
  if (!config.kubeconfig && fallback?.name === 'cluster' && fallback.server === 'http://localhost:8080') {
    throw new InvalidInputError('kubernetes driver config.kubeconfig', 'no kubeconfig found: give its path, set KUBECONFIG, create ~/.kube/config, or run headroom in the cluster');
  }
  if (config.context) {
    if (!kc.getContexts().some((c) => c.name === config.context)) {
      throw new InvalidInputError('kubernetes driver config.context', `no context "${config.context}" in the kubeconfig (has: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    }
    kc.setCurrentContext(config.context);
  }
  return kc;
}

/** What an API error means for a retry, with a message a user can act on. */
export function classifyKubernetesError(e: unknown, what: string): DriverError {
  if (e instanceof ApiException) {
    const code = e.code;
    let body: unknown = e.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        // keep the text
      }
    }
    const status = body && typeof body === 'object' ? (body as { message?: string; reason?: string }) : undefined;
    const said = status?.message ?? (typeof body === 'string' && body ? body.slice(0, 200) : undefined);
    const detail = said ? `: ${said}` : '';
    if (code === 404) return new DriverError(`${what} not found (404)${detail}; check the namespace, kind and name in the driver's workload mapping`, false);
    if (code === 409) return new DriverError(`${what} changed while headroom was writing it (409 Conflict)${detail}`, true);
    if (code === 422) return new DriverError(`${what} rejected as invalid (422)${detail}`, false);
    if (code === 401) return new DriverError(`${what}: the API server did not accept headroom's credentials (401)`, false);
    if (code === 403) return new DriverError(`${what}: forbidden (403)${detail}; grant the RBAC permissions listed in docs/drivers.md`, false);
    if (code === 408 || code === 429 || code >= 500) return new DriverError(`${what}: API server answered ${code}${detail}`, true);
    return new DriverError(`${what}: API server answered ${code}${detail}`, false);
  }
  if (e instanceof DriverError) return e;
  // No HTTP answer: connection refused or reset, DNS, TLS, timeout. The API server may be restarting.
  if (e instanceof Error && e.name === 'AbortError') return new DriverError(`${what}: API server did not answer in time`, true);
  const code = e instanceof Error ? String((e as { code?: unknown }).code ?? (e.cause as { code?: unknown } | undefined)?.code ?? '') : '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    return new DriverError(`${what}: the API server's TLS certificate is not trusted (${code}); check certificate-authority in the kubeconfig`, false);
  }
  const cause = e instanceof Error && e.cause instanceof Error ? ` (${e.cause.message})` : '';
  return new DriverError(`${what}: API server unreachable: ${e instanceof Error ? e.message : String(e)}${cause}`, true);
}

/** Per-instance resources of one container, in headroom's units. */
function resourcesOf(container: { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } } | undefined): InstanceResources {
  const list = (q: Record<string, string> | undefined) => {
    if (!q) return undefined;
    const cpu = q.cpu !== undefined ? cpuMillicoresOf(String(q.cpu)) : undefined;
    const mem = q.memory !== undefined ? memoryMiBOf(String(q.memory)) : undefined;
    return { ...(cpu !== undefined ? { cpuMillicores: cpu } : {}), ...(mem !== undefined ? { memoryMiB: mem } : {}) };
  };
  const requests = list(container?.resources?.requests);
  const limits = list(container?.resources?.limits);
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}

export interface KubernetesDriverOptions {
  /** A loaded kubeconfig; absent: loaded from the config's `kubeconfig` and `context`. */
  readonly kubeConfig?: KubeConfig;
  /** Clock (epoch seconds) for observations; injected for tests. */
  readonly now?: () => number;
}

export class KubernetesDriver implements Driver {
  readonly name = 'kubernetes';
  private readonly config: z.output<typeof kubernetesConfigSchema>;
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly now: () => number;
  /** Answers already given, by action id (the latest 10,000): a repeated id within this process costs no API call. */
  private readonly results = new Map<string, ActionResult>();
  /** Every request: a timeout (an abort signal per request) and headroom's user agent (visible in the API server's audit log). */
  private readonly requestOptions: ConfigurationOptions<ObservableMiddleware>;

  constructor(config: KubernetesConfig, options: KubernetesDriverOptions = {}) {
    this.config = parseKubernetesConfig(config);
    const kc = options.kubeConfig ?? loadKubeConfig(this.config);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
    const userAgent = setHeaderMiddleware('User-Agent', 'headroom-kubernetes-driver');
    const timeoutMs = this.config.requestTimeoutMs;
    const timeout: ObservableMiddleware = {
      pre: (request) => {
        request.setSignal(AbortSignal.timeout(timeoutMs));
        return userAgent.pre(request);
      },
      post: (response) => userAgent.post(response),
    };
    this.requestOptions = { middleware: [timeout], middlewareMergeStrategy: 'append' };
  }

  private get writeOptions() {
    return { ...(this.config.dryRun ? { dryRun: 'All' } : {}), fieldManager: this.config.fieldManager };
  }

  private describe(m: Target): string {
    return `${m.kind} ${m.namespace}/${m.name}`;
  }

  private mappingsOf(workload: string): Mapping[] {
    return this.config.workloads.filter((m) => m.workload === workload);
  }

  /** The object running `workload`'s instances in `pool`. */
  private mappingFor(workload: string, pool: string): Mapping {
    const list = this.mappingsOf(workload);
    if (!list.length) throw new DriverError(`workload "${workload}" is not mapped to a Kubernetes object; add it to the driver's workloads`, false);
    const whole = list.find((m) => m.pool === undefined);
    if (whole) return whole;
    const m = list.find((x) => x.pool === pool);
    if (!m) throw new DriverError(`workload "${workload}" has no Kubernetes object for pool "${pool}" (mapped pools: ${list.map((x) => x.pool).join(', ')})`, false);
    return m;
  }

  private read(m: Mapping): Promise<AppsObject>;
  private read(m: Target): Promise<ScalableObject>;
  private async read(m: Target): Promise<ScalableObject> {
    const ref = { name: m.name, namespace: m.namespace };
    try {
      if (m.kind === 'Deployment') return await this.apps.readNamespacedDeployment(ref, this.requestOptions);
      if (m.kind === 'StatefulSet') return await this.apps.readNamespacedStatefulSet(ref, this.requestOptions);
      return (await this.custom.getNamespacedCustomObject({ ...CAPI, ...ref }, this.requestOptions)) as MachineDeploymentObject;
    } catch (e) {
      throw classifyKubernetesError(e, this.describe(m));
    }
  }

  private async patch(m: Target, body: object, strategy: PatchStrategy): Promise<ScalableObject> {
    const request = { name: m.name, namespace: m.namespace, body, ...this.writeOptions };
    const headers = setHeaderOptions('Content-Type', strategy, this.requestOptions);
    try {
      if (m.kind === 'Deployment') return await this.apps.patchNamespacedDeployment(request, headers);
      if (m.kind === 'StatefulSet') return await this.apps.patchNamespacedStatefulSet(request, headers);
      return (await this.custom.patchNamespacedCustomObject({ ...CAPI, ...request }, headers)) as MachineDeploymentObject;
    } catch (e) {
      throw classifyKubernetesError(e, this.describe(m));
    }
  }

  private async putScale(m: Target, replicas: number, resourceVersion: string | undefined): Promise<void> {
    const body = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: m.name, namespace: m.namespace, resourceVersion }, spec: { replicas } };
    const request = { name: m.name, namespace: m.namespace, body, ...this.writeOptions };
    try {
      if (m.kind === 'Deployment') await this.apps.replaceNamespacedDeploymentScale(request, this.requestOptions);
      else if (m.kind === 'StatefulSet') await this.apps.replaceNamespacedStatefulSetScale(request, this.requestOptions);
      else await this.custom.replaceNamespacedCustomObjectScale({ ...CAPI, ...request }, this.requestOptions);
    } catch (e) {
      throw classifyKubernetesError(e, `scale of ${this.describe(m)}`);
    }
  }

  private static applied(o: ScalableObject): string[] {
    const raw = o.metadata?.annotations?.[APPLIED_ANNOTATION];
    if (!raw) return [];
    try {
      const ids = JSON.parse(raw) as unknown;
      return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
    } catch {
      return [];
    }
  }

  private static withApplied(o: ScalableObject, id: string): string {
    return JSON.stringify([...KubernetesDriver.applied(o).filter((x) => x !== id), id].slice(-APPLIED_KEPT));
  }

  /**
   * Set an object's replicas through its scale subresource, the change being
   * `target(current replicas)`. Relative changes (a migration step, a pool's
   * share of an object shared by all pools) first record the absolute target
   * on the object (INTENT_ANNOTATION, with a resourceVersion precondition),
   * so that a retry after a crash sets the same count instead of applying the
   * change twice. Then the scale is written with the object's
   * resourceVersion, then the id is recorded as applied.
   */
  private async scaleObject(m: Target, id: string, relative: boolean, target: (replicas: number) => number): Promise<void> {
    let o: ScalableObject = await this.read(m);
    if (KubernetesDriver.applied(o).includes(id)) return;
    let intent: { id: string; replicas: number } | undefined;
    try {
      const raw = o.metadata?.annotations?.[INTENT_ANNOTATION];
      intent = raw ? (JSON.parse(raw) as { id: string; replicas: number }) : undefined;
    } catch {
      intent = undefined;
    }
    let replicas: number;
    if (intent?.id === id && Number.isInteger(intent.replicas)) replicas = intent.replicas;
    else {
      replicas = target(o.spec?.replicas ?? 1);
      if (!Number.isInteger(replicas) || replicas < 0) throw new DriverError(`${this.describe(m)} would go to ${replicas} replicas (it has ${o.spec?.replicas ?? 1})`, false);
      if (relative) {
        const annotations = { [INTENT_ANNOTATION]: JSON.stringify({ id, replicas }) };
        const written = await this.patch(m, { metadata: { resourceVersion: o.metadata?.resourceVersion, annotations } }, PatchStrategy.MergePatch);
        if (!this.config.dryRun) o = written;
      }
    }
    await this.putScale(m, replicas, o.metadata?.resourceVersion);
    await this.patch(m, { metadata: { annotations: { [APPLIED_ANNOTATION]: KubernetesDriver.withApplied(o, id), [INTENT_ANNOTATION]: null } } }, PatchStrategy.MergePatch);
  }

  /** Which container of the object `resizeWorkload` changes. */
  private containerName(m: Mapping, o: AppsObject): string {
    const containers = o.spec?.template?.spec?.containers ?? [];
    const names = containers.map((c) => c.name);
    if (m.container) {
      if (!names.includes(m.container)) throw new DriverError(`${this.describe(m)} has no container "${m.container}" (has: ${names.join(', ')})`, false);
      return m.container;
    }
    if (names.length === 1) return names[0];
    if (names.includes(m.name)) return m.name;
    throw new DriverError(`${this.describe(m)} has ${names.length} containers (${names.join(', ')}): name one with "container" in the workload mapping`, false);
  }

  private async resizeObject(m: Mapping, action: ResizeWorkloadAction): Promise<void> {
    const o = await this.read(m);
    if (KubernetesDriver.applied(o).includes(action.id)) return;
    const container = this.containerName(m, o);
    const list = (a: { cpuMillicores?: number; memoryMiB?: number } | undefined) => {
      if (!a) return undefined;
      try {
        return { ...(a.cpuMillicores !== undefined ? { cpu: cpuQuantity(a.cpuMillicores) } : {}), ...(a.memoryMiB !== undefined ? { memory: memoryQuantity(a.memoryMiB) } : {}) };
      } catch (e) {
        throw new DriverError(`${e instanceof Error ? e.message : String(e)}`, false);
      }
    };
    const requests = list(action.to.requests);
    const limits = list(action.to.limits);
    // One patch carries the resources and the applied id, under the read resourceVersion: atomic, and a concurrent writer gives 409.
    const body = {
      metadata: { resourceVersion: o.metadata?.resourceVersion, annotations: { [APPLIED_ANNOTATION]: KubernetesDriver.withApplied(o, action.id) } },
      spec: { template: { spec: { containers: [{ name: container, resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } }] } } },
    };
    await this.patch(m, body, PatchStrategy.StrategicMergePatch);
  }

  private async execute(action: Action): Promise<void> {
    switch (action.kind) {
      case 'scaleWorkload': {
        const m = this.mappingFor(action.workload, action.pool);
        if (m.pool !== undefined) return this.scaleObject(m, action.id, false, () => action.toInstances);
        return this.scaleObject(m, action.id, true, (r) => r + action.toInstances - action.fromInstances);
      }
      case 'migrate': {
        if (action.instances <= 0 || !Number.isInteger(action.instances)) throw new DriverError(`instances must be a whole number above 0, got ${action.instances}`, false);
        const to = this.mappingFor(action.workload, action.toPool);
        const from = this.mappingFor(action.workload, action.fromPool);
        if (to === from) {
          throw new DriverError(`workload "${action.workload}" runs as one object for all pools (${this.describe(to)}): moving instances between pools needs one object per pool in the mapping`, false);
        }
        const source = await this.read(from);
        if (!KubernetesDriver.applied(source).includes(action.id) && (source.spec?.replicas ?? 1) < action.instances) {
          throw new DriverError(`${this.describe(from)} has ${source.spec?.replicas ?? 1} replicas, cannot move ${action.instances}`, false);
        }
        // Make before break: the target grows before the source shrinks.
        await this.scaleObject(to, action.id, true, (r) => r + action.instances);
        await this.scaleObject(from, action.id, true, (r) => r - action.instances);
        return;
      }
      case 'resizeWorkload': {
        const targets = action.pool !== undefined ? [this.mappingFor(action.workload, action.pool)] : this.mappingsOf(action.workload);
        if (!targets.length) throw new DriverError(`workload "${action.workload}" is not mapped to a Kubernetes object; add it to the driver's workloads`, false);
        for (const m of targets) await this.resizeObject(m, action);
        return;
      }
      case 'scaleNodes':
      case 'reserve':
      case 'createPool':
      case 'dismantlePool':
        if (this.config.nodeActions === 'delegate') return;
        if (this.config.nodeActions === 'clusterApi') {
          if (action.kind !== 'scaleNodes') {
            throw new DriverError(`the kubernetes driver does not ${action.kind === 'reserve' ? 'buy or release reservations' : 'create or remove node pools'} ("${action.kind}" on pool "${action.pool}"); do it in your cloud or Cluster API, or use the webhook driver`, false);
          }
          const md = this.config.nodePools.find((p) => p.pool === action.pool);
          if (!md) throw new DriverError(`pool "${action.pool}" has no MachineDeployment in nodePools (mapped: ${this.config.nodePools.map((p) => p.pool).join(', ')})`, false);
          return this.scaleObject({ kind: 'MachineDeployment', namespace: md.namespace, name: md.name }, action.id, false, () => action.toNodes);
        }
        throw new DriverError(
          `the kubernetes driver does not manage nodes ("${action.kind}" on pool "${action.pool}"): a cluster autoscaler or Karpenter provisions nodes for pending pods; set nodeActions: delegate to acknowledge node actions without an API call, clusterApi to scale Cluster API MachineDeployments, or use the webhook driver for your provisioning`,
          false,
        );
    }
  }

  /**
   * Apply one action. A repeated id returns the earlier answer (from memory,
   * or from the object's applied-actions annotation after a restart). Errors
   * come back classified: 404, 422, 401/403 and unsupported actions are
   * permanent; 409, 429, 5xx and an unreachable API server are retryable.
   */
  async apply(action: Action): Promise<ActionResult> {
    const earlier = this.results.get(action.id);
    if (earlier) return earlier;
    let result: ActionResult;
    try {
      await this.execute(action);
      result = { ok: true };
    } catch (e) {
      const err = classifyKubernetesError(e, 'API request');
      result = { ok: false, error: `${action.kind} ${action.id}: ${err.message}`, retryable: err.retryable };
    }
    if (result.ok || !result.retryable) rememberResult(this.results, action.id, result);
    return result;
  }

  /**
   * Desired (spec.replicas) and running (status.readyReplicas) instances of
   * every mapped object, by workload and pool (`*` for an object shared by all
   * pools), each container's resources, and nodes by pool: from the
   * MachineDeployments' replicas and ready replicas with `nodeActions:
   * clusterApi`, else, when `nodePoolLabel` is set, from the node list
   * (Ready ones, and the others as pending).
   */
  async observe(): Promise<ObservedState> {
    const desired: Record<string, Record<string, number>> = {};
    const running: Record<string, Record<string, number>> = {};
    const resources: Record<string, Record<string, InstanceResources>> = {};
    const objects = await Promise.all(this.config.workloads.map((m) => this.read(m)));
    for (const [i, m] of this.config.workloads.entries()) {
      const o = objects[i];
      const pool = m.pool ?? ALL_POOLS;
      (desired[m.workload] ??= {})[pool] = o.spec?.replicas ?? 1;
      (running[m.workload] ??= {})[pool] = o.status?.readyReplicas ?? 0;
      let container: string | undefined;
      try {
        container = this.containerName(m, o);
      } catch {
        container = undefined;
      }
      const c = o.spec?.template?.spec?.containers?.find((x) => x.name === container);
      if (c) (resources[m.workload] ??= {})[pool] = resourcesOf(c as never);
    }
    const ready: Record<string, number> = {};
    const pending: Record<string, number> = {};
    if (this.config.nodePoolLabel && this.config.nodeActions !== 'clusterApi') {
      let nodes;
      try {
        nodes = await this.core.listNode({}, this.requestOptions);
      } catch (e) {
        throw classifyKubernetesError(e, 'node list');
      }
      for (const n of nodes.items) {
        const pool = n.metadata?.labels?.[this.config.nodePoolLabel];
        if (!pool) continue;
        const isReady = n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
        ready[pool] = (ready[pool] ?? 0) + (isReady ? 1 : 0);
        pending[pool] = (pending[pool] ?? 0) + (isReady ? 0 : 1);
      }
    }
    if (this.config.nodeActions === 'clusterApi') {
      // The MachineDeployment's own counts: machines asked for, and those whose node is ready.
      const mds = await Promise.all(this.config.nodePools.map((p) => this.read({ kind: 'MachineDeployment', namespace: p.namespace, name: p.name })));
      this.config.nodePools.forEach((p, i) => {
        const readyMachines = mds[i].status?.readyReplicas ?? 0;
        ready[p.pool] = readyMachines;
        pending[p.pool] = Math.max(0, (mds[i].spec?.replicas ?? 1) - readyMachines);
      });
    }
    return { timeSeconds: this.now(), readyNodesByPool: ready, pendingNodesByPool: pending, runningInstances: running, desiredInstances: desired, instanceResources: resources };
  }
}
