import type { GoComponentName } from '../setup/go-components.js';

/**
 * How each image of the local cluster is made: a Debian root filesystem with the named packages (none
 * for single-binary images), plus files, plus the OCI config. The chart's values-local.yaml refers to
 * these names; the public images users pull elsewhere provide the same programs at the same paths.
 */
export interface ImageRecipe {
  name: string;
  ref: string;
  /** Debian packages for the root filesystem; empty for a single-binary image. */
  debianPackages: string[];
  /** Go programs built by kstack, copied to the given absolute paths. */
  goBinaries: Partial<Record<GoComponentName, string>>;
  /** Our own compiled TypeScript (dist/ + production node_modules) under /opt/kstack. */
  includeKstackApp?: boolean;
  /** A Node.js runtime from the pinned npm package, at /usr/local/bin/node. */
  includeNode?: boolean;
  entrypoint?: string[];
  cmd?: string[];
  user?: string;
  workdir?: string;
  env?: Record<string, string>;
}

export const LOCAL_REGISTRY = 'kstack.local';

const recipe = (
  r: Omit<ImageRecipe, 'ref' | 'goBinaries'> & { goBinaries?: ImageRecipe['goBinaries'] },
): ImageRecipe => ({
  goBinaries: {},
  ...r,
  ref: `${LOCAL_REGISTRY}/${r.name}:local`,
});

export const imageRecipes = {
  pause: recipe({
    name: 'pause',
    debianPackages: [],
    goBinaries: { pause: '/pause' },
    entrypoint: ['/pause'],
    user: '65535:65535',
  }),
  coredns: recipe({
    name: 'coredns',
    debianPackages: [],
    goBinaries: { coredns: '/coredns' },
    entrypoint: ['/coredns'],
    user: '65532:65532',
  }),
  nginx: recipe({
    name: 'nginx',
    debianPackages: ['nginx', 'prometheus-nginx-exporter', 'ca-certificates'],
    cmd: ['/usr/sbin/nginx', '-g', 'daemon off;'],
  }),
  mariadb: recipe({
    name: 'mariadb',
    // iproute2: the SST scripts look for a listening port with ss (or lsof/sockstat) and stop without one.
    // zstd: the backup, verify and restore Jobs (src/dr) run in this image and stream through the zstd CLI.
    // openssl: the SST scripts check the certificates with it before an encrypted transfer.
    debianPackages: [
      'mariadb-server',
      'galera-4',
      'mariadb-backup',
      'mariadb-client',
      'prometheus-mysqld-exporter',
      'socat',
      'rsync',
      'procps',
      'iproute2',
      'ca-certificates',
      'zstd',
      'openssl',
    ],
    cmd: ['/usr/sbin/mariadbd'],
  }),
  // Prometheus and Alertmanager for the local cluster's monitoring (namespace monitoring): Debian's builds,
  // started with their own commands by src/monitoring/manifests.ts.
  monitoring: recipe({
    name: 'monitoring',
    debianPackages: ['prometheus', 'prometheus-alertmanager', 'ca-certificates'],
    cmd: ['/usr/bin/prometheus'],
    user: '65534:65534',
  }),
  // tcpdump: prove's R13 captures the db's traffic with it from a privileged pod in kstack's own namespace.
  node: recipe({
    name: 'node',
    debianPackages: ['ca-certificates', 'libstdc++6', 'mariadb-client', 'zstd', 'tcpdump'],
    includeNode: true,
    includeKstackApp: true,
    workdir: '/opt/kstack',
    env: { NODE_ENV: 'production' },
    entrypoint: ['/usr/local/bin/node'],
  }),
} as const satisfies Record<string, ImageRecipe>;

export type ImageName = keyof typeof imageRecipes;

/** Images every local cluster needs before any workload runs. */
export const clusterImages: readonly ImageName[] = ['pause', 'coredns', 'nginx'];
