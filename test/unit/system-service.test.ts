import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METHODS, RPC_APP_ERROR, RPC_INVALID_PARAMS, RpcResponseSchema } from '../../src/shared';
import { createEngine } from '../../src/engine/engine';
import { stubMachine } from '../support/machine-stub';
import type { Exec } from '../../src/engine/exec';
import { createRpcServer, type Logger } from '../../src/service';
import { parseImageOption } from '../../src/cli/service';
import { UsageError } from '../../src/cli/io';

const FIX = resolve('test/fixtures/system');
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };
const exec: Exec = async () => ({ exitCode: 0, stdout: '{"blockdevices":[]}', stderr: '', durationMs: 1 });

const engine = createEngine({
  mode: 'test',
  exec,
  runRoot: '/nonexistent-run-root',
  offeredImage: { reference: '/srv/image', transport: 'oci' },
  systemPaths: { xkbRulesDir: `${FIX}/xkb`, zoneinfoDir: `${FIX}/zoneinfo`, localtime: `${FIX}/none`, timezoneFile: `${FIX}/none`, proc: `${FIX}/proc-ac`, sys: `${FIX}/sys-laptop-ac` },
  machine: stubMachine(),
});
const server = createRpcServer(engine, quiet);
let id = 0;
async function call(method: string, params: unknown = {}) {
  const out = await server.handleLine(JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }));
  const reply = JSON.parse(out!);
  expect(RpcResponseSchema.safeParse(reply).success).toBe(true);
  return reply;
}

describe('wizard methods through the service', () => {
  it('every method is implemented (none answers "not implemented")', async () => {
    for (const name of ['listKeyboardLayouts', 'listTimeZones', 'generateRecoveryKey', 'listSaveTargets']) {
      const r = await call(name);
      expect(r.error, name).toBeUndefined();
      expect(METHODS[name as keyof typeof METHODS].result.safeParse(r.result).success, name).toBe(true);
    }
  });

  it('listKeyboardLayouts and listTimeZones answer from the system files', async () => {
    expect((await call('listKeyboardLayouts')).result.layouts.map((l: { name: string }) => l.name)).toEqual(['ara', 'cz', 'us', 'de']);
    expect((await call('listTimeZones')).result.zones.find((z: { id: string }) => z.id === 'Europe/Oslo').countries).toEqual(['NO', 'SJ']);
  });

  it('setKeyboard: schema-checked params, then the rules, then test mode leaves the machine alone', async () => {
    expect((await call('setKeyboard', { layout: 'DE' })).error.code).toBe(RPC_INVALID_PARAMS);
    expect((await call('setKeyboard', { layout: 'xx' })).error).toMatchObject({ code: RPC_APP_ERROR, data: { code: 'invalid-input' } });
    expect((await call('setKeyboard', { layout: 'de', variant: 'nodeadkeys' })).result).toEqual({ applied: false, detail: 'Test mode leaves this computer’s keyboard as it is.' });
  });

  it('checkRequirements and exportAnswerFile round-trip', async () => {
    const req = (await call('checkRequirements', { minimumMemory: 1024 })).result;
    expect(req.checks.find((c: { id: string }) => c.id === 'firmware')).toMatchObject({ measured: 'uefi' });
    expect(req.checks.find((c: { id: string }) => c.id === 'memory')).toMatchObject({ status: 'ok', measured: 8 * 1024 ** 3 });
    expect(req.machine).toEqual({ vendor: 'QEMU', model: 'Standard PC (Q35 + ICH9, 2009)', virtual: true, name: 'QEMU Standard PC (Q35 + ICH9, 2009) (virtual machine)', graphics: [], safeGraphics: [] });
    const bad = await call('exportAnswerFile', { request: { version: 1 } });
    expect(bad.error.data.code).toBe('invalid-answer-file');
  });

  it('getInfo names the offered image', async () => {
    expect((await call('getInfo')).result.offeredImage).toEqual({ reference: '/srv/image', transport: 'oci' });
  });
});

describe('--image TRANSPORT:REFERENCE', () => {
  it('parses the four transports, making paths absolute', () => {
    expect(parseImageOption('oci:/srv/image', 'serve')).toEqual({ reference: '/srv/image', transport: 'oci' });
    expect(parseImageOption('oci:image:latest', 'serve')).toEqual({ reference: resolve('image:latest'), transport: 'oci' });
    expect(parseImageOption('registry:quay.io/fedora/fedora-bootc:42', 'service')).toEqual({ reference: 'quay.io/fedora/fedora-bootc:42', transport: 'registry' });
    expect(parseImageOption('containers-storage:localhost/os:1', 'service').transport).toBe('containers-storage');
    expect(parseImageOption('oci-archive:/srv/os.tar', 'service').transport).toBe('oci-archive');
  });

  it('refuses other transports and bad references', () => {
    for (const bad of ['docker://quay.io/x', 'quay.io/x', 'registry:', 'registry:-x', 'registry:a b']) expect(() => parseImageOption(bad, 'serve')).toThrow(UsageError);
  });
});
