// Peer for scenario 5: nginx (Debian's package) as a plain reverse proxy with keep-alive to the
// upstream, what an operator would put in front instead of our gateway. Started from a generated
// config in a temp folder (`nginx -p <folder> -c <conf> -e <log>`, daemon off) so nothing global is
// read or written: no /etc/nginx, no /var/log/nginx, no pid file outside that folder.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectOutput, findBinary, findFreePort, stopChild, waitForPort } from '../../stack/processes.ts';

export function nginxConfig(prefix: string, port: number, upstream: string): string {
  const { host } = new URL(upstream);
  return `daemon off;
# One worker: our gateway is one Bun process (one JS thread); this keeps the comparison per process.
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  upstream worker {
    server ${host};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://worker;
      # HTTP/1.1 and no Connection header: what upstream keep-alive needs (nginx's documented recipe).
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

export interface RunningNginx {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startNginx(upstream: string): Promise<RunningNginx> {
  const binary = findBinary('nginx');
  if (!binary) throw new Error('nginx not found: apt-get install nginx (Debian package)');
  const prefix = mkdtempSync(join(tmpdir(), 'poolwise-nginx-'));
  // Started as root, nginx's worker runs as `nobody` and must reach its temp folders in here (a
  // response larger than its buffers goes through proxy_temp). Nothing secret is in this folder.
  chmodSync(prefix, 0o755);
  const port = await findFreePort();
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, nginxConfig(prefix, port, upstream));
  const child = spawn(binary, ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collectOutput(child);
  const stop = async () => {
    await stopChild(child, 'SIGTERM', 5_000);
    rmSync(prefix, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, 'nginx', 10_000, child);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${output()}`);
  }
  return { url: `http://127.0.0.1:${port}`, process: child, stop };
}
