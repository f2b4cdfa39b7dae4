// Render tests: the real helm renders charts/webstack and we check, value by value, that each value that
// changes the output changes it the way values.yaml documents.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { helmLint, helmNotes, helmTemplate, tryHelmTemplate, webstackChartDir } from '../../../../src/chart/helm.js';
import { configMapData, ofKind, one, parseManifests, type K8sObject } from '../../../../src/chart/manifests.js';

type Values = Record<string, unknown>;

// Only the components this file covers: the db templates (templates/db/) have tests of their own.
const mine = new Set(['web', 'podwatch']);

async function render(values?: Values, valuesFiles?: string[], release = 'web'): Promise<K8sObject[]> {
  const objs = parseManifests(await helmTemplate({ values, valuesFiles, release, namespace: 'shop' }));
  return objs.filter((o) => mine.has(o.metadata.labels?.['app.kubernetes.io/component'] ?? ''));
}

const deployment = (objs: K8sObject[], component: string): k8s.V1Deployment => one(objs, 'Deployment', component);
const podSpec = (objs: K8sObject[], component: string): k8s.V1PodSpec => {
  const spec = deployment(objs, component).spec?.template.spec;
  assert.ok(spec, `the ${component} Deployment has a pod spec`);
  return spec;
};
const container = (spec: k8s.V1PodSpec, name: string): k8s.V1Container => {
  const c = [...spec.containers, ...(spec.initContainers ?? [])].find((x) => x.name === name);
  assert.ok(c, `container ${name} exists (have: ${spec.containers.map((x) => x.name).join(', ')})`);
  return c;
};
const envOf = (c: k8s.V1Container, name: string): string | undefined => c.env?.find((e) => e.name === name)?.value;
const webFiles = (objs: K8sObject[]): Record<string, string> => configMapData(one(objs, 'ConfigMap', 'web'));
const checksum = (objs: K8sObject[]): string | undefined =>
  deployment(objs, 'web').spec?.template.metadata?.annotations?.['checksum/config'];

describe('webstack chart: helm lint', () => {
  it('is clean with --strict, with the defaults and with values-local.yaml', async () => {
    for (const valuesFiles of [[], [join(webstackChartDir, 'values-local.yaml')]]) {
      const res = await helmLint({ valuesFiles });
      assert.ok(res.ok, `helm lint --strict ${valuesFiles.join(' ')}: ${res.stdout}\n${res.stderr}`);
      assert.doesNotMatch(res.stdout, /\[(WARNING|ERROR)\]/);
    }
  });

  it('is clean with every optional object turned on', async () => {
    const res = await helmLint({
      values: { web: { ingress: { enabled: true }, autoscaling: { enabled: true } }, podwatch: { scope: 'cluster' } },
    });
    assert.ok(res.ok, res.stdout + res.stderr);
  });
});

