import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_RELOAD_SECONDS,
  DEFAULT_TTL_SECONDS,
  chooseAnswer,
  dnsName,
  ipv4,
  nameInZone,
  renderCorefile,
  renderHostsFile,
  renderZoneFile,
  type AnswerInput,
  type CorefileInput,
  type Region,
  type RegionHealth,
} from '../../../src/region/global-dns.js';

const corefileInput: CorefileInput = {
  zone: 'webstack.test',
  listen: { host: '127.0.0.1', port: 25353 },
  hostsFile: '/tmp/gdns/hosts',
  zoneFile: '/tmp/gdns/db.webstack.test',
  ttlSeconds: 2,
  reloadSeconds: 1,
};

describe('renderCorefile', () => {
  const text = renderCorefile(corefileInput);
  const lines = text.split('\n').map((l) => l.trim());

  it('serves only the global zone on the given address and port (plain DNS: UDP and TCP)', () => {
    assert.ok(lines.includes('dns://webstack.test:25353 {'), text);
    assert.ok(lines.includes('bind 127.0.0.1'), text);
    assert.equal(lines.filter((l) => l.endsWith('{') && l.startsWith('dns://')).length, 1, 'one server block');
  });

  it('answers from the hosts file with the TTL and reload period, no reverse records', () => {
    assert.ok(lines.includes('hosts /tmp/gdns/hosts webstack.test {'), text);
    assert.ok(lines.includes('ttl 2'), text);
    assert.ok(lines.includes('reload 1000ms'), text);
    assert.ok(lines.includes('no_reverse'), text);
  });

  it('falls through only inside the zone, to the SOA-only zone file (NXDOMAIN), and never forwards', () => {
    assert.ok(lines.includes('fallthrough webstack.test'), text);
    assert.ok(lines.includes('file /tmp/gdns/db.webstack.test webstack.test {'), text);
    for (const plugin of ['forward', 'proxy', 'grpc', 'cache', 'etcd', 'kubernetes']) {
      assert.ok(!lines.some((l) => l.startsWith(`${plugin} `) || l === plugin), `${plugin} in\n${text}`);
    }
    assert.ok(!lines.includes('fallthrough'), 'a bare fallthrough would cover every zone');
  });

  it('renders fractional reload periods as a Go duration', () => {
    assert.match(renderCorefile({ ...corefileInput, reloadSeconds: 0.25 }), /reload 250ms\n/);
  });

  it('normalises the zone (case, trailing dot)', () => {
    assert.match(renderCorefile({ ...corefileInput, zone: 'WebStack.Test.' }), /^dns:\/\/webstack\.test:25353 \{$/m);
  });

  it('rejects bad inputs, naming the field', () => {
    const bad: [Partial<CorefileInput>, RegExp][] = [
      [{ zone: '.' }, /^Error: zone: "\." is not a DNS name/],
      [{ zone: 'web_stack.test' }, /^Error: zone: .*label 'web_stack'/],
      [{ zone: 'a..test' }, /^Error: zone: .*empty label/],
      [{ zone: `${'a'.repeat(64)}.test` }, /^Error: zone: .*longer than 63/],
      [{ zone: '-a.test' }, /^Error: zone: /],
      [{ listen: { host: '::1', port: 53 } }, /^Error: listen\.host: "::1" is not an IPv4 address/],
      [{ listen: { host: 'localhost', port: 53 } }, /^Error: listen\.host: /],
      [{ listen: { host: '127.0.0.1', port: 0 } }, /^Error: listen\.port: 0 is not a port \(1\.\.65535\)/],
      [{ listen: { host: '127.0.0.1', port: 65536 } }, /^Error: listen\.port: 65536/],
      [{ listen: { host: '127.0.0.1', port: 53.5 } }, /^Error: listen\.port: 53\.5/],
      [{ ttlSeconds: 0 }, /^Error: ttlSeconds: 0 is not a TTL/],
      [{ ttlSeconds: 1.5 }, /^Error: ttlSeconds: 1\.5 is not a TTL/],
      [{ ttlSeconds: 65536 }, /^Error: ttlSeconds: 65536/],
      [{ reloadSeconds: 0 }, /^Error: reloadSeconds: 0 is not 0\.1\.\.3600 seconds/],
      [{ reloadSeconds: Number.NaN }, /^Error: reloadSeconds: /],
      [{ hostsFile: 'hosts' }, /^Error: hostsFile: "hosts" is not an absolute path/],
      [{ hostsFile: '/tmp/my hosts' }, /^Error: hostsFile: .*Corefile token/],
      [{ zoneFile: '/tmp/{$HOME}' }, /^Error: zoneFile: /],
    ];
    for (const [patch, message] of bad) {
      assert.throws(() => renderCorefile({ ...corefileInput, ...patch }), message, JSON.stringify(patch));
    }
  });

  it('has short defaults: TTL ≥ 1 s, reload ≤ TTL', () => {
    assert.ok(DEFAULT_TTL_SECONDS >= 1 && DEFAULT_TTL_SECONDS <= 5);
    assert.ok(DEFAULT_RELOAD_SECONDS > 0 && DEFAULT_RELOAD_SECONDS <= DEFAULT_TTL_SECONDS);
  });
});

describe('renderZoneFile', () => {
  it('holds the SOA with TTL and negative TTL (minimum) equal to the answer TTL', () => {
    const text = renderZoneFile({ zone: 'webstack.test', ttlSeconds: 2 });
    assert.match(text, /^\$ORIGIN webstack\.test\.$/m);
    assert.match(text, /^@ 2 IN SOA ns\.webstack\.test\. hostmaster\.webstack\.test\. 1 3600 600 86400 2$/m);
    assert.throws(() => renderZoneFile({ zone: 'webstack.test', ttlSeconds: 0 }), /^Error: ttlSeconds: /);
  });
});

describe('renderHostsFile', () => {
  const entries = (text: string): string[] => text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));

  it('has one line for the name with an answer', () => {
    assert.deepEqual(entries(renderHostsFile('www.webstack.test', '10.77.1.200')), ['10.77.1.200 www.webstack.test']);
  });

  it('has no line for the name without an answer', () => {
    assert.deepEqual(entries(renderHostsFile('www.webstack.test', undefined)), []);
  });

  it('rejects a name that is no DNS name and an address that is not IPv4', () => {
    assert.throws(() => renderHostsFile('www webstack', '10.0.0.1'), /^Error: name: /);
    for (const a of ['10.77.1.256', '010.1.1.1', '10.1.1', '10.1.1.1.1', 'fd00::1', 'web', '0.0.0.0', ' 10.1.1.1']) {
      assert.throws(() => renderHostsFile('www.webstack.test', a), /^Error: address: /, a);
    }
  });
});

