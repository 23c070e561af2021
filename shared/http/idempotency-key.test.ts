// The Idempotency-Key header's syntax and the request fingerprint, without a stack.
import { describe, expect, test } from 'bun:test';
import { fingerprintRequestBody, readIdempotencyKey } from './idempotency-key.ts';

describe('readIdempotencyKey', () => {
  test('no header: no key', () => {
    expect(readIdempotencyKey(undefined)).toBeUndefined();
  });

  test('the draft’s quoted form and the bare form name the same key', () => {
    expect(readIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"')).toBe('8e03978e-40d5-43e8-bc93-6894a57f9324');
    expect(readIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324')).toBe('8e03978e-40d5-43e8-bc93-6894a57f9324');
  });

  test('a quoted key may hold spaces and commas; a bare one may not', () => {
    expect(readIdempotencyKey('"order 42, retry"')).toBe('order 42, retry');
    expect(() => readIdempotencyKey('order 42')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => readIdempotencyKey('a, b')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  test('1 to 255 characters', () => {
    expect(readIdempotencyKey('k'.repeat(255))).toHaveLength(255);
    expect(readIdempotencyKey(`"${'k'.repeat(255)}"`)).toHaveLength(255);
    for (const bad of ['', '""', 'k'.repeat(256), `"${'k'.repeat(256)}"`]) {
      expect(() => readIdempotencyKey(bad), JSON.stringify(bad)).toThrow();
    }
  });

  test('printable ASCII only, no escapes, one field', () => {
    for (const bad of [
      'tab\there',
      'caf\u00e9',
      'nul\u0000',
      '"a\\"b"',
      '"open',
      'close"',
      '"a", "b"',
      'back\\slash',
    ]) {
      expect(() => readIdempotencyKey(bad), JSON.stringify(bad)).toThrow();
    }
    expect(() => readIdempotencyKey(['a', 'b'])).toThrow();
  });
});

describe('fingerprintRequestBody', () => {
  test('key order does not matter, values do', () => {
    const one = fingerprintRequestBody({ name: 'Acme', status: 'LEAD', nested: { b: 1, a: [1, 2] } });
    expect(fingerprintRequestBody({ nested: { a: [1, 2], b: 1 }, status: 'LEAD', name: 'Acme' })).toBe(one);
    expect(fingerprintRequestBody({ name: 'Acme', status: 'LEAD', nested: { b: 1, a: [2, 1] } })).not.toBe(one);
    expect(fingerprintRequestBody({ name: 'Acme', status: 'LEAD' })).not.toBe(one);
  });

  test('null is a value; the hash is SHA-256 hex, never the body', () => {
    expect(fingerprintRequestBody({ email: null })).not.toBe(fingerprintRequestBody({}));
    expect(fingerprintRequestBody({ notes: 'secret' })).toMatch(/^[0-9a-f]{64}$/);
  });
});
