// `kstack` as a user types it: main() with argv, its output captured. Only paths that end before any I/O
// run here (help, usage errors). As a safety net PATH, the cache and state folders and KUBECONFIG point at
// empty places: a path that wrongly got past its parsing would fail (no dpkg-query, npm or apt-get to run,
// no cached kubectl, no local cluster, no kubeconfig) instead of installing or touching a cluster.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BACKUP,
  CLUSTER_HELP,
  COMMANDS,
  IMAGES_HELP,
  IMAGES_PUSH,
  PROVE,
  UP,
  USAGE,
} from '../../../src/cli/commands.js';
import { DEFAULT_CLUSTER, DEFAULT_NAMESPACE, DEFAULT_RELEASE, DEFAULT_UP_TIMEOUT } from '../../../src/cli/defaults.js';
import { main, type Io } from '../../../src/cli/main.js';
import { STACK_IMAGES } from '../../../src/stack/up.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function kstack(...argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const io: Io = {
    out: {
      write: (s: string) => {
        out += s;
      },
    },
    err: {
      write: (s: string) => {
        err += s;
      },
    },
  };
  const code = await main(argv, io);
  return { code, out, err };
}

/** A usage error: status 1, nothing on stdout, one `kstack: …` line on stderr. */
async function usageError(argv: string[], message: string | RegExp): Promise<void> {
  const r = await kstack(...argv);
  assert.equal(r.code, 1, `kstack ${argv.join(' ')}: ${r.err}`);
  assert.equal(r.out, '');
  assert.match(r.err, /^kstack: [^\n]+\n$/);
  if (typeof message === 'string') assert.equal(r.err, `kstack: ${message}\n`);
  else assert.match(r.err, message);
}

/** Flags podwatch's own help (src/podwatch/config.ts) does not list yet; `kstack watch --help` prints it as is. */
const UNLISTED: Readonly<Record<string, readonly string[]>> = {
  watch: ['all-namespaces', 'page-size', 'streaming-list', 'shutdown-timeout'],
};

let savedEnv: NodeJS.ProcessEnv = {};
let scratch = '';
before(() => {
  savedEnv = process.env;
  scratch = mkdtempSync(join(tmpdir(), 'kstack-cli-test-'));
  process.env = {
    ...savedEnv,
    PATH: join(scratch, 'bin'),
    XDG_CACHE_HOME: join(scratch, 'cache'),
    XDG_STATE_HOME: join(scratch, 'state'),
    KUBECONFIG: join(scratch, 'kubeconfig'),
  };
});
after(() => {
  process.env = savedEnv;
  rmSync(scratch, { recursive: true, force: true });
});

