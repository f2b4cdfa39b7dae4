import { UserError } from './errors.js';

/**
 * Parses a duration with its unit, "500ms", "90s", "2m", "1h" (decimals allowed), into milliseconds. A bare
 * number is refused so a unit is never guessed. `where` names the setting as the user wrote it (a flag, an
 * environment variable, a config-file key) and starts the error message.
 */
export function parseDuration(value: unknown, where: string): number {
  const m = typeof value === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim()) : null;
  if (!m)
    throw new UserError(
      `${where}: '${String(value)}' is not a duration: use a number with a unit, e.g. 500ms, 30s, 2m`,
    );
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return n * unit;
}
