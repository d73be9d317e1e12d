/**
 * A mistake the user can fix: bad input, a wrong state, a missing resource.
 * The CLI prints it as one line and exits non-zero; the API maps it to a 4xx.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly options: { field?: string; code?: string; exitCode?: number } = {},
  ) {
    super(message);
    this.name = 'UserError';
  }
  get field(): string | undefined {
    return this.options.field;
  }
  get code(): string {
    return this.options.code ?? 'invalid';
  }
}

export function isErrnoException(error: unknown, code?: string): error is NodeJS.ErrnoException {
  return (
    error instanceof Error && 'code' in error && (code === undefined || (error as NodeJS.ErrnoException).code === code)
  );
}

/** Turns anything thrown into an Error, keeping the original as `cause`. */
export function toError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown), { cause: thrown });
}
