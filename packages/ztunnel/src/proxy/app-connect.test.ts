// Where the connection to the app comes from: the client's IP in-pod, ztunnel's own in all-workloads mode.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appConnectOptions } from './app-connect.js';

const app = { address: '10.0.0.2', port: 8080 };

test('in-pod (marked) the app connection is bound to the client IP; all-workloads mode binds nothing', () => {
  assert.deepEqual(appConnectOptions(app, '10.0.1.5', 0x539), {
    host: '10.0.0.2',
    port: 8080,
    mark: 0x539,
    bindIp: '10.0.1.5',
  });
  assert.deepEqual(appConnectOptions(app, '10.0.1.5', undefined), { host: '10.0.0.2', port: 8080 });
});

test('a client of the other address family (or no address) is not bound', () => {
  assert.deepEqual(appConnectOptions(app, 'fd00::5', 0x539), {
    host: '10.0.0.2',
    port: 8080,
    mark: 0x539,
  });
  assert.deepEqual(appConnectOptions(app, '', 0x539), {
    host: '10.0.0.2',
    port: 8080,
    mark: 0x539,
  });
});
