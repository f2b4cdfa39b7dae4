// What the kstack command assumes when a flag is not given. Parsing and help texts both read these, so a
// default is written once.
import { DEFAULT_CLUSTER } from '../cluster/control-plane.js';
import { DEFAULT_NODE_COUNT } from '../cluster/nodes/cluster-nodes.js';
import { DEFAULT_DB_TAINT } from '../cluster/nodes/plan.js';

/** The local cluster's name (--name). */
export { DEFAULT_CLUSTER };
/** Nodes of a new local cluster (--nodes). */
export { DEFAULT_NODE_COUNT };
/** Taint on a new local cluster's db nodes (--db-taint), as the flag writes it. */
export const DEFAULT_DB_TAINT_FLAG = `${DEFAULT_DB_TAINT.key}=${DEFAULT_DB_TAINT.value}:${DEFAULT_DB_TAINT.effect}`;
/** Namespace of the release (-n, --namespace). */
export const DEFAULT_NAMESPACE = 'webstack';
/** Helm release name (--release). */
export const DEFAULT_RELEASE = 'web';
/** How long `kstack up` waits for the workloads (--timeout). */
export const DEFAULT_UP_TIMEOUT = '10m';
