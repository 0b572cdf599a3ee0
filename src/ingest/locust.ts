import { readFileSync } from 'node:fs';
import { InvalidInputError } from '../core/errors.ts';

/**
 * The task weights of a locustfile: the dict literal assigned to `tasks` in
 * a TaskSet or User class, e.g.
 *
 *   tasks = {index: 1,
 *       setCurrency: 2,
 *       browseProduct: 10}
 *
 * Only that form (function names mapped to integer weights) is read; a
 * locustfile that builds its tasks any other way is refused with a message
 * saying so, rather than guessed at. Hand-written: no JavaScript library
 * parses Python, and this is one literal.
 */
export function parseLocustTaskWeights(text: string, where: string): Record<string, number> {
  const m = /^\s*tasks\s*=\s*\{([^}]*)\}/m.exec(text);
  if (!m) throw new InvalidInputError(where, 'no `tasks = {function: weight, ...}` dict found; give the task weights another way');
  const body = m[1].replace(/#[^\n]*/g, '');
  const weights: Record<string, number> = {};
  for (const entry of body.split(',').map((s) => s.trim()).filter(Boolean)) {
    const kv = /^([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(\d+)$/.exec(entry);
    if (!kv) throw new InvalidInputError(where, `cannot read task weight "${entry}" (expected name: integer)`);
    if (kv[1] in weights) throw new InvalidInputError(where, `task "${kv[1]}" appears twice in tasks`);
    weights[kv[1]] = Number(kv[2]);
  }
  if (Object.keys(weights).length === 0) throw new InvalidInputError(where, 'the tasks dict is empty');
  return weights;
}

export function readLocustTaskWeights(path: string): Record<string, number> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InvalidInputError(path, 'locustfile not found');
  }
  return parseLocustTaskWeights(text, path);
}
