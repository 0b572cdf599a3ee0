import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import jsonpatch from 'fast-json-patch';
import { parseAllDocuments } from 'yaml';
import { tryParseQuantity as parseQuantity } from '../core/kubeQuantity.ts';

/**
 * A faithful fake of the parts of the Kubernetes HTTP API that the Kubernetes
 * driver uses, for tests: no API server (nor kind, k3s or envtest) can run in
 * this environment, so the driver's real client (@kubernetes/client-node,
 * KubeConfig + AppsV1Api/CoreV1Api) talks to this server over loopback.
 *
 * Faithful where the driver depends on it (checked against the API
 * conventions and the apps/v1 and autoscaling/v1 OpenAPI):
 * - paths: /apis/apps/v1/namespaces/{ns}/{deployments|statefulsets}/{name}[/scale],
 *   /apis/cluster.x-k8s.io/v1beta1/namespaces/{ns}/machinedeployments/{name}[/scale]
 *   (Cluster API's custom resource, scale subresource as its CRD declares it:
 *   spec.replicas, status.replicas, status.selector), /api/v1/nodes;
 * - verbs: GET, PUT and PATCH of the object and of its `scale` subresource;
 * - PATCH content types application/strategic-merge-patch+json (merge keys of
 *   the pod template's lists: containers by name, env by name, ports by
 *   containerPort, volumeMounts by mountPath, ...; `$patch: delete|replace`),
 *   application/merge-patch+json (RFC 7386) and application/json-patch+json
 *   (RFC 6902); any other type gives 415;
 * - optimistic concurrency: metadata.resourceVersion in a PUT body or in a
 *   patch is a precondition, and a stale one gives 409 Conflict; every
 *   persisted write bumps resourceVersion, spec changes bump generation;
 * - `?dryRun=All` runs defaulting, validation and preconditions and answers
 *   the would-be object without persisting it; another dryRun value gives 400;
 * - errors are `Status` objects (kind, apiVersion v1, status Failure, message,
 *   reason NotFound | Conflict | Invalid | BadRequest | Unauthorized |
 *   UnsupportedMediaType, details, code) with the API server's messages for
 *   a missing object, a conflict, and invalid replicas or resources;
 * - bearer-token authentication (401 without the token), over TLS when given
 *   a certificate (the tests use a fixture CA, as a kubeconfig names one).
 *
 * Not faithful (the driver does not rely on these): no watch, list of apps
 * objects, field selectors, server-side apply, managedFields, admission
 * webhooks, quotas or LimitRanges; the strategic-merge merge keys come from
 * a table by field name rather than from the OpenAPI schema of each type;
 * the workload controllers are instantaneous (status.replicas follows
 * spec.replicas at once and, unless `autoReady` is off, so do readyReplicas);
 * validation covers replicas, container names and images, and container
 * resources only.
 */

export type AppsResource = 'deployments' | 'statefulsets' | 'machinedeployments';
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const KIND: Record<AppsResource, string> = { deployments: 'Deployment', statefulsets: 'StatefulSet', machinedeployments: 'MachineDeployment' };
const GROUP: Record<AppsResource, string> = { deployments: 'apps', statefulsets: 'apps', machinedeployments: 'cluster.x-k8s.io' };
const GROUP_VERSION: Record<string, string> = { apps: 'apps/v1', 'cluster.x-k8s.io': 'cluster.x-k8s.io/v1beta1' };

/** Merge keys of lists in a pod template (patchMergeKey in the Kubernetes types), by field name. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  ports: 'containerPort',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  volumes: 'name',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  conditions: 'type',
  resourceClaims: 'name',
};

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType?: string;
  readonly userAgent?: string;
  readonly body?: unknown;
}

/** A failure to inject: the next request matching `method` and `path` (substring) gets `code`. */
export interface InjectedFault {
  readonly method?: string;
  readonly pathIncludes?: string;
  readonly code: number;
  readonly times?: number;
  /** Never answer (the connection stays open), as a stuck API server or a dropped packet would. */
  readonly hang?: boolean;
}

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Obj,
  ) {
    super(message);
  }
}