describe('webstack chart: defaults', () => {
  it('labels every object of the chart (any component) with the app.kubernetes.io set', async () => {
    const all = parseManifests(await helmTemplate({ release: 'web', namespace: 'shop' }));
    for (const o of all) {
      for (const key of ['name', 'instance', 'component', 'managed-by', 'part-of']) {
        assert.ok(
          o.metadata.labels?.[`app.kubernetes.io/${key}`],
          `${o.kind}/${o.metadata.name} has app.kubernetes.io/${key}`,
        );
      }
    }
  });

  it('renders the web tier and podwatch, and no Ingress or HPA', async () => {
    const objs = await render();
    const kinds = objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    assert.deepEqual(kinds, [
      'ConfigMap/web-webstack-web',
      'Deployment/web-webstack-podwatch',
      'Deployment/web-webstack-web',
      'PodDisruptionBudget/web-webstack-web',
      'Role/web-webstack-podwatch',
      'Role/web-webstack-podwatch-leader-election',
      'RoleBinding/web-webstack-podwatch',
      'RoleBinding/web-webstack-podwatch-leader-election',
      'Service/web-webstack-podwatch',
      'Service/web-webstack-web',
      'ServiceAccount/web-webstack-podwatch',
    ]);
    for (const o of objs) {
      assert.equal(o.metadata.namespace, 'shop', `${o.kind}/${o.metadata.name} is in the release namespace`);
      assert.equal(o.metadata.labels?.['app.kubernetes.io/instance'], 'web');
      assert.equal(o.metadata.labels?.['app.kubernetes.io/managed-by'], 'Helm');
      assert.match(o.metadata.labels?.['helm.sh/chart'] ?? '', /^webstack-\d+\.\d+\.\d+$/);
    }
  });

  it(
    'runs 3 nginx replicas, non-root on 8080, read-only root fs, ' + 'no capabilities, probes and a preStop drain',
    async () => {
      const objs = await render();
      const d = deployment(objs, 'web');
      assert.equal(d.spec?.replicas, 3);
      assert.deepEqual(d.spec?.selector.matchLabels, {
        'app.kubernetes.io/name': 'webstack',
        'app.kubernetes.io/instance': 'web',
        'app.kubernetes.io/component': 'web',
      });
      const spec = podSpec(objs, 'web');
      assert.equal(spec.securityContext?.runAsNonRoot, true);
      assert.equal(spec.securityContext?.runAsUser, 101);
      assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault');
      assert.equal(spec.automountServiceAccountToken, false);
      const nginx = container(spec, 'nginx');
      assert.equal(nginx.image, 'nginx:1.29');
      assert.deepEqual(nginx.command, [
        '/usr/sbin/nginx',
        '-p',
        '/var/lib/kstack/nginx/',
        '-c',
        '/etc/kstack/web/nginx.conf',
        '-e',
        'stderr',
      ]);
      assert.deepEqual(nginx.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${c.name}: read-only root fs`);
        assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${c.name}: no privilege escalation`);
        assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${c.name}: drops every capability`);
        assert.ok(c.resources?.requests?.memory, `${c.name}: has a memory request`);
      }
      assert.equal(nginx.readinessProbe?.httpGet?.path, '/healthz');
      assert.equal(nginx.livenessProbe?.httpGet?.path, '/healthz');
      assert.match(nginx.lifecycle?.preStop?.exec?.command?.join(' ') ?? '', /sleep 5;.*-s quit/s);
      const mounts = Object.fromEntries((nginx.volumeMounts ?? []).map((m) => [m.mountPath, m.name]));
      assert.deepEqual(mounts, {
        '/etc/kstack/web': 'config',
        '/var/lib/kstack/nginx': 'nginx-prefix',
        '/var/lib/kstack/nginx/html': 'page',
        '/tmp': 'tmp',
      });
      // Besides ConfigMaps and emptyDirs, only the db's CA certificate (webinfo verifies the db with it).
      for (const v of spec.volumes ?? [])
        assert.ok(
          v.configMap ?? v.emptyDir ?? (v.secret?.items?.length === 1 && v.secret.items[0]?.key === 'ca.crt'),
          `volume ${v.name} is a ConfigMap, an emptyDir or the db's CA`,
        );
      const webinfo = spec.containers.find((c) => c.name === 'webinfo');
      assert.equal(
        webinfo?.env?.find((e) => e.name === 'WEBINFO_DB_TLS_CA')?.value,
        '/etc/webstack-db/tls/ca.crt',
        'webinfo connects to the db with TLS, verifying it',
      );
    },
  );

  it('renders the page in an init container from the downward API', async () => {
    const spec = podSpec(await render(), 'web');
    const init = container(spec, 'render-page');
    assert.deepEqual(init.command, ['/bin/sh', '/etc/kstack/web/render-page.sh']);
    const field = (n: string): string | undefined =>
      init.env?.find((e) => e.name === n)?.valueFrom?.fieldRef?.fieldPath;
    assert.equal(field('POD_IP'), 'status.podIP');
    assert.equal(field('POD_NAME'), 'metadata.name');
    assert.equal(field('NODE_NAME'), 'spec.nodeName');
    assert.equal(field('POD_NAMESPACE'), 'metadata.namespace');
    assert.equal(envOf(init, 'SERVING_HOST_FORMAT'), 'Host-{suffix}');
    assert.equal(envOf(init, 'SUFFIX_LENGTH'), '5');
  });

  it('puts nginx.conf, the site, the page template and its script in the ConfigMap', async () => {
    const files = webFiles(await render());
    assert.deepEqual(Object.keys(files).sort(), [
      'index.html.tmpl',
      'nginx.conf',
      'page.css',
      'page.js',
      'render-page.sh',
      'site-default.conf',
    ]);
    assert.match(files['nginx.conf']!, /^\s*daemon off;$/m);
    assert.match(files['nginx.conf']!, /^\s*include site-\*\.conf;$/m);
    assert.match(files['site-default.conf']!, /^\s*listen 8080 default_server;$/m);
    assert.match(files['site-default.conf']!, /location \/api\/ \{[^}]*proxy_pass http:\/\/webinfo;/s);
    assert.match(files['nginx.conf']!, /server 127\.0\.0\.1:8081;/);
    assert.match(files['index.html.tmpl']!, /@@POD_IP@@/);
  });

  it('gives podwatch read-only access to pods in the release namespace and one Lease', async () => {
    const objs = await render();
    const role = one(objs, 'Role', 'podwatch') as unknown as k8s.V1Role;
    assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]);
    const lease = ofKind(objs, 'Role').find((r) =>
      r.metadata.name.endsWith('-leader-election'),
    ) as unknown as k8s.V1Role;
    assert.deepEqual(lease.rules, [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: ['web-webstack-podwatch'],
        verbs: ['get', 'update'],
      },
    ]);
    const spec = podSpec(objs, 'podwatch');
    assert.equal(spec.serviceAccountName, 'web-webstack-podwatch');
    const pw = container(spec, 'podwatch');
    assert.deepEqual(pw.command, ['node', 'dist/src/podwatch/main.js']);
    assert.equal(pw.workingDir, '/opt/kstack');
    assert.equal(envOf(pw, 'PODWATCH_NAMESPACE'), 'shop');
    assert.equal(pw.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(deployment(objs, 'podwatch').spec?.replicas, 2);
  });
});

