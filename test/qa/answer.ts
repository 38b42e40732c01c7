import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateAnswerFile, type AnswerFileInput } from '../../src/shared/answer-file';
import { EMBEDDED_IMAGE } from './contract';

/**
 * The unattended variant's answer file, and the little HTTP server the live system fetches it from
 * (`installer.config=http://10.0.2.2:PORT/answer.json`; QEMU's user network maps 10.0.2.2 to the
 * host's loopback).
 */

export interface QaAnswerOptions {
  readonly hostname: string;
  /** The target disk's serial (virtio: as given to QEMU). */
  readonly serial: string;
  readonly user: string;
  readonly fullName: string;
  readonly password: string;
}

/** Installs the ISO's embedded image with oci-rootfs onto the disk with `serial`; validated before it is returned. */
export function qaAnswerFile(o: QaAnswerOptions): AnswerFileInput {
  const answer: AnswerFileInput = {
    version: 1,
    locale: 'en_US.UTF-8',
    keyboard: { layout: 'us' },
    timezone: 'UTC',
    hostname: o.hostname,
    disk: { serial: o.serial },
    layout: { type: 'erase', filesystem: 'ext4', swap: 'none' },
    users: [{ name: o.user, fullName: o.fullName, password: o.password, admin: true }],
    image: { transport: 'oci', reference: EMBEDDED_IMAGE },
    deployer: 'oci-rootfs',
    // The QA boots the result and reads its serial console: the kernel, GRUB and a getty go there.
    kernelArgs: ['console=ttyS0,115200'],
  };
  const v = validateAnswerFile(answer);
  if (!v.ok) throw new Error(`the QA answer file is invalid: ${v.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
  return answer;
}

export interface AnswerServer {
  /** The port on the host's loopback. */
  readonly port: number;
  /** The URL as the guest sees it. */
  readonly guestUrl: string;
  /** Each request: when (performance.now()), method and path, and the status sent. */
  readonly requests: { at: number; method: string; path: string; status: number }[];
  close(): Promise<void>;
}

/** Serves `answer` as /answer.json on 127.0.0.1 (a free port); every other path is a 404. */
export async function serveAnswer(answer: unknown, guestHost = '10.0.2.2'): Promise<AnswerServer> {
  const body = `${JSON.stringify(answer, null, 2)}\n`;
  const requests: AnswerServer['requests'] = [];
  const server = createServer((req, res) => {
    const ok = req.method === 'GET' && req.url === '/answer.json';
    requests.push({ at: performance.now(), method: req.method ?? '?', path: req.url ?? '?', status: ok ? 200 : 404 });
    if (!ok) return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    guestUrl: `http://${guestHost}:${port}/answer.json`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