describe('names and addresses', () => {
  it('dnsName folds case and one trailing dot', () => {
    assert.equal(dnsName('WWW.WebStack.test.', 'name'), 'www.webstack.test');
  });

  it('nameInZone accepts the zone and names below it, nothing else', () => {
    assert.equal(nameInZone('www.webstack.test', 'webstack.test'), 'www.webstack.test');
    assert.equal(nameInZone('webstack.test', 'webstack.test'), 'webstack.test');
    assert.throws(() => nameInZone('www.otherwebstack.test', 'webstack.test'), /^Error: name: .*not inside the zone/);
    assert.throws(() => nameInZone('www.example.com', 'webstack.test'), /^Error: name: /);
  });

  it('ipv4 accepts dotted quads only', () => {
    assert.equal(ipv4('10.77.2.200', 'x'), '10.77.2.200');
    assert.equal(ipv4('255.255.255.255', 'x'), '255.255.255.255');
    assert.throws(() => ipv4('1.2.3.04', 'entry'), /^Error: entry: "1\.2\.3\.04" is not an IPv4 address/);
  });
});

const NOW = 1_000_000;
const east: Region = { name: 'east', entryPoint: '10.77.1.200', role: 'primary', fenced: false };
const west: Region = { name: 'west', entryPoint: '10.77.2.200', role: 'standby', fenced: false };
const south: Region = { name: 'south', entryPoint: '10.77.3.200', role: 'standby', fenced: false };
const up: RegionHealth = { healthy: true, checkedAtMs: NOW - 500, reason: 'GET / 200' };
const down: RegionHealth = { healthy: false, checkedAtMs: NOW - 500, reason: 'connect ETIMEDOUT' };
const staleUp: RegionHealth = { healthy: true, checkedAtMs: NOW - 60_000, reason: 'GET / 200' };

