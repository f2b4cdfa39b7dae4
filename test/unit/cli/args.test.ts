import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { durationFlag, parseCommand, parseFlags, rejectConflicts } from '../../../src/cli/args.js';
import { formatStopped, resumeCommand } from '../../../src/cli/format.js';
import { DEFAULT_NODE_COUNT } from '../../../src/cli/defaults.js';
import { UserError } from '../../../src/util/errors.js';

const fails = (fn: () => unknown, message: string): void => {
  assert.throws(fn, (err: unknown) => err instanceof UserError && err.message === message);
};

describe('cli flag parsing', () => {
  it('takes operands only where the command says so', () => {
    assert.deepEqual(
      parseFlags('images build', ['a', '--help', 'b'], { help: { type: 'boolean' } }, { operands: true }).positionals,
      ['a', 'b'],
    );
    assert.throws(() => parseFlags('images list', ['a'], { help: { type: 'boolean' } }), UserError);
  });

  it('refuses conflicting flags in one message that names them; a flag alone is fine', () => {
    const conflicts = [{ flag: 'a', with: ['b', 'c'], why: 'a does x' }];
    rejectConflicts({ a: true }, conflicts);
    rejectConflicts({ b: 'x', c: 'y' }, conflicts);
    fails(() => {
      rejectConflicts({ a: true, c: 'y' }, conflicts);
    }, '--a cannot be used with --c: a does x; use one or the other');
    fails(() => {
      rejectConflicts({ a: true, b: 'x', c: 'y' }, conflicts);
    }, '--a cannot be used with --b or --c: a does x; use one or the other');
  });

  it('parseCommand checks conflicts unless --help is given', () => {
    const spec = {
      name: 't',
      help: '',
      options: { a: { type: 'boolean' }, b: { type: 'string' }, help: { type: 'boolean' } },
      conflicts: [{ flag: 'a', with: ['b'], why: 'w' }],
    } as const;
    assert.throws(() => parseCommand(spec, ['--a', '--b', 'x']), UserError);
    assert.equal(parseCommand(spec, ['--a', '--b', 'x', '--help']).values.help, true);
  });

  it('durations: the default when not given, units required', () => {
    assert.equal(durationFlag('timeout', undefined, '10m'), 600_000);
    assert.equal(durationFlag('timeout', '90s', '10m'), 90_000);
    assert.equal(durationFlag('timeout', '1.5h', '10m'), 5_400_000);
    fails(
      () => durationFlag('timeout', '90', '10m'),
      "--timeout: '90' is not a duration: use a number with a unit, e.g. 500ms, 30s, 2m",
    );
  });
});

describe('cluster stop message', () => {
  it('resumes the cluster as it was: nodes with plain up, a control plane alone with --control-plane', () => {
    assert.equal(resumeCommand('kstack', { count: DEFAULT_NODE_COUNT }), 'kstack cluster up');
    assert.equal(resumeCommand('kstack', undefined), 'kstack cluster up --control-plane');
    assert.equal(resumeCommand('dev', { count: DEFAULT_NODE_COUNT }), 'kstack cluster up --name dev');
    assert.equal(resumeCommand('dev', undefined), 'kstack cluster up --control-plane --name dev');
    // `cluster up` alone asks for the default node count, which up refuses on a cluster of another size.
    assert.equal(resumeCommand('kstack', { count: 1 }), 'kstack cluster up --nodes 1');
    assert.equal(resumeCommand('kstack', { count: 3 }), 'kstack cluster up --nodes 3');
  });

  it('says what happened', () => {
    assert.equal(
      formatStopped('kstack', { existed: true, nodeSettings: { count: DEFAULT_NODE_COUNT } }),
      "Cluster 'kstack' stopped; its data is kept. Resume with 'kstack cluster up'.\n",
    );
    assert.equal(formatStopped('dev', { existed: false }), "No cluster 'dev' here; nothing to do.\n");
  });
});
