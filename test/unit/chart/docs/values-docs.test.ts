// Holds charts/webstack together: values.yaml, values.schema.json and the README that helm-docs writes from
// values.yaml. The lint step of scripts/test.sh runs this file (before the test tiers, which run it again).
//
//   1. README.md is what `npm run chart:docs` writes today (helm-docs, pinned in tools/helm-docs/go.mod).
//   2. Every value in values.yaml has a `# --` description, read by helm-docs itself (the same reading that
//      writes the README), and an entry in values.schema.json.
//   3. Every option values.schema.json declares has its key, with a default, in values.yaml.
//
// A *value* is a leaf (scalar, list, empty map) or a documented map that no key below it documents: such
// a map is one value as a whole (resources, a securityContext, dbTaint, podLabels), and the Kubernetes
// fields its schema allows but the defaults leave out (ephemeral-storage, runAsNonRoot, …) are optional
// on purpose, so rule 3 does not look inside it. Every other map is a *section*: each of its keys is
// checked, and a description of the section itself (db, backup) only introduces it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  chartDir,
  readmeFile,
  regenerateCommand,
  renderChartReadme,
  renderWithHelmDocs,
} from '../../../../src/setup/helm-docs.js';

/** The parts of a JSON Schema (draft-07) this check reads. */
interface Schema {
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema | Schema[];
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  if?: Schema;
  then?: Schema;
  else?: Schema;
}

type ValueMap = Record<string, unknown>;
const isMap = (v: unknown): v is ValueMap => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A key's path as helm-docs writes it: dots between keys, a key with a dot or space in quotes, [i] for list items. */
export function keyPath(parent: string, key: string): string {
  const k = /[. ]/.test(key) ? `"${key}"` : key;
  return parent ? `${parent}.${k}` : k;
}

/** A schema and every subschema that applies to the same value (allOf/anyOf/oneOf and if/then/else, nested). */
function views(schema: Schema | undefined): Schema[] {
  if (!schema) return [];
  const subs = [
    ...(schema.allOf ?? []),
    ...(schema.anyOf ?? []),
    ...(schema.oneOf ?? []),
    schema.if,
    schema.then,
    schema.else,
  ];
  return [schema, ...subs.flatMap((s) => views(s))];
}

/** The schema a key of an object gets from `schema`, or undefined when the schema has no entry for it. */
function declaredEntry(schema: Schema, key: string): Schema | undefined {
  if (schema.properties && Object.hasOwn(schema.properties, key)) return schema.properties[key];
  for (const [pattern, sub] of Object.entries(schema.patternProperties ?? {}))
    if (new RegExp(pattern, 'u').test(key)) return sub;
  return undefined;
}

/** Like declaredEntry, but a key the schema lets through as an additional property counts too (free-form maps). */
function allowedEntry(schema: Schema, key: string): Schema | undefined {
  const entry = declaredEntry(schema, key);
  if (entry) return entry;
  if (schema.additionalProperties === false) return undefined;
  return typeof schema.additionalProperties === 'object' ? schema.additionalProperties : {};
}

/**
 * Everything that does not hold together, one line each, naming the key: a value without a description
 * or without a schema entry, and a schema option without a key in values.yaml. `descriptions` maps each
 * key (helm-docs' path) to its description, as helm-docs reads it.
 */
