import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../util/exec.js';

/** One certificate of the cluster: who it names, who signs it, and what it may be used for. */
export interface CertSpec {
  /** File stem: <name>.crt and <name>.key. */
  name: string;
  commonName: string;
  organization?: string;
  /** The CA that signs it; undefined for a self-signed CA. */
  signer?: string;
  isCA?: boolean;
  usage: ('server' | 'client')[];
  dnsNames?: string[];
  ipAddresses?: string[];
  days: number;
}

export interface PkiOptions {
  /** The first address of the service range: the in-cluster address of the API server. */
  apiServiceIP: string;
  /** Extra addresses the API server is reached at (node-facing addresses, later). */
  extraApiIPs?: string[];
}

const CA_DAYS = 3650;
const LEAF_DAYS = 365;

/**
 * Every certificate the control plane uses. etcd has a CA of its own, so no cluster client certificate
 * (not even admin's) can talk to etcd directly; only the API server's etcd client can.
 */
export function certificatePlan(opts: PkiOptions): CertSpec[] {
  const loopback = { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] };
  return [
    { name: 'ca', commonName: 'kstack-ca', isCA: true, usage: [], days: CA_DAYS },
    { name: 'etcd-ca', commonName: 'kstack-etcd-ca', isCA: true, usage: [], days: CA_DAYS },
    {
      name: 'etcd-server',
      commonName: 'kstack-etcd',
      signer: 'etcd-ca',
      usage: ['server', 'client'],
      ...loopback,
      days: LEAF_DAYS,
    },
    {
      name: 'apiserver-etcd-client',
      commonName: 'kube-apiserver-etcd-client',
      signer: 'etcd-ca',
      usage: ['client'],
      days: LEAF_DAYS,
    },
    {
      name: 'apiserver',
      commonName: 'kube-apiserver',
      signer: 'ca',
      usage: ['server'],
      dnsNames: [
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
        'localhost',
      ],
      ipAddresses: ['127.0.0.1', opts.apiServiceIP, ...(opts.extraApiIPs ?? [])],
      days: LEAF_DAYS,
    },
    {
      name: 'apiserver-kubelet-client',
      commonName: 'kube-apiserver-kubelet-client',
      signer: 'ca',
      usage: ['client'],
      days: LEAF_DAYS,
    },
    {
      name: 'admin',
      commonName: 'kstack-admin',
      organization: 'system:masters',
      signer: 'ca',
      usage: ['client'],
      days: LEAF_DAYS,
    },
    {
      name: 'controller-manager',
      commonName: 'system:kube-controller-manager',
      signer: 'ca',
      usage: ['client'],
      days: LEAF_DAYS,
    },
    {
      name: 'controller-manager-serving',
      commonName: 'kube-controller-manager',
      signer: 'ca',
      usage: ['server'],
      ...loopback,
      days: LEAF_DAYS,
    },
    { name: 'scheduler', commonName: 'system:kube-scheduler', signer: 'ca', usage: ['client'], days: LEAF_DAYS },
    {
      name: 'scheduler-serving',
      commonName: 'kube-scheduler',
      signer: 'ca',
      usage: ['server'],
      ...loopback,
      days: LEAF_DAYS,
    },
    { name: 'kube-proxy', commonName: 'system:kube-proxy', signer: 'ca', usage: ['client'], days: LEAF_DAYS },
  ];
}

/** A node's own certificates: its kubelet's identity towards the API server, and its serving certificate. */
export function nodeCertificatePlan(node: { name: string; ip: string }): CertSpec[] {
  return [
    {
      name: `node-${node.name}-client`,
      commonName: `system:node:${node.name}`,
      organization: 'system:nodes',
      signer: 'ca',
      usage: ['client'],
      days: LEAF_DAYS,
    },
    {
      name: `node-${node.name}-serving`,
      commonName: `system:node:${node.name}`,
      organization: 'system:nodes',
      signer: 'ca',
      usage: ['server'],
      dnsNames: [node.name],
      ipAddresses: [node.ip],
      days: LEAF_DAYS,
    },
  ];
}

/** The openssl extension section for a certificate (pure, so the plan can be checked without openssl). */
export function extensionsFor(spec: CertSpec): string {
  const lines: string[] = [];
  if (spec.isCA) {
    lines.push(
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      'subjectKeyIdentifier=hash',
    );
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'authorityKeyIdentifier=keyid',
  );
  const eku = spec.usage.map((u) => (u === 'server' ? 'serverAuth' : 'clientAuth'));
  if (eku.length) lines.push(`extendedKeyUsage=${eku.join(',')}`);
  const sans = [...(spec.dnsNames ?? []).map((d) => `DNS:${d}`), ...(spec.ipAddresses ?? []).map((ip) => `IP:${ip}`)];
  if (sans.length) lines.push(`subjectAltName=${sans.join(',')}`);
  return `${lines.join('\n')}\n`;
}

export function subjectFor(spec: CertSpec): string {
  const escape = (v: string): string => v.replace(/[/\\]/g, (c) => `\\${c}`);
  return `${spec.organization ? `/O=${escape(spec.organization)}` : ''}/CN=${escape(spec.commonName)}`;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

/**
 * Creates the certificates of the plan that are missing in `dir` (keys 0600). Existing ones are kept,
 * except that a re-created CA re-issues everything it signs. Plan order must put CAs before their leaves.
 */
export async function ensureCertificates(dir: string, plan: readonly CertSpec[]): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const reissued = new Set<string>();
  for (const spec of plan) {
    const crt = join(dir, `${spec.name}.crt`);
    const key = join(dir, `${spec.name}.key`);
    const signerChanged = spec.signer !== undefined && reissued.has(spec.signer);
    if (existsSync(crt) && existsSync(key) && !signerChanged) continue;
    reissued.add(spec.name);
    const ext = join(dir, `${spec.name}.ext`);
    writeFileSync(ext, extensionsFor(spec));
    try {
      const csr = join(dir, `${spec.name}.csr`);
      await run('openssl', [
        'req',
        '-new',
        '-nodes',
        ...EC_KEY,
        '-keyout',
        key,
        '-out',
        csr,
        '-subj',
        subjectFor(spec),
        '-config',
        '/dev/null',
      ]);
      const signWith = spec.signer
        ? ['-CA', join(dir, `${spec.signer}.crt`), '-CAkey', join(dir, `${spec.signer}.key`)]
        : ['-signkey', key];
      await run('openssl', [
        'x509',
        '-req',
        '-in',
        csr,
        ...signWith,
        '-set_serial',
        `0x${randomSerial()}`,
        '-days',
        String(spec.days),
        '-extfile',
        ext,
        '-out',
        crt,
      ]);
      rmSync(csr, { force: true });
      chmodSync(key, 0o600);
    } finally {
      rmSync(ext, { force: true });
    }
  }
}

function randomSerial(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('')
    .replace(/^[89a-f]/, '1');
}

/** The service-account token signing key pair (EC P-256): sa.key signs, sa.pub verifies. */
export async function ensureServiceAccountKey(dir: string): Promise<void> {
  const key = join(dir, 'sa.key');
  const pub = join(dir, 'sa.pub');
  if (existsSync(key) && existsSync(pub)) return;
  await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', key]);
  chmodSync(key, 0o600);
  await run('openssl', ['pkey', '-in', key, '-pubout', '-out', pub]);
}

export function readPem(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8');
}
