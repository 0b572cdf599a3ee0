/**
 * A small linear/mixed-integer model as plain data, written either as CPLEX LP
 * text (readable, used for small models) or as sparse arrays (used at scale,
 * where parsing text would dominate). Minimization only.
 */

export interface Variable {
  readonly name: string;
  readonly lower: number;
  readonly upper: number;
  readonly cost: number;
  readonly integer: boolean;
}

export type Sense = '<=' | '>=' | '=';

export interface Constraint {
  readonly name: string;
  readonly sense: Sense;
  readonly rhs: number;
  readonly indices: readonly number[];
  readonly coefficients: readonly number[];
}

export interface LinearModel {
  readonly variables: readonly Variable[];
  readonly constraints: readonly Constraint[];
}

/** LP-format names: letters, digits and `_` only, not starting with a digit, at most 48 characters. */
export function sanitizeName(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 48);
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

/** Accumulates variables and constraints; names get an index suffix so they stay unique after sanitizing. */
export class ModelBuilder {
  private readonly variables: Variable[] = [];
  private readonly constraints: Constraint[] = [];

  addVariable(label: string, lower: number, upper: number, cost: number, integer: boolean): number {
    const index = this.variables.length;
    this.variables.push({ name: `${sanitizeName(label)}_v${index}`, lower, upper, cost, integer });
    return index;
  }

  addConstraint(label: string, indices: readonly number[], coefficients: readonly number[], sense: Sense, rhs: number): number {
    const index = this.constraints.length;
    this.constraints.push({ name: `${sanitizeName(label)}_r${index}`, sense, rhs, indices, coefficients });
    return index;
  }

  get variableCount(): number {
    return this.variables.length;
  }

  build(): LinearModel {
    return { variables: this.variables, constraints: this.constraints };
  }
}

/** Shortest decimal text that round-trips the number. */
function num(value: number): string {
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return String(value);
}

function terms(model: LinearModel, indices: readonly number[], coefficients: readonly number[]): string {
  if (indices.length === 0) return `0 ${model.variables[0]?.name ?? 'x'}`;
  const parts: string[] = [];
  for (let k = 0; k < indices.length; k++) {
    const c = coefficients[k];
    const name = model.variables[indices[k]].name;
    const sign = c < 0 ? '-' : '+';
    const text = `${sign} ${num(Math.abs(c))} ${name}`;
    // Break long rows: some LP readers limit line length.
    parts.push(k > 0 && k % 8 === 0 ? `\n   ${text}` : text);
  }
  return parts.join(' ');
}

/** CPLEX LP text of the model (minimize). */
export function toLpText(model: LinearModel): string {
  const { variables, constraints } = model;
  const objectiveIndices: number[] = [];
  const objectiveCoefficients: number[] = [];
  variables.forEach((v, i) => {
    if (v.cost !== 0) {
      objectiveIndices.push(i);
      objectiveCoefficients.push(v.cost);
    }
  });
  const lines: string[] = ['Minimize', ` obj: ${terms(model, objectiveIndices, objectiveCoefficients)}`, 'Subject To'];
  for (const c of constraints) lines.push(` ${c.name}: ${terms(model, c.indices, c.coefficients)} ${c.sense} ${num(c.rhs)}`);
  lines.push('Bounds');
  for (const v of variables) {
    if (v.lower === v.upper) lines.push(` ${v.name} = ${num(v.lower)}`);
    else lines.push(` ${num(v.lower)} <= ${v.name} <= ${num(v.upper)}`);
  }
  const integers = variables.filter((v) => v.integer).map((v) => v.name);
  if (integers.length) {
    lines.push('General');
    for (let i = 0; i < integers.length; i += 10) lines.push(` ${integers.slice(i, i + 10).join(' ')}`);
  }
  lines.push('End', '');
  return lines.join('\n');
}

/** Row bounds of a constraint in `lower ≤ a·x ≤ upper` form. */
export function rowBounds(c: Constraint): [number, number] {
  if (c.sense === '<=') return [-Infinity, c.rhs];
  if (c.sense === '>=') return [c.rhs, Infinity];
  return [c.rhs, c.rhs];
}

/** Whether `activity` (the row's left-hand side at some point) satisfies the row: absolute tolerance 1e-6, relative to the right-hand side above 1. */
export function rowHolds(c: Constraint, activity: number): boolean {
  const tolerance = 1e-6 * Math.max(1, Math.abs(c.rhs));
  return !((c.sense !== '>=' && activity > c.rhs + tolerance) || (c.sense !== '<=' && activity < c.rhs - tolerance));
}

/** A model with some columns fixed and taken out (see `fixColumns`), and the way back to the full model's columns. */
export interface ReducedModel {
  readonly model: LinearModel;
  /** The full model's index of each column of the reduced one. */
  readonly columns: Int32Array;
  /** The reduced model's index of each column of the full one (−1: fixed). */
  readonly indexOf: Int32Array;
  /** What the fixed columns add to the objective. */
  readonly objectiveOffset: number;
  /** The full model's values from the reduced model's. */
  expand(values: Float64Array): Float64Array;
}

/**
 * The model with the columns of `fixed` (index → value) taken out: each
 * row's right-hand side absorbs what the fixed columns contribute, and rows
 * left without columns are dropped. Returns undefined when such a row does
 * not hold at the fixed values (`rowHolds`). HiGHS'
 * presolve would remove the fixed columns too, but only after the whole model
 * is in its heap; the reduced model is what a neighbourhood really is.
 */
export function fixColumns(model: LinearModel, fixed: ReadonlyMap<number, number>): ReducedModel | undefined {
  const indexOf = new Int32Array(model.variables.length).fill(-1);
  const columns: number[] = [];
  let objectiveOffset = 0;
  model.variables.forEach((v, i) => {
    const value = fixed.get(i);
    if (value === undefined) {
      indexOf[i] = columns.length;
      columns.push(i);
    } else objectiveOffset += v.cost * value;
  });
  const constraints: Constraint[] = [];
  for (const c of model.constraints) {
    let constant = 0;
    const indices: number[] = [];
    const coefficients: number[] = [];
    for (let k = 0; k < c.indices.length; k++) {
      const j = c.indices[k];
      if (indexOf[j] >= 0) indices.push(indexOf[j]), coefficients.push(c.coefficients[k]);
      else constant += c.coefficients[k] * fixed.get(j)!;
    }
    if (indices.length === 0) {
      if (!rowHolds(c, constant)) return undefined;
      continue;
    }
    constraints.push({ name: c.name, sense: c.sense, rhs: c.rhs - constant, indices, coefficients });
  }
  const variables = columns.map((i) => model.variables[i]);
  return {
    model: { variables, constraints },
    columns: Int32Array.from(columns),
    indexOf,
    objectiveOffset,
    expand(values: Float64Array): Float64Array {
      const full = new Float64Array(model.variables.length);
      for (const [i, value] of fixed) full[i] = value;
      columns.forEach((i, k) => (full[i] = values[k]));
      return full;
    },
  };
}
