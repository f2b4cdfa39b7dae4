/**
 * An error the user can act on: its message is one line that says what went wrong and what to do next.
 * The CLI prints it without a stack trace and exits non-zero; anything else is a bug and keeps its stack.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}

/** The message of any thrown value, for logs and wrapped errors. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