describe('kstack help', () => {
  for (const argv of [[], ['help'], ['--help'], ['-h']]) {
    it(`'kstack ${argv.join(' ')}' prints the usage and exits 0`, async () => {
      assert.deepEqual(await kstack(...argv), { code: 0, out: USAGE, err: '' });
    });
  }

  it('the usage names every command and the default cluster', () => {
    for (const spec of COMMANDS) assert.ok(USAGE.includes(`kstack ${spec.name.split(' ')[0] ?? ''}`), spec.name);
    assert.ok(USAGE.includes(`(default: ${DEFAULT_CLUSTER})`));
  });

  for (const spec of COMMANDS) {
    it(`'kstack ${spec.name} --help' and -h print its help, which names each of its flags`, async () => {
      const words = spec.name.split(' ');
      assert.deepEqual(await kstack(...words, '--help'), { code: 0, out: spec.help, err: '' });
      assert.deepEqual(await kstack(...words, '-h'), { code: 0, out: spec.help, err: '' });
      for (const [flag, option] of Object.entries(spec.options)) {
        if (flag === 'help' || UNLISTED[spec.name]?.includes(flag)) continue;
        const named =
          spec.help.includes(`--${flag}`) || (option.short !== undefined && spec.help.includes(`-${option.short} `));
        assert.ok(named, `'kstack ${spec.name} --help' does not mention --${flag}`);
      }
    });
  }

  it('help wins over everything else on the line, conflicting flags included', async () => {
    assert.deepEqual(await kstack('prove', '--context', 'x', '--name', 'y', '--help'), {
      code: 0,
      out: PROVE.help,
      err: '',
    });
  });

  it('cluster and images have a help of their own; backup without a task prints its help and exits 2', async () => {
    assert.deepEqual(await kstack('cluster', '--help'), { code: 0, out: CLUSTER_HELP, err: '' });
    assert.deepEqual(await kstack('cluster', 'help'), { code: 0, out: CLUSTER_HELP, err: '' });
    assert.deepEqual(await kstack('images', '-h'), { code: 0, out: IMAGES_HELP, err: '' });
    assert.deepEqual(await kstack('backup', '--help'), { code: 0, out: BACKUP.help, err: '' });
    for (const task of ['now', 'list', 'verify'])
      assert.deepEqual(await kstack('backup', task, '--help'), { code: 0, out: BACKUP.help, err: '' });
    assert.deepEqual(await kstack('backup'), { code: 2, out: BACKUP.help, err: '' });
  });

  it('the help texts show the defaults the parsing uses', () => {
    for (const text of [
      `(default: ${DEFAULT_NAMESPACE})`,
      `(default: ${DEFAULT_RELEASE})`,
      `(default: ${DEFAULT_CLUSTER})`,
    ]) {
      assert.ok(PROVE.help.includes(text), text);
      assert.ok(BACKUP.help.includes(text), text);
    }
    assert.ok(UP.help.includes(`[--timeout ${DEFAULT_UP_TIMEOUT}]`));
  });
});

