// The evaluator against the cases of the upstream NetworkPolicy e2e suite (re-expressed: three namespaces
// x, y, z with pods a, b, c each, servers on 80 and 81 for TCP, UDP and SCTP with named ports
// serve-<port>-<protocol>), then the finer points of the API and its validation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type {
  V1LabelSelector,
  V1NetworkPolicy,
  V1NetworkPolicyEgressRule,
  V1NetworkPolicyIngressRule,
  V1NetworkPolicySpec,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import {
  buildModel,
  evaluate,
  ipEndpoint,
  podEndpoint,
  type Endpoint,
  type NamespaceInfo,
  type NetworkModel,
  type PodInfo,
  type Protocol,
} from '../../../src/netpol/evaluator.js';
import {
  compareMatrices,
  emptyObserved,
  expectedMatrix,
  formatTable,
  recordObservation,
} from '../../../src/netpol/matrix.js';

const NS = ['x', 'y', 'z'] as const;
const NAMES = ['a', 'b', 'c'] as const;
type P = { ns: string; pod: string };

/** x/a → 10.0.1.1, y/b → 10.0.2.2 … so ipBlocks can name single pods or whole namespaces. */
const podIp = (ns: string, pod: string): string => `10.0.${NS.indexOf(ns as 'x') + 1}.${NAMES.indexOf(pod as 'a') + 1}`;

const PODS: PodInfo[] = NS.flatMap((ns) =>
  NAMES.map((pod) => ({
    namespace: ns,
    name: pod,
    labels: { pod },
    ips: [podIp(ns, pod)],
    ports: (['TCP', 'UDP', 'SCTP'] as const).flatMap((protocol) =>
      [80, 81].map((port) => ({ name: `serve-${port}-${protocol.toLowerCase()}`, port, protocol })),
    ),
  })),
);

const np = (ns: string, name: string, spec: V1NetworkPolicySpec): V1NetworkPolicy => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace: ns, name },
  spec,
});
const labels = (matchLabels: Record<string, string>): V1LabelSelector => ({ matchLabels });
const nsIs = (ns: string): V1LabelSelector => labels({ 'kubernetes.io/metadata.name': ns });
const ALL: V1LabelSelector = {};
/** Isolates the selected pods for ingress with exactly these rules. */
const ingressPolicy = (
  ns: string,
  name: string,
  podSelector: V1LabelSelector,
  ...ingress: V1NetworkPolicyIngressRule[]
): V1NetworkPolicy => np(ns, name, { podSelector, policyTypes: ['Ingress'], ingress });
const egressPolicy = (
  ns: string,
  name: string,
  podSelector: V1LabelSelector,
  ...egress: V1NetworkPolicyEgressRule[]
): V1NetworkPolicy => np(ns, name, { podSelector, policyTypes: ['Egress'], egress });

function model(policies: V1NetworkPolicy[], pods: PodInfo[] = PODS): NetworkModel {
  return buildModel({ namespaces: NS.map((name) => ({ name })), pods, policies });
}

interface Probe {
  port: number;
  protocol?: Protocol;
  expect: (from: P, to: P) => boolean;
}

interface Case {
  name: string;
  policies: V1NetworkPolicy[];
  probes: Probe[];
}

const is = (p: P, id: string): boolean => `${p.ns}/${p.pod}` === id;

/**
 * Every pod to every other pod (loopback left out, as upstream does) on each probe's port: the whole
 * expected matrix must equal the truth table. A failure prints both as tables via the matrix module.
 */
function checkCase(c: Case): void {
  const m = model(c.policies);
  const sources = PODS.map((p) => podEndpoint(p.namespace, p.name));
  for (const probe of c.probes) {
    const targets = sources.map((to) => ({ to, port: probe.port, protocol: probe.protocol ?? 'TCP' }));
    const expected = expectedMatrix(m, sources, targets);
    const truth = emptyObserved();
    for (const from of PODS) {
      for (const to of PODS) {
        const f = { ns: from.namespace, pod: from.name };
        const t = { ns: to.namespace, pod: to.name };
        const column =
          `${t.ns}/${t.pod}:${probe.port}` + ((probe.protocol ?? 'TCP') === 'TCP' ? '' : `/${probe.protocol ?? ''}`);
        recordObservation(truth, `${f.ns}/${f.pod}`, column, { result: probe.expect(f, t) ? 'open' : 'closed' });
      }
    }
    const cmp = compareMatrices(expected, truth, { ignoreLoopback: true });
    assert.ok(
      cmp.ok,
      `${c.name}, port ${probe.port}/${probe.protocol ?? 'TCP'}: ` +
        `evaluator (first) ≠ truth table (second)\n${formatTable(cmp)}`,
    );
  }
}

const tcp = (port: number, expect: Probe['expect']): Probe => ({ port, expect });