export function valuesDocProblems(
  values: unknown,
  schema: Schema,
  descriptions: ReadonlyMap<string, string>,
): string[] {
  const problems: string[] = [];
  const described = (path: string): boolean => (descriptions.get(path) ?? '').trim() !== '';
  const describedBelow = (path: string): boolean =>
    [...descriptions.keys()].some((k) => (k.startsWith(`${path}.`) || k.startsWith(`${path}[`)) && described(k));

  // Inside a value: each key or item must be allowed by the value's schema (no description needed).
  const checkWhole = (value: unknown, schema: Schema, path: string): void => {
    if (isMap(value)) {
      for (const [key, child] of Object.entries(value)) {
        const p = keyPath(path, key);
        const entry =
          views(schema)
            .map((s) => declaredEntry(s, key))
            .find(Boolean) ?? allowedEntry(schema, key);
        if (entry) checkWhole(child, entry, p);
        else problems.push(`values.yaml: ${p} has no entry in values.schema.json`);
      }
    } else if (Array.isArray(value) && isMap(schema.items)) {
      const items = schema.items;
      value.forEach((item, i) => {
        checkWhole(item, items, `${path}[${i}]`);
      });
    }
  };

  // A section: `schemas` are the schemas that apply to it (its entry first, then conditions that reach it).
  const checkSection = (section: ValueMap, schemas: readonly Schema[], path: string): void => {
    const [main] = schemas;
    const all = schemas.flatMap((s) => views(s));
    for (const [key, value] of Object.entries(section)) {
      const p = keyPath(path, key);
      const entry = main ? declaredEntry(main, key) : undefined;
      if (main && !entry) problems.push(`values.yaml: ${p} has no entry in values.schema.json`);
      if (isMap(value) && Object.keys(value).length > 0 && (!described(p) || describedBelow(p))) {
        const childSchemas = [entry, ...all.filter((s) => s !== main).map((s) => s.properties?.[key])].filter(
          (s): s is Schema => s !== undefined,
        );
        checkSection(value, entry ? childSchemas : [], p);
      } else {
        if (!described(p)) problems.push(`values.yaml: ${p} has no "# --" description`);
        if (entry) checkWhole(value, entry, p);
      }
    }
    for (const s of all) {
      for (const key of Object.keys(s.properties ?? {})) {
        if (!Object.hasOwn(section, key))
          problems.push(
            `values.schema.json: ${keyPath(path, key)} has no key in ` +
              `values.yaml (give it its default there, with a "# --" description)`,
          );
      }
    }
  };

  if (isMap(values)) checkSection(values, [schema], '');
  else problems.push('values.yaml: not a map of values');
  return [...new Set(problems)];
}

interface HelmDocsRow {
  Key: string;
  Description: string;
  AutoDescription: string;
}

