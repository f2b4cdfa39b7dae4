// The local cluster's monitoring, as plain objects (pure): namespace "monitoring" (the name the chart's
// networkPolicy.metrics.fromNamespaces admits by default), one pod with Prometheus, Alertmanager and
// kstack's controller that generates their files from the PodMonitors and PrometheusRules, RBAC to read
// them, and a LoadBalancer Service for the three ports.
import { imageRecipes } from '../images/recipes.js';
import { RECEIVERS_KEY, RECEIVERS_SECRET, type Receivers } from './alertmanager-config.js';
import { ALERTMANAGER_PORT, CONFIG_DIR, PROMETHEUS_PORT } from './prometheus-config.js';

export const MONITORING_NAMESPACE = 'monitoring';
export const MONITORING_NAME = 'kstack-monitoring';
export const MONITOR_PORT = 8080;

export interface MonitoringSettings {
  /** Default scrape interval (a PodMonitor endpoint's own interval wins). */
  scrapeInterval: string;
  evaluationInterval: string;
  clusterName: string;
  /** How long Prometheus keeps samples. */
  retention: string;
  /**
   * Prometheus's --rules.alert.resend-delay: how often a firing alert is sent again. A rule changed on a
   * reload can leave its alert's resolution for the next resend, so this bounds that wait (default 1m).
   */
  resendDelay: string;
  /**
   * The build keys of the images the pod runs: images are re-imported under the same tag when kstack
   * changes, so a changed key in the pod template is what makes `kstack up` roll the pod onto them.
   */
  imageKeys?: string;
  /** Where the pod's images come from: the local cluster's side-loaded ones unless given (a registry's). */
  images?: MonitoringImages;
}

/** The two images of the monitoring pod and how they are pulled. */
export interface MonitoringImages {
  /** kstack's Node.js image (the controller). */
  controller: string;
  /** Prometheus and Alertmanager. */
  monitoring: string;
  pullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /** Image pull Secrets in the monitoring namespace. */
  pullSecrets: string[];
}

/** The images `kstack up` side-loads into the local cluster's nodes. */
export const LOCAL_MONITORING_IMAGES: MonitoringImages = {
  controller: imageRecipes.node.ref,
  monitoring: imageRecipes.monitoring.ref,
  pullPolicy: 'Never',
  pullSecrets: [],
};

export const DEFAULT_MONITORING: MonitoringSettings = {
  scrapeInterval: '15s',
  evaluationInterval: '5s',
  clusterName: 'kstack',
  retention: '24h',
  resendDelay: '10s',
};

const labels = { 'app.kubernetes.io/name': MONITORING_NAME, 'app.kubernetes.io/managed-by': 'kstack' };
const meta = (name: string): object => ({ name, namespace: MONITORING_NAMESPACE, labels });

