import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  GO_TEST_MODULES,
  goModulePath,
  goModulesWithTests,
  goOutputToShow,
  goTestOutcomes,
  goVetOutcome,
  runGoChecks,
  wantsGoModule,
} from '../../runner/go-checks.js';
import { isGreen, summarize } from '../../runner/summary.js';

const mod = 'kstack.local/tools/multinet';
const pkg = `${mod}/internal/policy`;
/** One `go test -json` line. */
const ev = (
  Action: string,
  fields: { Test?: string; Output?: string; Elapsed?: number; Package?: string } = {},
): string => JSON.stringify({ Time: '2026-01-01T00:00:00Z', Action, Package: pkg, ...fields });
const run = (lines: string[], extra: { code?: number; stderr?: string[] } = {}) =>
  goTestOutcomes({
    label: 'tools/multinet',
    modulePath: mod,
    lines,
    stderr: extra.stderr ?? [],
    code: extra.code ?? 0,
  });

describe('go vet and go test in the unit phase', () => {
  it('lists every tools/ module that has Go tests, and only those', () => {
    assert.deepEqual([...GO_TEST_MODULES].sort(), goModulesWithTests());
  });

  it("runs a module's checks when no path part is given or one points into it", () => {
    assert.equal(wantsGoModule('multinet', []), true);
    assert.equal(wantsGoModule('multinet', ['multinet']), true);
    assert.equal(wantsGoModule('multinet', ['tools/multinet/internal/policy']), true);
    assert.equal(wantsGoModule('multinet', ['chart/db/']), false);
  });

  it('reads the module path of a go.mod', () => {
    assert.equal(goModulePath('module kstack.local/tools/multinet\n\ngo 1.25.0\n'), mod);
    assert.equal(goModulePath('go 1.25.0\n'), undefined);
  });

  it('counts subtests as the tests, their parent as a suite, one row per package', () => {
    const outcomes = run([
      // [no test files]: not a skipped test
      JSON.stringify({ Action: 'skip', Package: `${mod}/internal/attach`, Elapsed: 0 }),
      ev('run', { Test: 'TestRules' }),
      ev('run', { Test: 'TestRules/ingress' }),
      ev('pass', { Test: 'TestRules/ingress', Elapsed: 0.01 }),
      ev('run', { Test: 'TestRules/egress' }),
      ev('pass', { Test: 'TestRules/egress', Elapsed: 0.02 }),
      ev('pass', { Test: 'TestRules', Elapsed: 0.03 }),
      ev('run', { Test: 'TestTypes' }),
      ev('pass', { Test: 'TestTypes', Elapsed: 0.5 }),
      ev('pass', { Elapsed: 0.6 }),
    ]);
    const s = summarize(outcomes);
    assert.deepEqual([s.passed, s.failed, s.skipped], [3, 0, 0]);
    assert.deepEqual(
      s.files.map((f) => [f.file, f.tests, f.durationMs]),
      [['tools/multinet/internal/policy: go test', 3, 530]],
    );
    assert.equal(outcomes.find((o) => o.name === 'TestRules')?.kind, 'suite');
    assert.equal(outcomes.find((o) => o.name === 'TestRules/egress')?.nesting, 1);
    assert.equal(isGreen(s), true);
  });

  it('a failed subtest fails the run with its first message line', () => {
    const s = summarize(
      run(
        [
          ev('run', { Test: 'TestRules' }),
          ev('run', { Test: 'TestRules/ingress' }),
          ev('output', { Test: 'TestRules/ingress', Output: '=== RUN   TestRules/ingress\n' }),
          ev('output', {
            Test: 'TestRules/ingress',
            Output: '    policy_test.go:390: rules differ at line 8: got "-d", want "-s"\n',
          }),
          ev('output', { Test: 'TestRules/ingress', Output: '        got:\n' }),
          ev('output', { Test: 'TestRules/ingress', Output: '--- FAIL: TestRules/ingress (0.00s)\n' }),
          ev('fail', { Test: 'TestRules/ingress', Elapsed: 0 }),
          ev('fail', { Test: 'TestRules', Elapsed: 0 }),
          ev('fail', { Elapsed: 0.01 }),
        ],
        { code: 1 },
      ),
    );
    assert.deepEqual([s.passed, s.failed], [0, 1]);
    assert.deepEqual(s.problems, [
      'tools/multinet/internal/policy: go test › TestRules/ingress: ' +
        'policy_test.go:390: rules differ at line 8: got "-d", want "-s"',
    ]);
  });

  it('a parent that fails on its own while its subtests pass counts as a failed test', () => {
    const s = summarize(
      run(
        [
          ev('run', { Test: 'TestX' }),
          ev('run', { Test: 'TestX/a' }),
          ev('pass', { Test: 'TestX/a' }),
          ev('output', { Test: 'TestX', Output: '    x_test.go:9: after the subtests\n' }),
          ev('fail', { Test: 'TestX' }),
          ev('fail', {}),
        ],
        { code: 1 },
      ),
    );
    assert.deepEqual([s.passed, s.failed], [1, 1]);
    assert.deepEqual(s.problems, ['tools/multinet/internal/policy: go test › TestX: x_test.go:9: after the subtests']);
  });

  it('a skipped Go test is not green, and says why', () => {
    const s = summarize(
      run([
        ev('run', { Test: 'TestA' }),
        ev('pass', { Test: 'TestA' }),
        ev('run', { Test: 'TestB' }),
        ev('output', { Test: 'TestB', Output: '--- SKIP: TestB (0.00s)\n' }),
        ev('output', { Test: 'TestB', Output: '    b_test.go:6: no iptables\n' }),
        ev('skip', { Test: 'TestB' }),
        ev('pass', {}),
      ]),
    );
    assert.equal(s.skipped, 1);
    assert.equal(isGreen(s), false);
    assert.deepEqual(s.problems, [
      'tools/multinet/internal/policy: go test › TestB: skipped (b_test.go:6: no iptables)',
    ]);
  });

  it("a package that does not build fails with the compiler's message", () => {
    const s = summarize(
      run(
        [
          JSON.stringify({
            ImportPath: `${pkg} [${pkg}.test]`,
            Action: 'build-output',
            Output: `# ${pkg} [${pkg}.test]\n`,
          }),
          JSON.stringify({
            ImportPath: `${pkg} [${pkg}.test]`,
            Action: 'build-output',
            Output: 'internal/policy/policy.go:3:17: declared and not used: x\n',
          }),
          JSON.stringify({ ImportPath: `${pkg} [${pkg}.test]`, Action: 'build-fail' }),
          ev('output', { Output: `FAIL\t${pkg} [build failed]\n` }),
          ev('fail', { Elapsed: 0 }),
        ],
        { code: 1 },
      ),
    );
    assert.deepEqual([s.passed, s.failed], [0, 1]);
    assert.deepEqual(s.problems, [
      'tools/multinet/internal/policy: go test › go test (package): ' +
        'internal/policy/policy.go:3:17: declared and not used: x',
    ]);
  });

  it('go test failing before it tests anything fails with its message', () => {
    const s = summarize(run([], { code: 1, stderr: ['go: updates to go.mod needed; to update it:', '\tgo mod tidy'] }));
    assert.deepEqual(s.problems, [
      'tools/multinet: go test ./... › go test ./...: go: updates to go.mod needed; to update it:',
    ]);
  });

  it('a module where no test ran is a failure, not a pass', () => {
    const s = summarize(run([JSON.stringify({ Action: 'skip', Package: `${mod}/internal/attach`, Elapsed: 0 })]));
    assert.equal(s.failed, 1);
    assert.deepEqual(s.problems, ['tools/multinet: go test ./... › go test ./...: ran no test in tools/multinet']);
  });

  it('go vet is one test: its first finding is the failure', () => {
    assert.equal(goVetOutcome('tools/multinet', 0, [], 1200).status, 'pass');
    const failed = goVetOutcome(
      'tools/multinet',
      1,
      [`# ${pkg}`, 'internal/policy/policy.go:40:2: fmt.Sprintf format %d has arg s of wrong type string'],
      900,
    );
    assert.deepEqual(
      [failed.file, failed.status, failed.error],
      [
        'tools/multinet: go vet ./...',
        'fail',
        'internal/policy/policy.go:40:2: fmt.Sprintf format %d has arg s of wrong type string',
      ],
    );
  });

  it('shows what go test -v prints, without the === RUN lines', () => {
    assert.equal(goOutputToShow(ev('output', { Test: 'TestA', Output: '=== RUN   TestA\n' })), undefined);
    assert.equal(
      goOutputToShow(ev('output', { Test: 'TestA', Output: '--- PASS: TestA (0.00s)\n' })),
      '--- PASS: TestA (0.00s)\n',
    );
    assert.equal(goOutputToShow(ev('pass', { Test: 'TestA' })), undefined);
    assert.equal(goOutputToShow('not json'), 'not json\n');
  });

  it('with no Go toolchain, both checks fail naming the program', async () => {
    const saved = process.env.KSTACK_GO;
    process.env.KSTACK_GO = '/nonexistent/go';
    try {
      let written = '';
      const outcomes = await runGoChecks('multinet', {
        write: (t) => {
          written += t;
        },
        track: () => undefined,
      });
      assert.deepEqual(
        outcomes.map((o) => [o.name, o.status]),
        [
          ['go vet ./...', 'fail'],
          ['go test ./...', 'fail'],
        ],
      );
      for (const o of outcomes)
        assert.match(o.error ?? '', /no Go toolchain found \('\/nonexistent\/go' did not run\)/);
      assert.match(written, /\/nonexistent\/go/);
    } finally {
      if (saved === undefined) delete process.env.KSTACK_GO;
      else process.env.KSTACK_GO = saved;
    }
  });
});
