/**
 * M/M/c queueing formulas: Poisson arrivals, exponential service, `c` identical
 * servers, first-come first-served, infinite queue. Pure numbers in, numbers out.
 *
 * Conventions: `servers` is the server count c, `arrivalRatePerSecond` is λ,
 * `serviceTimeSeconds` is the mean service time S (μ = 1/S), the offered load
 * A = λ·S is in Erlangs and the utilization is ρ = A / c.
 */

/**
 * Highest utilization at which a station is still evaluated as a queue.
 * Demand beyond ρmax·c·μ is treated as not served within any SLO (shed, timed
 * out or queued without bound), and the part that is served is evaluated at ρmax.
 * 0.999 keeps the M/M/c formulas finite while making a saturated station show its
 * real behaviour: waits grow as 1/(c·μ·(1 − ρ)), so at ρmax a small station
 * misses any sensible target, while a very large one can still be fast.
 */
export const SATURATED_UTILIZATION = 0.999;

/** Offered loads above this use a shortened Erlang B recursion (see `erlangB`). */
const SHORT_RECURSION_MIN_LOAD_ERLANGS = 100;
/** How many standard deviations (√A) below A the shortened recursion starts. */
const SHORT_RECURSION_SIGMAS = 12;

/**
 * Erlang B blocking probability of an M/M/c/c loss system.
 * Uses the forward recursion B(k) = A·B(k−1) / (k + A·B(k−1)), which is
 * numerically stable. For large loads the recursion starts at
 * k0 = A − 12√A from the fluid value B(k0) ≈ 1 − k0/A instead of at 0: each step
 * below A shrinks the starting error by a factor ≈ k/A, so after 12√A steps the
 * error is below e^(−72) and the cost is O(√A) instead of O(A).
 */
export function erlangB(servers: number, offeredLoadErlangs: number): number {
  const c = Math.floor(servers);
  const a = offeredLoadErlangs;
  if (c < 0 || !(a >= 0)) throw new RangeError(`erlangB needs servers ≥ 0 and load ≥ 0, got ${servers}, ${a}`);
  if (a === 0) return c === 0 ? 1 : 0;
  let k = 0;
  let b = 1;
  if (a >= SHORT_RECURSION_MIN_LOAD_ERLANGS) {
    const k0 = Math.floor(a - SHORT_RECURSION_SIGMAS * Math.sqrt(a));
    if (k0 > 0 && k0 < c) {
      k = k0;
      b = 1 - k0 / a;
    }
  }
  for (k = k + 1; k <= c; k++) b = (a * b) / (k + a * b);
  return b;
}

/**
 * Erlang C: probability that an arriving request waits (all servers busy) in
 * M/M/c. Returns 1 when the load is at or above the server count (unstable queue).
 */
export function erlangC(servers: number, offeredLoadErlangs: number): number {
  const c = Math.floor(servers);
  const a = offeredLoadErlangs;
  if (c <= 0 || a >= c) return 1;
  if (a <= 0) return 0;
  const b = erlangB(c, a);
  return (c * b) / (c - a * (1 - b));
}

export interface Station {
  readonly servers: number;
  readonly arrivalRatePerSecond: number;
  readonly serviceTimeSeconds: number;
}

/** Utilization ρ = λ·S / c (may exceed 1). */
export function utilization(station: Station): number {
  if (station.servers <= 0) return station.arrivalRatePerSecond > 0 ? Infinity : 0;
  return (station.arrivalRatePerSecond * station.serviceTimeSeconds) / station.servers;
}

/** P(W > t): probability that the wait in queue exceeds `tSeconds` (stable M/M/c: C·e^(−θt), θ = cμ − λ). */
export function waitExceedanceProbability(station: Station, tSeconds: number): number {
  const { servers: c, arrivalRatePerSecond: lambda, serviceTimeSeconds: s } = station;
  if (lambda <= 0) return 0;
  const mu = 1 / s;
  const theta = c * mu - lambda;
  if (theta <= 0) return 1;
  const pWait = erlangC(c, lambda * s);
  return tSeconds <= 0 ? pWait : pWait * Math.exp(-theta * tSeconds);
}

