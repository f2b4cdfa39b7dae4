// Import rules for `npm run lint:deps` (dependency-cruiser), written as forbidden edges. The direction
// they enforce is explained in docs/dependencies.md; test/unit/lint/deps.test.ts proves they catch a
// cycle (test/fixtures/dep-cycle/).

/**
 * The src/ folders from the bottom up. A folder may import its own files and the folders of LOWER
 * layers, nothing else: no import within a layer, none upwards. That order is what keeps the folder
 * graph free of cycles. A new folder needs a line here (the `unlisted-folder` rule says so); a folder
 * that must import another of its own layer or above moves up, never the other way round.
 */
const LAYERS = [
  ['util'],
  ['setup', 'kube', 'galera', 'podwatch', 'webinfo', 's3', 'charttest'],
  ['images', 'chart', 'dr'],
  ['netpol'],
  ['cluster', 'monitoring'],
  ['stack'],
  ['region'],
  ['prove'],
  ['cli'],
];

/**
 * Known cycle, to remove (docs/dependencies.md): src/cluster/nodes and src/cluster/addons import each other
 * (nodes install the addons; addons/multinet.ts reads nodes/node-config.ts and the node plan types).
 * It stays inside src/cluster, so the layers hold. Folder-level violations cannot go into
 * `knownViolations`, hence this pattern, used by the no-folder-cycle rules only.
 */
const KNOWN_FOLDER_CYCLE = '^src/cluster/(nodes|addons)$';

const alternation = (folders) => `^src/(${folders.join('|')})/`;

/** One forbidden edge per folder: from it to any src/ folder that is not itself or below it. */
const layerRules = LAYERS.flatMap((layer, level) => {
  const below = LAYERS.slice(0, level).flat();
  return layer.map((folder) => ({
    name: `layer-${folder}`,
    comment:
      `src/${folder} is layer ${level} (.dependency-cruiser.mjs LAYERS, docs/dependencies.md) and may import ` +
      (below.length
        ? `only src/${folder} and the layers below it: ${below.join(', ')}.`
        : 'nothing in src/ but itself.') +
      ' Move the shared code down, or move the importing folder up a layer if that makes no cycle.',
    severity: 'error',
    from: { path: `^src/${folder}/` },
    to: { path: '^src/', pathNot: alternation([folder, ...below]) },
  }));
});

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Modules that import each other, directly or through others: a cycle between files.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      comment:
        'Folders that import each other, directly or through other folders, even when no file-level ' + 'cycle exists.',
      severity: 'error',
      scope: 'folder',
      from: { pathNot: KNOWN_FOLDER_CYCLE },
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      comment: 'The same, from the two folders of KNOWN_FOLDER_CYCLE: only their cycle with each other is known.',
      severity: 'error',
      scope: 'folder',
      from: { path: KNOWN_FOLDER_CYCLE },
      to: { circular: true, pathNot: KNOWN_FOLDER_CYCLE },
    },
    ...layerRules,
    {
      name: 'unlisted-folder',
      comment: 'Every src/ folder has a layer: add this one to LAYERS in .dependency-cruiser.mjs.',
      severity: 'error',
      from: { path: '^src/', pathNot: alternation(LAYERS.flat()) },
      to: {},
    },
    {
      name: 'src-not-to-test-or-bench',
      comment: 'The product never imports its tests or benches; they import it.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment:
        'An import that does not resolve to a file: an unresolved edge would also be invisible to the ' +
        'rules above.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // The fixture holds deliberate cycles; its test cruises it from inside the fixture, where this
    // pattern does not match.
    exclude: { path: '^(dist|test/fixtures)/' },
    // `import type` edges count: a cycle of types is a cycle of design.
    tsPreCompilationDeps: true,
    // The packages' `exports` maps, as Node resolves them (mariadb has no `main`).
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    // The project's compiler options for resolution (the NodeNext `./x.js` specifiers resolve to `./x.ts`).
    // Absolute, so the fixture test can cruise from its own folder with this same file.
    tsConfig: { fileName: `${import.meta.dirname}/tsconfig.json` },
    // Folder-level cycles (the no-folder-cycle rule) are derived from the metrics.
    metrics: true,
  },
};
