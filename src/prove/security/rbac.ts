// What a ServiceAccount may do, from the rules the API server reports for it (a SelfSubjectRulesReview, what
// `kubectl auth can-i --list` shows), expanded over every resource and verb the cluster serves (`kubectl
// api-resources -o wide`) plus any subresource or verb the rules name. Wildcards, API groups and
// resourceNames as RBAC matches them. Pure.

export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

export interface ApiResource {
  /** "" for the core group. */
  group: string;
  resource: string;
  verbs: string[];
}

/** One permission: a verb on a resource of a group, on every object or only the named ones. */
export interface Grant {
  group: string;
  resource: string;
  verb: string;
  /** Empty: any object. */
  names: string[];
}

export const grantKey = (g: { group: string; resource: string; verb: string }): string =>
  `${g.group === '' ? 'core' : g.group}/${g.resource}:${g.verb}`;

export const showGrant = (g: Grant): string =>
  `${g.verb} ${g.group === '' ? '' : `${g.group}/`}${g.resource}` +
  (g.names.length ? ` (only ${g.names.join(', ')})` : '');

/** `kubectl api-resources -o wide` as a table: columns by the header's positions (SHORTNAMES may be empty). */
export function parseApiResources(text: string): ApiResource[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0] ?? '';
  const col = (name: string): number => header.search(new RegExp(`\\b${name}\\b`));
  const [apiVersion, namespaced, verbs] = [col('APIVERSION'), col('NAMESPACED'), col('VERBS')];
  if (apiVersion < 0 || namespaced < 0 || verbs < 0) throw new Error(`not api-resources -o wide output: ${header}`);
  const nextAfterVerbs = header.slice(verbs + 5).search(/\S/);
  const verbsEnd = nextAfterVerbs < 0 ? undefined : verbs + 5 + nextAfterVerbs;
  return lines.slice(1).map((l) => {
    const version = l.slice(apiVersion, namespaced).trim();
    const list = l.slice(verbs, verbsEnd).trim();
    return {
      resource: l.slice(0, l.search(/\s/) < 0 ? undefined : l.search(/\s/)).trim(),
      group: version.includes('/') ? (version.split('/')[0] ?? '') : '',
      verbs: list
        .replace(/^\[|\]$/g, '')
        .split(/[\s,]+/)
        .filter(Boolean),
    };
  });
}

const has = (list: readonly string[] | undefined, v: string): boolean =>
  (list ?? []).includes('*') || (list ?? []).includes(v);

// RBAC's resource match: exact, a star, or star-slash-sub for that subresource of any resource.
function resourceMatches(rule: readonly string[] | undefined, resource: string): boolean {
  const sub = resource.includes('/') ? resource.slice(resource.indexOf('/') + 1) : undefined;
  return (rule ?? []).some((r) => r === '*' || r === resource || (sub !== undefined && r === `*/${sub}`));
}

export function ruleAllows(rule: ResourceRule, group: string, resource: string, verb: string): boolean {
  return has(rule.verbs, verb) && has(rule.apiGroups, group) && resourceMatches(rule.resources, resource);
}

/** Every resource and verb that can be asked about: the cluster's, and those the rules name themselves. */
export function universeOf(api: readonly ApiResource[], rules: readonly ResourceRule[]): ApiResource[] {
  const byKey = new Map<string, ApiResource>();
  const add = (group: string, resource: string, verbs: readonly string[]): void => {
    const k = `${group}/${resource}`;
    const cur = byKey.get(k) ?? { group, resource, verbs: [] };
    cur.verbs = [...new Set([...cur.verbs, ...verbs])].sort();
    byKey.set(k, cur);
  };
  for (const r of api) add(r.group, r.resource, r.verbs);
  const STANDARD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
  const named = rules.flatMap((r) => r.verbs.filter((v) => v !== '*'));
  for (const rule of rules) {
    const verbs = rule.verbs.includes('*') ? STANDARD : rule.verbs;
    for (const g of rule.apiGroups ?? []) {
      if (g === '*') continue;
      for (const res of rule.resources ?? []) if (res !== '*' && !res.startsWith('*/')) add(g, res, verbs);
    }
  }
  // A verb a rule names (e.g. impersonate, escalate) is asked about on every resource it could apply to.
  for (const r of byKey.values()) r.verbs = [...new Set([...r.verbs, ...named])].sort();
  return [...byKey.values()].sort((a, b) => grantKey({ ...a, verb: '' }).localeCompare(grantKey({ ...b, verb: '' })));
}

/** What the rules grant over the universe: one Grant per (group, resource, verb), names merged. */
export function expandGrants(rules: readonly ResourceRule[], universe: readonly ApiResource[]): Grant[] {
  const grants: Grant[] = [];
  for (const r of universe) {
    for (const verb of r.verbs) {
      const matching = rules.filter((rule) => ruleAllows(rule, r.group, r.resource, verb));
      if (matching.length === 0) continue;
      const any = matching.some((m) => (m.resourceNames ?? []).length === 0);
      const names = any ? [] : [...new Set(matching.flatMap((m) => m.resourceNames ?? []))].sort();
      grants.push({ group: r.group, resource: r.resource, verb, names });
    }
  }
  return grants;
}

/** Problems: a grant beyond the expected ones (or wider names), or an expected grant missing. */
export function compareGrants(who: string, actual: readonly Grant[], expected: readonly Grant[]): string[] {
  const problems: string[] = [];
  const exp = new Map(expected.map((g) => [grantKey(g), g]));
  const act = new Map(actual.map((g) => [grantKey(g), g]));
  for (const [k, g] of act) {
    const e = exp.get(k);
    if (!e) problems.push(`${who} may ${showGrant(g)}: not in the least-privilege table`);
    else if (e.names.length > 0 && (g.names.length === 0 || g.names.some((n) => !e.names.includes(n))))
      problems.push(`${who} may ${showGrant(g)}: the table allows only ${e.names.join(', ')}`);
  }
  for (const [k, e] of exp) {
    const g = act.get(k);
    if (!g) problems.push(`${who} may not ${showGrant(e)}: the least-privilege table gives it`);
    else if (g.names.length > 0 && e.names.some((n) => !g.names.includes(n)))
      problems.push(`${who} may ${showGrant(g)}: the table gives ${e.names.join(', ')}`);
  }
  return problems;
}
