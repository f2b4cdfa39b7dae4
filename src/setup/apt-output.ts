// Pure readers of apt's and dpkg's output (run with LC_ALL=C), so src/setup/debian.ts stays a thin I/O
// edge and what it decides from that output is unit-tested on real samples.

/** Names dpkg-query reports as installed, from `dpkg-query -W -f='${Package} ${db:Status-Status}\n' …`. */
export function installedFromDpkgQuery(stdout: string): Set<string> {
  return new Set(
    stdout
      .split('\n')
      .filter((l) => l.endsWith(' installed'))
      .map((l) => l.split(' ')[0] ?? ''),
  );
}

/**
 * The packages of `requested` that `apt-cache policy …` offers no version of: a name apt does not know
 * is left out of its output altogether, a known one with nothing to install says `Candidate: (none)`.
 */
export function withoutCandidate(policyStdout: string, requested: readonly string[]): string[] {
  const candidates = new Map<string, string>();
  let current: string | undefined;
  for (const line of policyStdout.split('\n')) {
    if (/^\S.*:$/.test(line)) current = line.slice(0, -1);
    const m = /^\s+Candidate:\s*(\S+)/.exec(line);
    if (m && current !== undefined) candidates.set(current, m[1] ?? '(none)');
  }
  const candidateOf = (pkg: string): string | undefined =>
    candidates.get(pkg) ?? candidates.get(pkg.split(':')[0] ?? pkg);
  return requested.filter((pkg) => {
    const c = candidateOf(pkg);
    return c === undefined || c === '(none)';
  });
}

/**
 * Why apt could not refresh its package index, from `apt-get update`'s output: the reasons of its
 * `W: Failed to fetch` / `E:` lines, without repeats. Empty when every index was fetched.
 */
export function updateProblems(output: string): string[] {
  const reasons: string[] = [];
  for (const line of output.split('\n')) {
    const failed = /^W: Failed to fetch \S+\s+(.*)$/.exec(line);
    const error = /^E: (.*)$/.exec(line);
    const reason = (failed?.[1] ?? error?.[1])?.trim();
    if (reason && !reasons.includes(reason)) reasons.push(reason);
  }
  return reasons;
}

/** The last `E:` line of a failed apt-get run (its reason), or the last line when there is none. */
export function aptFailure(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return (
    [...lines]
      .reverse()
      .find((l) => l.startsWith('E: '))
      ?.slice(3) ??
    lines.at(-1) ??
    'no output'
  );
}

/** One line naming the packages apt cannot install and what to do about it. */
export function unavailableMessage(packages: readonly string[], problems: readonly string[]): string {
  const why = problems.length
    ? `the package index could not be refreshed (${problems[0] ?? ''}` +
      `${problems.length > 1 ? `; and ${problems.length - 1} more` : ''})`
    : 'no configured apt source offers them';
  return (
    `cannot install Debian packages ${packages.join(' ')}: ${why}; check ` +
    `the network and the apt sources (/etc/apt/sources.list.d), run 'apt-get ` +
    `update', then 'apt-get install -y ${packages.join(' ')}', and try again`
  );
}
