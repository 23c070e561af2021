// Which variable a service's port goes in, from its entry alone (no process started).
import { describe, expect, test } from 'bun:test';
import { portKeyOf } from './service-process.ts';

describe('portKeyOf', () => {
  test("a service's port variable follows its folder, relative or in another checkout", () => {
    expect(portKeyOf('gateway/server.ts')).toBe('GATEWAY_PORT');
    expect(portKeyOf('workers/client/server.ts')).toBe('CLIENT_PORT');
    expect(portKeyOf('/tmp/before/gateway/server.ts')).toBe('GATEWAY_PORT');
    // The checkout's own folders say nothing: a "gateway" in them must not win.
    expect(portKeyOf('/tmp/gateway-before/workers/auth/server.ts')).toBe('AUTH_PORT');
  });

  test('an entry outside gateway/ and workers/ must say its variable', () => {
    expect(() => portKeyOf('tools/bench/peers/plain-pg-client-worker.ts')).toThrow('pass portKey');
  });
});
