/**
 * Typed errors a caller can act on. `UserError`s are printed without a stack
 * trace by the CLI: they describe a problem in the user's input or setup.
 */
export class UserError extends Error {
  override readonly name: string = 'UserError';
}

/**
 * The first `max` of a list of problems, each described by `describe` (only
 * those shown are), and a last line counting the rest ("… and 3 more
 * problems"), for messages that must stay readable.
 */
export function firstProblems<T>(problems: readonly T[], max = 10, describe: (problem: T) => string = String): string[] {
  const shown = problems.slice(0, max).map(describe);
  const rest = problems.length - shown.length;
  return rest > 0 ? [...shown, `… and ${rest} more problem${rest === 1 ? '' : 's'}`] : shown;
}

/** Input that fails validation; `where` names the file, line or field. */
export class InvalidInputError extends UserError {
  override readonly name = 'InvalidInputError';
  constructor(readonly where: string, readonly problem: string) {
    super(`${where}: ${problem}`);
  }
}

/** No allocation can satisfy the constraints; `conflicts` names them in the user's terms. */
export class InfeasibleError extends UserError {
  override readonly name = 'InfeasibleError';
  constructor(message: string, readonly conflicts: readonly string[] = []) {
    super(conflicts.length ? `${message}:\n  - ${conflicts.join('\n  - ')}` : message);
  }
}

/** A driver failed to carry out an action. `retryable` says whether trying again may help. */
export class DriverError extends Error {
  override readonly name = 'DriverError';
  constructor(message: string, readonly retryable: boolean) {
    super(message);
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
