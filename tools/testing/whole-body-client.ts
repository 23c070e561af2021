// An HTTP/1.1 client on a raw socket that behaves like Python's urllib and many others: it writes the
// whole request body before it reads a single byte of the answer. A server that answers early and
// closes while such a client still writes makes the client's write fail (EPIPE or a reset) and the
// kernel drop the unread answer, which is the failure tests of 413s must be able to see.
import { createConnection } from 'node:net';

export interface WholeBodyRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Sent as is (Content-Length given in headers) or, with chunked: true, in 64 KiB chunks. */
  body: Buffer;
  chunked?: boolean;
}

export interface WholeBodyAnswer {
  /** The error a write failed with, if the server stopped reading before the body was sent. */
  writeError?: string;
  status?: number;
  headers: Record<string, string>;
  body: string;
}

const CHUNK = 64 * 1024;

function* framed(request: WholeBodyRequest): Generator<Buffer> {
  if (!request.chunked) {
    for (let at = 0; at < request.body.length; at += CHUNK) yield request.body.subarray(at, at + CHUNK);
    return;
  }
  for (let at = 0; at < request.body.length; at += CHUNK) {
    const part = request.body.subarray(at, at + CHUNK);
    yield Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]);
  }
  yield Buffer.from('0\r\n\r\n');
}

export async function sendWholeBodyThenRead(baseUrl: string, request: WholeBodyRequest): Promise<WholeBodyAnswer> {
  const url = new URL(baseUrl);
  const socket = createConnection(Number(url.port), url.hostname);
  let failure: Error | undefined;
  socket.on('error', (error) => {
    failure ??= error;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const headers = {
    host: url.host,
    ...request.headers,
    ...(request.chunked ? { 'transfer-encoding': 'chunked' } : {}),
  };
  const head = `${request.method} ${request.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
  const write = (data: Buffer | string) =>
    new Promise<void>((resolve) => {
      if (failure || socket.destroyed) return resolve();
      socket.write(data, (error) => {
        if (error) failure ??= error;
        resolve();
      });
    });
  await write(head);
  for (const part of framed(request)) {
    if (failure) break;
    await write(part);
  }
  const writeError = failure ? ((failure as NodeJS.ErrnoException).code ?? failure.message) : undefined;

  // Only now read: whatever the server sent is still in the socket's buffer, unless a reset dropped it.
  const received = await new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(finish, 5_000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (isComplete(Buffer.concat(chunks))) finish();
    });
    socket.on('close', finish);
    socket.on('error', finish);
    if (socket.destroyed) finish();
  });
  return { writeError, ...parseAnswer(received) };
}

function isComplete(data: Buffer): boolean {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(data.subarray(0, end).toString())?.[1];
  return length !== undefined && data.length >= end + 4 + Number(length);
}

function parseAnswer(data: Buffer): Omit<WholeBodyAnswer, 'writeError'> {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return { headers: {}, body: '' };
  const [statusLine = '', ...lines] = data.subarray(0, end).toString().split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body: data.subarray(end + 4).toString() };
}
