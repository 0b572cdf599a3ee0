import type { Action, ActionRecord, ActionStatus } from './plan.ts';

/**
 * The durable audit trail of actions. An executor writes a record *before* it
 * sends an action to a driver (`begin`) and updates it with the result, so a
 * crash between the two leaves a `sent` record that a restart can inspect and
 * never re-sends blindly. Implementations: `MemoryActionLog` (tests, replay)
 * and the store's SQLite/PostgreSQL logs (`headroom serve`).
 */
export interface ActionLog {
  /**
   * Record `action` as `pending` at `atSeconds`. When a record with the same
   * action id exists, it is returned unchanged (`created: false`): action ids
   * are the idempotency key of the whole system.
   */
  begin(action: Action, atSeconds: number, undoes?: string): Promise<{ record: ActionRecord; created: boolean }>;
  /** Move a record to a new status (with the attempt count and error, when any). */
  update(id: string, change: ActionLogUpdate): Promise<ActionRecord>;
  get(id: string): Promise<ActionRecord | undefined>;
  /** Records in the order they were begun, optionally only some statuses. */
  list(filter?: { readonly statuses?: readonly ActionStatus[] }): Promise<ActionRecord[]>;
}

export interface ActionLogUpdate {
  readonly status: ActionStatus;
  readonly atSeconds: number;
  readonly attempts?: number;
  readonly error?: string;
}

/** An action log held in memory, in begin order. */
export class MemoryActionLog implements ActionLog {
  private readonly records = new Map<string, ActionRecord>();

  async begin(action: Action, atSeconds: number, undoes?: string): Promise<{ record: ActionRecord; created: boolean }> {
    const existing = this.records.get(action.id);
    if (existing) return { record: { ...existing }, created: false };
    const record: ActionRecord = { action, status: 'pending', attempts: 0, updatedAtSeconds: atSeconds, ...(undoes ? { undoes } : {}) };
    this.records.set(action.id, record);
    return { record: { ...record }, created: true };
  }

  async update(id: string, change: ActionLogUpdate): Promise<ActionRecord> {
    const record = this.records.get(id);
    if (!record) throw new Error(`action log has no action "${id}"`);
    record.status = change.status;
    record.updatedAtSeconds = change.atSeconds;
    if (change.attempts !== undefined) record.attempts = change.attempts;
    if (change.error !== undefined) record.error = change.error;
    else delete record.error;
    return { ...record };
  }

  async get(id: string): Promise<ActionRecord | undefined> {
    const record = this.records.get(id);
    return record ? { ...record } : undefined;
  }

  async list(filter?: { readonly statuses?: readonly ActionStatus[] }): Promise<ActionRecord[]> {
    const all = [...this.records.values()].map((r) => ({ ...r }));
    return filter?.statuses ? all.filter((r) => filter.statuses!.includes(r.status)) : all;
  }
}