/** Every row helm-docs makes from a chart's values.yaml, with its description (rendered as JSON). */
async function helmDocsDescriptions(dir: string): Promise<Map<string, string>> {
  const tmp = mkdtempSync(join(tmpdir(), 'kstack-helm-docs-'));
  try {
    const template = join(tmp, 'rows.gotmpl');
    writeFileSync(template, '{{ .Values | toJson }}\n');
    const rows = JSON.parse(await renderWithHelmDocs(dir, template)) as HelmDocsRow[];
    return new Map(rows.map((r) => [r.Key, r.Description || r.AutoDescription]));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const readSchema = (dir: string): Schema => JSON.parse(readFileSync(join(dir, 'values.schema.json'), 'utf8')) as Schema;
const readValues = (dir: string): unknown => parse(readFileSync(join(dir, 'values.yaml'), 'utf8'));

/** The first line where two texts differ, for a readable failure. */
function firstDifference(a: string, b: string): string {
  const la = a.split('\n');
  const lb = b.split('\n');
  const i = la.findIndex((l, n) => l !== lb[n]);
  const n = i === -1 ? la.length : i;
  return (
    `line ${n + 1}: committed ${JSON.stringify(la[n] ?? '(end of file)').slice(0, 160)}, ` +
    `generated ${JSON.stringify(lb[n] ?? '(end of file)').slice(0, 160)}`
  );
}

describe('webstack chart: README.md, values.yaml and values.schema.json hold together', () => {
  it('README.md is what helm-docs writes from values.yaml', async () => {
    const generated = await renderChartReadme();
    let committed = '';
    try {
      committed = readFileSync(readmeFile, 'utf8');
    } catch {
      /* reported below */
    }
    if (committed !== generated)
      assert.fail(
        `charts/webstack/README.md is stale: run ${regenerateCommand} (${firstDifference(committed, generated)})`,
      );
  });

  it('gives every value a description and a schema entry, and every schema option a key', async () => {
    const problems = valuesDocProblems(
      readValues(chartDir),
      readSchema(chartDir),
      await helmDocsDescriptions(chartDir),
    );
    if (problems.length > 0) assert.fail(`${problems.length} problem(s) in charts/webstack:\n${problems.join('\n')}`);
  });

  it('reads descriptions the way helm-docs does, and names an undocumented key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kstack-chart-docs-'));
    try {
      writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: fixture\nversion: 0.1.0\n');
      writeFileSync(
        join(dir, 'values.yaml'),
        [
          'web:',
          '  # -- Replicas.',
          '  replicaCount: 3',
          '  # A plain comment is no description.',
          '  port: 8080',
          '  # -- Resources, as one value.',
          '  resources:',
          '    requests: { cpu: 10m }',
          '',
        ].join('\n'),
      );
      const descriptions = await helmDocsDescriptions(dir);
      assert.equal(descriptions.get('web.replicaCount'), 'Replicas.');
      const schema: Schema = { properties: { web: { properties: { replicaCount: {}, port: {}, resources: {} } } } };
      assert.deepEqual(valuesDocProblems(parse(readFileSync(join(dir, 'values.yaml'), 'utf8')), schema, descriptions), [
        'values.yaml: web.port has no "# --" description',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('the check itself', () => {
    const schema: Schema = {
      additionalProperties: false,
      properties: {
        web: {
          additionalProperties: false,
          properties: {
            replicaCount: { type: 'integer' } as Schema,
            resources: {
              additionalProperties: false,
              properties: { requests: { properties: { cpu: {}, memory: {}, 'ephemeral-storage': {} } } },
            },
            podLabels: { additionalProperties: { type: 'string' } as Schema },
          },
        },
        db: {
          properties: { mode: {}, replicaCount: {} },
          allOf: [
            {
              if: { properties: { mode: { const: 'galera' } as Schema } },
              then: { properties: { replicaCount: { enum: [3, 5] } as Schema, members: {} } },
            },
          ],
        },
      },
    };
    const values = {
      web: { replicaCount: 3, resources: { requests: { cpu: '10m' } }, podLabels: { a: 'b' } },
      db: { mode: 'galera', replicaCount: 3 },
    };
    const all = new Map([
      ['web.replicaCount', 'Replicas.'],
      ['web.resources', 'Resources.'],
      ['web.podLabels', 'Labels.'],
      ['db', 'The database.'],
      ['db.mode', 'Mode.'],
      ['db.replicaCount', 'Members.'],
    ]);
    const without = (key: string): Map<string, string> => new Map([...all].filter(([k]) => k !== key));

    it('takes a documented map as one value, and a map with documented keys as a section', () => {
      // db.members is only named by a condition: the schema still declares an option values.yaml lacks.
      assert.deepEqual(valuesDocProblems(values, schema, all), [
        'values.schema.json: db.members has no key in values.yaml ' +
          '(give it its default there, with a "# --" description)',
      ]);
    });

    it('names a value without a description', () => {
      const fixed = { ...values, db: { ...values.db, members: 3 } };
      const s = {
        ...schema,
        properties: {
          ...schema.properties,
          db: { ...schema.properties!.db, properties: { mode: {}, replicaCount: {}, members: {} } },
        },
      };
      assert.deepEqual(valuesDocProblems(fixed, s, new Map([...all, ['db.members', 'x']])), []);
      assert.deepEqual(valuesDocProblems(fixed, s, new Map([...without('web.replicaCount'), ['db.members', 'x']])), [
        'values.yaml: web.replicaCount has no "# --" description',
      ]);
      // An undocumented map is a section: its keys need descriptions of their own, and every field its
      // schema declares needs a key.
      assert.deepEqual(valuesDocProblems(fixed, s, new Map([...without('web.resources'), ['db.members', 'x']])), [
        'values.yaml: web.resources.requests.cpu has no "# --" description',
        'values.schema.json: web.resources.requests.memory has no key in ' +
          'values.yaml (give it its default there, with a "# --" description)',
        'values.schema.json: web.resources.requests.ephemeral-storage has no key ' +
          'in values.yaml (give it its default there, with a "# --" description)',
      ]);
    });

    it('names a value without a schema entry, also inside a documented map', () => {
      const s = structuredClone(schema);
      delete s.properties!.web!.properties!.replicaCount;
      assert.ok(
        valuesDocProblems(values, s, all).includes('values.yaml: web.replicaCount has no entry in values.schema.json'),
      );
      const v = structuredClone(values) as { web: { resources: { requests: Record<string, string> } } };
      v.web.resources.requests = { cpu: '10m', gpu: '1' };
      const inside = structuredClone(schema);
      inside.properties!.web!.properties!.resources!.properties!.requests!.additionalProperties = false;
      assert.ok(
        valuesDocProblems(v, inside, all).includes(
          'values.yaml: web.resources.requests.gpu has no entry in values.schema.json',
        ),
      );
    });

    it('names a schema option values.yaml lacks, but not optional fields inside a value', () => {
      const v = structuredClone(values) as Record<string, Record<string, unknown>>;
      delete v.web!.replicaCount;
      const problems = valuesDocProblems(v, schema, all);
      assert.ok(
        problems.includes(
          'values.schema.json: web.replicaCount has no key in values.yaml ' +
            '(give it its default there, with a "# --" description)',
        ),
      );
      assert.ok(!problems.some((p) => p.includes('ephemeral-storage') || p.includes('memory')), problems.join('\n'));
    });
  });
});
