// The pipeline runner and the pure stages, without servers.
import { describe, expect, test } from 'bun:test';
import { addressLimitKey } from '../../shared/http/address-key.ts';
import { clientAddressFrom } from './client-address.ts';
import { decodesStrictly } from './edge-cache.ts';
import { answerWithStandingHeaders, type GatewayRequest, runPipeline, type Stage } from './pipeline.ts';
import { shareOf } from './rate-limit.ts';
import { requestIdStage } from './request-id.ts';

const context = () =>
  ({ request: new Request('http://gateway/x'), url: new URL('http://gateway/x') }) as GatewayRequest;

describe('runPipeline', () => {
  test('stages run in order until one answers; finish runs in reverse for those that ran', async () => {
    const trace: string[] = [];
    const stage = (name: string, answers = false): Stage => ({
      name,
      handle: () => {
        trace.push(`handle ${name}`);
        return answers ? new Response(name) : undefined;
      },
      finish: (_context, response) => {
        trace.push(`finish ${name}`);
        response.headers.append('x-trace', name);
      },
    });
    const response = await runPipeline([stage('a'), stage('b', true), stage('c')], context());
    expect(await response.text()).toBe('b');
    expect(trace).toEqual(['handle a', 'handle b', 'finish b', 'finish a']);
    expect(response.headers.get('x-trace')).toBe('b, a');
  });

  test('an answer built on the standing headers has those of the stages before it, and finish is told so', async () => {
    const told: boolean[] = [];
    const standing = (name: string, headers: Record<string, string>): Stage => ({
      name,
      standingHeaders: headers,
      handle: () => undefined,
      finish: (_context, _response, prepared) => {
        told.push(prepared);
      },
    });
    const answering = (prepare: boolean): Stage => ({
      name: 'answer',
      handle: (context) =>
        prepare
          ? answerWithStandingHeaders(context, '{}', { status: 201, headers: { 'x-own': '1', 'x-b': 'own' } })
          : new Response('{}'),
    });
    const stages = (prepare: boolean) => [
      standing('a', { 'x-a': 'a' }),
      standing('b', { 'x-b': 'b' }),
      answering(prepare),
      standing('c', { 'x-c': 'c' }), // after the answer: never on it
    ];
    const prepared = await runPipeline(stages(true), context());
    expect(prepared.status).toBe(201);
    expect(prepared.headers.get('x-a')).toBe('a');
    expect(prepared.headers.get('x-b')).toBe('own'); // the answer's own value wins
    expect(prepared.headers.get('x-own')).toBe('1');
    expect(prepared.headers.get('x-c')).toBeNull();
    expect(told).toEqual([true, true]);
    told.length = 0;
    const plain = await runPipeline(stages(false), context());
    expect(plain.headers.get('x-a')).toBeNull(); // finish adds them for a plain answer (see security-headers.ts)
    expect(told).toEqual([false, false]);
  });

  test("every answer carries the request's id once, whether built on the standing headers or not", async () => {
    for (const prepare of [true, false]) {
      const request = new Request('http://gateway/x', { headers: { 'x-request-id': 'caller-42' } });
      const answering: Stage = {
        name: 'answer',
        handle: (context) => (prepare ? answerWithStandingHeaders(context, '{}', { headers: {} }) : new Response('{}')),
      };
      const response = await runPipeline([requestIdStage, answering], {
        request,
        url: new URL(request.url),
      } as GatewayRequest);
      expect(response.headers.get('x-request-id')).toBe('caller-42');
    }
  });

  test("a prepared answer's own Vary is added to the standing one; a JSON value is sent as JSON", async () => {
    const stages: Stage[] = [
      { name: 'cors-like', standingHeaders: { vary: 'Origin' }, handle: () => undefined },
      {
        name: 'answer',
        handle: (context) =>
          answerWithStandingHeaders(
            context,
            { json: { data: [1, 'two'], meta: { total: 2 } } },
            { headers: { 'content-type': 'application/json; charset=utf-8', vary: 'Accept-Encoding' } },
          ),
      },
    ];
    const response = await runPipeline(stages, context());
    expect(response.headers.get('vary')).toBe('Origin, Accept-Encoding');
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual({ data: [1, 'two'], meta: { total: 2 } });
  });

  test('a pipeline in which nothing answers is a programming error, not a hang', async () => {
    expect(runPipeline([{ name: 'none', handle: () => undefined }], context())).rejects.toThrow('no stage answered');
  });
});

describe('client address', () => {
  /** A socket address that counts how often it is read (each read is a system call in the gateway). */
  const socket = (address: string) => {
    const read = Object.assign(
      () => {
        read.reads++;
        return address;
      },
      { reads: 0 },
    );
    return read;
  };

  test('with no trusted proxy the socket address is the client, whatever X-Forwarded-For says', () => {
    expect(clientAddressFrom(socket('203.0.113.9'), '198.51.100.1', 0)).toBe('203.0.113.9');
  });

  test('behind N trusted proxies, the Nth entry from the right', () => {
    // client → ingress (10.0.0.2) → gateway; the ingress appended what it saw
    expect(clientAddressFrom(socket('10.0.0.2'), '198.51.100.7', 1)).toBe('198.51.100.7');
    // a spoofed entry on the left is ignored
    expect(clientAddressFrom(socket('10.0.0.2'), '1.2.3.4, 198.51.100.7', 1)).toBe('198.51.100.7');
    expect(clientAddressFrom(socket('10.0.0.3'), '1.2.3.4, 198.51.100.7, 10.0.0.2', 2)).toBe('198.51.100.7');
    // fewer entries than trusted hops: the leftmost there is
    expect(clientAddressFrom(socket('10.0.0.2'), '198.51.100.7', 5)).toBe('198.51.100.7');
    // no usable entry: the socket
    expect(clientAddressFrom(socket('10.0.0.2'), ' , ', 1)).toBe('10.0.0.2');
    expect(clientAddressFrom(socket('10.0.0.2'), null, 1)).toBe('10.0.0.2');
  });

  test('the socket address is read only when it is the answer (a system call per read)', () => {
    const behindProxy = socket('10.0.0.2');
    clientAddressFrom(behindProxy, '1.2.3.4, 198.51.100.7', 1);
    clientAddressFrom(behindProxy, '198.51.100.7', 3);
    expect(behindProxy.reads).toBe(0);
    const direct = socket('203.0.113.9');
    clientAddressFrom(direct, '198.51.100.1', 0);
    clientAddressFrom(direct, null, 1);
    expect(direct.reads).toBe(2);
  });

  test('IPv6 clients share one limit per /64; IPv4 (and IPv4-mapped) per address', () => {
    expect(addressLimitKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressLimitKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressLimitKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressLimitKey('::1')).toBe('0:0:0:0::/64');
    expect(addressLimitKey('198.51.100.7')).toBe('198.51.100.7');
    expect(addressLimitKey('::ffff:198.51.100.7')).toBe('198.51.100.7');
  });
});

describe('rate limits across gateways', () => {
  test('each of N gateways enforces its share, rounded up, at least 1', () => {
    expect(shareOf(600, 1)).toBe(600);
    expect(shareOf(600, 4)).toBe(150);
    expect(shareOf(20, 3)).toBe(7);
    expect(shareOf(1, 8)).toBe(1);
  });
});

describe('edge cache query check', () => {
  test('malformed escapes are not read at the edge (the worker decodes them its own way)', () => {
    expect(decodesStrictly('?search=acme%20ltd&page=2')).toBe(true);
    expect(decodesStrictly('?search=%E0%A4%A')).toBe(false);
    expect(decodesStrictly('?search=%zz')).toBe(false);
  });
});
