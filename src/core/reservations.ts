/**
 * Domain types of reservations: capacity committed ahead in a pool (an
 * instance type in a zone) at its committed price, held per account and
 * adjusted from the account's forecast.
 *
 * Unit: whole nodes of a reservable pool. Committed prices are quoted per
 * node-hour (`Pool.committedCostPerHour`, like a zonal reserved instance or a
 * capacity reservation of one machine type), the simulator bills nodes, and a
 * reserved node is paid for whether anything runs on it or not, so nodes are
 * the unit in which a reservation is bought, billed and compared with use.
 * Demand is converted to node-equivalents by each instance's dominant share of
 * the node (max of its CPU and memory shares).
 */

/** Per-account overrides of the reservation settings. */
export interface AccountReservationSettings {
  /** Nodes reserved (across the reservable pools) when the replay starts. */
  readonly initialNodes: number;
  /** Nodes that survive any contention; absent: the account's guaranteedInstances converted to nodes. */
  readonly guaranteedNodes?: number;
  /** Never released below this many nodes. */
  readonly minNodes: number;
}

/** How reservations are reviewed and adjusted (see src/optimize/reservations.ts). */
export interface ReservationSettings {
  /** Pools that sell committed capacity (same node shape, each with committedCostPerHour, none under an agreement). */
  readonly pools: readonly string[];
  /** Time between reviews (a multiple of the decision interval). */
  readonly reviewIntervalSeconds: number;
  /** Raise when the forecast's upper bound passes this share of the reservation (0..1]. */
  readonly raiseShare: number;
  /** Release when predicted (median) demand stays under this share of the reservation (0..1). */
  readonly releaseShare: number;
  /** ... for at least this long. */
  readonly releaseAfterSeconds: number;
  /** After a change, the upper bound fills at most this share of the new reservation (less than raiseShare, so a raise cannot trigger the next). */
  readonly targetShare: number;
  /** Most nodes that may be reserved per pool, all accounts together (contention beyond it). */
  readonly maxReservedNodesByPool: Readonly<Record<string, number>>;
  /**
   * Reserve only nodes that pay for themselves (src/optimize/reservations.ts, `breakEvenNodes`): a node's
   * expected use over the look-ahead must be at least committedCostPerHour / costPerHour × (1 + margin).
   * Absent: no break-even rule.
   */
  readonly breakEven?: { readonly margin: number };
  /** By account name; accounts not listed use the defaults (0 initial, derived guarantee, 0 minimum). */
  readonly accounts: Readonly<Record<string, AccountReservationSettings>>;
}

/** Why a reservation changed. */
export type ReservationReason = 'initial' | 'raise' | 'release' | 'contention' | 'restored';

/** One change of one account's reservation in one pool. */
export interface ReservationChange {
  readonly timeSeconds: number;
  readonly account: string;
  readonly pool: string;
  readonly zone: string;
  readonly fromNodes: number;
  readonly toNodes: number;
  readonly reason: ReservationReason;
  /** Human-readable cause with the figures that triggered it. */
  readonly detail: string;
}
