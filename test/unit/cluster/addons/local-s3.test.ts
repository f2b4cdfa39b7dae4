// Pure parts of the local cluster's S3 server add-on (src/cluster/addons/local-s3.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  localS3Endpoint,
  localS3Secret,
  localS3Values,
  newCredentials,
  parseCredentials,
  LOCAL_S3_SECRET,
} from '../../../../src/cluster/addons/local-s3.js';

describe('local S3 add-on', () => {
  it('makes credentials MinIO accepts, different each time', () => {
    const a = newCredentials();
    const b = newCredentials();
    assert.ok(a.accessKeyId.length >= 3 && a.secretAccessKey.length >= 8);
    assert.notEqual(a.secretAccessKey, b.secretAccessKey);
    assert.deepEqual(parseCredentials(JSON.stringify(a), 'f'), a);
  });

  it('rejects a credentials file that is not JSON or lacks a field, naming the field', () => {
    assert.throws(() => parseCredentials('nope', '/x/local-s3.json'), /local-s3\.json is not JSON/);
    assert.throws(() => parseCredentials('{"accessKeyId":"abc"}', 'f'), /secretAccessKey must be a string/);
    assert.throws(() => parseCredentials('{"accessKeyId":"a","secretAccessKey":"12345678"}', 'f'), /accessKeyId/);
  });

  it('points the chart at the gateway: endpoint, bucket, existing Secret, and egress to that one address', () => {
    assert.equal(localS3Endpoint('10.77.3.1'), 'http://10.77.3.1:9000');
    assert.deepEqual(localS3Values('10.77.3.1'), {
      backup: {
        enabled: true,
        storage: {
          endpoint: 'http://10.77.3.1:9000',
          bucket: 'kstack-backups',
          credentials: { existingSecret: LOCAL_S3_SECRET },
        },
      },
      networkPolicy: { objectStorage: { cidrs: ['10.77.3.1/32'], ports: [9000] } },
    });
  });

  it('puts the credentials in the Secret under the keys the chart reads', () => {
    const s = localS3Secret('webstack', { accessKeyId: 'kstackabc', secretAccessKey: 'secret-123' }) as {
      metadata: { namespace: string };
      stringData: Record<string, string>;
    };
    assert.equal(s.metadata.namespace, 'webstack');
    assert.deepEqual(s.stringData, { 'access-key-id': 'kstackabc', 'secret-access-key': 'secret-123' });
  });
});
