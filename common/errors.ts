/**
 * Errors carry a stable code; callers match on `code`, never on the class.
 * Codes are listed in docs/errors.md (a test keeps the two in step).
 */
export class CanhGacError extends Error {
  readonly code: string;
  /** Where the problem is, for people: "rules/detection/x.yml:12", "--token", "agent.yaml:3". */
  readonly where: string | undefined;
  /** What the person can do about it. */
  readonly hint: string | undefined;

  constructor(code: string, message: string, opts: { cause?: unknown; where?: string; hint?: string } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CanhGacError';
    this.code = code;
    this.where = opts.where;
    this.hint = opts.hint;
  }
}

export function isCanhGacError(e: unknown, code?: string): e is CanhGacError {
  return e instanceof CanhGacError && (code === undefined || e.code === code);
}

/** One line for a person: "where: message (what to do)". Never a stack trace. */
export function describeError(e: unknown): string {
  if (e instanceof CanhGacError) {
    const where = e.where ? `${e.where}: ` : '';
    const hint = e.hint ? `\n  → ${e.hint}` : '';
    return `${where}${e.message} [${e.code}]${hint}`;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}