const UPSTREAM: Case[] = [
  {
    name: 'default-deny-ingress',
    policies: [ingressPolicy('x', 'deny-ingress', ALL)],
    probes: [tcp(80, (_f, t) => t.ns !== 'x')],
  },
  {
    name: 'default-deny-all',
    policies: [np('x', 'deny-all', { podSelector: ALL, policyTypes: ['Ingress', 'Egress'] })],
    probes: [tcp(80, (f, t) => f.ns !== 'x' && t.ns !== 'x')],
  },
  {
    name: 'allow from a pod of the server namespace by podSelector',
    policies: [
      ingressPolicy('x', 'x-a-allows-x-b', labels({ pod: 'a' }), { _from: [{ podSelector: labels({ pod: 'b' }) }] }),
    ],
    probes: [tcp(80, (f, t) => !is(t, 'x/a') || is(f, 'x/b'))],
  },
  {
    name: 'default deny, then allow ingress to one target from everywhere',
    policies: [
      ingressPolicy('x', 'deny-all', ALL),
      ingressPolicy('x', 'allow-all-to-a', labels({ pod: 'a' }), {
        _from: [{ podSelector: ALL, namespaceSelector: ALL }],
      }),
    ],
    probes: [tcp(80, (_f, t) => t.ns !== 'x' || t.pod === 'a')],
  },
  {
    name: 'allow from pods in all namespaces (empty namespaceSelector)',
    policies: [
      ingressPolicy('x', 'allow-from-another-ns', labels({ pod: 'a' }), { _from: [{ namespaceSelector: labels({}) }] }),
    ],
    probes: [tcp(80, () => true)],
  },
  {
    name: 'allow only from another namespace by namespaceSelector (default namespace label)',
    policies: [ingressPolicy('x', 'allow-y', labels({ pod: 'a' }), { _from: [{ namespaceSelector: nsIs('y') }] })],
    probes: [tcp(80, (f, t) => !is(t, 'x/a') || f.ns === 'y')],
  },
  {
    name: 'podSelector with matchExpressions',
    policies: [
      ingressPolicy('x', 'x-a-allows-x-b', labels({ pod: 'a' }), {
        _from: [{ podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b'] }] } }],
      }),
    ],
    probes: [tcp(80, (f, t) => !is(t, 'x/a') || is(f, 'x/b'))],
  },
  {
    name: 'namespaceSelector with matchExpressions',
    policies: [
      ingressPolicy('x', 'allow-y', labels({ pod: 'a' }), {
        _from: [
          {
            namespaceSelector: {
              matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['y'] }],
            },
          },
        ],
      }),
    ],
    probes: [tcp(80, (f, t) => !is(t, 'x/a') || f.ns === 'y')],
  },
  {
    name: 'podSelector OR namespaceSelector (two peers)',
    policies: [
      ingressPolicy('x', 'or', labels({ pod: 'a' }), {
        _from: [
          {
            namespaceSelector: {
              matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['x'] }],
            },
          },
          { podSelector: labels({ pod: 'b' }) },
        ],
      }),
    ],
    probes: [tcp(80, (f, t) => !is(t, 'x/a') || f.ns !== 'x' || is(f, 'x/b'))],
  },
  {
    name: 'podSelector AND namespaceSelector (one peer)',
    policies: [
      ingressPolicy('x', 'and', labels({ pod: 'a' }), {
        _from: [
          {
            namespaceSelector: {
              matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['x'] }],
            },
            podSelector: labels({ pod: 'b' }),
          },
        ],
      }),
    ],
    probes: [tcp(80, (f, t) => !is(t, 'x/a') || (f.ns !== 'x' && f.pod === 'b'))],
  },
  {
    name: 'multiple pods (In b, c) in namespaces other than x',
    policies: [
      ingressPolicy('x', 'and-in', labels({ pod: 'a' }), {
        _from: [
          {
            namespaceSelector: {
              matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['x'] }],
            },
            podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b', 'c'] }] },
          },
        ],
      }),
    ],
    probes: [tcp(80, (f, t) => !is(t, 'x/a') || (f.ns !== 'x' && f.pod !== 'a'))],
  },
  {
    name: 'any of several podSelectors (same namespace only)',
    policies: [
      ingressPolicy('x', 'b-or-c', labels({ pod: 'a' }), {
        _from: [{ podSelector: labels({ pod: 'b' }) }, { podSelector: labels({ pod: 'c' }) }],
      }),
    ],
    probes: [tcp(80, (f, t) => !is(t, 'x/a') || is(f, 'x/b') || is(f, 'x/c'))],
  },
  {
    name: 'only from one pod of another namespace',
    policies: [
      ingressPolicy('x', 'y-a', labels({ pod: 'a' }), {
        _from: [{ namespaceSelector: nsIs('y'), podSelector: labels({ pod: 'a' }) }],
      }),
    ],
    probes: [tcp(80, (f, t) => !is(t, 'x/a') || is(f, 'y/a'))],
  },
  {
    name: 'ports: only 81 from namespace y',
    policies: [
      ingressPolicy('x', 'allow-81', labels({ pod: 'a' }), {
        _from: [{ namespaceSelector: nsIs('y') }],
        ports: [{ port: 81, protocol: 'TCP' }],
      }),
    ],
    probes: [tcp(81, (f, t) => !is(t, 'x/a') || f.ns === 'y'), tcp(80, (_f, t) => !is(t, 'x/a'))],
  },
  {
    name: 'stacked policies with overlapping podSelectors open both ports',
    policies: [
      ingressPolicy('x', 'allow-81', labels({ pod: 'a' }), {
        _from: [{ namespaceSelector: nsIs('y') }],
        ports: [{ port: 81, protocol: 'TCP' }],
      }),
      ingressPolicy('x', 'allow-80', labels({ pod: 'a' }), {
        _from: [{ namespaceSelector: nsIs('y') }],
        ports: [{ port: 80, protocol: 'TCP' }],
      }),
    ],
    probes: [80, 81].map((port) => tcp(port, (f, t) => !is(t, 'x/a') || f.ns === 'y')),
  },
  {
    name: 'allow-all (one empty ingress rule)',
    policies: [ingressPolicy('x', 'allow-all', ALL, {})],
    probes: [tcp(80, () => true), tcp(81, () => true)],
  },
  {
    name: 'ingress on one named port',
    policies: [ingressPolicy('x', 'named', ALL, { ports: [{ port: 'serve-81-tcp' }] })],
    probes: [tcp(81, () => true), tcp(80, (_f, t) => t.ns !== 'x')],
  },
  {
    name: 'ingress from a namespace on one named port',
    policies: [
      ingressPolicy('x', 'named-y', labels({ pod: 'a' }), {
        _from: [{ namespaceSelector: nsIs('y') }],
        ports: [{ port: 'serve-80-tcp', protocol: 'TCP' }],
      }),
    ],
    probes: [tcp(80, (f, t) => !is(t, 'x/a') || f.ns === 'y'), tcp(81, (_f, t) => !is(t, 'x/a'))],
  },
  {
    name: 'egress on one named port (resolved against the destination pod)',
    policies: [egressPolicy('x', 'egress-80', ALL, { ports: [{ port: 'serve-80-tcp' }] })],
    probes: [tcp(80, () => true), tcp(81, (f) => f.ns !== 'x')],
  },
  {
    name: 'an Ingress policy with an empty rule list denies all (the "updated to deny-all" state)',
    policies: [np('x', 'deny', { podSelector: ALL, ingress: [] })],
    probes: [tcp(81, (_f, t) => t.ns !== 'x')],
  },
  {
    name: 'deny ingress from other namespaces (empty podSelector peer = own namespace)',
    policies: [ingressPolicy('x', 'same-ns', ALL, { _from: [{ podSelector: labels({}) }] })],
    probes: [tcp(80, (f, t) => t.ns !== 'x' || f.ns === 'x')],
  },
  {
    name: 'deny ingress to a pod selected by label',
    policies: [ingressPolicy('x', 'deny-b', labels({ pod: 'b' }))],
    probes: [tcp(80, (_f, t) => !is(t, 'x/b'))],
  },
  {
    name: 'deny egress from one pod',
    policies: [egressPolicy('x', 'deny-egress-a', labels({ pod: 'a' }))],
    probes: [tcp(80, (f) => !is(f, 'x/a'))],
  },
  {
    name: 'deny egress from all pods of a namespace',
    policies: [egressPolicy('x', 'deny-egress', ALL)],
    probes: [tcp(80, (f) => f.ns !== 'x')],
  },
  {
    name: 'Ingress and Egress in one policy',
    policies: [
      np('x', 'both', {
        podSelector: labels({ pod: 'a' }),
        policyTypes: ['Egress', 'Ingress'],
        ingress: [{ _from: [{ podSelector: labels({ pod: 'b' }) }] }],
        egress: [{ ports: [{ port: 80 }] }],
      }),
    ],
    probes: [
      tcp(80, (f, t) => !is(t, 'x/a') || is(f, 'x/b')),
      tcp(81, (f, t) => (!is(t, 'x/a') || is(f, 'x/b')) && !is(f, 'x/a')),
    ],
  },
  {
    name: 'egress deny at the client wins over ingress allowed at the server',
    policies: [
      egressPolicy('x', 'to-y-a', labels({ pod: 'a' }), {
        to: [{ namespaceSelector: nsIs('y'), podSelector: labels({ pod: 'a' }) }],
      }),
      ingressPolicy('y', 'from-x-a-on-a', labels({ pod: 'a' }), {
        _from: [{ namespaceSelector: nsIs('x'), podSelector: labels({ pod: 'a' }) }],
      }),
      ingressPolicy('y', 'from-x-a-on-b', labels({ pod: 'b' }), {
        _from: [{ namespaceSelector: nsIs('x'), podSelector: labels({ pod: 'a' }) }],
      }),
    ],
    probes: [
      tcp(80, (f, t) => {
        if (is(f, 'x/a')) return is(t, 'y/a');
        return !is(t, 'y/a') && !is(t, 'y/b');
      }),
    ],
  },
  {
    name: 'egress to a server in another namespace by pod and namespace selector',
    policies: [
      egressPolicy('x', 'to-y-a', labels({ pod: 'a' }), {
        to: [{ namespaceSelector: nsIs('y'), podSelector: labels({ pod: 'a' }) }],
      }),
    ],
    probes: [tcp(80, (f, t) => !is(f, 'x/a') || is(t, 'y/a'))],
  },
  {
    name: 'any port on one protocol (ports entry without port)',
    policies: [ingressPolicy('x', 'tcp-only', labels({ pod: 'a' }), { ports: [{ protocol: 'TCP' }] })],
    probes: [tcp(80, () => true), { port: 80, protocol: 'UDP', expect: (_f, t) => !is(t, 'x/a') }],
  },
  {
    name: 'ingress allow-all policy added to a port-80-only one',
    policies: [ingressPolicy('x', 'port-80', ALL, { ports: [{ port: 80 }] }), ingressPolicy('x', 'allow-all', ALL, {})],
    probes: [tcp(81, () => true)],
  },
  {
    name: 'ingress port-80-only policy alone',
    policies: [ingressPolicy('x', 'port-80', ALL, { ports: [{ port: 80 }] })],
    probes: [tcp(81, (_f, t) => t.ns !== 'x'), tcp(80, () => true)],
  },
  {
    name: 'egress allow-all policy added to a port-80-only one',
    policies: [egressPolicy('x', 'port-80', ALL, { ports: [{ port: 80 }] }), egressPolicy('x', 'allow-all', ALL, {})],
    probes: [tcp(81, () => true)],
  },
  {
    name: 'egress port-80-only policy alone',
    policies: [egressPolicy('x', 'port-80', ALL, { ports: [{ port: 80 }] })],
    probes: [tcp(81, (f) => f.ns !== 'x')],
  },
  {
    name: 'no policies: everything open (policies deleted)',
    policies: [],
    probes: [tcp(80, () => true), { port: 81, protocol: 'UDP', expect: () => true }],
  },
  {
    name: 'egress to a server in a CIDR block (/32 of a pod IP)',
    policies: [
      egressPolicy('x', 'cidr', labels({ pod: 'a' }), { to: [{ ipBlock: { cidr: `${podIp('y', 'b')}/32` } }] }),
    ],
    probes: [tcp(80, (f, t) => !is(f, 'x/a') || is(t, 'y/b'))],
  },
  {
    name: 'ipBlock except',
    policies: [
      egressPolicy('x', 'cidr-except', labels({ pod: 'a' }), {
        to: [{ ipBlock: { cidr: '10.0.0.0/16', except: [`${podIp('x', 'b')}/32`] } }],
      }),
    ],
    probes: [tcp(80, (f, t) => !(is(f, 'x/a') && is(t, 'x/b')))],
  },
  {
    name: "an IP in both a CIDR and another block's except is allowed (union)",
    policies: [
      egressPolicy('x', 'cidr-except', labels({ pod: 'a' }), {
        to: [{ ipBlock: { cidr: '10.0.0.0/16', except: [`${podIp('x', 'b')}/32`] } }],
      }),
      egressPolicy('x', 'cidr-b', labels({ pod: 'a' }), { to: [{ ipBlock: { cidr: `${podIp('x', 'b')}/32` } }] }),
    ],
    probes: [tcp(80, () => true)],
  },
  {
    name: 'ingress and egress are controlled independently',
    policies: [
      egressPolicy('x', 'egress-all', labels({ pod: 'a' }), {}),
      ingressPolicy('x', 'deny-in', labels({ pod: 'a' })),
    ],
    probes: [tcp(80, (_f, t) => !is(t, 'x/a'))],
  },
  {
    name: 'protocol SCTP is not TCP (default deny + SCTP allow)',
    policies: [
      ingressPolicy('x', 'deny', ALL),
      ingressPolicy('x', 'sctp-81', labels({ pod: 'a' }), { ports: [{ port: 81, protocol: 'SCTP' }] }),
    ],
    probes: [
      tcp(81, (_f, t) => t.ns !== 'x'),
      { port: 81, protocol: 'SCTP', expect: (_f, t) => t.ns !== 'x' || t.pod === 'a' },
    ],
  },
  {
    name: 'an SCTP-only policy isolates the pod for TCP',
    policies: [ingressPolicy('x', 'sctp-80', labels({ pod: 'a' }), { ports: [{ port: 80, protocol: 'SCTP' }] })],
    probes: [tcp(81, (_f, t) => !is(t, 'x/a'))],
  },
  {
    name: 'a UDP-only policy does not allow TCP',
    policies: [ingressPolicy('x', 'udp-81', labels({ pod: 'a' }), { ports: [{ port: 81, protocol: 'UDP' }] })],
    probes: [tcp(81, (_f, t) => !is(t, 'x/a')), { port: 81, protocol: 'UDP', expect: () => true }],
  },
  {
    name: 'egress by NotIn on the default namespace label',
    policies: [
      egressPolicy('x', 'not-y', labels({ pod: 'a' }), {
        to: [
          {
            namespaceSelector: {
              matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['y'] }],
            },
          },
        ],
      }),
    ],
    probes: [tcp(80, (f, t) => !is(f, 'x/a') || t.ns !== 'y')],
  },
  // The same truth tables over UDP and SCTP.
  ...(['UDP', 'SCTP'] as const).flatMap((protocol): Case[] => [
    {
      name: `${protocol}: default-deny-ingress`,
      policies: [ingressPolicy('x', 'deny', ALL)],
      probes: [{ port: 80, protocol, expect: (_f, t) => t.ns !== 'x' }],
    },
    {
      name: `${protocol}: ports from a namespace`,
      policies: [
        ingressPolicy('x', 'p81', labels({ pod: 'a' }), {
          _from: [{ namespaceSelector: nsIs('y') }],
          ports: [{ port: 81, protocol }],
        }),
      ],
      probes: [
        { port: 81, protocol, expect: (f, t) => !is(t, 'x/a') || f.ns === 'y' },
        tcp(81, (_f, t) => !is(t, 'x/a')),
      ],
    },
    {
      name: `${protocol}: only from one pod of another namespace`,
      policies: [
        ingressPolicy('x', 'y-a', labels({ pod: 'a' }), {
          _from: [{ namespaceSelector: nsIs('y'), podSelector: labels({ pod: 'a' }) }],
        }),
      ],
      probes: [{ port: 80, protocol, expect: (f, t) => !is(t, 'x/a') || is(f, 'y/a') }],
    },
  ]),
];