/** Every container runs as nobody, read-only, no capabilities (Pod Security "restricted"). */
const restricted = {
  runAsNonRoot: true,
  runAsUser: 65534,
  runAsGroup: 65534,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** Waits for the controller's first file: Prometheus and Alertmanager refuse to start without a config. */
const afterFile = (file: string, exec: string[]): string[] => [
  '/bin/sh',
  '-c',
  `until [ -s ${CONFIG_DIR}/${file} ]; do sleep 0.5; done; exec "$@"`,
  'wait-for-config',
  ...exec,
];

export function monitoringObjects(s: MonitoringSettings = DEFAULT_MONITORING): object[] {
  const images = s.images ?? LOCAL_MONITORING_IMAGES;
  const httpProbe = (path: string, port: number): object => ({
    httpGet: { path, port },
    periodSeconds: 5,
    failureThreshold: 3,
  });
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: MONITORING_NAMESPACE,
        labels: { ...labels, 'pod-security.kubernetes.io/enforce': 'restricted' },
      },
    },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(MONITORING_NAME) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: `kstack:${MONITORING_NAME}`, labels },
      rules: [
        { apiGroups: [''], resources: ['pods', 'services'], verbs: ['list'] },
        { apiGroups: ['monitoring.coreos.com'], resources: ['podmonitors', 'prometheusrules'], verbs: ['list'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `kstack:${MONITORING_NAME}`, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `kstack:${MONITORING_NAME}` },
      subjects: [{ kind: 'ServiceAccount', name: MONITORING_NAME, namespace: MONITORING_NAMESPACE }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(`${MONITORING_NAME}-receivers`),
      rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: [RECEIVERS_SECRET], verbs: ['get'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(`${MONITORING_NAME}-receivers`),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${MONITORING_NAME}-receivers` },
      subjects: [{ kind: 'ServiceAccount', name: MONITORING_NAME, namespace: MONITORING_NAMESPACE }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(MONITORING_NAME),
      spec: {
        replicas: 1,
        // One Prometheus at a time: two would both evaluate rules and double every notification.
        strategy: { type: 'Recreate' },
        selector: { matchLabels: labels },
        template: {
          metadata: { labels, ...(s.imageKeys ? { annotations: { 'kstack.io/image-keys': s.imageKeys } } : {}) },
          spec: {
            serviceAccountName: MONITORING_NAME,
            ...(images.pullSecrets.length ? { imagePullSecrets: images.pullSecrets.map((name) => ({ name })) } : {}),
            securityContext: { runAsNonRoot: true, fsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'controller',
                image: images.controller,
                imagePullPolicy: images.pullPolicy,
                command: ['node', 'dist/src/monitoring/main.js'],
                workingDir: '/opt/kstack',
                env: [
                  { name: 'MONITOR_PORT', value: String(MONITOR_PORT) },
                  { name: 'SCRAPE_INTERVAL', value: s.scrapeInterval },
                  { name: 'EVALUATION_INTERVAL', value: s.evaluationInterval },
                  { name: 'CLUSTER_NAME', value: s.clusterName },
                  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                ],
                ports: [{ name: 'health', containerPort: MONITOR_PORT }],
                readinessProbe: httpProbe('/healthz', MONITOR_PORT),
                resources: { requests: { cpu: '20m', memory: '64Mi' }, limits: { memory: '256Mi' } },
                securityContext: restricted,
                volumeMounts: [{ name: 'config', mountPath: CONFIG_DIR }],
              },
              {
                name: 'prometheus',
                image: images.monitoring,
                imagePullPolicy: images.pullPolicy,
                command: afterFile('prometheus.yml', [
                  '/usr/bin/prometheus',
                  `--config.file=${CONFIG_DIR}/prometheus.yml`,
                  '--storage.tsdb.path=/prometheus',
                  `--storage.tsdb.retention.time=${s.retention}`,
                  `--web.listen-address=:${PROMETHEUS_PORT}`,
                  '--web.enable-lifecycle',
                  `--rules.alert.resend-delay=${s.resendDelay}`,
                ]),
                ports: [{ name: 'prometheus', containerPort: PROMETHEUS_PORT }],
                readinessProbe: httpProbe('/-/ready', PROMETHEUS_PORT),
                resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '1Gi' } },
                securityContext: restricted,
                volumeMounts: [
                  { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
                  { name: 'prometheus-data', mountPath: '/prometheus' },
                ],
              },
              {
                name: 'alertmanager',
                image: images.monitoring,
                imagePullPolicy: images.pullPolicy,
                command: afterFile('alertmanager.yml', [
                  '/usr/bin/prometheus-alertmanager',
                  `--config.file=${CONFIG_DIR}/alertmanager.yml`,
                  '--storage.path=/alertmanager',
                  `--web.listen-address=:${ALERTMANAGER_PORT}`,
                  // One Alertmanager: no gossip port (an empty address turns clustering off).
                  '--cluster.listen-address=',
                ]),
                ports: [{ name: 'alertmanager', containerPort: ALERTMANAGER_PORT }],
                readinessProbe: httpProbe('/-/ready', ALERTMANAGER_PORT),
                resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '256Mi' } },
                securityContext: restricted,
                volumeMounts: [
                  { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
                  { name: 'alertmanager-data', mountPath: '/alertmanager' },
                ],
              },
            ],
            volumes: [
              { name: 'config', emptyDir: {} },
              { name: 'prometheus-data', emptyDir: {} },
              { name: 'alertmanager-data', emptyDir: {} },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(MONITORING_NAME),
      spec: {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        selector: labels,
        ports: [
          { name: 'health', port: MONITOR_PORT, targetPort: 'health' },
          { name: 'prometheus', port: PROMETHEUS_PORT, targetPort: 'prometheus' },
          { name: 'alertmanager', port: ALERTMANAGER_PORT, targetPort: 'alertmanager' },
        ],
      },
    },
  ];
}

/** The Secret users' alert destinations are read from (kstack up --alert-webhook / --alert-slack). */
export function receiversSecret(receivers: Receivers): object {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(RECEIVERS_SECRET),
    type: 'Opaque',
    stringData: { [RECEIVERS_KEY]: `${JSON.stringify(receivers)}\n` },
  };
}
