// R13's judges: a container's effective securityContext, its main process, Pod Security, the non-TLS client;
// and the row's pure helpers (db ports, IST or SST, the capture pod in kstack's namespace).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import {
  judgeClientTls,
  judgeContainerSpec,
  judgePodSecurity,
  judgeProcStatus,
  parseProcStatus,
} from '../../../../src/prove/security/containers.js';
import { capturePodObject, transferOf } from '../../../../src/prove/requirements/r13-security.js';
import { dbPortsOf } from '../../../../src/prove/requirements/stack.js';

const good: V1Container = {
  name: 'c',
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
};
const pod = (c: V1Container, podSc: NonNullable<V1Pod['spec']>['securityContext'] = { runAsNonRoot: true }): V1Pod => ({
  metadata: { name: 'p' },
  spec: { securityContext: podSc, containers: [c] },
});

describe('R13 containers and judges', () => {
  it('passes a restricted container and names each way to be root or privileged', () => {
    assert.deepEqual(judgeContainerSpec(pod(good), good), []);
    assert.match(judgeContainerSpec(pod(good, {}), good).join(), /p\/c may run as root/);
    const root: V1Container = {
      name: 'c',
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsUser: 0 },
    };
    assert.match(judgeContainerSpec(pod(root), root).join(), /runs as root \(runAsUser 0\)/);
    const bad: V1Container = { name: 'c', securityContext: { privileged: true, capabilities: { add: ['NET_ADMIN'] } } };
    assert.deepEqual(judgeContainerSpec(pod(bad), bad), [
      'p/c is privileged',
      'p/c does not set allowPrivilegeEscalation: false',
      'p/c adds capabilities NET_ADMIN',
      'p/c does not drop ALL capabilities',
    ]);
  });
  it('reads Uid and CapEff of /proc/1/status', () => {
    const s = parseProcStatus('Name:\tnode\nUid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n');
    assert.deepEqual(s, { uid: 1000, capEff: '0000000000000000' });
    assert.deepEqual(judgeProcStatus('p/c', s ?? { uid: 0, capEff: '' }), []);
    assert.equal(judgeProcStatus('p/c', { uid: 0, capEff: '00000000a80425fb' }).length, 2);
    assert.equal(parseProcStatus('nothing'), undefined);
  });
  it('judges Pod Security: label, privileged refused by PodSecurity, restricted accepted', () => {
    const refused = { code: 1, output: 'Error: pods "x" is forbidden: violates PodSecurity "restricted:latest"' };
    const ok = { code: 0, output: 'pod/y created (server dry run)' };
    assert.deepEqual(judgePodSecurity('ns', 'restricted', refused, ok), []);
    assert.deepEqual(judgePodSecurity('ns', undefined, ok, ok), [
      'namespace ns has pod-security.kubernetes.io/enforce=(none), expected restricted',
      'a privileged pod (root, privileged: true) was accepted in ns',
    ]);
    assert.match(judgePodSecurity('ns', 'restricted', refused, refused).join(), /restricted pod was refused/);
  });
  it('judges the non-TLS client: refused for transport, and the TLS one accepted', () => {
    const refused = { code: 1, output: 'ERROR 3159 (08004): Connections using insecure transport are prohibited' };
    assert.deepEqual(judgeClientTls(refused, { code: 0, output: '1' }), []);
    assert.match(
      judgeClientTls({ code: 0, output: '1' }, undefined).join(),
      /without TLS .* was accepted.*no WEBINFO_DB_TLS_CA/,
    );
    assert.match(
      judgeClientTls({ code: 1, output: "Can't connect" }, { code: 0, output: '1' }).join(),
      /not as refused/,
    );
  });
  it('reads the db ports, IST or SST from the log, and makes the capture pod privileged on its node', () => {
    const db: V1Pod = {
      spec: {
        containers: [
          {
            name: 'mariadb',
            ports: [
              { name: 'mysql', containerPort: 3306 },
              { name: 'galera', containerPort: 4567 },
              { name: 'agent', containerPort: 9 },
            ],
          },
        ],
      },
    };
    assert.deepEqual(dbPortsOf(db), { mysql: 3306, galera: 4567 });
    assert.equal(transferOf('WSREP: SST received: 6c1f:56\nWSREP: IST received: 6c1f:92'), 'IST');
    assert.equal(transferOf('IST received\n[Note] Starting MariaDB 10.11.14 as process 1\nWSREP: SST received'), 'SST');
    assert.equal(transferOf('nothing'), 'unknown');
    const p = capturePodObject('cap', 'webstack-prove', 'db-1', { image: 'i', pullPolicy: 'Never', pullSecrets: [] });
    assert.equal(p.metadata?.namespace, 'webstack-prove');
    assert.equal(p.spec?.nodeName, 'db-1');
    assert.equal(p.spec?.hostNetwork, true);
    assert.equal(p.spec?.containers[0]?.securityContext?.privileged, true);
  });
});
