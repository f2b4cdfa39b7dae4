// The pure parts of `kstack db rotate-certs`: which generation to ask for, what a release without TLS is
// told, and reading certificates (a real one, made by helm's template functions through the chart).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { certSummary, nextRotation, parseSerial, tlsSettingsOf } from '../../../src/stack/certs.js';
import { helmTemplate } from '../../../src/chart/helm.js';
import { parseManifests } from '../../../src/chart/manifests.js';

describe('db rotate-certs', () => {
  it('asks for a generation above both the values and the live certificate', () => {
    assert.equal(nextRotation(0, undefined), 1);
    assert.equal(nextRotation(0, '3'), 4, 'a values file still at 0 after earlier rotations');
    assert.equal(nextRotation(5, '2'), 6);
    assert.equal(nextRotation(0, 'garbage'), 1);
  });

  it('refuses a release without db TLS, saying how to turn it on', () => {
    assert.throws(() => tlsSettingsOf({ db: { tls: { enabled: false } } }), {
      message: /db\.tls\.enabled is false.*turn TLS on/,
    });
    assert.throws(() => tlsSettingsOf({ db: { enabled: false } }), { message: /no database/ });
    assert.deepEqual(tlsSettingsOf({ db: { tls: { enabled: true, rotation: 2, existingSecret: 'c' } } }), {
      existingSecret: 'c',
      rotation: 2,
    });
    assert.deepEqual(tlsSettingsOf({}), { existingSecret: '', rotation: 0 }, 'chart defaults: TLS on');
  });

  it("reads the chart's certificate: its serial and expiry (db.tls.validityDays)", async () => {
    const objs = parseManifests(
      await helmTemplate({ release: 'ws', namespace: 'shop', values: { db: { tls: { validityDays: 30 } } } }),
    );
    const secret = objs.find((o) => o.kind === 'Secret' && o.metadata.name === 'ws-webstack-db-tls') as
      { data?: Record<string, string> } | undefined;
    const pem = Buffer.from(secret?.data?.['tls.crt'] ?? '', 'base64').toString('utf8');
    const s = certSummary(pem);
    assert.match(s.serial, /^[0-9A-F]+$/);
    const days = (Date.parse(s.notAfter) - Date.now()) / 86_400_000;
    assert.ok(days > 29 && days < 31, `valid ~30 days, not ${days}`);
  });

  it('reads the serial openssl prints, in upper case, and nothing from an error', () => {
    assert.equal(parseSerial('serial=0a1B2c\n'), '0A1B2C');
    assert.equal(parseSerial('Could not read certificate from <stdin>'), undefined);
  });
});
