// What backups exist: a backup is an id under <prefix>/backups/ with a manifest (docs/dr.md).
import { UserError } from '../util/errors.js';
import { MANIFEST_OBJECT, VERIFICATION_OBJECT, backupKey } from './backup.js';
import { isBackupId, parseManifest, parseVerification, type Manifest, type Verification } from './manifest.js';
import type { ObjectStore } from '../s3/object-store.js';

export interface CatalogEntry {
  id: string;
  /** undefined: no manifest (a failed or unfinished backup: not a backup). */
  manifest: Manifest | undefined;
  verification: Verification | undefined;
  /** Every object key under the backup's folder. */
  keys: string[];
  /** Newest modification time of its objects. */
  modified: Date | undefined;
}

/** Every backup folder, oldest first, with its manifest and verification when present. */
export async function listCatalog(store: ObjectStore): Promise<CatalogEntry[]> {
  const root = `${store.key('backups')}/`;
  const objects = await store.list(root);
  const byId = new Map<string, { keys: string[]; modified: Date | undefined }>();
  for (const o of objects) {
    const id = o.key.slice(root.length).split('/')[0] ?? '';
    if (!isBackupId(id)) continue;
    const e = byId.get(id) ?? { keys: [], modified: undefined };
    e.keys.push(o.key);
    if (o.modified && (!e.modified || o.modified > e.modified)) e.modified = o.modified;
    byId.set(id, e);
  }
  const out: CatalogEntry[] = [];
  for (const id of [...byId.keys()].sort()) {
    const e = byId.get(id);
    if (!e) continue;
    const mk = backupKey(store, id, MANIFEST_OBJECT);
    const vk = backupKey(store, id, VERIFICATION_OBJECT);
    const manifest = e.keys.includes(mk)
      ? parseManifest(JSON.parse((await store.getBytes(mk)).toString('utf8')), mk)
      : undefined;
    const verification = e.keys.includes(vk)
      ? parseVerification(JSON.parse((await store.getBytes(vk)).toString('utf8')), vk)
      : undefined;
    out.push({ id, manifest, verification, keys: e.keys, modified: e.modified });
  }
  return out;
}

/** The manifest of `id`, or of the newest backup when id is undefined; a clear error when there is none. */
export async function findBackup(store: ObjectStore, id?: string): Promise<Manifest> {
  if (id !== undefined) {
    if (!isBackupId(id))
      throw new UserError(
        `backup id '${id}' is not a backup id (e.g. 20261125T180512Z-3fa9c1); list them with 'kstack backup list'`,
      );
    const mk = backupKey(store, id, MANIFEST_OBJECT);
    if ((await store.size(mk)) === undefined)
      throw new UserError(
        `backup ${id} does not exist in s3://${store.cfg.bucket}/${store.key('backups')} ` +
          `(no manifest: it never completed, or was deleted)`,
      );
    return parseManifest(JSON.parse((await store.getBytes(mk)).toString('utf8')), mk);
  }
  const all = (await listCatalog(store)).filter((e) => e.manifest);
  const newest = all.at(-1)?.manifest;
  if (!newest)
    throw new UserError(
      `there are no complete backups in s3://${store.cfg.bucket}/` +
        `${store.key('backups')}; take one with 'kstack backup now'`,
    );
  return newest;
}