describe('webstack chart: values change the output', () => {
  it('values-local.yaml selects the local images, never pulled', async () => {
    const objs = await render(undefined, [join(webstackChartDir, 'values-local.yaml')]);
    const web = podSpec(objs, 'web');
    assert.equal(container(web, 'nginx').image, 'kstack.local/nginx:local');
    assert.equal(container(web, 'render-page').image, 'kstack.local/nginx:local');
    assert.equal(container(web, 'webinfo').image, 'kstack.local/node:local');
    assert.equal(container(podSpec(objs, 'podwatch'), 'podwatch').image, 'kstack.local/node:local');
    for (const c of [...web.containers, ...(web.initContainers ?? [])]) assert.equal(c.imagePullPolicy, 'Never');
  });

  it('names: nameOverride, fullnameOverride, commonLabels', async () => {
    let objs = await render({ nameOverride: 'site' }, undefined, 'prod');
    assert.ok(one(objs, 'Deployment', 'web').metadata.name === 'prod-site-web');
    assert.equal(one(objs, 'Deployment', 'web').metadata.labels?.['app.kubernetes.io/name'], 'site');
    objs = await render({ fullnameOverride: 'shop', commonLabels: { team: 'blue' } });
    for (const o of objs) {
      assert.match(o.metadata.name, /^shop-/);
      assert.equal(o.metadata.labels?.team, 'blue', `${o.kind} carries commonLabels`);
    }
    assert.equal(deployment(objs, 'web').spec?.template.metadata?.labels?.team, 'blue');
  });

  it('images: global registry, pull secrets, tag, digest, pull policy', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const objs = await render({
      global: { imageRegistry: 'mirror.internal:5000', imagePullSecrets: ['pull-a', 'pull-b'] },
      web: { image: { repository: 'nginx', tag: '1.27', digest, pullPolicy: 'Always' } },
      webinfo: { image: { repository: 'kstack/kstack', tag: '', digest, pullPolicy: 'IfNotPresent' } },
    });
    const web = podSpec(objs, 'web');
    assert.equal(container(web, 'nginx').image, `mirror.internal:5000/nginx:1.27@${digest}`);
    assert.equal(container(web, 'nginx').imagePullPolicy, 'Always');
    assert.equal(container(web, 'webinfo').image, `mirror.internal:5000/kstack/kstack@${digest}`);
    assert.deepEqual(web.imagePullSecrets, [{ name: 'pull-a' }, { name: 'pull-b' }]);
    assert.deepEqual(podSpec(objs, 'podwatch').imagePullSecrets, [{ name: 'pull-a' }, { name: 'pull-b' }]);
  });

  it(
    'web Deployment: replicas, binary, port, strategy, ' + 'timings, probes, resources, security, pod metadata',
    async () => {
      const objs = await render({
        web: {
          replicaCount: 5,
          binary: '/usr/local/sbin/nginx',
          containerPort: 9090,
          strategy: { type: 'Recreate' },
          minReadySeconds: 7,
          revisionHistoryLimit: 2,
          probes: {
            readiness: { periodSeconds: 3, timeoutSeconds: 1, failureThreshold: 2 },
            liveness: { initialDelaySeconds: 9, periodSeconds: 20, timeoutSeconds: 4, failureThreshold: 5 },
          },
          preStopDelaySeconds: 12,
          terminationGracePeriodSeconds: 60,
          resources: { requests: { cpu: '200m', memory: '64Mi' }, limits: { memory: '256Mi' } },
          init: { resources: { requests: { cpu: '5m', memory: '8Mi' } } },
          podSecurityContext: { runAsUser: 2000, runAsGroup: 2000, fsGroup: 2000 },
          securityContext: { readOnlyRootFilesystem: true, runAsUser: 2001 },
          podAnnotations: { 'prometheus.io/scrape': 'true' },
          podLabels: { tier: 'front' },
        },
      });
      const d = deployment(objs, 'web');
      assert.equal(d.spec?.replicas, 5);
      assert.deepEqual(d.spec?.strategy, { type: 'Recreate' });
      assert.equal(d.spec?.minReadySeconds, 7);
      assert.equal(d.spec?.revisionHistoryLimit, 2);
      assert.equal(d.spec?.template.metadata?.annotations?.['prometheus.io/scrape'], 'true');
      assert.equal(d.spec?.template.metadata?.labels?.tier, 'front');
      assert.equal(d.spec?.selector.matchLabels?.tier, undefined, 'pod labels stay out of the immutable selector');
      const spec = podSpec(objs, 'web');
      const nginx = container(spec, 'nginx');
      assert.equal(nginx.command?.[0], '/usr/local/sbin/nginx');
      assert.equal(nginx.ports?.[0]?.containerPort, 9090);
      assert.deepEqual(nginx.readinessProbe, {
        httpGet: { path: '/healthz', port: 'http' },
        periodSeconds: 3,
        timeoutSeconds: 1,
        failureThreshold: 2,
      });
      assert.deepEqual(nginx.livenessProbe, {
        httpGet: { path: '/healthz', port: 'http' },
        initialDelaySeconds: 9,
        periodSeconds: 20,
        timeoutSeconds: 4,
        failureThreshold: 5,
      });
      assert.match(
        nginx.lifecycle?.preStop?.exec?.command?.[2] ?? '',
        /^sleep 12;.*\/usr\/local\/sbin\/nginx .* -s quit/s,
      );
      assert.equal(spec.terminationGracePeriodSeconds, 60);
      assert.deepEqual(nginx.resources, { requests: { cpu: '200m', memory: '64Mi' }, limits: { memory: '256Mi' } });
      // helm merges maps with the defaults: the default limit stays unless set to null.
      assert.deepEqual(container(spec, 'render-page').resources, {
        requests: { cpu: '5m', memory: '8Mi' },
        limits: { memory: '32Mi' },
      });
      assert.equal(spec.securityContext?.runAsUser, 2000);
      assert.equal(spec.securityContext?.runAsNonRoot, true, 'overrides keep the other defaults');
      assert.equal(nginx.securityContext?.runAsUser, 2001);
      assert.deepEqual(nginx.securityContext?.capabilities?.drop, ['ALL']);
      assert.match(webFiles(objs)['site-default.conf']!, /^\s*listen 9090 default_server;$/m);
    },
  );

  it('nginx config values reach nginx.conf and the site', async () => {
    const base = webFiles(await render());
    assert.match(base['nginx.conf']!, /worker_processes auto;/);
    assert.match(base['nginx.conf']!, /gzip on;/);
    assert.match(base['nginx.conf']!, /server_tokens off;/);
    assert.match(base['nginx.conf']!, /access_log \/dev\/stdout webstack_json/);
    assert.match(base['site-default.conf']!, /add_header X-Frame-Options DENY always;/);
    assert.match(base['site-default.conf']!, /location \/ \{[^}]*expires -1;/s);

    const files = webFiles(
      await render({
        web: {
          config: {
            workerProcesses: 4,
            workerConnections: 4096,
            keepaliveTimeout: 15,
            clientMaxBodySize: '8m',
            gzip: false,
            serverTokens: true,
            accessLog: false,
            pageMaxAgeSeconds: 30,
            securityHeaders: false,
            httpSnippet: 'map $http_upgrade $conn_upgrade { default upgrade; "" close; }',
            serverSnippet: 'location = /robots.txt { return 200 "User-agent: *\\nDisallow: /\\n"; }',
            extraServers: { status: 'server {\n    listen 8081;\n    location / { stub_status; }\n}' },
          },
        },
      }),
    );
    const conf = files['nginx.conf']!;
    assert.match(conf, /worker_processes 4;/);
    assert.match(conf, /worker_connections 4096;/);
    assert.match(conf, /keepalive_timeout 15;/);
    assert.match(conf, /client_max_body_size 8m;/);
    assert.doesNotMatch(conf, /gzip on;/);
    assert.match(conf, /server_tokens on;/);
    assert.match(conf, /access_log off;/);
    assert.match(conf, /# web\.config\.httpSnippet\n\s+map \$http_upgrade/);
    assert.match(conf, /include server-\*\.conf;/);
    assert.match(files['server-status.conf']!, /stub_status;/);
    const site = files['site-default.conf']!;
    assert.match(site, /location \/ \{[^}]*expires 30s;/s);
    assert.doesNotMatch(site, /add_header X-Frame-Options/);
    assert.match(site, /# web\.config\.serverSnippet\n\s+location = \/robots\.txt/);
  });

  it('a config change changes the checksum annotation (rolling the pods); a replica change does not', async () => {
    const base = checksum(await render());
    assert.match(base ?? '', /^[0-9a-f]{64}$/);
    assert.notEqual(checksum(await render({ web: { config: { keepaliveTimeout: 10 } } })), base);
    assert.notEqual(checksum(await render({ web: { page: { template: '<p>@@POD_IP@@</p>' } } })), base);
    assert.notEqual(checksum(await render({ web: { config: { extraServers: { s: 'server { listen 9; }' } } } })), base);
    assert.equal(checksum(await render({ web: { replicaCount: 4 } })), base);
  });

  it('page values: title, serving-host format, suffix length, a custom template', async () => {
    const objs = await render({
      web: {
        page: {
          title: 'Shop',
          servingHostFormat: 'srv-{suffix}.{podName}',
          suffixLength: 3,
          template: '<p>@@SERVING_HOST@@ @@POD_IP@@</p>',
        },
      },
    });
    const init = container(podSpec(objs, 'web'), 'render-page');
    assert.equal(envOf(init, 'PAGE_TITLE'), 'Shop');
    assert.equal(envOf(init, 'SERVING_HOST_FORMAT'), 'srv-{suffix}.{podName}');
    assert.equal(envOf(init, 'SUFFIX_LENGTH'), '3');
    assert.equal(webFiles(objs)['index.html.tmpl']?.trimEnd(), '<p>@@SERVING_HOST@@ @@POD_IP@@</p>');
  });

  it('region.name reaches the page, webinfo and the pod labels when set, and nothing when empty', async () => {
    const region = 'webstack.kstack.io/region';
    let objs = await render({ region: { name: 'east' } });
    let spec = podSpec(objs, 'web');
    assert.equal(envOf(container(spec, 'render-page'), 'REGION'), 'east');
    assert.equal(envOf(container(spec, 'webinfo'), 'WEBINFO_REGION'), 'east');
    assert.equal(deployment(objs, 'web').spec?.template.metadata?.labels?.[region], 'east');
    assert.equal(
      deployment(objs, 'web').spec?.selector.matchLabels?.[region],
      undefined,
      'the selector stays as it was: a region change needs no new Deployment',
    );
    assert.equal(deployment(objs, 'podwatch').spec?.template.metadata?.labels?.[region], undefined);
    assert.match(webFiles(objs)['index.html.tmpl']!, /served from region\s*<strong data-field="region">@@REGION@@/);

    objs = await render();
    spec = podSpec(objs, 'web');
    const names = [...spec.containers, ...(spec.initContainers ?? [])].flatMap((c) => (c.env ?? []).map((e) => e.name));
    assert.ok(!names.includes('REGION') && !names.includes('WEBINFO_REGION'), names.join(' '));
    assert.equal(deployment(objs, 'web').spec?.template.metadata?.labels?.[region], undefined);
  });

  it('web Service: type, port, nodePort, annotations', async () => {
    let svc = one(await render(), 'Service', 'web') as unknown as k8s.V1Service;
    assert.equal(svc.spec?.type, 'ClusterIP');
    assert.deepEqual(svc.spec?.ports, [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    svc = one(
      await render({ web: { service: { type: 'NodePort', port: 8000, nodePort: 30080, annotations: { a: 'b' } } } }),
      'Service',
      'web',
    );
    assert.equal(svc.spec?.type, 'NodePort');
    assert.deepEqual(svc.spec?.ports, [
      { name: 'http', port: 8000, targetPort: 'http', protocol: 'TCP', nodePort: 30080 },
    ]);
    assert.deepEqual(svc.metadata?.annotations, { a: 'b' });
  });

  it('Ingress: hosts, paths, class, TLS, annotations', async () => {
    const objs = await render({
      web: {
        ingress: {
          enabled: true,
          className: 'nginx',
          annotations: { 'x/y': 'z' },
          hosts: [
            {
              host: 'shop.example',
              paths: [
                { path: '/', pathType: 'Prefix' },
                { path: '/api', pathType: 'Exact' },
              ],
            },
          ],
          tls: [{ secretName: 'shop-tls', hosts: ['shop.example'] }],
        },
      },
    });
    const ing = one(objs, 'Ingress', 'web') as unknown as k8s.V1Ingress;
    assert.equal(ing.spec?.ingressClassName, 'nginx');
    assert.deepEqual(ing.metadata?.annotations, { 'x/y': 'z' });
    assert.deepEqual(ing.spec?.tls, [{ secretName: 'shop-tls', hosts: ['shop.example'] }]);
    const rule = ing.spec?.rules?.[0];
    assert.equal(rule?.host, 'shop.example');
    assert.deepEqual(
      rule?.http?.paths.map((p) => [p.path, p.pathType, p.backend.service?.name, p.backend.service?.port?.name]),
      [
        ['/', 'Prefix', 'web-webstack-web', 'http'],
        ['/api', 'Exact', 'web-webstack-web', 'http'],
      ],
    );
  });

  it('HPA replaces the replica count; memory target only when set; max below min is refused', async () => {
    let objs = await render({
      web: { autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 60 } },
    });
    assert.equal(deployment(objs, 'web').spec?.replicas, undefined);
    let hpa = one(objs, 'HorizontalPodAutoscaler', 'web') as unknown as k8s.V2HorizontalPodAutoscaler;
    assert.equal(hpa.spec?.scaleTargetRef.name, 'web-webstack-web');
    assert.equal(hpa.spec?.minReplicas, 2);
    assert.equal(hpa.spec?.maxReplicas, 6);
    assert.deepEqual(
      hpa.spec?.metrics?.map((m) => [m.resource?.name, m.resource?.target.averageUtilization]),
      [['cpu', 60]],
    );
    objs = await render({ web: { autoscaling: { enabled: true, targetMemoryUtilizationPercentage: 80 } } });
    hpa = one(objs, 'HorizontalPodAutoscaler', 'web');
    assert.deepEqual(
      hpa.spec?.metrics?.map((m) => m.resource?.name),
      ['cpu', 'memory'],
    );
    const bad = await tryHelmTemplate({
      values: { web: { autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 2 } } },
    });
    assert.equal(bad.ok, false);
    assert.match(
      bad.stderr,
      /web\.autoscaling\.maxReplicas \(2\) must be at least web\.autoscaling\.minReplicas \(5\)/,
    );
  });

  it('PodDisruptionBudget: maxUnavailable, or none', async () => {
    const pdb = one(
      await render({ web: { podDisruptionBudget: { maxUnavailable: '34%' } } }),
      'PodDisruptionBudget',
      'web',
    ) as unknown as k8s.V1PodDisruptionBudget;
    assert.equal(pdb.spec?.maxUnavailable, '34%');
    assert.deepEqual(pdb.spec?.selector?.matchLabels?.['app.kubernetes.io/component'], 'web');
    assert.equal(
      ofKind(await render({ web: { podDisruptionBudget: { enabled: false } } }), 'PodDisruptionBudget').length,
      0,
    );
  });

  it('placement keys are rendered as given, for web and podwatch', async () => {
    const placement = {
      nodeSelector: { 'kstack.io/role': 'web' },
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { a: 'b' } } },
            },
          ],
        },
      },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }],
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: { a: 'b' } },
        },
      ],
      priorityClassName: 'web-critical',
    };
    const objs = await render({ web: placement, podwatch: placement, placement: { preset: 'none' } });
    for (const component of ['web', 'podwatch']) {
      const spec = podSpec(objs, component);
      assert.deepEqual(spec.nodeSelector, placement.nodeSelector);
      assert.deepEqual(spec.affinity, placement.affinity);
      assert.deepEqual(spec.tolerations, placement.tolerations);
      assert.deepEqual(spec.topologySpreadConstraints, placement.topologySpreadConstraints);
      assert.equal(spec.priorityClassName, 'web-critical');
    }
    const plain = podSpec(await render({ placement: { preset: 'none' } }), 'web');
    assert.equal(plain.nodeSelector ?? plain.affinity ?? plain.tolerations ?? plain.priorityClassName, undefined);
  });

  it(
    "webinfo reads the release's database when db is on " + '(password from the db Secret), and nothing when it is off',
    async () => {
      let wi = container(podSpec(await render({}), 'web'), 'webinfo');
      assert.equal(envOf(wi, 'WEBINFO_DATA_SOURCE'), 'mariadb');
      assert.equal(envOf(wi, 'WEBINFO_DB_HOST'), 'web-webstack-db');
      assert.equal(envOf(wi, 'WEBINFO_DB_USER'), 'app');
      assert.equal(envOf(wi, 'WEBINFO_DB_DATABASE'), 'app');
      const password = wi.env?.find((e) => e.name === 'WEBINFO_DB_PASSWORD');
      assert.deepEqual(password?.valueFrom?.secretKeyRef, { name: 'web-webstack-db', key: 'mariadb-password' });
      assert.equal(password?.value, undefined, 'never a literal password');
      wi = container(podSpec(await render({ db: { enabled: false } }), 'web'), 'webinfo');
      assert.equal(
        wi.env?.some((e) => e.name.startsWith('WEBINFO_DB') || e.name === 'WEBINFO_DATA_SOURCE'),
        false,
      );
      wi = container(podSpec(await render({ db: { auth: { existingSecret: 'mine' } } }), 'web'), 'webinfo');
      assert.equal(wi.env?.find((e) => e.name === 'WEBINFO_DB_PASSWORD')?.valueFrom?.secretKeyRef?.name, 'mine');
    },
  );

  it('webinfo: image, command, port, env, resources; disabled means no container and a JSON 503 on /api/', async () => {
    let objs = await render({
      webinfo: {
        command: ['node', 'other.js'],
        workingDir: '/srv',
        port: 9001,
        env: [{ name: 'WEBINFO_DATA_SOURCE', value: 'none' }],
        resources: { requests: { memory: '48Mi' }, limits: null },
        securityContext: { runAsUser: 3000 },
      },
    });
    const wi = container(podSpec(objs, 'web'), 'webinfo');
    assert.deepEqual(wi.command, ['node', 'other.js']);
    assert.equal(wi.workingDir, '/srv');
    assert.equal(envOf(wi, 'WEBINFO_PORT'), '9001');
    assert.equal(envOf(wi, 'WEBINFO_HOST'), '127.0.0.1');
    assert.equal(envOf(wi, 'WEBINFO_DATA_SOURCE'), 'none');
    assert.deepEqual(
      wi.resources,
      { requests: { cpu: '10m', memory: '48Mi' } },
      'null removes a default (helm semantics)',
    );
    assert.equal(wi.securityContext?.runAsUser, 3000);
    assert.equal(wi.livenessProbe?.httpGet?.path, '/api/healthz');
    assert.match(webFiles(objs)['nginx.conf']!, /server 127\.0\.0\.1:9001;/);

    objs = await render({ webinfo: { enabled: false } });
    assert.deepEqual(
      podSpec(objs, 'web').containers.map((c) => c.name),
      ['nginx', 'metrics'],
    );
    const files = webFiles(objs);
    assert.doesNotMatch(files['nginx.conf']!, /upstream webinfo/);
    assert.match(
      files['site-default.conf']!,
      /location \/api\/ \{[^}]*return 503 '\{"error":"the webinfo companion is disabled/s,
    );
  });

  it(
    'podwatch: cluster scope uses a ClusterRole; replicas, ' + 'args, env, port, service, lease, service account',
    async () => {
      let objs = await render({
        podwatch: {
          scope: 'cluster',
          replicaCount: 1,
          args: ['--sink', 'stdout'],
          env: [{ name: 'LOG_LEVEL', value: 'debug' }],
          port: 9100,
          service: { enabled: true, port: 9200 },
          leaderElection: { enabled: true, leaseName: 'pw-lease' },
          serviceAccount: { create: true, name: 'watcher', annotations: { 'x/y': 'z' } },
        },
      });
      assert.equal(ofKind(objs, 'Role', 'podwatch').length, 0);
      const cr = one(objs, 'ClusterRole') as unknown as k8s.V1ClusterRole;
      assert.equal(cr.metadata?.name, 'shop-web-webstack-podwatch', 'cluster-wide names carry the namespace');
      assert.deepEqual(cr.rules, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]);
      const crb = one(objs, 'ClusterRoleBinding') as unknown as k8s.V1ClusterRoleBinding;
      assert.deepEqual(crb.subjects, [{ kind: 'ServiceAccount', name: 'watcher', namespace: 'shop' }]);
      const lease = one(objs, 'Role') as unknown as k8s.V1Role;
      assert.deepEqual(lease.rules?.[1]?.resourceNames, ['pw-lease']);
      const sa = one(objs, 'ServiceAccount') as unknown as k8s.V1ServiceAccount;
      assert.equal(sa.metadata?.name, 'watcher');
      assert.deepEqual(sa.metadata?.annotations, { 'x/y': 'z' });
      assert.equal(deployment(objs, 'podwatch').spec?.replicas, 1);
      const spec = podSpec(objs, 'podwatch');
      assert.equal(spec.serviceAccountName, 'watcher');
      const pw = container(spec, 'podwatch');
      assert.deepEqual(pw.args, ['--sink', 'stdout']);
      assert.equal(envOf(pw, 'PODWATCH_NAMESPACE'), '', 'cluster scope watches every namespace');
      assert.equal(envOf(pw, 'PODWATCH_LEASE_NAME'), 'pw-lease');
      assert.equal(envOf(pw, 'LOG_LEVEL'), 'debug');
      assert.equal(pw.ports?.[0]?.containerPort, 9100);
      const svc = one(objs, 'Service', 'podwatch') as unknown as k8s.V1Service;
      assert.equal(svc.spec?.ports?.[0]?.port, 9200);

      objs = await render({
        podwatch: {
          rbac: { create: false },
          serviceAccount: { create: false, name: 'existing' },
          leaderElection: { enabled: false },
          service: { enabled: false },
        },
      });
      assert.deepEqual(
        ofKind(objs, 'Role').length + ofKind(objs, 'RoleBinding').length + ofKind(objs, 'ServiceAccount').length,
        0,
      );
      assert.equal(ofKind(objs, 'Service', 'podwatch').length, 0);
      assert.equal(podSpec(objs, 'podwatch').serviceAccountName, 'existing');
      assert.equal(envOf(container(podSpec(objs, 'podwatch'), 'podwatch'), 'PODWATCH_LEADER_ELECTION'), 'false');

      objs = await render({ podwatch: { enabled: false } });
      assert.equal(objs.filter((o) => o.metadata.name.includes('podwatch')).length, 0);
    },
  );
});

