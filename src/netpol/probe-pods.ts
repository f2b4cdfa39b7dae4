// Pods to probe between: a target must really listen on every probed port, otherwise a "closed" cell
// proves nothing (a refused connection looks the same whether a policy or an empty port caused it).
// kstack's nginx image has nginx, bash, coreutils and perl: nginx listens on the TCP ports, perl echoes
// UDP, and bash/timeout run the probe script (probe.ts) when the pod is a source.
import type { V1Pod } from '@kubernetes/client-node';
import { imageRecipes } from '../images/recipes.js';
import { UserError } from '../util/errors.js';
import { udpEchoServerCommand } from './probe.js';

export interface ProbePodSpec {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  /** Node to run on (set directly: no scheduling, taints tolerated). */
  node?: string;
  /** TCP ports nginx listens on; names become container port names (for named ports in policies). */
  tcpPorts: readonly { port: number; name?: string }[];
  /** A UDP port with an echo server, if any. */
  udpPort?: number;
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** A pod that listens on the given ports and can run probes. */
export function probePod(spec: ProbePodSpec): V1Pod {
  if (spec.tcpPorts.length === 0)
    throw new UserError(`probe pod ${spec.namespace}/${spec.name}: tcpPorts must list at least one port`);
  for (const { port } of spec.tcpPorts) {
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new UserError(`probe pod ${spec.namespace}/${spec.name}: tcpPorts: ${port} is not a port (1-65535)`);
  }
  const listen = spec.tcpPorts.map((p) => `listen ${p.port};`).join(' ');
  // Debian's default site listens on 80; replace that line with every port asked for.
  const steps = [
    `sed -i 's/^\\s*listen 80 default_server;/${listen}/; /listen \\[::\\]:80/d' /etc/nginx/sites-enabled/default`,
  ];
  if (spec.udpPort !== undefined) steps.push(`{ ${udpEchoServerCommand(spec.udpPort).map(shellQuote).join(' ')} & }`);
  steps.push(`exec nginx -g 'daemon off;'`);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: spec.name, namespace: spec.namespace, labels: { ...spec.labels } },
    spec: {
      ...(spec.node ? { nodeName: spec.node } : {}),
      tolerations: [{ operator: 'Exists' }],
      terminationGracePeriodSeconds: 1,
      enableServiceLinks: false,
      automountServiceAccountToken: false,
      containers: [
        {
          name: 'main',
          image: imageRecipes.nginx.ref,
          imagePullPolicy: 'Never',
          command: ['bash', '-c', steps.join(' && ')],
          ports: [
            ...spec.tcpPorts.map((p) => ({
              containerPort: p.port,
              protocol: 'TCP',
              ...(p.name ? { name: p.name } : {}),
            })),
            ...(spec.udpPort !== undefined ? [{ containerPort: spec.udpPort, protocol: 'UDP' }] : []),
          ],
          resources: { requests: { cpu: '5m', memory: '16Mi' }, limits: { memory: '96Mi' } },
        },
      ],
    },
  };
}
