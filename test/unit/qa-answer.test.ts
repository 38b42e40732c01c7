import { get } from 'node:http';
import { describe, expect, it } from 'vitest';
import { validateAnswerFile } from '../../src/shared/answer-file';
import { qaAnswerFile, serveAnswer } from '../qa/answer';

const options = { hostname: 'particle-unattended', serial: 'qa-target', user: 'anna', fullName: 'Anna Example', password: 'Oci pass 4 anna!' };

function fetchText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('QA: the unattended answer file', () => {
  it('installs the embedded image with oci-rootfs onto the disk with the target serial, with a serial console', () => {
    const a = qaAnswerFile(options);
    const v = validateAnswerFile(a);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.value.image).toEqual({ transport: 'oci', reference: '/run/live/medium/particle/image', enforceSignaturePolicy: false });
    expect(v.value.deployer).toBe('oci-rootfs');
    expect(v.value.disk).toEqual({ serial: 'qa-target' });
    expect(v.value.hostname).toBe('particle-unattended');
    expect(v.value.users).toEqual([expect.objectContaining({ name: 'anna', password: 'Oci pass 4 anna!' })]);
    expect(v.value.layout.type).toBe('erase');
    expect(v.value.kernelArgs).toEqual(['console=ttyS0,115200']);
  });

  it('an option the schema refuses fails at once, naming the field', () => {
    expect(() => qaAnswerFile({ ...options, hostname: 'Not_A_Host' })).toThrow(/hostname/);
  });

  it('is served as /answer.json on loopback, every request noted; other paths are 404', async () => {
    const answer = qaAnswerFile(options);
    const s = await serveAnswer(answer);
    try {
      expect(s.guestUrl).toBe(`http://10.0.2.2:${s.port}/answer.json`);
      const ok = await fetchText(`http://127.0.0.1:${s.port}/answer.json`);
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body)).toEqual(answer);
      expect((await fetchText(`http://127.0.0.1:${s.port}/other`)).status).toBe(404);
      expect(s.requests.map((r) => [r.path, r.status])).toEqual([['/answer.json', 200], ['/other', 404]]);
    } finally {
      await s.close();
    }
  });
});
