// The test pods' settings from the environment the chart's templates set.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closedSettings, dbSettings, pageSettings, parseHostPort } from '../../../src/charttest/settings.js';

describe('charttest settings', () => {
  it('page: the web Service URL, the serving-host form and the bounds', () => {
    const s = pageSettings({
      CHARTTEST_WEB_URL: 'http://ws-webstack-web.shop.svc.cluster.local:80/',
      CHARTTEST_SERVING_HOST_FORMAT: 'Host-{suffix}',
      CHARTTEST_TIMEOUT_SECONDS: '45',
      CHARTTEST_EXPECT_DATA: 'true',
    });
    assert.deepEqual(s, {
      timeoutMs: 45_000,
      connectTimeoutMs: 3000,
      webUrl: 'http://ws-webstack-web.shop.svc.cluster.local:80',
      servingHostFormat: 'Host-{suffix}',
      suffixLength: 5,
      requests: 6,
      webinfo: true,
      expectData: true,
    });
  });

  it('refuses a missing or bad variable, naming it', () => {
    assert.throws(() => pageSettings({ CHARTTEST_SERVING_HOST_FORMAT: 'x' }), /CHARTTEST_WEB_URL is not set/);
    assert.throws(
      () => pageSettings({ CHARTTEST_WEB_URL: 'https://x/y', CHARTTEST_SERVING_HOST_FORMAT: 'x' }),
      /CHARTTEST_WEB_URL='https:\/\/x\/y' must be http:\/\/host:port/,
    );
    assert.throws(
      () =>
        pageSettings({ CHARTTEST_WEB_URL: 'http://x:80', CHARTTEST_SERVING_HOST_FORMAT: 'x', CHARTTEST_REQUESTS: '0' }),
      /CHARTTEST_REQUESTS='0' must be a whole number from 1 to 100/,
    );
    assert.throws(
      () =>
        pageSettings({
          CHARTTEST_WEB_URL: 'http://x:80',
          CHARTTEST_SERVING_HOST_FORMAT: 'x',
          CHARTTEST_WEBINFO: 'yes',
        }),
      /CHARTTEST_WEBINFO='yes' must be true or false/,
    );
    assert.throws(
      () => dbSettings({ CHARTTEST_DB_MODE: 'mysql' }),
      /CHARTTEST_DB_MODE='mysql' must be galera or standalone/,
    );
    assert.throws(
      () => parseHostPort('web:99999', 'CHARTTEST_CONTROL'),
      /CHARTTEST_CONTROL='web:99999' must be host:port/,
    );
  });

  it('db: members, port, mode and the account (the password untrimmed)', () => {
    const s = dbSettings({
      CHARTTEST_DB_MEMBERS: 'a.h.shop.svc.cluster.local, b.h.shop.svc.cluster.local',
      CHARTTEST_DB_MODE: 'galera',
      CHARTTEST_DB_USER: 'app',
      CHARTTEST_DB_PASSWORD: ' p w ',
    });
    assert.deepEqual(s.members, ['a.h.shop.svc.cluster.local', 'b.h.shop.svc.cluster.local']);
    assert.equal(s.port, 3306);
    assert.equal(s.password, ' p w ');
    assert.throws(
      () => dbSettings({ CHARTTEST_DB_MEMBERS: 'a', CHARTTEST_DB_MODE: 'galera', CHARTTEST_DB_USER: 'app' }),
      /CHARTTEST_DB_PASSWORD is not set/,
    );
  });

  it('db-closed: members, ports and the optional control', () => {
    const s = closedSettings({
      CHARTTEST_DB_MEMBERS: 'a',
      CHARTTEST_CLOSED_PORTS: '3306,4567',
      CHARTTEST_CONTROL: 'web.shop.svc:80',
    });
    assert.deepEqual(s.ports, [3306, 4567]);
    assert.deepEqual(s.control, { host: 'web.shop.svc', port: 80 });
    assert.equal(closedSettings({ CHARTTEST_DB_MEMBERS: 'a', CHARTTEST_CLOSED_PORTS: '3306' }).control, null);
    assert.throws(
      () => closedSettings({ CHARTTEST_DB_MEMBERS: 'a', CHARTTEST_CLOSED_PORTS: '3306,x' }),
      /'x' is not a port number/,
    );
  });
});