describe('webstack chart: podwatch pod settings', () => {
  it('command, working dir, resources, security contexts, pod annotations and labels', async () => {
    const objs = await render({
      podwatch: {
        command: ['node', '--max-old-space-size=128', 'dist/src/podwatch/main.js'],
        workingDir: '/app',
        resources: { requests: { cpu: '50m', memory: '80Mi' }, limits: { memory: '200Mi' } },
        podSecurityContext: { runAsUser: 4000, runAsGroup: 4000 },
        securityContext: { runAsUser: 4001 },
        podAnnotations: { 'prometheus.io/scrape': 'true' },
        podLabels: { team: 'ops' },
      },
    });
    const d = deployment(objs, 'podwatch');
    assert.equal(d.spec?.template.metadata?.annotations?.['prometheus.io/scrape'], 'true');
    assert.equal(d.spec?.template.metadata?.labels?.team, 'ops');
    const spec = podSpec(objs, 'podwatch');
    assert.equal(spec.securityContext?.runAsUser, 4000);
    assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    const pw = container(spec, 'podwatch');
    assert.deepEqual(pw.command, ['node', '--max-old-space-size=128', 'dist/src/podwatch/main.js']);
    assert.equal(pw.workingDir, '/app');
    assert.deepEqual(pw.resources, { requests: { cpu: '50m', memory: '80Mi' }, limits: { memory: '200Mi' } });
    assert.equal(pw.securityContext?.runAsUser, 4001);
    assert.equal(pw.securityContext?.readOnlyRootFilesystem, true);
  });
});