/**
 * P(T > t) for the response time T = wait + service of a stable M/M/c queue:
 * (1 − C)·e^(−μt) + C·P(Exp(θ) + Exp(μ) > t), with θ = cμ − λ.
 * The hypoexponential tail (θe^(−μt) − μe^(−θt))/(θ − μ) is evaluated as
 * e^(−μt)·(1 + μ·(1 − e^(−(θ−μ)t))/(θ−μ)) with expm1, which is exact at θ = μ
 * (limit (1 + μt)e^(−μt)) and free of cancellation near it. Returns 1 when unstable.
 */
export function responseTimeExceedanceProbability(station: Station, tSeconds: number): number {
  const { servers: c, arrivalRatePerSecond: lambda, serviceTimeSeconds: s } = station;
  if (tSeconds <= 0) return 1;
  const mu = 1 / s;
  const serviceTail = Math.exp(-mu * tSeconds);
  if (lambda <= 0) return serviceTail;
  const theta = c * mu - lambda;
  if (theta <= 0) return 1;
  const pWait = erlangC(c, lambda * s);
  const delta = theta - mu;
  const ratio = delta === 0 ? tSeconds : -Math.expm1(-delta * tSeconds) / delta;
  const sumTail = serviceTail * (1 + mu * ratio);
  return Math.min(1, Math.max(0, (1 - pWait) * serviceTail + pWait * sumTail));
}

/**
 * The response time that a share `percentile` (0..1) of requests stays
 * within: the smallest t with P(T > t) ≤ 1 − percentile, found by bisection
 * on the exact tail above (monotone in t) to 1e-9 relative. Infinity when
 * the queue is unstable (λ ≥ cμ). M/M/1 check: −ln(1 − p)/(μ − λ).
 */
export function responseTimeAtPercentile(station: Station, percentile: number): number {
  if (!(percentile > 0 && percentile < 1)) throw new RangeError(`percentile must be in (0, 1), got ${percentile}`);
  const { servers: c, arrivalRatePerSecond: lambda, serviceTimeSeconds: s } = station;
  if (lambda > 0 && (c <= 0 || c / s - lambda <= 0)) return Infinity;
  const tail = 1 - percentile;
  let low = 0;
  let high = s;
  while (responseTimeExceedanceProbability(station, high) > tail) {
    low = high;
    high *= 2;
  }
  while (high - low > 1e-9 * high) {
    const mid = (low + high) / 2;
    if (responseTimeExceedanceProbability(station, mid) > tail) low = mid;
    else high = mid;
  }
  return high;
}

/**
 * Share of requests served within `targetSeconds` (0..1), treating overload
 * honestly: when λ exceeds ρmax·c·μ the excess is counted as late, and the served
 * part is evaluated at the saturated utilization ρmax (`SATURATED_UTILIZATION`).
 * Continuous in λ at the saturation point.
 */
export function attainment(station: Station, targetSeconds: number): number {
  const { servers: c, arrivalRatePerSecond: lambda, serviceTimeSeconds: s } = station;
  if (lambda <= 0) return 1;
  if (c <= 0) return 0;
  const saturatedRate = (SATURATED_UTILIZATION * c) / s;
  if (lambda <= saturatedRate) return 1 - responseTimeExceedanceProbability(station, targetSeconds);
  const servedShare = saturatedRate / lambda;
  const late = responseTimeExceedanceProbability({ servers: c, arrivalRatePerSecond: saturatedRate, serviceTimeSeconds: s }, targetSeconds);
  return servedShare * (1 - late);
}

/** Share of requests not served within `targetSeconds` (1 − attainment). */
export function slowRequestShare(station: Station, targetSeconds: number): number {
  return 1 - attainment(station, targetSeconds);
}
