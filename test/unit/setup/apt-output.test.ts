// apt's and dpkg's output as Debian 12 prints it (LC_ALL=C), collected on this kind of machine; mirror
// host names replaced by mirror.invalid.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  aptFailure,
  installedFromDpkgQuery,
  unavailableMessage,
  updateProblems,
  withoutCandidate,
} from '../../../src/setup/apt-output.js';

const POLICY = `openssl:
  Installed: 3.0.19-1~deb12u2
  Candidate: 3.0.22-1~deb12u2
  Version table:
     3.0.22-1~deb12u2 500
        500 http://mirror.invalid/debian-security bookworm-security/main amd64 Packages
 *** 3.0.19-1~deb12u2 100
        100 /var/lib/dpkg/status
hello:
  Installed: (none)
  Candidate: 2.10-3
  Version table:
     2.10-3 500
        500 http://mirror.invalid/debian bookworm/main amd64 Packages
mail-transport-agent:
  Installed: (none)
  Candidate: (none)
  Version table:
`;

// apt-get update against a source that refuses connections: exit 0, the failure only in warnings.
const UPDATE_UNREACHABLE = `Err:1 http://127.0.0.1:9/debian bookworm InRelease
  Could not connect to 127.0.0.1:9 (127.0.0.1). - connect (111: Connection refused)
Reading package lists...
W: Failed to fetch http://127.0.0.1:9/debian/dists/bookworm/InRelease  Could not connect to 127.0.0.1:9 (127.0.0.1). -\
 connect (111: Connection refused)
W: Some index files failed to download. They have been ignored, or old ones used instead.
`;

const UPDATE_OK = `Get:1 http://mirror.invalid/debian bookworm InRelease [151 kB]
Get:2 http://mirror.invalid/debian bookworm-updates InRelease [55.4 kB]
Fetched 241 kB in 0s (619 kB/s)
Reading package lists...
`;

const INSTALL_UNKNOWN = `Reading package lists...
Building dependency tree...
Reading state information...
E: Unable to locate package kstack-no-such-pkg
`;

describe('apt output', () => {
  it('reads which packages dpkg has installed', () => {
    const out = 'openssl installed\nmmdebstrap not-installed\nzstd config-files\n';
    assert.deepEqual([...installedFromDpkgQuery(out)], ['openssl']);
  });

  it('finds packages without a candidate: unknown names (left out of the output) and (none)', () => {
    assert.deepEqual(withoutCandidate(POLICY, ['openssl', 'hello', 'mail-transport-agent', 'kstack-no-such-pkg']), [
      'mail-transport-agent',
      'kstack-no-such-pkg',
    ]);
    assert.deepEqual(withoutCandidate(POLICY, ['hello:amd64']), []);
    assert.deepEqual(withoutCandidate('', ['hello']), ['hello'], 'an empty index offers nothing');
  });

  it('tells why the index could not be refreshed, and nothing when it was', () => {
    assert.deepEqual(updateProblems(UPDATE_UNREACHABLE), [
      'Could not connect to 127.0.0.1:9 (127.0.0.1). - connect (111: Connection refused)',
    ]);
    assert.deepEqual(updateProblems(UPDATE_OK), []);
    assert.deepEqual(
      updateProblems('E: Could not get lock /var/lib/apt/lists/lock. It is held by process 42 (apt-get)\n'),
      ['Could not get lock /var/lib/apt/lists/lock. It is held by process 42 (apt-get)'],
    );
  });

  it('takes the reason of a failed install from its last E: line', () => {
    assert.equal(aptFailure(INSTALL_UNKNOWN), 'Unable to locate package kstack-no-such-pkg');
    assert.equal(aptFailure('dpkg: error processing package x\n'), 'dpkg: error processing package x');
  });

  it('says in one line which packages, why, and what to do', () => {
    const msg = unavailableMessage(['mmdebstrap', 'runc'], updateProblems(UPDATE_UNREACHABLE));
    assert.ok(!msg.includes('\n'));
    assert.match(
      msg,
      /^cannot install Debian packages mmdebstrap runc: the package index could not be refreshed \(Could not connect/,
    );
    assert.match(msg, /apt-get install -y mmdebstrap runc/);
    assert.match(unavailableMessage(['nosuch'], []), /no configured apt source offers them/);
  });
});