function input(regions: Region[], health: AnswerInput['health'], serveStandbyReadOnly?: boolean): AnswerInput {
  return { regions, health, nowMs: NOW, maxHealthAgeMs: 5_000, serveStandbyReadOnly };
}

interface Case {
  name: string;
  input: AnswerInput;
  /** Region answered, or undefined for none. */
  want: string | undefined;
  reason: RegExp;
}

const cases: Case[] = [
  {
    name: 'healthy unfenced primary: the primary',
    input: input([east, west], { east: up, west: up }),
    want: 'east',
    reason: /^primary east healthy: GET \/ 200$/,
  },
  {
    name: 'healthy primary with serveStandbyReadOnly: still the primary',
    input: input([west, east], { east: up, west: up }, true),
    want: 'east',
    reason: /^primary east healthy/,
  },
  {
    name: 'unhealthy primary, healthy standby, flag off: none',
    input: input([east, west], { east: down, west: up }),
    want: undefined,
    reason: /^no answer: primary east unhealthy: connect ETIMEDOUT; standbys are not answered/,
  },
  {
    name: 'unhealthy primary, healthy standby, flag on: the standby, read-only',
    input: input([east, west], { east: down, west: up }, true),
    want: 'west',
    reason: /^primary east unhealthy: connect ETIMEDOUT; standby west healthy: GET \/ 200 \(read-only\)$/,
  },
  {
    name: 'fenced healthy primary, flag off: none',
    input: input([{ ...east, fenced: true }, west], { east: up, west: up }),
    want: undefined,
    reason: /^no answer: no unfenced primary \(east fenced\)/,
  },
  {
    name: 'fenced healthy primary, flag on: the healthy standby',
    input: input([{ ...east, fenced: true }, west], { east: up, west: up }, true),
    want: 'west',
    reason: /no unfenced primary \(east fenced\); standby west healthy/,
  },
  {
    name: 'fenced healthy standby, unhealthy primary, flag on: none',
    input: input([east, { ...west, fenced: true }], { east: down, west: up }, true),
    want: undefined,
    reason: /^no answer: primary east unhealthy: connect ETIMEDOUT; no healthy unfenced standby$/,
  },
  {
    name: 'unhealthy primary and standby, flag on: none',
    input: input([east, west], { east: down, west: down }, true),
    want: undefined,
    reason: /no healthy unfenced standby/,
  },
  {
    name: 'flag on, first standby unhealthy: the next healthy one',
    input: input([east, west, south], { east: down, west: down, south: up }, true),
    want: 'south',
    reason: /standby south healthy/,
  },
  {
    name: 'primary healthy by a stale check: none',
    input: input([east, west], { east: staleUp, west: up }),
    want: undefined,
    reason: /^no answer: primary east's last check is 60000 ms old \(limit 5000 ms\)/,
  },
  {
    name: 'stale standby check, flag on: none',
    input: input([east, west], { east: down, west: staleUp }, true),
    want: undefined,
    reason: /no healthy unfenced standby/,
  },
  {
    name: 'primary never checked: none',
    input: input([east, west], { west: up }),
    want: undefined,
    reason: /^no answer: primary east has no health check yet/,
  },
  {
    name: 'two unfenced primaries (split brain in the inputs): none',
    input: input([east, { ...west, role: 'primary' }], { east: up, west: up }, true),
    want: undefined,
    reason: /^no answer: east and west are all unfenced primaries$/,
  },
  {
    name: 'after a promotion: old primary fenced, the new primary answered',
    input: input(
      [
        { ...east, fenced: true },
        { ...west, role: 'primary' },
      ],
      { east: up, west: up },
    ),
    want: 'west',
    reason: /^primary west healthy/,
  },
  {
    name: 'no regions: none',
    input: input([], {}),
    want: undefined,
    reason: /^no answer: no unfenced primary; standbys are not answered/,
  },
];

const entryPointOf = (i: AnswerInput, region: string | undefined): string | undefined =>
  i.regions.find((r) => r.name === region)?.entryPoint;