const clone = <T>(v: T): T => structuredClone(v);
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return clone(patch);
  const out: Obj = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

/** Strategic merge patch (the subset the API server applies to apps/v1 objects; see the header). */
export function strategicMergePatch(target: Json, patch: Json, field = ''): Json {
  if (isObj(patch)) {
    if (patch.$patch === 'delete') return null;
    if (patch.$patch === 'replace') {
      const { $patch: _directive, ...rest } = patch;
      return clone(rest);
    }
    const out: Obj = isObj(target) ? clone(target) : {};
    for (const [k, v] of Object.entries(patch)) {
      if (k.startsWith('$setElementOrder/') || k === '$retainKeys' || k === '$patch') continue;
      if (v === null) delete out[k];
      else {
        const merged = strategicMergePatch(out[k] ?? null, v, k);
        if (merged === null && isObj(v) && v.$patch === 'delete') delete out[k];
        else out[k] = merged;
      }
    }
    return out;
  }
  if (Array.isArray(patch)) {
    const key = MERGE_KEYS[field];
    if (!key || !Array.isArray(target)) {
      return clone(patch.filter((e) => !(isObj(e) && e.$patch)));
    }
    const replace = patch.find((e) => isObj(e) && e.$patch === 'replace');
    if (replace) return clone(patch.filter((e) => e !== replace));
    const out = clone(target) as Json[];
    for (const element of patch) {
      if (!isObj(element) || element[key] === undefined) throw new ApiError(422, 'Invalid', `${field}: list element has no merge key "${key}"`);
      const at = out.findIndex((e) => isObj(e) && e[key] === element[key]);
      if (element.$patch === 'delete') {
        if (at >= 0) out.splice(at, 1);
      } else if (at >= 0) out[at] = strategicMergePatch(out[at], element, '');
      else out.push(strategicMergePatch(null, element, ''));
    }
    return out;
  }
  return clone(patch);
}

export interface FakeKubeApiOptions {
  /** Bearer token the server requires. */
  readonly token: string;
  /** Ready replicas follow spec.replicas at once (true) or only when set with `setReadyReplicas`. */
  readonly autoReady?: boolean;
  /** Serve HTTPS with this key and certificate (PEM), as an API server does; absent: plain HTTP. */
  readonly tls?: { readonly key: string; readonly cert: string };
}

/** A fake Kubernetes API server on loopback (see the file header for what it models). */
export class FakeKubeApi {
  private server?: Server;
  private resourceVersion = 1000;
  private readonly objects = new Map<string, Obj>();
  private readonly nodes = new Map<string, Obj>();
  readonly requests: RecordedRequest[] = [];
  private faults: (InjectedFault & { left: number })[] = [];
  /** Called with each request before it is handled: lets a test change state in between two calls of the client, as a concurrent writer would. */
  onRequest?: (request: RecordedRequest) => void;

  constructor(private readonly options: FakeKubeApiOptions) {}

