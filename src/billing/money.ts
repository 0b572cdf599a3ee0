/**
 * Exact money arithmetic. Amounts are integers of micro-units of the currency
 * (1 USD = 1 000 000 micros); quantities are integers of micro-units of a
 * unit-hour (1 node-hour = 1 000 000); rates are integers of nano-units of the
 * currency per unit-hour. A line's amount is quantity × rate, an exact integer
 * in 10⁻¹⁵ of the currency, rounded once to micros, half to even (banker's
 * rounding, so ties do not drift upwards over many lines). Products go
 * through BigInt, so nothing is lost on the way.
 *
 * Hand-written rather than dinero.js: the only operations needed are
 * "scale a decimal", "multiply" and "round once", which BigInt does exactly
 * in a few lines, while rating needs rates finer than a currency's minor unit
 * (e.g. $0.0000115 per GiB-second) that dinero's per-currency scales fight.
 */

import { InvalidInputError } from '../core/errors.ts';

export const MICROS_PER_UNIT = 1_000_000;
const NANO = 1_000_000_000n;

/** `x` times 10^digits as an integer; rejects values that do not fit exactly in a double's integer range. */
function scaled(x: number, digits: number, what: string): number {
  const v = Math.round(x * 10 ** digits);
  if (!Number.isSafeInteger(v) || !Number.isFinite(x)) throw new InvalidInputError(what, `${x} is out of range for exact money arithmetic`);
  return v;
}

/** A quantity in unit-hours as integer micro-units of a unit-hour (rounded to the nearest). */
export function toMicroUnits(unitHours: number, what = 'quantity'): number {
  return scaled(unitHours, 6, what);
}

/** A price per unit-hour as integer nano-units of the currency (rounded to the nearest: 9 decimals kept). */
export function toNanoRate(ratePerUnitHour: number, what = 'rate'): number {
  return scaled(ratePerUnitHour, 9, what);
}

/** An amount of money as integer micros (rounded to the nearest: 6 decimals kept). */
export function toMicros(amount: number, what = 'amount'): number {
  return scaled(amount, 6, what);
}

/** num / den rounded half to even; den > 0. */
export function divRoundHalfEven(num: bigint, den: bigint): bigint {
  const neg = num < 0n;
  const n = neg ? -num : num;
  let q = n / den;
  const r = n % den;
  if (2n * r > den || (2n * r === den && q % 2n === 1n)) q += 1n;
  return neg ? -q : q;
}

/** Amount in micros of `microUnits` at `nanoRate`, rounded once (half to even). */
export function lineAmountMicros(microUnits: number, nanoRate: number): number {
  return Number(divRoundHalfEven(BigInt(microUnits) * BigInt(nanoRate), NANO));
}

/** `micros` × `factor` (a plain number, held to 9 decimals), rounded once (half to even). */
export function scaleMicros(micros: number, factor: number, what = 'factor'): number {
  return Number(divRoundHalfEven(BigInt(micros) * BigInt(scaled(factor, 9, what)), NANO));
}

/** "1234.500000": micros as a decimal string with six places, exact. */
export function formatMicros(micros: number): string {
  const neg = micros < 0;
  const a = Math.abs(micros);
  const s = `${Math.floor(a / MICROS_PER_UNIT)}.${String(a % MICROS_PER_UNIT).padStart(6, '0')}`;
  return neg ? `-${s}` : s;
}

/** Micros rounded half to even to whole cents (for an amount payable), as cents. */
export function microsToCents(micros: number): number {
  return Number(divRoundHalfEven(BigInt(micros), 10_000n));
}
