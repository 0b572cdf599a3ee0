import type { ActionLog } from '../core/actionLog.ts';
import type { QuantileForecast } from '../core/forecast.ts';
import type { Action, ActionRecord, ActionStatus, Allocation } from '../core/plan.ts';
import type { RequestStore } from '../core/requests.ts';

/**
 * Everything `headroom serve` keeps, behind one interface with two engines:
 * SQLite (embedded default) and PostgreSQL. Every write that takes several
 * rows is one transaction: it happens entirely or not at all.
 */

/** One observation of a workload's demand (requests per second) at an epoch second. */
export interface SampleInput {
  readonly workload: string;
  readonly timeSeconds: number;
  readonly value: number;
}

export interface IngestResult {
  /** Samples stored by this call. */
  readonly accepted: number;
  /** Samples already stored (same workload and time): skipped, so a retried batch is harmless. */
  readonly duplicates: number;
}

/** Where a pull-based ingest has read up to, per source and workload. */
export interface HighWaterMark {
  readonly source: string;
  readonly workload: string;
  readonly seconds: number;
}

export interface SeriesSummary {
  readonly workload: string;
  readonly samples: number;
  readonly firstSeconds: number;
  readonly lastSeconds: number;
}

/** The service at a glance (`GET /v1/status`). */
export interface StoreStatus {
  /** Names of the live (not deleted) workloads and pools, by name. */
  readonly workloads: readonly string[];
  readonly pools: readonly string[];
  readonly series: readonly SeriesSummary[];
  /** The latest loop cycle, if any. */
  readonly lastCycle?: LoopCycle;
  /** Actions pending or sent. */
  readonly openActions: number;
}

export const CONFIG_KINDS = ['workload', 'pool', 'provider', 'policy', 'tenant'] as const;
export type ConfigKind = (typeof CONFIG_KINDS)[number];

/** One version of a validated configuration document. */
export interface ConfigDocument {
  readonly kind: ConfigKind;
  readonly name: string;
  readonly version: number;
  readonly document: unknown;
  /** SHA-256 of the canonical JSON of `document`: equal documents, equal hashes. */
  readonly hash: string;
  readonly updatedAtSeconds: number;
}

export interface ConfigInput {
  readonly kind: ConfigKind;
  readonly name: string;
  readonly document: unknown;
}

export type ConfigChange = 'created' | 'updated' | 'unchanged';

export interface StoredForecast {
  readonly id: number;
  readonly workload: string;
  readonly cycleId?: number;
  readonly createdAtSeconds: number;
  readonly forecast: QuantileForecast;
}

export type LoopMode = 'act' | 'dry-run' | 'forecast-only';

export interface StoredPlan {
  readonly id: number;
  readonly cycleId?: number;
  readonly mode: LoopMode;
  readonly decidedAtSeconds: number;
  readonly target: Allocation;
  readonly actions: readonly Action[];
  /** Why: per workload and per pool, in the user's terms (see control/loop.ts). */
  readonly explanation: unknown;
}

export type CycleStatus = 'running' | 'succeeded' | 'failed' | 'interrupted';

export interface LoopCycle {
  readonly id: number;
  readonly mode: LoopMode;
  readonly status: CycleStatus;
  readonly startedAtSeconds: number;
  readonly finishedAtSeconds?: number;
  /** Inputs summary, forecast ids, plan id, action outcomes, stage durations. */
  readonly summary?: unknown;
  readonly error?: string;
}

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiToken {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly createdAtSeconds: number;
  readonly revokedAtSeconds?: number;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** The durable action log (records written before an action is sent). */
  readonly actions: ActionLog;
  /** The durable capacity-request queue (src/queue). */
  readonly requests: RequestStore;

  // Samples
  /**
   * Store samples; a (workload, time) already stored is skipped. With `mark`,
   * the pull high-water mark moves in the same transaction, so a crash never
   * separates the samples from the mark that says they were read.
   */
  insertSamples(samples: readonly SampleInput[], mark?: HighWaterMark): Promise<IngestResult>;
  /** Samples of a workload with from <= time < to, by time; with `lastN`, only the latest lastN of them (still by time). */
  readSamples(workload: string, fromSeconds: number, toSeconds: number, lastN?: number): Promise<{ timeSeconds: number; value: number }[]>;
  countSamples(workload?: string): Promise<number>;
  seriesSummaries(): Promise<SeriesSummary[]>;
  highWaterMark(source: string, workload: string): Promise<number | undefined>;

  // Configuration
  /** Write documents in one transaction; an equal document is left alone (`unchanged`), another becomes the next version. */
  applyConfig(docs: readonly ConfigInput[], atSeconds: number): Promise<{ kind: ConfigKind; name: string; version: number; change: ConfigChange }[]>;
  getConfig(kind: ConfigKind, name: string): Promise<ConfigDocument | undefined>;
  listConfig(kind: ConfigKind): Promise<ConfigDocument[]>;
  /** Every version, oldest first (deletions included, with `document` null). */
  configHistory(kind: ConfigKind, name: string): Promise<ConfigDocument[]>;
  /** Mark a document deleted (a new version); false when there was none. */
  deleteConfig(kind: ConfigKind, name: string, atSeconds: number): Promise<boolean>;

  // Forecasts, plans, cycles
  insertForecast(workload: string, forecast: QuantileForecast, atSeconds: number, cycleId?: number): Promise<number>;
  latestForecast(workload: string): Promise<StoredForecast | undefined>;
  listForecasts(workload: string, limit: number): Promise<StoredForecast[]>;
  insertPlan(plan: Omit<StoredPlan, 'id'>): Promise<number>;
  getPlan(id: number): Promise<StoredPlan | undefined>;
  /** The plan a loop cycle made, if it got that far. */
  planOfCycle(cycleId: number): Promise<StoredPlan | undefined>;
  listPlans(limit: number): Promise<StoredPlan[]>;
  startCycle(mode: LoopMode, atSeconds: number): Promise<number>;
  finishCycle(id: number, result: { status: Exclude<CycleStatus, 'running'>; atSeconds: number; summary?: unknown; error?: string }): Promise<void>;
  getCycle(id: number): Promise<LoopCycle | undefined>;
  listCycles(limit: number): Promise<LoopCycle[]>;
  /** Cycles left `running` by a process that died: mark them `interrupted`; returns them. */
  interruptRunningCycles(atSeconds: number): Promise<LoopCycle[]>;

  /** What listConfig (names), seriesSummaries, listCycles(1) and actions.list (pending, sent: how many) answer, read in one go (one round trip on PostgreSQL). */
  status(): Promise<StoreStatus>;

  /** The last `limit` action records (optionally of some statuses), in begin order. */
  recentActions(limit: number, statuses?: readonly ActionStatus[]): Promise<ActionRecord[]>;

  // API tokens (only hashes are stored)
  createToken(token: ApiToken, tokenHash: string): Promise<void>;
  findTokenByHash(tokenHash: string): Promise<ApiToken | undefined>;
  listTokens(): Promise<ApiToken[]>;
  revokeToken(id: string, atSeconds: number): Promise<boolean>;

  close(): Promise<void>;
}
