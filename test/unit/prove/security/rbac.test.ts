// R13's RBAC evaluator: rules (wildcards, groups, subresources, resourceNames) expanded over the API, and
// compared with the least-privilege table; the docs show the same table.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  compareGrants,
  expandGrants,
  parseApiResources,
  ruleAllows,
  universeOf,
  type ResourceRule,
} from '../../../../src/prove/security/rbac.js';
import {
  expectedGrants,
  LEAST_PRIVILEGE,
  renderPrivilegeTable,
} from '../../../../src/prove/security/least-privilege.js';

const API_TEXT = `NAME                              SHORTNAMES   APIVERSION                        NAMESPACED   KIND\
                       VERBS                                                        CATEGORIES
pods                              po           v1                                true         Pod\
                        create,delete,deletecollection,get,list,patch,update,watch   all
secrets                                        v1                                true         Secret\
                     create,delete,deletecollection,get,list,patch,update,watch
selfsubjectreviews                             authentication.k8s.io/v1          false        SelfSubjectReview\
          create
selfsubjectaccessreviews                       authorization.k8s.io/v1           false        SelfSubjectAccessReview\
    create
selfsubjectrulesreviews                        authorization.k8s.io/v1           false        SelfSubjectRulesReview\
     create
leases                                         coordination.k8s.io/v1            true         Lease\
                      create,delete,deletecollection,get,list,patch,update,watch
`;
const api = parseApiResources(API_TEXT);
const BASIC: ResourceRule[] = [
  {
    verbs: ['create'],
    apiGroups: ['authorization.k8s.io'],
    resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
  },
  { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
];
const PODWATCH: ResourceRule[] = [
  ...BASIC,
  { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] },
  { verbs: ['create'], apiGroups: ['coordination.k8s.io'], resources: ['leases'] },
  {
    verbs: ['get', 'update'],
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    resourceNames: ['web-webstack-podwatch'],
  },
];
const f = {
  podwatch: true,
  inReleaseNamespace: true,
  podwatchLease: 'web-webstack-podwatch',
  podwatchClusterScope: false,
};
const judge = (rules: ResourceRule[], who = f): string[] =>
  compareGrants('sa', expandGrants(rules, universeOf(api, rules)), expectedGrants(LEAST_PRIVILEGE, who, api));

describe('R13 least privilege', () => {
  it('parses api-resources -o wide with and without short names', () => {
    assert.deepEqual(api[1], {
      resource: 'secrets',
      group: '',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    });
    assert.equal(api[5]?.group, 'coordination.k8s.io');
  });
  it('matches wildcards, groups and star-subresources as RBAC does', () => {
    assert.ok(ruleAllows({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, 'x', 'y/z', 'get'));
    assert.ok(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['*/log'] }, '', 'pods/log', 'get'));
    assert.ok(!ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, '', 'pods/log', 'get'));
    assert.ok(!ruleAllows({ verbs: ['get'], apiGroups: ['apps'], resources: ['pods'] }, '', 'pods', 'get'));
  });
  it("passes podwatch's chart rules and the default account's basic rights", () => {
    assert.deepEqual(judge(PODWATCH), []);
    assert.deepEqual(judge(BASIC, { ...f, podwatch: false }), []);
    assert.deepEqual(judge(BASIC, { ...f, inReleaseNamespace: false }), [], 'elsewhere: only the basic rights');
  });
  it('names an extra grant from a wildcard, a subresource, wider names and a missing grant', () => {
    const star = judge([...PODWATCH, { verbs: ['*'], apiGroups: [''], resources: ['secrets'] }]);
    assert.equal(star.length, 8);
    assert.match(star.join('\n'), /sa may get secrets: not in the least-privilege table/);
    assert.match(
      judge([...PODWATCH, { verbs: ['create'], apiGroups: [''], resources: ['pods/exec'] }]).join(),
      /may create pods\/exec/,
    );
    const wide = judge([
      ...BASIC,
      ...PODWATCH.slice(2, 4),
      { verbs: ['get', 'update'], apiGroups: ['coordination.k8s.io'], resources: ['leases'] },
    ]);
    assert.match(wide.join(), /may get coordination.k8s.io\/leases: the table allows only web-webstack-podwatch/);
    assert.match(judge(BASIC).join(), /may not list pods: the least-privilege table gives it/);
    assert.match(judge(PODWATCH, { ...f, podwatch: false }).join(), /may watch pods: not in/);
  });
  it('docs/security.md shows the same table as the constant', () => {
    const docs = readFileSync(new URL('../../../../../docs/security.md', import.meta.url), 'utf8');
    assert.ok(docs.includes(renderPrivilegeTable(LEAST_PRIVILEGE)), renderPrivilegeTable(LEAST_PRIVILEGE));
    assert.notEqual(renderPrivilegeTable(LEAST_PRIVILEGE.slice(1)), renderPrivilegeTable(LEAST_PRIVILEGE));
  });
});