  async start(): Promise<string> {
    const listener = (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    };
    this.server = this.options.tls ? createTlsServer({ key: this.options.tls.key, cert: this.options.tls.cert }, listener) : createServer(listener);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private key(resource: AppsResource, namespace: string, name: string) {
    return `${resource}/${namespace}/${name}`;
  }

  /** Create an object as if applied by kubectl (defaults: replicas 1, metadata filled in). */
  create(object: Obj): void {
    const kind = object.kind as string;
    const resource = (Object.keys(KIND) as AppsResource[]).find((r) => KIND[r] === kind);
    if (!resource) throw new Error(`the fake API server holds Deployments, StatefulSets and MachineDeployments, not ${kind}`);
    const o = clone(object);
    const meta = (o.metadata ?? {}) as Obj;
    meta.namespace ??= 'default';
    meta.uid = randomUUID();
    meta.creationTimestamp = '2026-01-01T00:00:00Z';
    meta.generation = 1;
    meta.resourceVersion = String(++this.resourceVersion);
    o.metadata = meta;
    const spec = o.spec as Obj;
    spec.replicas ??= 1;
    this.validate(resource, o);
    this.settle(o);
    this.objects.set(this.key(resource, meta.namespace as string, meta.name as string), o);
  }

  /** Load every Deployment and StatefulSet of a multi-document manifest (other kinds are skipped); returns their names. */
  load(yamlText: string, namespace = 'default'): string[] {
    const names: string[] = [];
    for (const doc of parseAllDocuments(yamlText)) {
      const o = doc.toJSON() as Obj | null;
      if (!o || (o.kind !== 'Deployment' && o.kind !== 'StatefulSet')) continue;
      (o.metadata as Obj).namespace ??= namespace;
      this.create(o);
      names.push((o.metadata as Obj).name as string);
    }
    return names;
  }

  /** A copy of a stored object. */
  get(resource: AppsResource, namespace: string, name: string): Obj | undefined {
    const o = this.objects.get(this.key(resource, namespace, name));
    return o ? clone(o) : undefined;
  }

  /** What a controller would report: pods of the object that are ready. */
  setReadyReplicas(resource: AppsResource, namespace: string, name: string, readyReplicas: number): void {
    const o = this.objects.get(this.key(resource, namespace, name));
    if (!o) throw new Error(`no ${resource} ${namespace}/${name}`);
    (o.status as Obj).readyReplicas = readyReplicas;
    (o.status as Obj).availableReplicas = readyReplicas;
  }

  /** Change an object behind the driver's back (as another controller or a person would). */
  touch(resource: AppsResource, namespace: string, name: string, change: (o: Obj) => void): void {
    const o = this.objects.get(this.key(resource, namespace, name));
    if (!o) throw new Error(`no ${resource} ${namespace}/${name}`);
    change(o);
    (o.metadata as Obj).resourceVersion = String(++this.resourceVersion);
    this.settle(o);
  }

  addNode(name: string, labels: Record<string, string>, ready: boolean): void {
    this.nodes.set(name, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels, uid: randomUUID(), resourceVersion: String(++this.resourceVersion) },
      status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
    });
  }

  inject(fault: InjectedFault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  private settle(o: Obj): void {
    const spec = o.spec as Obj;
    const status = (o.status ?? {}) as Obj;
    status.replicas = spec.replicas as number;
    status.observedGeneration = (o.metadata as Obj).generation as number;
    if (this.options.autoReady !== false) {
      status.readyReplicas = spec.replicas as number;
      status.availableReplicas = spec.replicas as number;
    }
    o.status = status;
  }

  private handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    const contentType = req.headers['content-type']?.split(';')[0].trim();
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const recorded: RecordedRequest = { method: req.method!, path: url.pathname, query, contentType, userAgent: req.headers['user-agent'], body };
    this.requests.push(recorded);
    this.onRequest?.(recorded);
    const send = (code: number, payload: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    try {
      if (req.headers.authorization !== `Bearer ${this.options.token}`) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      const fault = this.faults.find((f) => (!f.method || f.method === req.method) && (!f.pathIncludes || url.pathname.includes(f.pathIncludes)));
      if (fault) {
        if (--fault.left <= 0) this.faults = this.faults.filter((f) => f !== fault);
        if (fault.hang) return;
        const reason = fault.code === 429 ? 'TooManyRequests' : fault.code === 409 ? 'Conflict' : fault.code >= 500 ? 'InternalError' : 'BadRequest';
        throw new ApiError(fault.code, reason, `injected fault ${fault.code}`);
      }
      if (query.dryRun !== undefined && query.dryRun !== 'All') throw new ApiError(400, 'BadRequest', `dryRun: Unsupported value: "${query.dryRun}": supported values: "All"`);
      const dryRun = query.dryRun === 'All';
      if (req.method === 'GET' && url.pathname === '/api/v1/nodes') {
        send(200, { apiVersion: 'v1', kind: 'NodeList', metadata: { resourceVersion: String(this.resourceVersion) }, items: [...this.nodes.values()] });
        return;
      }
      const m = /^\/apis\/(apps\/v1|cluster\.x-k8s\.io\/v1beta1)\/namespaces\/([^/]+)\/(deployments|statefulsets|machinedeployments)\/([^/]+)(\/scale)?$/.exec(url.pathname);
      if (!m || GROUP_VERSION[GROUP[m[3] as AppsResource]] !== m[1]) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      const [, , namespace, resource, name, scale] = m as unknown as [string, string, string, AppsResource, string, string | undefined];
      const group = GROUP[resource];
      const key = this.key(resource, namespace, name);
      const current = this.objects.get(key);
      if (!current) throw new ApiError(404, 'NotFound', `${resource}.${group} "${name}" not found`, { name, group, kind: resource });
      if (req.method === 'GET') {
        send(200, scale ? this.scaleOf(current) : current);
        return;
      }
      if (req.method !== 'PUT' && req.method !== 'PATCH') throw new ApiError(405, 'MethodNotAllowed', `${req.method} is not supported on ${url.pathname}`);
      // A resourceVersion in a PUT body or in an object patch is a precondition (JSON patches use a `test` operation instead).
      const precondition = isObj(body) ? ((body.metadata as Obj | undefined)?.resourceVersion as string | undefined) : undefined;
      // As the API server, a stale precondition is a conflict before anything is validated.
      if (precondition !== undefined && precondition !== (current.metadata as Obj).resourceVersion) {
        throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${resource}.${group} "${name}": the object has been modified; please apply your changes to the latest version and try again`, {
          name,
          group,
          kind: resource,
        });
      }
      let next: Obj;
      if (scale) {
        const input = req.method === 'PUT' ? body : this.patched(this.scaleOf(current), body, contentType, false);
        if (!isObj(input)) throw new ApiError(400, 'BadRequest', 'the body of a Scale must be an object');
        const replicas = (input.spec as Obj | undefined)?.replicas;
        this.checkReplicas('Scale.autoscaling', name, replicas);
        next = clone(current);
        (next.spec as Obj).replicas = replicas as number;
      } else {
        next = req.method === 'PUT' ? (isObj(body) ? clone(body) : {}) : (this.patched(current, body, contentType, GROUP[resource] !== 'apps') as Obj);
        // Status and identity are the server's; a client cannot change them through the object.
        next.status = clone(current.status ?? {});
        const meta = (isObj(next.metadata) ? next.metadata : {}) as Obj;
        const curMeta = current.metadata as Obj;
        for (const f of ['name', 'namespace', 'uid', 'creationTimestamp', 'generation']) meta[f] = curMeta[f];
        next.metadata = meta;
        next.kind = current.kind;
        next.apiVersion = current.apiVersion;
        if (!isObj(next.spec)) throw new ApiError(422, 'Invalid', `${KIND[resource]}.${group} "${name}" is invalid: spec: Required value`);
        this.validate(resource, next);
      }
      const meta = next.metadata as Obj;
      if (!dryRun) {
        if (JSON.stringify(next.spec) !== JSON.stringify(current.spec)) meta.generation = ((current.metadata as Obj).generation as number) + 1;
        meta.resourceVersion = String(++this.resourceVersion);
        this.settle(next);
        this.objects.set(key, next);
      } else {
        meta.resourceVersion = (current.metadata as Obj).resourceVersion as string;
      }
      send(200, scale ? this.scaleOf(next) : next);
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(500, 'InternalError', e instanceof Error ? e.message : String(e));
      send(err.code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: err.reason, ...(err.details ? { details: err.details } : {}), code: err.code });
    }
  }

  /** `custom`: a custom resource, for which the API server has no strategic merge (no Go struct tags). */
  private patched(target: Obj, patch: unknown, contentType: string | undefined, custom: boolean): Json {
    if (custom && contentType === 'application/strategic-merge-patch+json') {
      throw new ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');
    }
    switch (contentType) {
      case 'application/strategic-merge-patch+json':
        if (!isObj(patch)) throw new ApiError(400, 'BadRequest', 'a strategic merge patch must be a JSON object');
        return strategicMergePatch(target, patch);
      case 'application/merge-patch+json':
        if (!isObj(patch)) throw new ApiError(400, 'BadRequest', 'a merge patch must be a JSON object');
        return mergePatch(target, patch);
      case 'application/json-patch+json': {
        if (!Array.isArray(patch)) throw new ApiError(400, 'BadRequest', 'a JSON patch must be an array of operations');
        try {
          return jsonpatch.applyPatch(clone(target), patch as jsonpatch.Operation[], true).newDocument as Json;
        } catch (e) {
          throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
        }
      }
      default:
        throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
    }
  }

  private scaleOf(o: Obj): Obj {
    const meta = o.metadata as Obj;
    const selector = ((o.spec as Obj).selector as Obj | undefined)?.matchLabels as Obj | undefined;
    const crSelector = ((o.status ?? {}) as Obj).selector;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: meta.name, namespace: meta.namespace, uid: meta.uid, resourceVersion: meta.resourceVersion, creationTimestamp: meta.creationTimestamp },
      spec: { replicas: (o.spec as Obj).replicas },
      status: {
        replicas: ((o.status ?? {}) as Obj).replicas ?? 0,
        selector:
          typeof crSelector === 'string'
            ? crSelector
            : Object.entries(selector ?? {})
                .map(([k, v]) => `${k}=${v}`)
                .join(','),
      },
    };
  }

  private checkReplicas(what: string, name: string, replicas: unknown): void {
    if (typeof replicas !== 'number' || !Number.isInteger(replicas)) {
      throw new ApiError(422, 'Invalid', `${what} "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be an integer`);
    }
    if (replicas < 0) throw new ApiError(422, 'Invalid', `${what} "${name}" is invalid: spec.replicas: Invalid value: ${replicas}: must be greater than or equal to 0`);
  }

  /** The API server's validation of the fields the driver writes: replicas and container resources. */
  private validate(resource: AppsResource, o: Obj): void {
    const name = (o.metadata as Obj).name as string;
    const what = `${KIND[resource]}.${GROUP[resource]}`;
    const spec = o.spec as Obj;
    this.checkReplicas(what, name, spec.replicas);
    // A MachineDeployment's template is a machine's, not a pod's: only replicas are checked.
    if (resource === 'machinedeployments') return;
    const containers = (((spec.template as Obj)?.spec as Obj)?.containers ?? []) as Obj[];
    if (!Array.isArray(containers) || containers.length === 0) throw new ApiError(422, 'Invalid', `${what} "${name}" is invalid: spec.template.spec.containers: Required value`);
    containers.forEach((c, i) => {
      if (typeof c.name !== 'string' || !c.name) throw new ApiError(422, 'Invalid', `${what} "${name}" is invalid: spec.template.spec.containers[${i}].name: Required value`);
      if (typeof c.image !== 'string' || !c.image) throw new ApiError(422, 'Invalid', `${what} "${name}" is invalid: spec.template.spec.containers[${i}].image: Required value`);
      const resources = (c.resources ?? {}) as Obj;
      const amounts: Record<string, Record<string, number>> = {};
      for (const list of ['requests', 'limits'] as const) {
        amounts[list] = {};
        for (const [r, q] of Object.entries((resources[list] ?? {}) as Obj)) {
          const at = `spec.template.spec.containers[${i}].resources.${list}[${r}]`;
          const v = typeof q === 'string' ? parseQuantity(q) : typeof q === 'number' ? q : undefined;
          if (v === undefined) {
            throw new ApiError(422, 'Invalid', `${what} "${name}" is invalid: ${at}: Invalid value: ${JSON.stringify(q)}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
          }
          if (v < 0) throw new ApiError(422, 'Invalid', `${what} "${name}" is invalid: ${at}: Invalid value: "${q}": must be greater than or equal to 0`);
          amounts[list][r] = v;
        }
      }
      for (const [r, request] of Object.entries(amounts.requests)) {
        const limit = amounts.limits[r];
        if (limit !== undefined && request > limit) {
          const q = ((resources.requests as Obj)[r]) as string;
          throw new ApiError(422, 'Invalid', `${what} "${name}" is invalid: spec.template.spec.containers[${i}].resources.requests: Invalid value: "${q}": must be less than or equal to ${r} limit of ${(resources.limits as Obj)[r]}`);
        }
      }
    });
  }
}
