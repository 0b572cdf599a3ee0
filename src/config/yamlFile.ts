/**
 * Reading a YAML input file at the boundary: size limit, duplicate keys and
 * syntax errors named with file:line:column, and a map from a value's path
 * back to its line, so validation errors can say where the problem is.
 *
 * Two parsers, each for what it does best. js-yaml reads the values (YAML
 * 1.2 core schema, duplicate keys refused): 15× faster than `yaml` on a
 * 10,000-workload allocation file (0.3–0.5 s against 6 s). `yaml` keeps
 * every node's position, so it answers the questions only bad input asks:
 * the line of a value that failed validation (parsed on the first such
 * question) and the message for malformed YAML (whatever js-yaml refuses is
 * parsed again by `yaml`, whose answer stands). They read the same values
 * (yamlFile.test.ts: every bundled file, and scalars where YAML 1.1 and 1.2
 * differ) but for one: js-yaml reads `0b101` as the number 5.
 */
import { readFileSync, statSync } from 'node:fs';
import { CORE_SCHEMA, load } from 'js-yaml';
import { type Document, LineCounter, isNode, parseDocument } from 'yaml';
import type { ZodIssue, ZodType, ZodTypeDef } from 'zod';
import { InvalidInputError, firstProblems } from '../core/errors.ts';

export const MAX_INPUT_FILE_BYTES = 16 * 1024 * 1024;

export interface YamlFile {
  readonly raw: unknown;
  /** Line of the value at `path`, or of its nearest ancestor with a position. */
  readonly lineOf: (path: readonly (string | number)[]) => number | undefined;
}

/** Parses `path` (`what` names it in errors: "scenario file"). Throws InvalidInputError. */
export function readYamlFile(path: string, what: string): YamlFile {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new InvalidInputError(path, `${what} not found`);
  }
  if (size > MAX_INPUT_FILE_BYTES) throw new InvalidInputError(path, `${what} is ${size} bytes; the limit is ${MAX_INPUT_FILE_BYTES}`);
  const text = readFileSync(path, 'utf8');
  let positions: { doc: Document; lineCounter: LineCounter } | undefined;
  /** `yaml`'s document with every node's position (parsed once, when first needed); malformed YAML throws here. */
  const withPositions = () => {
    if (positions) return positions;
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const pos = e.linePos?.[0];
      throw new InvalidInputError(`${path}${pos ? `:${pos.line}:${pos.col}` : ''}`, `malformed YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
    }
    return (positions = { doc, lineCounter });
  };
  let raw: unknown;
  try {
    // An empty document is null, as `yaml` has it.
    raw = load(text, { schema: CORE_SCHEMA, filename: path }) ?? null;
  } catch {
    raw = withPositions().doc.toJS();
  }
  const lineOf = (p: readonly (string | number)[]): number | undefined => {
    const { doc, lineCounter } = withPositions();
    for (let n = p.length; n >= 0; n--) {
      const node = doc.getIn(p.slice(0, n), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  return { raw, lineOf };
}

/** "workloads[1].slo.percentile" from a zod path. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out || '(top level)';
}

function describeIssue(issue: ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_union') {
    // Report the branch that got furthest, rather than "Invalid input".
    const branches = issue.unionErrors.map((e) => e.issues);
    branches.sort((a, b) => a.length - b.length);
    const best = branches[0]?.[0];
    if (best) return `${formatPath(best.path.slice(issue.path.length)) === '(top level)' ? '' : formatPath(best.path.slice(issue.path.length)) + ': '}${describeIssue(best)}`;
  }
  if (issue.code === 'invalid_type' && issue.received === 'undefined') return 'is required';
  return issue.message;
}

/**
 * Validates `raw` against a zod schema; the error names `where`, and per
 * problem (the first 10, then how many more) the line when known and the
 * field's path.
 */
export function validateAgainst<T>(schema: ZodType<T, ZodTypeDef, unknown>, raw: unknown, where: string, what: string, lineOf?: YamlFile['lineOf']): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  // Lines are looked up for the problems shown only.
  const issues = firstProblems(parsed.error.issues, 10, (issue) => {
    // An unknown key is named on its own line, not its object's.
    const line = lineOf?.(issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path);
    return `${line ? `line ${line}: ` : ''}${formatPath(issue.path)}: ${describeIssue(issue)}`;
  });
  throw new InvalidInputError(where, `invalid ${what}:\n  ${issues.join('\n  ')}`);
}
