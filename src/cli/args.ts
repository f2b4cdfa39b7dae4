import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../util/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Strict flag parsing: an unknown flag or a missing value is a UserError that names the flag. */
export function parseFlags<O extends Options>(command: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (err) {
    const msg = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UserError(`kstack ${command}: ${msg}; see 'kstack ${command} --help'`);
  }
}

/** A TCP port from a flag value, or a UserError naming the flag. */
export function portFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new UserError(`--${flag} '${value}' is not a port: use a whole number from 1 to 65535`);
  }
  return n;
}
