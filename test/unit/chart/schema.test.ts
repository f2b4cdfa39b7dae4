// Schema tests: values.schema.json refuses bad values before anything is rendered, and helm's message
// names the field. Each case is one bad value; the rest of the values are the defaults.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { helmLint, tryHelmTemplate } from '../../../src/chart/helm.js';

interface BadValue {
  what: string;
  values: Record<string, unknown>;
  /** The field path helm names ("/web/replicaCount") and a piece of its explanation. */
  field: string;
  reason: RegExp;
}

const cases: BadValue[] = [
  {
    what: 'an unknown top-level key',
    values: { webb: {} },
    field: '',
    reason: /additional properties 'webb' not allowed/,
  },
  {
    what: 'an unknown key under web',
    values: { web: { replicas: 3 } },
    field: '/web',
    reason: /additional properties 'replicas' not allowed/,
  },
  { what: 'zero replicas', values: { web: { replicaCount: 0 } }, field: '/web/replicaCount', reason: /minimum/ },
  {
    what: 'replicas as text',
    values: { web: { replicaCount: 'three' } },
    field: '/web/replicaCount',
    reason: /want integer/,
  },
  {
    what: 'a privileged port',
    values: { web: { containerPort: 80 } },
    field: '/web/containerPort',
    reason: /minimum: got 80, want 1,?024/,
  },
  {
    what: 'an unknown pull policy',
    values: { web: { image: { pullPolicy: 'Sometimes' } } },
    field: '/web/image/pullPolicy',
    reason: /must be one of/,
  },
  {
    what: 'a malformed digest',
    values: { web: { image: { digest: 'sha256:xyz' } } },
    field: '/web/image/digest',
    reason: /does not match pattern/,
  },
  {
    what: 'an image repository with a tag in it',
    values: { webinfo: { image: { repository: 'Kstack/Node ' } } },
    field: '/webinfo/image/repository',
    reason: /does not match pattern/,
  },
  {
    what: 'worker_processes neither auto nor a number',
    values: { web: { config: { workerProcesses: 'many' } } },
    field: '/web/config/workerProcesses',
    reason: /oneOf/,
  },
  {
    what: 'too few worker connections',
    values: { web: { config: { workerConnections: 1 } } },
    field: '/web/config/workerConnections',
    reason: /minimum/,
  },
  {
    what: 'a body size nginx cannot read',
    values: { web: { config: { clientMaxBodySize: '10 MB' } } },
    field: '/web/config/clientMaxBodySize',
    reason: /does not match pattern/,
  },
  {
    what: 'gzip as a string',
    values: { web: { config: { gzip: 'yes' } } },
    field: '/web/config/gzip',
    reason: /want boolean/,
  },
  {
    what: 'an extra server file name with a slash',
    values: { web: { config: { extraServers: { '../x': 'server {}' } } } },
    field: '/web/config/extraServers',
    reason: /additional properties '\.\.\/x' not allowed/,
  },
  {
    what: 'a serving-host format with markup',
    values: { web: { page: { servingHostFormat: '<b>{suffix}</b>' } } },
    field: '/web/page/servingHostFormat',
    reason: /does not match pattern/,
  },
  {
    what: 'a suffix longer than a pod name can be',
    values: { web: { page: { suffixLength: 64 } } },
    field: '/web/page/suffixLength',
    reason: /maximum/,
  },
  {
    what: 'an unknown Service type',
    values: { web: { service: { type: 'ExternalName' } } },
    field: '/web/service/type',
    reason: /must be one of/,
  },
  {
    what: 'a Service port out of range',
    values: { web: { service: { port: 70000 } } },
    field: '/web/service/port',
    reason: /maximum/,
  },
  {
    what: 'an Ingress path without a leading slash',
    values: { web: { ingress: { hosts: [{ host: 'a', paths: [{ path: 'api', pathType: 'Prefix' }] }] } } },
    field: '/web/ingress/hosts/0/paths/0/path',
    reason: /does not match pattern/,
  },
  {
    what: 'an unknown Ingress pathType',
    values: { web: { ingress: { hosts: [{ host: 'a', paths: [{ path: '/', pathType: 'Regex' }] }] } } },
    field: '/web/ingress/hosts/0/paths/0/pathType',
    reason: /must be one of/,
  },
  {
    what: 'a PDB percentage without %',
    values: { web: { podDisruptionBudget: { maxUnavailable: '50' } } },
    field: '/web/podDisruptionBudget/maxUnavailable',
    reason: /oneOf/,
  },
  {
    what: 'a memory request in an unknown unit',
    values: { web: { resources: { requests: { memory: '64MB' } } } },
    field: '/web/resources/requests/memory',
    reason: /does not match pattern/,
  },
  {
    what: 'tolerations as a map',
    values: { web: { tolerations: { key: 'a' } } },
    field: '/web/tolerations',
    reason: /want array/,
  },
  {
    what: 'a spread constraint without topologyKey',
    values: { web: { topologySpreadConstraints: [{ maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule' }] } },
    field: '/web/topologySpreadConstraints/0',
    reason: /missing propert(y|ies) 'topologyKey'/,
  },
  {
    what: 'a region name that is not a DNS label',
    values: { region: { name: 'East_1' } },
    field: '/region/name',
    reason: /does not match pattern/,
  },
  {
    what: 'a region name longer than a DNS label',
    values: { region: { name: 'r'.repeat(64) } },
    field: '/region/name',
    reason: /maxLength: got 64, want 63/,
  },
  {
    what: 'an unknown key under region',
    values: { region: { id: 'east' } },
    field: '/region',
    reason: /additional properties 'id' not allowed/,
  },
  {
    what: 'an unknown placement preset',
    values: { placement: { preset: 'spread' } },
    field: '/placement/preset',
    reason: /must be one of 'none', 'soft', 'hard'/,
  },
  {
    what: 'an unknown podwatch scope',
    values: { podwatch: { scope: 'all' } },
    field: '/podwatch/scope',
    reason: /must be one of/,
  },
  {
    what: 'a lease name Kubernetes refuses',
    values: { podwatch: { leaderElection: { leaseName: 'Pod_Watch' } } },
    field: '/podwatch/leaderElection/leaseName',
    reason: /anyOf/,
  },
  {
    what: 'podwatch args as a string',
    values: { podwatch: { args: '--sink stdout' } },
    field: '/podwatch/args',
    reason: /want array/,
  },
  {
    what: 'an env entry without a name',
    values: { webinfo: { env: [{ value: 'x' }] } },
    field: '/webinfo/env/0',
    reason: /missing propert(y|ies) 'name'/,
  },
  {
    what: 'a fullnameOverride with capitals',
    values: { fullnameOverride: 'My-Site' },
    field: '/fullnameOverride',
    reason: /does not match pattern/,
  },
  {
    what: 'a pull secret that is not a name',
    values: { global: { imagePullSecrets: [{ name: 'x' }] } },
    field: '/global/imagePullSecrets/0',
    reason: /want string/,
  },
  // Network policies, secondary network, placement, monitoring, Pod Security (chart part 3).
  {
    what: 'network policies switched by a string',
    values: { networkPolicy: { enabled: 'no' } },
    field: '/networkPolicy/enabled',
    reason: /want boolean/,
  },
  {
    what: 'a web source CIDR without a prefix',
    values: { networkPolicy: { web: { fromCIDRs: ['10.0.0.1'] } } },
    field: '/networkPolicy/web/fromCIDRs/0',
    reason: /does not match pattern/,
  },
  {
    what: 'a namespace name with capitals',
    values: { networkPolicy: { web: { fromNamespaces: ['Ingress'] } } },
    field: '/networkPolicy/web/fromNamespaces/0',
    reason: /does not match pattern/,
  },
  {
    what: 'a DNS pod label that is a number',
    values: { networkPolicy: { dns: { podLabels: { 'k8s-app': 1 } } } },
    field: '/networkPolicy/dns/podLabels/k8s-app',
    reason: /want string/,
  },
  {
    what: 'no API server CIDR',
    values: { networkPolicy: { apiServer: { cidrs: [] } } },
    field: '/networkPolicy/apiServer/cidrs',
    reason: /minItems|minimum 1 items/,
  },
  {
    what: 'an API server port out of range',
    values: { networkPolicy: { apiServer: { ports: [0] } } },
    field: '/networkPolicy/apiServer/ports/0',
    reason: /minimum/,
  },
  {
    what: 'an object storage port as text',
    values: { networkPolicy: { objectStorage: { ports: ['https'] } } },
    field: '/networkPolicy/objectStorage/ports/0',
    reason: /want integer/,
  },
  {
    what: 'an unknown key under networkPolicy',
    values: { networkPolicy: { egress: [] } },
    field: '/networkPolicy',
    reason: /additional properties 'egress' not allowed/,
  },
  {
    what: 'a secondary network of an unknown type',
    values: { networks: { secondary: { type: 'vlan' } } },
    field: '/networks/secondary/type',
    reason: /must be one of/,
  },
  {
    what: 'an unknown IPAM',
    values: { networks: { secondary: { ipam: 'dhcp' } } },
    field: '/networks/secondary/ipam',
    reason: /must be one of/,
  },
  {
    what: 'a secondary subnet that is not a CIDR',
    values: { networks: { secondary: { subnet: '10.78.0.0' } } },
    field: '/networks/secondary/subnet',
    reason: /does not match pattern/,
  },
  {
    what: 'a master interface name longer than Linux allows',
    values: { networks: { secondary: { master: 'a-very-long-interface0' } } },
    field: '/networks/secondary/master',
    reason: /does not match pattern/,
  },
  {
    what: 'a range start that is not an address',
    values: { networks: { secondary: { rangeStart: '10.78.0' } } },
    field: '/networks/secondary/rangeStart',
    reason: /does not match pattern/,
  },
  {
    what: 'a macvlan mode that does not exist',
    values: { networks: { secondary: { mode: 'bridged' } } },
    field: '/networks/secondary/mode',
    reason: /must be one of/,
  },
  {
    what: 'a db node label that is not a label key',
    values: { placement: { dbNodeLabel: 'role db' } },
    field: '/placement/dbNodeLabel',
    reason: /does not match pattern/,
  },
  {
    what: 'a taint effect that does not exist',
    values: { placement: { dbTaint: { key: 'dedicated', value: 'db', effect: 'NoRun' } } },
    field: '/placement/dbTaint/effect',
    reason: /must be one of/,
  },
  {
    what: 'an unknown operator mode',
    values: { monitoring: { operator: 'yes' } },
    field: '/monitoring/operator',
    reason: /must be one of/,
  },
  {
    what: 'a scrape interval Prometheus cannot read',
    values: { monitoring: { interval: '30 seconds' } },
    field: '/monitoring/interval',
    reason: /does not match pattern/,
  },
  {
    what: 'a 5xx ratio above 1',
    values: { monitoring: { rules: { web5xxRatio: 5 } } },
    field: '/monitoring/rules/web5xxRatio',
    reason: /maximum/,
  },
  {
    what: 'a backup age below a minute',
    values: { monitoring: { rules: { backupMaxAgeSeconds: 10 } } },
    field: '/monitoring/rules/backupMaxAgeSeconds',
    reason: /minimum/,
  },
  {
    what: 'a nginx exporter on a privileged port',
    values: { web: { metrics: { port: 80 } } },
    field: '/web/metrics/port',
    reason: /minimum/,
  },
  {
    what: 'an exporter binary with a relative path',
    values: { db: { metrics: { binary: 'mysqld_exporter' } } },
    field: '/db/metrics/binary',
    reason: /does not match pattern/,
  },
  {
    what: 'an unknown Pod Security level',
    values: { podSecurity: { level: 'strict' } },
    field: '/podSecurity/level',
    reason: /must be one of/,
  },
];

describe('webstack chart: values.schema.json refuses bad values, naming the field', () => {
  it(`has at least 15 cases (${cases.length})`, () => {
    assert.ok(cases.length >= 15);
  });

  for (const c of cases) {
    it(`refuses ${c.what}`, async () => {
      const res = await tryHelmTemplate({ values: c.values });
      assert.equal(res.ok, false, `helm template accepted ${JSON.stringify(c.values)}`);
      assert.match(res.stderr, /values don't meet the specifications of the schema/);
      const line = res.stderr.split('\n').find((l) => l.includes(`at '${c.field}'`));
      assert.ok(line, `the message names '${c.field}':\n${res.stderr}`);
      assert.match(res.stderr, c.reason);
    });
  }

  it('helm lint --strict refuses them too', async () => {
    const res = await helmLint({ values: { web: { replicaCount: 0 } } });
    assert.equal(res.ok, false);
    assert.match(res.stdout + res.stderr, /\/web\/replicaCount/);
  });

  it('accepts the documented alternatives (a number of workers, a PDB percentage, a custom lease name)', async () => {
    const res = await tryHelmTemplate({
      values: {
        web: { config: { workerProcesses: 2 }, podDisruptionBudget: { maxUnavailable: '25%' } },
        podwatch: { leaderElection: { leaseName: 'pw' } },
      },
    });
    assert.ok(res.ok, res.stderr);
  });
});