const MORE: Case[] = [
  {
    name: 'port range with endPort (ingress)',
    policies: [
      ingressPolicy('x', 'range', labels({ pod: 'a' }), {
        _from: [{ namespaceSelector: nsIs('y') }],
        ports: [{ port: 80, endPort: 82 }],
      }),
    ],
    probes: [79, 80, 81, 82, 83].map((port) =>
      tcp(port, (f, t) => !is(t, 'x/a') || (f.ns === 'y' && port >= 80 && port <= 82)),
    ),
  },
  {
    name: 'port range with endPort (egress, UDP)',
    policies: [egressPolicy('x', 'range', ALL, { ports: [{ port: 1000, endPort: 2000, protocol: 'UDP' }] })],
    probes: [
      { port: 1000, protocol: 'UDP', expect: () => true },
      { port: 2000, protocol: 'UDP', expect: () => true },
      { port: 2001, protocol: 'UDP', expect: (f) => f.ns !== 'x' },
      tcp(1500, (f) => f.ns !== 'x'),
    ],
  },
  {
    name: 'policies in other namespaces do not affect this one (same selector)',
    policies: [ingressPolicy('y', 'deny-a', labels({ pod: 'a' })), egressPolicy('z', 'deny-all', ALL)],
    probes: [tcp(80, (f, t) => !is(t, 'y/a') && f.ns !== 'z')],
  },
  {
    name: 'a rule with "from: []" admits every peer (same as no from)',
    policies: [ingressPolicy('x', 'empty-from', ALL, { _from: [], ports: [{ port: 80 }] })],
    probes: [tcp(80, () => true), tcp(81, (_f, t) => t.ns !== 'x')],
  },
  {
    name: 'matchExpressions Exists / DoesNotExist / NotIn on a missing label',
    policies: [
      ingressPolicy('x', 'exists', labels({ pod: 'a' }), {
        _from: [
          {
            namespaceSelector: ALL,
            podSelector: {
              matchExpressions: [
                { key: 'pod', operator: 'Exists' },
                { key: 'tier', operator: 'DoesNotExist' },
                { key: 'tier', operator: 'NotIn', values: ['db'] },
              ],
            },
          },
        ],
      }),
      ingressPolicy('x', 'nobody', labels({ pod: 'b' }), {
        _from: [{ podSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] } }],
      }),
    ],
    probes: [tcp(80, (_f, t) => !is(t, 'x/b'))],
  },
  {
    name: 'policyTypes [Egress] ignores ingress rules: the pod is not isolated for ingress',
    policies: [
      np('x', 'egress-only', {
        podSelector: ALL,
        policyTypes: ['Egress'],
        ingress: [{ _from: [{ podSelector: labels({ pod: 'none' }) }] }],
        egress: [{}],
      }),
    ],
    probes: [tcp(80, () => true)],
  },
  {
    name: 'policyTypes defaults to Ingress + Egress when egress rules exist',
    policies: [
      np('x', 'defaulted', { podSelector: labels({ pod: 'a' }), egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] }),
    ],
    probes: [tcp(80, (f, t) => !is(t, 'x/a') && !is(f, 'x/a'))],
  },
  {
    name: 'policyTypes defaults to Ingress only when egress is an empty list',
    policies: [np('x', 'defaulted', { podSelector: labels({ pod: 'a' }), ingress: [{}], egress: [] })],
    probes: [tcp(80, () => true)],
  },
  {
    name: 'a named port whose protocol differs does not match',
    policies: [ingressPolicy('x', 'udp-name-on-tcp', ALL, { ports: [{ port: 'serve-80-udp', protocol: 'TCP' }] })],
    probes: [tcp(80, (_f, t) => t.ns !== 'x'), { port: 80, protocol: 'UDP', expect: (_f, t) => t.ns !== 'x' }],
  },
  {
    name: "ipBlock ingress by pod IPs (a whole namespace's /24)",
    policies: [
      ingressPolicy('x', 'from-z-net', labels({ pod: 'a' }), { _from: [{ ipBlock: { cidr: '10.0.3.0/24' } }] }),
    ],
    probes: [tcp(80, (f, t) => !is(t, 'x/a') || f.ns === 'z')],
  },
];

