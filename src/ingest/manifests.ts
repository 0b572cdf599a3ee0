import { readFileSync, statSync } from 'node:fs';
import { LineCounter, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { InvalidInputError } from '../core/errors.ts';
import type { Resources } from '../core/model.ts';
import { cpuMillicores, memoryMiB } from '../core/kubeQuantity.ts';

/**
 * Import of Kubernetes manifests (multi-document YAML, as `kubectl apply -f`
 * takes them) into what capacity planning needs: one service per workload
 * controller (Deployment, StatefulSet) with its pods' CPU and memory
 * requests and limits, the Services that select it, which of them face the
 * outside (LoadBalancer, NodePort), whether it holds state, and the calls
 * between services read from `*_ADDR` environment variables
 * ("host:port" → the Service named by the host → the workload it selects).
 *
 * Only the fields read here are validated (zod, everything else passes
 * through); other kinds (ServiceAccount, ConfigMap, …) are skipped.
 */

const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

const quantity = z.union([z.string(), z.number()]);
const resourceList = z.object({ cpu: quantity.optional(), memory: quantity.optional() }).passthrough();
const container = z
  .object({
    name: z.string(),
    image: z.string().default(''),
    env: z.array(z.object({ name: z.string(), value: z.union([z.string(), z.number(), z.boolean()]).optional() }).passthrough()).default([]),
    resources: z.object({ requests: resourceList.optional(), limits: resourceList.optional() }).passthrough().optional(),
    volumeMounts: z.array(z.object({ name: z.string(), mountPath: z.string() }).passthrough()).default([]),
  })
  .passthrough();
const volume = z.object({ name: z.string() }).passthrough();
const workloadController = z
  .object({
    kind: z.enum(['Deployment', 'StatefulSet']),
    metadata: z.object({ name: z.string().min(1), namespace: z.string().optional() }).passthrough(),
    spec: z
      .object({
        replicas: z.number().int().nonnegative().optional(),
        template: z
          .object({
            metadata: z.object({ labels: z.record(z.string()).default({}) }).passthrough().default({}),
            spec: z
              .object({
                containers: z.array(container).min(1),
                initContainers: z.array(container).default([]),
                volumes: z.array(volume).default([]),
              })
              .passthrough(),
          })
          .passthrough(),
      })
      .passthrough(),
  })
  .passthrough();
const serviceObject = z
  .object({
    kind: z.literal('Service'),
    metadata: z.object({ name: z.string().min(1), namespace: z.string().optional() }).passthrough(),
    spec: z
      .object({
        type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']).default('ClusterIP'),
        selector: z.record(z.string()).optional(),
        ports: z.array(z.object({ port: z.number().int(), name: z.string().optional() }).passthrough()).default([]),
      })
      .passthrough(),
  })
  .passthrough();

/** Requests and limits of one container or one pod; a resource absent from the manifest is absent here. */
export interface ResourceAmounts {
  readonly cpuMillicores?: number;
  readonly memoryMiB?: number;
}

export interface ManifestContainer {
  readonly name: string;
  readonly image: string;
  readonly requests: ResourceAmounts;
  readonly limits: ResourceAmounts;
}

/** Why a service is taken to hold state, or absent when it is stateless. */
export interface StatefulReason {
  /** `database`, `cache` or `queue` when the image is a known data store; `storage` for claimed volumes or a StatefulSet. */
  readonly kind: 'database' | 'cache' | 'queue' | 'storage';
  readonly reason: string;
}

export interface ManifestService {
  readonly name: string;
  readonly kind: 'Deployment' | 'StatefulSet';
  /** `spec.replicas` when given (Kubernetes defaults it to 1). */
  readonly replicas?: number;
  readonly containers: readonly ManifestContainer[];
  /**
   * What the scheduler reserves for one pod: per resource, the larger of the
   * sum over containers and the largest init container (Kubernetes'
   * effective pod request). 0 where no container requests the resource.
   */
  readonly podRequests: Resources;
  /** Pod limits by the same rule; absent for a resource some container leaves unlimited. */
  readonly podLimits: ResourceAmounts;
  /** Services (by name) whose selector picks this workload's pods. */
  readonly services: readonly string[];
  /** Selected by a LoadBalancer or NodePort Service: it takes traffic from outside the cluster. */
  readonly exposed: boolean;
  /** No Service selects it: it only calls others (a client, like a load generator). */
  readonly client: boolean;
  readonly stateful?: StatefulReason;
  /** "file:line" of the manifest. */
  readonly where: string;
}

/** A call read from an environment variable: `from` calls `to` at `address`. */
export interface ManifestEdge {
  readonly from: string;
  readonly to: string;
  readonly envVar: string;
  readonly address: string;
  /** Through which Service the address resolved. */
  readonly viaService: string;
  readonly where: string;
}

/** An `*_ADDR` variable that names no Service (or a Service that selects no workload) in these manifests. */
export interface UnresolvedAddress {
  readonly from: string;
  readonly envVar: string;
  readonly address: string;
  readonly problem: string;
  readonly where: string;
}

export interface KubernetesService {
  readonly name: string;
  /** `metadata.namespace`, "default" when absent. */
  readonly namespace: string;
  readonly type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  readonly selector: Readonly<Record<string, string>>;
  readonly ports: readonly number[];
  readonly where: string;
}

export interface ManifestImport {
  readonly file: string;
  /** Workloads in file order. */
  readonly services: readonly ManifestService[];
  readonly kubernetesServices: readonly KubernetesService[];
  readonly edges: readonly ManifestEdge[];
  readonly unresolved: readonly UnresolvedAddress[];
}

/**
 * Images of well-known data stores, matched against the image's repository
 * name (the last path segment before the tag or digest). A service whose
 * image is one of them, that claims a PersistentVolumeClaim, or that is a
 * StatefulSet is stateful: moving it needs a copy and a cutover.
 */
const DATA_STORE_IMAGES: ReadonlyArray<readonly [RegExp, StatefulReason['kind']]> = [
  [/^(redis|valkey|keydb|dragonfly|memcached)$/, 'cache'],
  [/^(postgres|postgresql|mysql|mariadb|mongo|mongodb|cassandra|scylla|cockroach|cockroachdb|couchdb|clickhouse|clickhouse-server|elasticsearch|opensearch|neo4j|influxdb|etcd|spanner-emulator|cloud-spanner-emulator|alloydb-omni)$/, 'database'],
  [/^(kafka|rabbitmq|nats|nats-streaming|pulsar|zookeeper|activemq)$/, 'queue'],
];

function imageRepository(image: string): string {
  const noDigest = image.split('@')[0];
  const last = noDigest.split('/').pop() ?? '';
  return last.split(':')[0];
}

function statefulReason(kind: string, image: readonly string[], volumes: readonly z.infer<typeof volume>[]): StatefulReason | undefined {
  for (const img of image) {
    const repo = imageRepository(img);
    for (const [re, k] of DATA_STORE_IMAGES) if (re.test(repo)) return { kind: k, reason: `image "${img}" is a ${k} (${repo})` };
  }
  const claim = volumes.find((v) => 'persistentVolumeClaim' in v);
  if (claim) return { kind: 'storage', reason: `mounts PersistentVolumeClaim volume "${claim.name}"` };
  if (kind === 'StatefulSet') return { kind: 'storage', reason: 'is a StatefulSet' };
  return undefined;
}

function amounts(list: z.infer<typeof resourceList> | undefined, where: string): ResourceAmounts {
  if (!list) return {};
  return {
    ...(list.cpu === undefined ? {} : { cpuMillicores: cpuMillicores(list.cpu, `${where}.cpu`) }),
    ...(list.memory === undefined ? {} : { memoryMiB: memoryMiB(list.memory, `${where}.memory`) }),
  };
}

/** Kubernetes' effective pod amount: max(Σ containers, max init container), per resource. */
function podAmount(containers: readonly ResourceAmounts[], inits: readonly ResourceAmounts[], key: keyof ResourceAmounts): number {
  const sum = containers.reduce((s, c) => s + (c[key] ?? 0), 0);
  return Math.max(sum, ...inits.map((c) => c[key] ?? 0));
}

function podLimit(containers: readonly ResourceAmounts[], inits: readonly ResourceAmounts[], key: keyof ResourceAmounts): number | undefined {
  // A container without a limit may use the whole node: the pod is then unlimited in that resource.
  if (containers.some((c) => c[key] === undefined)) return undefined;
  return podAmount(containers, inits, key);
}

/**
 * The Service an address names, as cluster DNS resolves it: "cartservice:7070" (the caller's namespace),
 * "cartservice.shop:7070", "cartservice.shop.svc.cluster.local:7070", "http://x:80/path".
 */
function serviceOf(address: string, callerNamespace: string): { name: string; namespace: string } {
  const noScheme = address.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const hostPort = noScheme.split('/')[0];
  const host = hostPort.startsWith('[') ? hostPort : hostPort.split(':')[0];
  const labels = host.split('.');
  return { name: labels[0], namespace: labels.length > 1 && labels[1] !== 'svc' ? labels[1] : callerNamespace };
}

/** Parse manifests text; `file` names it in errors ("file:line: …"). */
export function parseManifests(text: string, file: string): ManifestImport {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true });
  if (!Array.isArray(docs)) throw new InvalidInputError(file, 'not a YAML stream');
  const services: (Omit<ManifestService, 'services' | 'exposed' | 'client'> & { namespace: string; labels: Record<string, string>; env: { container: string; name: string; value: string; line: number }[] })[] = [];
  const kubernetesServices: KubernetesService[] = [];
  const seen = new Map<string, string>();

  for (const doc of docs) {
    const line = doc.range ? lineCounter.linePos(doc.contents?.range?.[0] ?? doc.range[0]).line : 0;
    const at = `${file}:${line}`;
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const pos = e.linePos?.[0];
      throw new InvalidInputError(`${file}${pos ? `:${pos.line}:${pos.col}` : ''}`, `malformed YAML: ${e.message.split('\n')[0]}`);
    }
    const raw: unknown = doc.toJS();
    if (raw === null || raw === undefined) continue;
    const kind = (raw as { kind?: unknown }).kind;
    if (kind !== 'Deployment' && kind !== 'StatefulSet' && kind !== 'Service') continue;
    const schema = kind === 'Service' ? serviceObject : workloadController;
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const name = (raw as { metadata?: { name?: unknown } }).metadata?.name;
      throw new InvalidInputError(at, `${kind}${typeof name === 'string' ? ` ${name}` : ''}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    }
    if (parsed.data.kind === 'Service') {
      const s = parsed.data;
      kubernetesServices.push({ name: s.metadata.name, namespace: s.metadata.namespace ?? 'default', type: s.spec.type, selector: s.spec.selector ?? {}, ports: s.spec.ports.map((p) => p.port), where: at });
      continue;
    }
    const d = parsed.data;
    const name = d.metadata.name;
    const where = `${at}: ${d.kind} ${name}`;
    if (seen.has(name)) throw new InvalidInputError(where, `a workload named "${name}" is already declared at ${seen.get(name)}`);
    seen.set(name, at);
    const podSpec = d.spec.template.spec;
    const read = (c: z.infer<typeof container>, initial: boolean): ManifestContainer => {
      const base = `${where} ${initial ? 'initContainer' : 'container'} ${c.name} resources`;
      return { name: c.name, image: c.image, requests: amounts(c.resources?.requests, `${base}.requests`), limits: amounts(c.resources?.limits, `${base}.limits`) };
    };
    const containers = podSpec.containers.map((c) => read(c, false));
    const inits = podSpec.initContainers.map((c) => read(c, true));
    const req = (k: keyof ResourceAmounts) => podAmount(containers.map((c) => c.requests), inits.map((c) => c.requests), k);
    const lim = (k: keyof ResourceAmounts) => podLimit(containers.map((c) => c.limits), inits.map((c) => c.limits), k);
    const cpuLimit = lim('cpuMillicores');
    const memLimit = lim('memoryMiB');
    // Calls come from the running containers' environment; init containers (one-off readiness checks) do not serve traffic.
    const envLine = (containerIndex: number, envIndex: number): number => {
      const node = doc.getIn(['spec', 'template', 'spec', 'containers', containerIndex, 'env', envIndex], true) as { range?: [number, number, number] } | undefined;
      return node?.range ? lineCounter.linePos(node.range[0]).line : line;
    };
    const env = podSpec.containers.flatMap((c, ci) =>
      c.env.filter((e) => e.value !== undefined).map((e) => ({ container: c.name, name: e.name, value: String(e.value), line: envLine(ci, c.env.indexOf(e)) })),
    );
    services.push({
      name,
      kind: d.kind,
      ...(d.spec.replicas === undefined ? {} : { replicas: d.spec.replicas }),
      containers,
      podRequests: { cpuMillicores: req('cpuMillicores'), memoryMiB: req('memoryMiB') },
      podLimits: { ...(cpuLimit === undefined ? {} : { cpuMillicores: cpuLimit }), ...(memLimit === undefined ? {} : { memoryMiB: memLimit }) },
      stateful: statefulReason(d.kind, podSpec.containers.map((c) => c.image), podSpec.volumes),
      where: at,
      namespace: d.metadata.namespace ?? 'default',
      labels: d.spec.template.metadata.labels,
      env,
    });
  }

  // A Service selects pods of its own namespace whose labels include all of its selector.
  const selects = (svc: KubernetesService, w: { namespace: string; labels: Record<string, string> }) => {
    const keys = Object.keys(svc.selector);
    return svc.namespace === w.namespace && keys.length > 0 && keys.every((k) => w.labels[k] === svc.selector[k]);
  };
  const selectedBy = (svc: KubernetesService) => services.filter((w) => selects(svc, w)).map((w) => w.name);
  const serviceByName = new Map(kubernetesServices.map((s) => [`${s.namespace}/${s.name}`, s]));

  const edges: ManifestEdge[] = [];
  const unresolved: UnresolvedAddress[] = [];
  for (const w of services) {
    for (const e of w.env) {
      if (!e.name.endsWith('_ADDR')) continue;
      const where = `${file}:${e.line}: ${w.kind} ${w.name} container ${e.container} env ${e.name}`;
      const target = serviceOf(e.value, w.namespace);
      const host = target.name;
      const svc = serviceByName.get(`${target.namespace}/${target.name}`);
      if (!svc) {
        const inNamespace = target.namespace === 'default' && !kubernetesServices.some((k) => k.namespace !== 'default') ? '' : ` in namespace "${target.namespace}"`;
        unresolved.push({ from: w.name, envVar: e.name, address: e.value, where, problem: `no Service named "${host}"${inNamespace} in ${file}` });
        continue;
      }
      const targets = selectedBy(svc);
      if (targets.length === 0) {
        unresolved.push({ from: w.name, envVar: e.name, address: e.value, where, problem: `Service "${host}" selects no Deployment or StatefulSet in ${file}` });
        continue;
      }
      for (const to of targets) {
        if (to === w.name) continue; // a service's own address (e.g. for health checks) is not a call
        if (edges.some((x) => x.from === w.name && x.to === to)) continue;
        edges.push({ from: w.name, to, envVar: e.name, address: e.value, viaService: svc.name, where });
      }
    }
  }

  return {
    file,
    services: services.map(({ labels, namespace, env: _env, ...w }) => {
      const selecting = kubernetesServices.filter((s) => selects(s, { namespace, labels }));
      return {
        ...w,
        services: selecting.map((s) => s.name),
        exposed: selecting.some((s) => s.type === 'LoadBalancer' || s.type === 'NodePort'),
        client: selecting.length === 0,
      };
    }),
    kubernetesServices,
    edges,
    unresolved,
  };
}

/** Read and parse a manifests file. */
export function readManifests(path: string): ManifestImport {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new InvalidInputError(path, 'manifests file not found');
  }
  if (size > MAX_MANIFEST_BYTES) throw new InvalidInputError(path, `manifests file is ${size} bytes; the limit is ${MAX_MANIFEST_BYTES}`);
  return parseManifests(readFileSync(path, 'utf8'), path);
}
