import { describe, expect, test } from 'bun:test';
import { CANONICAL_UUID_PATTERN } from '../schemas/id.ts';
import { createServiceApp } from './create-service-app.ts';
import { findNulCharacter } from './strict-input.ts';

describe('findNulCharacter', () => {
  test('finds NUL in strings, nested values, array items and keys, and names where', () => {
    expect(findNulCharacter('a\u0000b', 'querystring')).toBe('querystring');
    expect(findNulCharacter({ name: 'ok', notes: 'x\u0000' }, 'body')).toBe('body/notes');
    expect(findNulCharacter({ list: [{ deep: ['', '\u0000'] }] }, 'body')).toBe('body/list/0/deep/1');
    expect(findNulCharacter({ 'a\u0000': 1 }, 'body')).toBe('body');
  });

  test('lets everything else through, including the escaped text "\\u0000" and other control characters', () => {
    for (const value of [undefined, null, 0, true, '', 'plain', '\\u0000', '\t\n\u0001', { a: [1, 'b'] }]) {
      expect(findNulCharacter(value, 'body')).toBeUndefined();
    }
  });

  test('a very deep body does not overflow the stack', () => {
    let deep: unknown = 'end\u0000';
    for (let level = 0; level < 100_000; level++) deep = [deep];
    expect(findNulCharacter(deep, 'body')).toStartWith('body/0/0');
  });
});

describe('the service base', () => {
  async function app() {
    const service = await createServiceApp({ service: 'client' });
    service.post('/echo/:id', { schema: { body: { type: 'object' } } }, async (request) => request.body);
    return service;
  }

  test('refuses NUL in params, query and body with 400 VALIDATION_FAILED, on any route', async () => {
    const service = await app();
    const cases = [
      { url: '/echo/a%00', payload: {}, where: 'params/id' },
      { url: '/echo/a?q=%00', payload: {}, where: 'querystring/q' },
      { url: '/echo/a', payload: { x: { y: 'z\u0000' } }, where: 'body/x/y' },
    ];
    for (const { url, payload, where } of cases) {
      const response = await service.inject({ method: 'POST', url, payload });
      expect(response.statusCode, url).toBe(400);
      expect(response.json()).toMatchObject({
        code: 'VALIDATION_FAILED',
        message: `${where} must not contain NUL (U+0000) characters`,
      });
    }
    expect((await service.inject({ method: 'POST', url: '/echo/a', payload: { x: 'fine' } })).statusCode).toBe(200);
    await service.close();
  });

  test('a body in a content type the route does not parse is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const service = await app();
    for (const type of ['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded']) {
      const response = await service.inject({
        method: 'POST',
        url: '/echo/a',
        payload: '{}',
        headers: { 'content-type': type },
      });
      expect(response.statusCode, type).toBe(415);
      expect(response.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    await service.close();
  });
});

describe('the canonical id', () => {
  const canonical = new RegExp(CANONICAL_UUID_PATTERN);
  test('is lower-case hyphenated hex and nothing else', () => {
    const id = '3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b';
    expect(canonical.test(id)).toBe(true);
    for (const other of [id.toUpperCase(), `urn:uuid:${id}`, `{${id}}`, id.replace(/-/g, ''), `${id}\n`, ` ${id}`]) {
      expect(canonical.test(other), other).toBe(false);
    }
  });
});