/** The cases chooseAnswer (or a variant) gets wrong: the table's verdict on an implementation. */
function wrongCases(choose: (i: AnswerInput) => { region: string | undefined }): string[] {
  return cases.filter((c) => choose(c.input).region !== c.want).map((c) => c.name);
}

describe('chooseAnswer', () => {
  for (const c of cases) {
    it(c.name, () => {
      const a = chooseAnswer(c.input);
      assert.equal(a.region, c.want);
      assert.equal(a.address, entryPointOf(c.input, c.want));
      assert.match(a.reason, c.reason);
      assert.ok(!a.reason.includes('\n'), 'one line');
    });
  }

  it('never answers a fenced region, whatever the flags and health', () => {
    for (const c of cases) {
      for (const flag of [false, true]) {
        const a = chooseAnswer({ ...c.input, serveStandbyReadOnly: flag });
        const answered = c.input.regions.find((r) => r.name === a.region);
        assert.ok(answered === undefined || !answered.fenced, `${c.name} (flag ${flag}): answered fenced ${a.region}`);
      }
    }
  });

  // The table must catch the rule turned around: each variant below is chooseAnswer with one part of the
  // rule flipped (by flipping its input), and must get at least one case wrong.
  const flipped: [string, (i: AnswerInput) => { region: string | undefined }][] = [
    [
      'serveStandbyReadOnly inverted',
      (i) => chooseAnswer({ ...i, serveStandbyReadOnly: i.serveStandbyReadOnly !== true }),
    ],
    ['fencing ignored', (i) => chooseAnswer({ ...i, regions: i.regions.map((r) => ({ ...r, fenced: false })) })],
    [
      'health inverted',
      (i) =>
        chooseAnswer({
          ...i,
          health: Object.fromEntries(Object.entries(i.health).map(([k, h]) => [k, h && { ...h, healthy: !h.healthy }])),
        }),
    ],
    ['staleness ignored', (i) => chooseAnswer({ ...i, maxHealthAgeMs: Number.MAX_SAFE_INTEGER })],
    [
      'roles swapped',
      (i) =>
        chooseAnswer({
          ...i,
          regions: i.regions.map((r) => ({ ...r, role: r.role === 'primary' ? 'standby' : 'primary' })),
        }),
    ],
  ];
  for (const [name, variant] of flipped) {
    it(`the cases catch the rule flipped: ${name}`, () => {
      assert.ok(wrongCases(variant).length > 0, `${name}: every case still passes`);
    });
  }
  it('the real rule gets no case wrong', () => {
    assert.deepEqual(wrongCases(chooseAnswer), []);
  });

  it('rejects bad inputs, naming the field', () => {
    const bad: [AnswerInput, RegExp][] = [
      [input([{ ...east, name: 'East' }], {}), /^Error: regions\[0\]\.name: "East" is not a region name/],
      [input([east, { ...west, name: 'east' }], {}), /^Error: regions\[1\]\.name: "east" is listed twice/],
      [input([{ ...east, entryPoint: '10.77.1' }], {}), /^Error: regions\[0\]\.entryPoint: "10\.77\.1" is not an IPv4/],
      [
        input([east, { ...west, entryPoint: east.entryPoint }], {}),
        /^Error: regions\[1\]\.entryPoint: .* is also the entry point of east/,
      ],
      [input([{ ...east, role: 'leader' as 'primary' }], {}), /^Error: regions\[0\]\.role: "leader"/],
      [input([{ ...east, fenced: 'no' as unknown as boolean }], {}), /^Error: regions\[0\]\.fenced: "no"/],
      [input([east], { north: up }), /^Error: health\.north: "north" is not a listed region/],
      [input([east], { east: { ...up, healthy: 1 as unknown as boolean } }), /^Error: health\.east\.healthy: 1/],
      [input([east], { east: { ...up, checkedAtMs: Number.NaN } }), /^Error: health\.east\.checkedAtMs: /],
      [{ ...input([east], {}), maxHealthAgeMs: 0 }, /^Error: maxHealthAgeMs: 0/],
      [{ ...input([east], {}), nowMs: Number.NaN }, /^Error: nowMs: /],
    ];
    for (const [i, message] of bad) assert.throws(() => chooseAnswer(i), message);
  });
});