describe('kstack usage errors', () => {
  it('an unknown command', async () => {
    await usageError(['frobnicate'], "unknown command 'frobnicate'; run 'kstack help' to see the commands");
  });

  it('an unknown subcommand', async () => {
    await usageError(
      ['cluster', 'frobnicate'],
      "kstack cluster: unknown subcommand 'frobnicate'; use up, stop, down, status or node",
    );
    await usageError(['cluster'], "kstack cluster: unknown subcommand ''; use up, stop, down, status or node");
    await usageError(
      ['images', 'frobnicate'],
      "kstack images: unknown subcommand 'frobnicate'; use build [NAME…], push or list",
    );
    await usageError(
      ['backup', 'frobnicate'],
      "kstack backup: unknown subcommand 'frobnicate'; use now, list or verify",
    );
    await usageError(
      ['cluster', 'node', 'reboot', 'web-1'],
      "kstack cluster node: use 'kstack cluster node restart|stop|start NODE'",
    );
    await usageError(
      ['cluster', 'node', 'restart'],
      "kstack cluster node: use 'kstack cluster node restart|stop|start NODE'",
    );
  });

  for (const spec of COMMANDS) {
    const words = spec.name === 'backup' ? ['backup', 'now'] : spec.name.split(' ');
    it(`an unknown flag of 'kstack ${words.join(' ')}' is named, with where the help is`, async () => {
      await usageError(
        [...words, '--no-such-flag'],
        `kstack ${words.join(' ')}: Unknown option '--no-such-flag'; see 'kstack ${words.join(' ')} --help'`,
      );
    });
  }

  it('a flag without its value, and an operand a command does not take', async () => {
    await usageError(
      ['up', '--timeout'],
      "kstack up: Option '--timeout <value>' argument missing; see 'kstack up --help'",
    );
    await usageError(
      ['down', 'everything'],
      /^kstack: kstack down: Unexpected argument 'everything'.*; see 'kstack down --help'\n$/,
    );
  });

  it('--context and --name: prove, backup and restore say the same', async () => {
    const message =
      '--context cannot be used with --name: --context picks a cluster from your ' +
      'kubeconfig, --name a local cluster kstack started; use one or the other';
    await usageError(['prove', '--context', 'x', '--name', 'y'], message);
    for (const task of ['now', 'list', 'verify'])
      await usageError(['backup', task, '--context', 'x', '--name', 'y'], message);
    await usageError(['restore', '--name', 'y', '--context', 'x'], message);
  });

  it('the other conflicting flags, in the same words', async () => {
    await usageError(
      ['down', '--all', '--context', 'x'],
      '--all cannot be used with --context: --all also removes the local cluster, ' +
        'and --context names another cluster; use one or the other',
    );
    await usageError(
      ['cluster', 'up', '--control-plane', '--nodes', '2'],
      '--control-plane cannot be used with --nodes: --control-plane starts no nodes; use one or the other',
    );
    await usageError(
      ['cluster', 'up', '--control-plane', '--db-taint', 'none', '--nodes', '2'],
      '--control-plane cannot be used with --nodes or --db-taint: ' +
        '--control-plane starts no nodes; use one or the other',
    );
    await usageError(
      ['restore', '--to-time', '2026-01-01T00:00:00Z', '--to-gtid', '0-1-2'],
      '--to-time cannot be used with --to-gtid: a restore stops ' +
        'at a point in time or after a GTID; use one or the other',
    );
  });

  it('any-cluster flags: checked before any I/O, naming the flag and the form it takes', async () => {
    await usageError(
      ['cluster', 'up', '--control-plane', '--no-preload'],
      '--control-plane cannot be used with --no-preload: --control-plane starts no nodes; use one or the other',
    );
    await usageError(['cluster', 'up', '--registry-ca', 'ca.pem'], /--registry-ca 'ca\.pem': use HOST\[:PORT\]=FILE/);
    await usageError(['cluster', 'up', '--registry-ca', '10.0.0.1:5000=/nonexistent/ca.pem'], /cannot read the file/);
    await usageError(['prove', '--prometheus', 'http://127.0.0.1:9090'], /--alertmanager is missing/);
    await usageError(
      ['prove', '--prometheus', 'ftp://x', '--alertmanager', 'http://127.0.0.1:9093'],
      "--prometheus 'ftp://x': use an http:// or https:// URL, e.g. http://127.0.0.1:9090",
    );
    await usageError(['up', '--with-monitoring'], /--with-monitoring is for --context/);
    await usageError(
      ['up', '--context', 'x', '--alert-webhook', 'http://127.0.0.1:1/'],
      /--alert-webhook with --context needs --with-monitoring/,
    );
    await usageError(
      ['up', '--context', 'x', '--with-monitoring', '-f', 'charts/webstack/values-local.yaml'],
      /--with-monitoring: no values file given with -f names the monitoring image/,
    );
  });

  it('cluster node: --mode is freeze or kill, for stop only; an unknown action is a usage error', async () => {
    await usageError(
      ['cluster', 'node', 'stop', 'web-1', '--mode', 'pause'],
      "--mode 'pause' is not supported: use freeze or kill",
    );
    await usageError(
      ['cluster', 'node', 'start', 'web-1', '--mode', 'kill'],
      "--mode applies to 'kstack cluster node stop' only",
    );
    await usageError(
      ['cluster', 'node', 'restart', 'web-1', '--mode', 'freeze'],
      "--mode applies to 'kstack cluster node stop' only",
    );
    for (const argv of [
      ['cluster', 'node', 'frobnicate', 'x'],
      ['cluster', 'node', 'stop'],
      ['cluster', 'node', 'stop', 'web-1', 'web-2'],
    ])
      await usageError(argv, "kstack cluster node: use 'kstack cluster node restart|stop|start NODE'");
  });

  it('status: -o is text or json; the help of status and of up name the page URL and --detach', async () => {
    await usageError(['status', '-o', 'yaml'], "--output 'yaml' is not supported: use 'text' or 'json'");
    await usageError(['status', '--output', 'table'], /^kstack: --output 'table' is not supported/);
    const status = await kstack('status', '--help');
    assert.equal(status.code, 0);
    assert.match(status.out, /pageUrl/);
    assert.match(status.out, /-o text\|json/);
    const up = await kstack('up', '--help');
    assert.equal(up.code, 0);
    assert.match(up.out, /--detach/);
    assert.match(up.out, /keep working\s+after kstack exits/);
  });

  it('a bad duration names the flag and the units', async () => {
    await usageError(
      ['up', '--timeout', '10x'],
      "--timeout: '10x' is not a duration: use a number with a unit, e.g. 500ms, 30s, 2m",
    );
    await usageError(['up', '--timeout', '600'], /^kstack: --timeout: '600' is not a duration/);
  });

  it('other bad values are refused before any work, naming the flag', async () => {
    await usageError(['cluster', 'up', '--nodes', 'x'], "--nodes 'x' is not a number: use a whole number from 1 to 9");
    await usageError(
      ['cluster', 'up', '--api-port', '70000'],
      "--api-port '70000' is not a port: use a whole number from 1 to 65535",
    );
    await usageError(['cluster', 'up', '--db-taint', 'db'], /^kstack: --db-taint 'db' is not a taint/);
    await usageError(['cluster', 'status', '-o', 'yaml'], "--output 'yaml' is not supported: use 'text' or 'json'");
    await usageError(
      ['setup', '--for', 'frobnicate'],
      /^kstack: --for 'frobnicate' is not a command kstack declares needs for; use one of: up, /,
    );
    await usageError(['images', 'build', 'frobnicate'], /^kstack: unknown image frobnicate: the images are /);
    await usageError(['prove', '--only', 'R99'], /^kstack: --only 'R99': unknown row R99/);
    await usageError(['prove', '--allow-skip', 'R0'], /^kstack: --allow-skip 'R0': unknown row R0/);
    await usageError(['restore', '--lean'], /^kstack: --lean shapes the copy made with --into-namespace/);
  });

  it("--from-region (another region's copy of the backups) is checked before any work", async () => {
    await usageError(
      ['restore', '--from-region', 'East'],
      "--from-region 'East': a region is a lowercase DNS label of 1-32 characters (e.g. east)",
    );
    await usageError(['backup', 'verify', '--from-region', 'x_y'], /^kstack: --from-region 'x_y': a region is/);
    await usageError(
      ['backup', 'now', '--from-region', 'east'],
      /^kstack: --from-region goes with 'backup list', 'backup verify' and 'restore': 'backup now' writes to/,
    );
    await usageError(
      ['restore', '--name', 'east', '--from-region', 'east'],
      /^kstack: --from-region east with --name east: the copy of region east's backups is on the other region's/,
    );
    await usageError(['region', 'backups', '-o', 'yaml'], "--output 'yaml' is not supported: use 'text' or 'json'");
  });

  it('images push refuses bad input before any work, naming the flag and what it allows', async () => {
    const push = (...args: string[]): string[] => ['images', 'push', ...args];
    await usageError(push('nginx'), /^kstack: kstack images push: --registry HOST\[:PORT\]\[\/PREFIX\] is required/);
    await usageError(
      push('--registry', 'https://r.example'),
      /^kstack: --registry 'https:\/\/r\.example': no scheme.*use HOST\[:PORT\]\[\/PREFIX\]/,
    );
    await usageError(
      push('--registry', 'r.example/Team'),
      /^kstack: --registry 'r\.example\/Team': path part 'Team'.*lowercase/,
    );
    await usageError(
      push('--registry', 'r.example', 'frobnicate'),
      /^kstack: unknown image frobnicate: the images are pause, coredns, nginx, mariadb, monitoring, node$/m,
    );
    await usageError(
      push('--registry', 'r.example', '--password-stdin'),
      '--password-stdin needs --username: the password is for that user',
    );
    await usageError(
      push('--registry', 'r.example', '--username', 'u'),
      '--username needs --password-stdin: the password is read from stdin, never from the command line',
    );
    await usageError(
      push('--registry', 'r.example', '--ca-file', join(scratch, 'missing.pem')),
      /^kstack: --ca-file \S+missing\.pem: cannot read it \(ENOENT/,
    );
    await usageError(
      push('--registry', 'r.example', '--pull-secret', 'Reg_Cred'),
      /^kstack: --pull-secret 'Reg_Cred' is not a Secret name/,
    );
    await usageError(
      push('--registry', 'r.example', '-o', join(scratch, 'no', 'such', 'v.yaml')),
      /^kstack: --output .*does not exist/,
    );
  });

  it('images push: an empty password on stdin is refused', async () => {
    let err = '';
    const code = await main(['images', 'push', '--registry', 'r.example', '--username', 'u', '--password-stdin'], {
      out: { write: () => true },
      err: { write: (s: string) => (err += s) },
      readInput: () => Promise.resolve('\n'),
    });
    assert.equal(code, 1);
    assert.equal(err, 'kstack: --password-stdin: stdin held no password\n');
  });

  it("images push's help names the images it pushes by default", () => {
    assert.ok(IMAGES_PUSH.help.includes(`without NAME: ${STACK_IMAGES.join(', ')}`));
  });
});

describe('kstack region', () => {
  it('without a subcommand prints the region usage and exits 2', async () => {
    const r = await kstack('region');
    assert.equal(r.code, 2);
    assert.match(r.out, /kstack region up --primary NAME --standby NAME/);
  });

  it('names the subcommands it has for one it does not', async () => {
    const r = await kstack('region', 'promote');
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /kstack region: unknown subcommand 'promote'; use up, status, failover, failback, backups or down/,
    );
  });

  it('down checks --region before touching anything', async () => {
    const r = await kstack('region', 'down', '--region', 'East_1');
    assert.equal(r.code, 1);
    assert.match(r.err, /--region 'East_1': a region is a lowercase DNS label/);
  });

  it("prove --regions refuses the flags of one release's prove, naming them", async () => {
    const one = await kstack('prove', '--regions', '--only', 'R5');
    assert.equal(one.code, 1);
    assert.match(one.err, /kstack prove --regions: --only does not apply; it runs every region row on the pair/);
    const two = await kstack('prove', '--regions', '--name', 'east', '--release', 'web');
    assert.match(two.err, /--name, --release do not apply/);
  });

  it('up needs both regions, two different ones, each a DNS label', async () => {
    assert.match((await kstack('region', 'up', '--primary', 'east')).err, /give --primary NAME and --standby NAME/);
    assert.match(
      (await kstack('region', 'up', '--primary', 'east', '--standby', 'east')).err,
      /--primary and --standby are both 'east'/,
    );
    assert.match(
      (await kstack('region', 'up', '--primary', 'East', '--standby', 'west')).err,
      /--primary 'East': a region is a lowercase DNS label/,
    );
    assert.match(
      (await kstack('region', 'up', '--primary', 'east', '--standby', 'west', '--standby-nodes', 'x')).err,
      /--nodes 'x' is not a number/,
    );
  });

  it('failover needs exactly one of --planned and --unplanned', async () => {
    for (const argv of [
      ['region', 'failover'],
      ['region', 'failover', '--planned', '--unplanned'],
    ]) {
      const r = await kstack(...argv);
      assert.equal(r.code, 1, argv.join(' '));
      assert.match(r.err, /give --planned \(both regions up, no write lost\) or --unplanned/);
    }
  });

  it('failback and failover explain themselves in their help', async () => {
    assert.match((await kstack('region', 'failback', '--help')).out, /re-seed|replaced by one consistent copy/);
    const failover = (await kstack('region', 'failover', '--help')).out;
    assert.match(failover, /--unplanned/);
    assert.match(failover, /--force +with --planned: even if the standby is more than 30 s behind/);
  });
});