describe('NetworkPolicy evaluator: the upstream e2e truth tables', () => {
  it('(the harness itself fails on a wrong truth table, and shows both tables)', () => {
    const wrong: Case = { name: 'wrong', policies: [ingressPolicy('x', 'deny', ALL)], probes: [tcp(80, () => true)] };
    assert.throws(() => {
      checkCase(wrong);
    }, /x\/b\s+✗≠✓/);
  });
  for (const c of UPSTREAM)
    it(c.name, () => {
      checkCase(c);
    });
});

describe('NetworkPolicy evaluator: more of the API', () => {
  for (const c of MORE)
    it(c.name, () => {
      checkCase(c);
    });

  it('follows namespace and pod labels (the upstream "updated namespace" / "updated pod" cases)', () => {
    const policies = [
      ingressPolicy('x', 'from-ns2', labels({ pod: 'a' }), {
        _from: [{ namespaceSelector: labels({ ns2: 'updated' }) }],
      }),
      ingressPolicy('x', 'from-pod2', labels({ pod: 'a' }), {
        _from: [{ podSelector: labels({ pod: 'b', pod2: 'updated' }) }],
      }),
    ];
    const probe = (m: NetworkModel, from: Endpoint) =>
      evaluate(m, { from, to: podEndpoint('x', 'a'), port: 80 }).allowed;
    const before = model(policies);
    assert.equal(probe(before, podEndpoint('y', 'a')), false);
    assert.equal(probe(before, podEndpoint('x', 'b')), false);
    const after = buildModel({
      namespaces: NS.map((name): NamespaceInfo => ({ name, labels: name === 'y' ? { ns2: 'updated' } : {} })),
      pods: PODS.map((p) =>
        p.namespace === 'x' && p.name === 'b' ? { ...p, labels: { pod: 'b', pod2: 'updated' } } : p,
      ),
      policies,
    });
    assert.equal(probe(after, podEndpoint('y', 'a')), true);
    assert.equal(probe(after, podEndpoint('x', 'b')), true);
    assert.equal(probe(after, podEndpoint('z', 'a')), false);
  });

  it('named ports in egress resolve against the destination pod: a pod without that name is not reached', () => {
    const pods: PodInfo[] = [
      { namespace: 'x', name: 'client', labels: { app: 'client' }, ips: ['10.0.1.10'] },
      { namespace: 'y', name: 'db', labels: { app: 'db' }, ips: ['10.0.2.10'], ports: [{ name: 'mysql', port: 3306 }] },
      {
        namespace: 'y',
        name: 'other',
        labels: { app: 'other' },
        ips: ['10.0.2.11'],
        ports: [{ name: 'sql', port: 3306 }],
      },
    ];
    const m = model(
      [egressPolicy('x', 'mysql-out', ALL, { to: [{ namespaceSelector: ALL }], ports: [{ port: 'mysql' }] })],
      pods,
    );
    assert.equal(
      evaluate(m, { from: podEndpoint('x', 'client'), to: podEndpoint('y', 'db'), port: 3306 }).allowed,
      true,
    );
    assert.equal(
      evaluate(m, { from: podEndpoint('x', 'client'), to: podEndpoint('y', 'other'), port: 3306 }).allowed,
      false,
    );
    assert.equal(
      evaluate(m, { from: podEndpoint('x', 'client'), to: podEndpoint('y', 'db'), port: 3307 }).allowed,
      false,
    );
    assert.equal(
      evaluate(m, { from: podEndpoint('x', 'client'), to: ipEndpoint('192.0.2.1'), port: 3306 }).allowed,
      false,
      'an IP has no named ports',
    );
  });

  it('external sources are matched by ipBlock only, with except', () => {
    const m = model([
      ingressPolicy('x', 'from-lan', labels({ pod: 'a' }), {
        _from: [{ ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.1.0/24'] } }],
      }),
    ]);
    const to = podEndpoint('x', 'a');
    const from = (ip: string): Endpoint => ipEndpoint(ip);
    assert.equal(evaluate(m, { from: from('192.168.2.5'), to, port: 80 }).allowed, true);
    assert.equal(evaluate(m, { from: from('192.168.1.5'), to, port: 80 }).allowed, false);
    assert.equal(evaluate(m, { from: from('10.9.9.9'), to, port: 80 }).allowed, false);
    assert.equal(evaluate(m, { from: podEndpoint('x', 'b'), to, port: 80 }).allowed, false);
    const v = evaluate(m, { from: from('192.168.2.5'), to, port: 80 });
    assert.equal(v.egress, undefined, 'no egress side for a source outside the cluster');
    assert.deepEqual(v.ingress, {
      isolated: true,
      allowed: true,
      selectedBy: ['x/from-lan'],
      allowedBy: ['x/from-lan'],
    });
  });

  it("an IP endpoint that is a pod's address is treated as that pod", () => {
    const m = model([
      ingressPolicy('x', 'from-y-a', labels({ pod: 'a' }), {
        _from: [{ namespaceSelector: nsIs('y'), podSelector: labels({ pod: 'a' }) }],
      }),
    ]);
    const v = evaluate(m, { from: ipEndpoint(podIp('y', 'a')), to: podEndpoint('x', 'a'), port: 80 });
    assert.equal(v.allowed, true);
    assert.ok(v.egress, "the source pod's egress side is evaluated");
    assert.equal(
      evaluate(m, { from: ipEndpoint(podIp('y', 'b')), to: podEndpoint('x', 'a'), port: 80 }).allowed,
      false,
    );
  });

  it('egress to external destinations: only the source side counts', () => {
    const m = model([
      egressPolicy('x', 'internet', ALL, { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] }),
    ]);
    assert.equal(evaluate(m, { from: podEndpoint('x', 'a'), to: ipEndpoint('203.0.113.7'), port: 443 }).allowed, true);
    assert.equal(evaluate(m, { from: podEndpoint('x', 'a'), to: ipEndpoint('10.200.0.1'), port: 443 }).allowed, false);
    assert.equal(
      evaluate(m, { from: podEndpoint('x', 'a'), to: podEndpoint('y', 'a'), port: 80 }).allowed,
      false,
      'pod IPs are in 10/8',
    );
    assert.equal(
      evaluate(m, { from: podEndpoint('x', 'a'), to: ipEndpoint('2001:db8::1'), port: 443 }).allowed,
      false,
      'an IPv4 block never matches IPv6',
    );
  });

  it('dual-stack pods: an ipBlock of either family matches the pod', () => {
    const pods: PodInfo[] = [
      { namespace: 'x', name: 'a', labels: {}, ips: ['10.0.1.1', 'fd00:1::1'] },
      { namespace: 'y', name: 'b', labels: {}, ips: ['10.0.2.1', 'fd00:2::1'] },
    ];
    const m = model([ingressPolicy('y', 'v6', ALL, { _from: [{ ipBlock: { cidr: 'fd00:1::/64' } }] })], pods);
    assert.equal(evaluate(m, { from: podEndpoint('x', 'a'), to: podEndpoint('y', 'b'), port: 80 }).allowed, true);
  });

  it('a pod can always reach itself, and traffic between a pod and its own node is always allowed', () => {
    const pods: PodInfo[] = [
      { namespace: 'x', name: 'a', labels: {}, ips: ['10.0.1.1'], hostIP: '192.168.50.1' },
      { namespace: 'x', name: 'b', labels: {}, ips: ['10.0.1.2'], hostIP: '192.168.50.2' },
    ];
    const m = model([np('x', 'deny-all', { podSelector: ALL, policyTypes: ['Ingress', 'Egress'] })], pods);
    const self = evaluate(m, { from: podEndpoint('x', 'a'), to: podEndpoint('x', 'a'), port: 80 });
    assert.equal(self.allowed, true);
    assert.equal(self.exception, 'allowed: a pod cannot block traffic to itself');
    assert.equal(self.ingress?.allowed, false, 'the rules alone would deny it');
    assert.equal(evaluate(m, { from: ipEndpoint('192.168.50.1'), to: podEndpoint('x', 'a'), port: 80 }).allowed, true);
    assert.equal(
      evaluate(m, { from: podEndpoint('x', 'a'), to: ipEndpoint('192.168.50.1'), port: 10250 }).allowed,
      true,
    );
    assert.equal(
      evaluate(m, { from: ipEndpoint('192.168.50.2'), to: podEndpoint('x', 'a'), port: 80 }).allowed,
      false,
      'another node is not exempt',
    );
    assert.equal(evaluate(m, { from: podEndpoint('x', 'b'), to: podEndpoint('x', 'a'), port: 80 }).allowed, false);
  });

  it('explains a verdict: which policies isolate, which allow', () => {
    const m = model([
      ingressPolicy('x', 'deny', ALL),
      ingressPolicy('x', 'allow-y', labels({ pod: 'a' }), { _from: [{ namespaceSelector: nsIs('y') }] }),
      egressPolicy('y', 'deny-out', labels({ pod: 'c' })),
    ]);
    const ok = evaluate(m, { from: podEndpoint('y', 'a'), to: podEndpoint('x', 'a'), port: 80 });
    assert.deepEqual(ok.ingress, {
      isolated: true,
      allowed: true,
      selectedBy: ['x/deny', 'x/allow-y'],
      allowedBy: ['x/allow-y'],
    });
    assert.equal(ok.reason, 'egress from y/a: allowed (no policy selects it); ingress to x/a: allowed by x/allow-y');
    const denied = evaluate(m, { from: podEndpoint('y', 'c'), to: podEndpoint('x', 'b'), port: 80 });
    assert.equal(denied.allowed, false);
    assert.match(
      denied.reason,
      /^egress from y\/c: denied \(isolated by y\/deny-out; no rule admits this peer and port\); ingress to x\/b: denied \(isolated by x\/deny;/,
    );
  });

  it('accepts policies as plain objects parsed from YAML ("from", nulls)', () => {
    const policy = parse(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: from-y, namespace: x }
spec:
  podSelector:
    matchLabels: { pod: a }
  ingress:
    - from:
        - namespaceSelector:
            matchLabels: { kubernetes.io/metadata.name: y }
          podSelector:
      ports:
        - port: 80
          protocol:
`) as V1NetworkPolicy;
    const m = model([policy]);
    assert.equal(evaluate(m, { from: podEndpoint('y', 'b'), to: podEndpoint('x', 'a'), port: 80 }).allowed, true);
    assert.equal(evaluate(m, { from: podEndpoint('z', 'b'), to: podEndpoint('x', 'a'), port: 80 }).allowed, false);
    assert.equal(evaluate(m, { from: podEndpoint('y', 'b'), to: podEndpoint('x', 'a'), port: 81 }).allowed, false);
  });

  it('gives every namespace its kubernetes.io/metadata.name label, whatever it was given', () => {
    const m = buildModel({
      namespaces: [{ name: 'x', labels: { team: 'a', 'kubernetes.io/metadata.name': 'wrong' } }],
      pods: [],
      policies: [],
    });
    assert.deepEqual(m.namespaces.get('x'), { team: 'a', 'kubernetes.io/metadata.name': 'x' });
  });
});

describe('NetworkPolicy validation', () => {
  const bad = (spec: unknown): V1NetworkPolicy => np('x', 'bad', spec as V1NetworkPolicySpec);
  for (const [what, spec, msg] of [
    [
      'endPort without port',
      { ingress: [{ ports: [{ endPort: 90 }] }] },
      /^NetworkPolicy x\/bad: spec\.ingress\[0\]\.ports\[0\]\.endPort: needs port/,
    ],
    [
      'endPort < port',
      { egress: [{ ports: [{ port: 90, endPort: 80 }] }] },
      /spec\.egress\[0\]\.ports\[0\]\.endPort: must be ≥ port \(90\), got 80/,
    ],
    [
      'a named port with endPort',
      { ingress: [{ ports: [{ port: 'http', endPort: 90 }] }] },
      /ports\[0\]\.endPort: cannot be used with the named port "http"/,
    ],
    ['a port out of range', { ingress: [{ ports: [{ port: 0 }] }] }, /ports\[0\]\.port: must be 1\.\.65535/],
    [
      'an endPort out of range',
      { ingress: [{ ports: [{ port: 1, endPort: 70000 }] }] },
      /ports\[0\]\.endPort: must be 1\.\.65535/,
    ],
    [
      'a numeric string port',
      { ingress: [{ ports: [{ port: '80' }] }] },
      /ports\[0\]\.port: "80" is neither a port number nor a valid port name/,
    ],
    ['a bad port name', { ingress: [{ ports: [{ port: 'Web_Port' }] }] }, /ports\[0\]\.port: "Web_Port"/],
    [
      'an unknown protocol',
      { ingress: [{ ports: [{ protocol: 'ICMP' }] }] },
      /ports\[0\]\.protocol: must be TCP, UDP or SCTP, got "ICMP"/,
    ],
    ['a lowercase protocol', { ingress: [{ ports: [{ protocol: 'tcp' }] }] }, /ports\[0\]\.protocol/],
    [
      'a bad CIDR',
      { ingress: [{ _from: [{ ipBlock: { cidr: '10.0.0.0/40' } }] }] },
      /spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr: "10\.0\.0\.0\/40" is not a CIDR/,
    ],
    [
      'a CIDR without prefix',
      { egress: [{ to: [{ ipBlock: { cidr: '10.0.0.1' } }] }] },
      /spec\.egress\[0\]\.to\[0\]\.ipBlock\.cidr:/,
    ],
    [
      'an except outside the cidr',
      { ingress: [{ _from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24'] } }] }] },
      /ipBlock\.except\[0\]: "10\.1\.0\.0\/24" must be a strict subset of cidr "10\.0\.0\.0\/16"/,
    ],
    [
      'an except equal to the cidr',
      { ingress: [{ _from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.0.0/16'] } }] }] },
      /except\[0\]: .* strict subset/,
    ],
    [
      'ipBlock with a selector',
      { ingress: [{ _from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] },
      /from\[0\]: ipBlock cannot be combined/,
    ],
    [
      'an empty peer',
      { ingress: [{ _from: [{}] }] },
      /from\[0\]: a peer must set podSelector, namespaceSelector or ipBlock/,
    ],
    [
      'an unknown operator',
      { podSelector: { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['b'] }] } },
      /spec\.podSelector\.matchExpressions\[0\]\.operator: unknown operator "Equals"/,
    ],
    [
      'In without values',
      { ingress: [{ _from: [{ podSelector: { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] } }] }] },
      /from\[0\]\.podSelector\.matchExpressions\[0\]\.values: must not be empty for operator In/,
    ],
    [
      'Exists with values',
      {
        ingress: [
          { _from: [{ namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] } }] },
        ],
      },
      /namespaceSelector\.matchExpressions\[0\]\.values: must be empty for operator Exists/,
    ],
    [
      'a matchExpression without key',
      { podSelector: { matchExpressions: [{ operator: 'Exists' }] } },
      /matchExpressions\[0\]\.key: must be a non-empty string/,
    ],
    [
      'a non-string label value',
      { podSelector: { matchLabels: { a: 1 } } },
      /spec\.podSelector\.matchLabels\.a: must be a string/,
    ],
    [
      'an unknown policy type',
      { policyTypes: ['Ingres'] },
      /spec\.policyTypes\[0\]: must be Ingress or Egress, got "Ingres"/,
    ],
    [
      'a repeated policy type',
      { policyTypes: ['Ingress', 'Ingress'] },
      /spec\.policyTypes\[1\]: Ingress is listed twice/,
    ],
    [
      '"to" in an ingress rule',
      { ingress: [{ to: [{ podSelector: {} }] }] },
      /spec\.ingress\[0\]\.to: ingress rules name their peers in "from"/,
    ],
    [
      '"from" in an egress rule',
      { egress: [{ from: [{ podSelector: {} }] }] },
      /spec\.egress\[0\]\.from: egress rules name their peers in "to"/,
    ],
    [
      'both "from" and "_from"',
      { ingress: [{ from: [], _from: [] }] },
      /spec\.ingress\[0\]: has both "from" and "_from"/,
    ],
    ['rules that are not a list', { ingress: { from: [] } }, /spec\.ingress: must be a list/],
    [
      'a bad rule in a direction the policy does not have',
      { policyTypes: ['Egress'], ingress: [{ ports: [{ port: 70000 }] }] },
      /spec\.ingress\[0\]\.ports\[0\]\.port/,
    ],
  ] as const) {
    it(`refuses ${what}, naming the field`, () => {
      assert.throws(() => model([bad(spec)]), { name: 'UserError', message: msg });
    });
  }

  it('refuses a policy without a namespace', () => {
    assert.throws(() => model([{ metadata: { name: 'n' }, spec: {} }]), {
      message: /^NetworkPolicy \?\/n: metadata\.namespace: must be set/,
    });
  });

  it('refuses pods in unknown namespaces, bad IPs, duplicates; and connections to unknown pods', () => {
    assert.throws(
      () => model([], [{ namespace: 'w', name: 'a' }]),
      /pod w\/a: namespace "w" is not among the namespaces given/,
    );
    assert.throws(
      () => model([], [{ namespace: 'x', name: 'a', ips: ['10.0.0.300'] }]),
      /pod x\/a: ips\[0\]: "10\.0\.0\.300" is not an IP address/,
    );
    assert.throws(
      () =>
        model(
          [],
          [
            { namespace: 'x', name: 'a' },
            { namespace: 'x', name: 'a' },
          ],
        ),
      /pod x\/a is listed twice/,
    );
    assert.throws(
      () => model([], [{ namespace: 'x', name: 'a', ports: [{ port: 99999 }] }]),
      /pod x\/a: ports\[0\]\.port/,
    );
    const m = model([]);
    assert.throws(
      () => evaluate(m, { from: podEndpoint('x', 'zz'), to: podEndpoint('x', 'a'), port: 80 }),
      /from: pod x\/zz is not in the model/,
    );
    assert.throws(
      () => evaluate(m, { from: ipEndpoint('nope'), to: podEndpoint('x', 'a'), port: 80 }),
      /from: "nope" is not an IP address/,
    );
    assert.throws(
      () => evaluate(m, { from: podEndpoint('x', 'a'), to: podEndpoint('x', 'b'), port: 0 }),
      /port: must be 1\.\.65535/,
    );
  });
});
