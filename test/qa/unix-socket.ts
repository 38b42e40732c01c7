import { connect, type Socket } from 'node:net';
import { sleep } from './serial';

/**
 * Connects to a Unix socket QEMU serves (`server=on,wait=off`), trying again until QEMU has made it
 * and `ready` accepted the connection (a greeting, a prompt); fails when QEMU exits or time is up.
 */
export async function connectQemuSocket<T>(path: string, what: string, ready: (socket: Socket) => Promise<T>, timeoutMs: number, alive: () => boolean): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (!alive()) throw new Error(`QEMU exited before its ${what} answered`);
    try {
      const socket = await new Promise<Socket>((resolve, reject) => {
        const s = connect(path, () => resolve(s));
        s.once('error', reject);
      });
      return await ready(socket);
    } catch (e) {
      if (performance.now() > deadline) throw new Error(`QEMU's ${what} at ${path} did not answer: ${(e as Error).message}`);
      await sleep(200);
    }
  }
}
