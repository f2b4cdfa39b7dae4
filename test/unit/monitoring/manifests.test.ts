// The local monitoring's objects: one pod whose containers all pass Pod Security "restricted", RBAC that
// can only list what the controller reads (and get the one receivers Secret), URLs from the Service's
// load-balancer address, and receivers from the `kstack up` flags refused with the flag's name.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1ClusterRole, V1Deployment, V1Role, V1Service } from '@kubernetes/client-node';
import { monitoringObjects, MONITORING_NAMESPACE } from '../../../src/monitoring/manifests.js';
import { receiversFromFlags } from '../../../src/monitoring/alertmanager-config.js';
import { monitoringUrls } from '../../../src/stack/monitoring.js';
import { UserError } from '../../../src/util/errors.js';

const objects = monitoringObjects() as { kind: string }[];
// The objects are plain JSON; each test reads the one it needs as its typed shape.
const ofKind = (kind: string): unknown => objects.find((o) => o.kind === kind);

describe('local monitoring objects', () => {
  it('one pod: controller, Prometheus, Alertmanager, each as nobody, read-only, no capabilities', () => {
    const dep = ofKind('Deployment') as V1Deployment;
    assert.equal(dep.spec?.replicas, 1);
    assert.equal(dep.spec?.strategy?.type, 'Recreate', 'never two Prometheus evaluating the same rules');
    const containers = dep.spec?.template.spec?.containers ?? [];
    assert.deepEqual(
      containers.map((c) => c.name),
      ['controller', 'prometheus', 'alertmanager'],
    );
    for (const c of containers) {
      assert.equal(c.securityContext?.runAsNonRoot, true, c.name);
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false, c.name);
      assert.equal(c.securityContext?.readOnlyRootFilesystem, true, c.name);
      assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], c.name);
      assert.ok(c.readinessProbe, `${c.name} has a readiness probe`);
    }
    // Prometheus and Alertmanager wait for the controller's first file instead of crash-looping without it.
    assert.match(containers[1]?.command?.[2] ?? '', /until \[ -s .*prometheus\.yml \]/);
    assert.ok(containers[1]?.command?.includes('--web.enable-lifecycle'), 'Prometheus accepts /-/reload');
    assert.ok(containers[2]?.command?.includes('--cluster.listen-address='), 'one Alertmanager, no gossip');
    const ns = ofKind('Namespace') as { metadata: { name: string; labels: Record<string, string> } };
    assert.equal(ns.metadata.name, MONITORING_NAMESPACE);
    assert.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  it('RBAC lists only pods, services, PodMonitors and PrometheusRules, and gets only the receivers Secret', () => {
    const role = ofKind('ClusterRole') as V1ClusterRole;
    assert.deepEqual(
      role.rules?.map((r) => [r.resources, r.verbs]),
      [
        [['pods', 'services'], ['list']],
        [['podmonitors', 'prometheusrules'], ['list']],
      ],
    );
    const secret = ofKind('Role') as V1Role;
    assert.deepEqual(secret.rules?.[0]?.resourceNames, ['alert-receivers']);
    assert.deepEqual(secret.rules?.[0]?.verbs, ['get']);
  });

  it('URLs come from the Service once the load balancer gave it an address', () => {
    const svc = ofKind('Service') as V1Service;
    assert.deepEqual(monitoringUrls(svc), {}, 'no address yet');
    const withAddress: V1Service = {
      metadata: svc.metadata,
      spec: svc.spec,
      status: { loadBalancer: { ingress: [{ ip: '10.77.3.200' }] } },
    };
    assert.deepEqual(monitoringUrls(withAddress), {
      healthUrl: 'http://10.77.3.200:8080/',
      prometheusUrl: 'http://10.77.3.200:9090/',
      alertmanagerUrl: 'http://10.77.3.200:9093/',
    });
  });

  it('receivers from the flags: a channel after #, a bad URL refused naming the flag', () => {
    assert.deepEqual(receiversFromFlags(['http://a/hook'], ['https://hooks.example/T/B/X#ops', 'https://h/x']), {
      webhooks: ['http://a/hook'],
      slack: [{ url: 'https://hooks.example/T/B/X', channel: '#ops' }, { url: 'https://h/x' }],
    });
    assert.throws(
      () => receiversFromFlags(['hook'], []),
      (e: Error) => e instanceof UserError && /--alert-webhook 'hook'/.test(e.message),
    );
    assert.throws(() => receiversFromFlags([], ['ftp://x#c']), /--alert-slack 'ftp:\/\/x#c' is not an http\(s\) URL/);
  });
});
