import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { bootstrapAdminToken } from '../api/auth.ts';
import { createLogger } from '../api/logger.ts';
import { ServiceMetrics } from '../api/metrics.ts';
import { buildApi } from '../api/server.ts';
import { PrometheusSource } from '../ingest/prometheus.ts';
import { pullOnce } from '../ingest/pull.ts';
import { RequestQueue } from '../queue/service.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { type LoopCompute, workerCompute } from './compute.ts';
import { loadServiceConfig } from './config.ts';
import { driverFactory } from './drivers.ts';
import { ControlLoop } from './loop.ts';

export interface ServeOptions {
  readonly dataDir?: string;
  readonly databaseUrl?: string;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly driver?: string;
  /** Base URL of Prometheus to pull workload metrics from. */
  readonly prometheusUrl?: string;
  readonly pullIntervalSeconds?: number;
  /** Run loop cycles on the loop policy's interval (default true); on-demand cycles work either way. */
  readonly schedule?: boolean;
  readonly bodyLimitBytes?: number;
  readonly logger?: Logger;
  /** The bootstrap admin token to create on first start (else one is generated and passed to onBootstrapToken). */
  readonly bootstrapToken?: string;
  /** Seconds between request-queue decisions (deadlines, ended grants); submits, cancels and loop cycles also decide. Default 5. */
  readonly queueIntervalSeconds?: number;
  readonly onBootstrapToken?: (secret: string) => void;
  readonly now?: () => number;
  /** Where the loop fits forecasts and solves (default: one worker thread, so the API stays responsive). */
  readonly compute?: LoopCompute;
}

export interface RunningService {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly loop: ControlLoop;
  readonly queue: RequestQueue;
  /** Graceful stop: no new cycles or pulls, the running one finishes, requests drain, the store closes. */
  close(): Promise<void>;
}

/**
 * Runs `fn` every `intervalSeconds()`, never two at once. The interval is
 * read anew every second, so a changed loop policy takes effect without a
 * restart; time between runs is measured from the start of the previous run
 * (monotonic clock).
 */
function every(intervalSeconds: () => Promise<number>, fn: () => Promise<unknown>, log: Logger, what: string) {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  let lastStartMs = performance.now();
  const tick = async () => {
    if (stopped) return;
    const s = await intervalSeconds().catch(() => 60);
    if (!stopped && performance.now() - lastStartMs >= s * 1000) {
      lastStartMs = performance.now();
      running = fn().catch((e) => log.error({ err: e instanceof Error ? e.message : String(e) }, `${what} failed`));
      await running;
    }
    if (!stopped) {
      timer = setTimeout(() => void tick(), Math.min(1000, s * 1000));
      timer.unref?.();
    }
  };
  timer = setTimeout(() => void tick(), 0);
  timer.unref?.();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

/** Open the store, recover from any crash, and serve the API with the loop and pulls on their schedules. */
export async function startService(options: ServeOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger();
  const now = options.now ?? (() => Date.now() / 1000);
  const store = await openStore({ dataDir: options.dataDir, databaseUrl: options.databaseUrl });
  const metrics = new ServiceMetrics();
  const factory = driverFactory(options.driver ?? 'simulator');
  // Forecast fitting and MIP solving in a worker thread: the API answers while a cycle computes.
  const compute = options.compute ?? workerCompute();
  const loop = new ControlLoop({ store, metrics, driverFactory: factory, now, logger, compute });
  const queue = new RequestQueue({ store, now, registry: metrics.registry, logger });
  // Each cycle is followed by a queue decision against the plan it made (a failed decision is logged; the cycle stands).
  const decideAfter = async () => {
    await queue.process().catch((e) => logger.error({ err: e instanceof Error ? e.message : String(e) }, 'request queue decision failed'));
  };
  const runner = {
    async runCycle(mode?: Parameters<ControlLoop['runCycle']>[0]) {
      const cycle = await loop.runCycle(mode);
      await decideAfter();
      return cycle;
    },
  };
  let ready = false;
  const app = await buildApi({ store, metrics, loop: runner, queue, logger, bodyLimitBytes: options.bodyLimitBytes, now, isReady: () => ready });
  try {
    const boot = await bootstrapAdminToken(store, now(), options.bootstrapToken);
    if (boot.generatedSecret) options.onBootstrapToken?.(boot.generatedSecret);
    if (boot.created) logger.info('created the bootstrap admin token');
    const recovered = await loop.recover();
    if (recovered.interrupted) logger.warn(recovered, 'recovered cycles interrupted by the previous process');
    await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8080 });
  } catch (e) {
    await app.close().catch(() => undefined);
    await compute.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw e;
  }
  ready = true;
  const address = app.server.address();
  const url = typeof address === 'object' && address ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : String(address);
  logger.info({ url, store: store.dialect, driver: options.driver ?? 'simulator', prometheus: options.prometheusUrl ?? null, compute: compute.where }, 'headroom serving');

  const timers = [] as { stop(): Promise<void> }[];
  if (options.schedule ?? true) {
    timers.push(every(async () => (await loadServiceConfig(store)).loop.intervalSeconds, () => runner.runCycle(), logger, 'scheduled loop cycle'));
  }
  timers.push(every(async () => options.queueIntervalSeconds ?? 5, () => queue.process(), logger, 'request queue decision'));
  if (options.prometheusUrl) {
    const source = new PrometheusSource(options.prometheusUrl);
    timers.push(
      every(async () => options.pullIntervalSeconds ?? 60, async () => {
        const cfg = await loadServiceConfig(store);
        for (const r of await pullOnce({ store, source, workloads: cfg.workloads, nowSeconds: now() })) {
          metrics.countIngest('prometheus', r.accepted, r.duplicates);
          if (r.error) logger.warn({ workload: r.workload, err: r.error }, 'prometheus pull failed');
        }
      }, logger, 'prometheus pull'),
    );
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    app,
    store,
    loop,
    queue,
    close() {
      closing ??= (async () => {
        ready = false;
        await Promise.all(timers.map((t) => t.stop()));
        await app.close();
        // Let an in-flight cycle finish before the store goes.
        await loop.drain();
        await compute.close();
        await store.close();
        logger.info('headroom stopped');
      })();
      return closing;
    },
  };
}
