// Parsing rendered manifests (the output of `helm template`) into plain objects to inspect.
import { parseAllDocuments } from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** Every non-empty document of a multi-document YAML stream; a malformed one is an error naming it. */
export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    if (doc.errors.length > 0)
      throw new Error(`rendered document ${i + 1} is not valid YAML: ${doc.errors[0]?.message ?? ''}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) return;
    const obj = value as Partial<K8sObject>;
    if (typeof obj.kind !== 'string' || typeof obj.apiVersion !== 'string' || typeof obj.metadata?.name !== 'string') {
      throw new Error(
        `rendered document ${i + 1} is not a Kubernetes object (kind, apiVersion and metadata.name are required)`,
      );
    }
    objects.push(obj as K8sObject);
  });
  return objects;
}

/** The objects of one kind, optionally only those whose name ends with `-<component>`. */
export function ofKind(objects: readonly K8sObject[], kind: string, component?: string): K8sObject[] {
  return objects.filter(
    (o) => o.kind === kind && (component === undefined || o.metadata.name.endsWith(`-${component}`)),
  );
}

/** Exactly one object of a kind (and component); an error listing what there is otherwise. */
export function one(objects: readonly K8sObject[], kind: string, component?: string): K8sObject {
  const found = ofKind(objects, kind, component);
  if (found.length !== 1) {
    const have = objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ');
    throw new Error(
      `expected one ${kind}${component ? ` for ${component}` : ''}, found ${found.length} (rendered: ${have})`,
    );
  }
  return found[0] as K8sObject;
}

/** The data of a rendered ConfigMap. */
export function configMapData(cm: K8sObject): Record<string, string> {
  if (cm.kind !== 'ConfigMap') throw new Error(`${cm.kind}/${cm.metadata.name} is not a ConfigMap`);
  return (cm.data ?? {}) as Record<string, string>;
}
