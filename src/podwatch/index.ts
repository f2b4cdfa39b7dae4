// What the kstack CLI (`kstack watch …`) and embedders use; importing this starts nothing.
export { parsePodwatchConfig, PODWATCH_FLAGS, PODWATCH_HELP, type PodwatchConfig, type PodwatchFlags } from './config.js';
export { runPodwatch, type RunOptions, type PodwatchHandle } from './run.js';
export type { PodEvent, Change } from './snapshot.js';
