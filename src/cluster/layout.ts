import { join } from 'node:path';
import { clustersDir } from '../util/paths.js';
import { UserError } from '../util/errors.js';

/** Where one local cluster keeps everything it owns. Deleting `root` removes the cluster's files. */
export interface ClusterLayout {
  name: string;
  root: string;
  pki: string;
  etcdData: string;
  logs: string;
  pids: string;
  config: string;
  stateFile: string;
  lockFile: string;
  /** The admin kubeconfig kstack writes for the user. */
  kubeconfig: string;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

export function validateClusterName(name: string): string {
  if (!NAME.test(name)) {
    throw new UserError(
      `--name '${name}' is not a valid cluster name: use 1-40 lowercase ` +
        `letters, digits and '-', starting and ending with a letter or digit`,
    );
  }
  return name;
}

export function clusterLayout(name: string, baseDir: string = clustersDir()): ClusterLayout {
  const root = join(baseDir, validateClusterName(name));
  return {
    name,
    root,
    pki: join(root, 'pki'),
    etcdData: join(root, 'etcd'),
    logs: join(root, 'logs'),
    pids: join(root, 'pids'),
    config: join(root, 'config'),
    stateFile: join(root, 'state.json'),
    lockFile: join(baseDir, `.${name}.lock`),
    kubeconfig: join(root, 'kubeconfig'),
  };
}