describe('webstack chart: NOTES.txt', () => {
  it('says how to reach the page for the Service type or Ingress in use, and where podwatch is', async () => {
    let notes = await helmNotes({ release: 'web', namespace: 'shop' });
    assert.match(notes, /kubectl port-forward -n shop svc\/web-webstack-web 8080:80/);
    assert.match(notes, /kubectl rollout status -n shop deployment\/web-webstack-web/);
    assert.match(
      notes,
      /watches namespace shop:\n\s+kubectl port-forward -n shop svc\/web-webstack-podwatch 8090:8080/,
    );
    notes = await helmNotes({ values: { web: { service: { type: 'NodePort' } }, podwatch: { scope: 'cluster' } } });
    assert.match(notes, /jsonpath='\{\.spec\.ports\[0\]\.nodePort\}'/);
    assert.match(notes, /watches every namespace/);
    notes = await helmNotes({
      values: {
        web: {
          ingress: {
            enabled: true,
            hosts: [{ host: 'shop.example', paths: [{ path: '/', pathType: 'Prefix' }] }],
            tls: [{ secretName: 't' }],
          },
        },
        podwatch: { service: { enabled: false } },
      },
    });
    assert.match(notes, /https:\/\/shop\.example\//);
    assert.doesNotMatch(notes, /pod monitor/);
  });
});
