// The kstack command's one flag parser (node:util parseArgs, strict), the rule for flags that cannot be
// used together, and the flag values that need more than a string (ports, node counts, taints, durations).
// Everything here fails before any I/O, with a UserError that names the flag.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { defaultNodeSettings } from '../cluster/nodes/cluster-nodes.js';
import { parseTaint } from '../cluster/nodes/plan.js';
import type { NodeSettings } from '../cluster/state.js';
import { parseDuration } from '../util/duration.js';
import { UserError } from '../util/errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Two or more flags that make no sense together: `flag` with any of `with`, and why, in one clause. */
export interface Conflict {
  readonly flag: string;
  readonly with: readonly string[];
  readonly why: string;
}

/** What one command accepts; the help text lists its flags (test/unit/cli/main.test.ts holds that). */
export interface CommandSpec<O extends Options = Options> {
  /** As typed after `kstack`, e.g. 'cluster up'; error messages name it. */
  readonly name: string;
  readonly options: O;
  readonly help: string;
  readonly conflicts?: readonly Conflict[];
  /** Takes operands besides its flags (image names, a node name); without, an operand is an error. */
  readonly operands?: boolean;
}

/**
 * Strict flag parsing: an unknown flag, a missing value or an operand the command does not take is a
 * UserError that names it.
 */
export function parseFlags<O extends Options>(
  command: string,
  args: readonly string[],
  options: O,
  opts: { operands?: boolean } = {},
) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: opts.operands ?? false });
  } catch (err) {
    const msg = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UserError(`kstack ${command}: ${msg}; see 'kstack ${command} --help'`);
  }
}

/**
 * Parses a command's flags as its spec says, then (unless --help was given) refuses conflicting flags.
 * `name` overrides the spec's name in messages (e.g. 'backup now' for the backup spec).
 */
export function parseCommand<O extends Options>(
  spec: CommandSpec<O>,
  args: readonly string[],
  name: string = spec.name,
) {
  const parsed = parseFlags(name, args, spec.options, { operands: spec.operands ?? false });
  const values: Readonly<Record<string, unknown>> = parsed.values;
  if (values.help !== true) rejectConflicts(values, spec.conflicts ?? []);
  return parsed;
}

/** The one message for flags given together that do not go together: it names them, why, and what to do. */
export function rejectConflicts(values: Readonly<Record<string, unknown>>, conflicts: readonly Conflict[]): void {
  for (const c of conflicts) {
    if (values[c.flag] === undefined) continue;
    const given = c.with.filter((f) => values[f] !== undefined);
    if (given.length === 0) continue;
    throw new UserError(
      `--${c.flag} cannot be used with ${given.map((f) => `--${f}`).join(' or ')}: ${c.why}; use one or the other`,
    );
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

/** A duration flag ('90s', '10m', see src/util/duration.ts) in milliseconds, `fallback` when not given. */
export function durationFlag(flag: string, value: string | undefined, fallback: string): number {
  return parseDuration(value ?? fallback, `--${flag}`);
}

/** The nodes `cluster up` asks for from --nodes, --db-taint and --no-preload (defaults for what is not given). */
export function nodeSettingsFromFlags(
  nodes: string | undefined,
  dbTaint: string | undefined,
  noPreload = false,
): NodeSettings {
  const count = nodes === undefined ? undefined : /^\d+$/.test(nodes) ? Number(nodes) : NaN;
  if (count !== undefined && Number.isNaN(count))
    throw new UserError(`--nodes '${nodes ?? ''}' is not a number: use a whole number from 1 to 9`);
  const settings = defaultNodeSettings(count);
  const pull = noPreload ? { pullOnly: true } : {};
  if (dbTaint === 'none') return { count: settings.count, ...pull };
  return dbTaint === undefined
    ? { ...settings, ...pull }
    : { count: settings.count, dbTaint: parseTaint('db-taint', dbTaint), ...pull };
}

/** Pure: --prometheus and --alertmanager, both or neither, each an http(s) URL. */
export function monitoringFromFlags(
  prometheus: string | undefined,
  alertmanager: string | undefined,
): { prometheusUrl: string; alertmanagerUrl: string } | undefined {
  if (prometheus === undefined && alertmanager === undefined) return undefined;
  if (prometheus === undefined || alertmanager === undefined)
    throw new UserError(
      `--${prometheus === undefined ? 'prometheus' : 'alertmanager'} ` +
        `is missing: give --prometheus URL and --alertmanager URL together`,
    );
  for (const [flag, value] of [
    ['prometheus', prometheus],
    ['alertmanager', alertmanager],
  ] as const) {
    if (!URL.canParse(value) || !['http:', 'https:'].includes(new URL(value).protocol))
      throw new UserError(`--${flag} '${value}': use an http:// or https:// URL, e.g. http://127.0.0.1:9090`);
  }
  return { prometheusUrl: prometheus.replace(/\/+$/, ''), alertmanagerUrl: alertmanager.replace(/\/+$/, '') };
}

/** Pure: what `kstack up`'s monitoring flags allow: alert destinations need a monitoring kstack runs. */
export function checkUpMonitoringFlags(v: {
  context?: string | undefined;
  'with-monitoring'?: boolean | undefined;
  'alert-webhook'?: string[] | undefined;
  'alert-slack'?: string[] | undefined;
}): void {
  if (v['with-monitoring'] && v.context === undefined)
    throw new UserError(
      "--with-monitoring is for --context: the local cluster always runs kstack's monitoring; drop the flag",
    );
  const alerts = v['alert-webhook'] ? '--alert-webhook' : v['alert-slack'] ? '--alert-slack' : undefined;
  if (alerts && v.context !== undefined && !v['with-monitoring'])
    throw new UserError(
      `${alerts} with --context needs --with-monitoring: alert destinations ` +
        `configure kstack's Alertmanager, which runs there only with it`,
    );
}
