import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { totalmem, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RequirementsSchema } from '../../src/shared';
import { cleanDmi } from '../../src/engine/system/machine-si';
import { machineProbe, machineReport } from '../../src/engine/system/machine';
import { startServiceChild } from '../support/service-child';

// The machine's facts through systeminformation, for real on this machine: from the source (as tests
// and `npm start` run it) and from the built engine, which loads out/engine/machine-si.mjs on first use.

const REPO = resolve(import.meta.dirname, '../..');
const BUNDLE = join(REPO, 'out/engine/cli.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'particle-machine-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('DMI names', () => {
  it('drops what firmware vendors leave unfilled, keeps real names whole', () => {
    for (const blank of ['', ' ', '-', 'To Be Filled By O.E.M.', 'System Product Name', 'Default string', 'Not Specified', '0000000', 'N/A']) expect(cleanDmi(blank), blank).toBeNull();
    expect(cleanDmi('  LENOVO ')).toBe('LENOVO');
    expect(cleanDmi('Standard PC (Q35 + ICH9,  2009)')).toBe('Standard PC (Q35 + ICH9, 2009)');
    expect(cleanDmi(undefined)).toBeNull();
  });
});

describe('the probe on this machine', () => {
  it('memory is what the kernel says (MemTotal), interfaces and graphics are lists, identity has its fields', async () => {
    const probe = await machineProbe();
    expect(await probe.memoryBytes()).toBe(totalmem());
    const id = await probe.identity();
    expect(typeof id.virtual).toBe('boolean');
    for (const v of [id.vendor, id.model]) expect(v === null || (typeof v === 'string' && v.trim() === v && v !== '')).toBe(true);
    const interfaces = await probe.interfaces();
    for (const i of interfaces) expect(i).toMatchObject({ name: expect.any(String), kind: expect.stringMatching(/^(wired|wireless|virtual|other)$/) });
    expect(interfaces.some((i) => i.name === 'lo')).toBe(false);
    expect(Array.isArray(await probe.graphics())).toBe(true);
  });
});

if (!existsSync(BUNDLE)) console.warn('[integration] the built engine is not checked: out/engine/cli.mjs is missing (npm run build makes it)');
describe.skipIf(!existsSync(BUNDLE))('the built engine', () => {
  it('loads machine-si.mjs on first use: checkRequirements measures memory and names the machine over its service', async () => {
    const { child, client, stderr } = startServiceChild([BUNDLE], join(tmp, 'run'), REPO, { ...process.env });
    try {
      const reply = await client.call('checkRequirements', { minimumMemory: 1 });
      expect(reply.error, `${JSON.stringify(reply.error)} ${stderr()}`).toBeUndefined();
      const r = RequirementsSchema.parse(reply.result);
      expect(r.checks.find((c) => c.id === 'memory')).toMatchObject({ status: 'ok', measured: totalmem() });
      expect(r.machine).toMatchObject({ virtual: expect.any(Boolean) });
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe("the log bundle's machine.json", () => {
  it('holds each part, or the reason it is missing, and never waits past its limit', async () => {
    const report = await machineReport();
    expect(Object.keys(report)).toEqual(['identity', 'memoryBytes', 'graphics', 'interfaces']);
    expect(report.memoryBytes).toBe(totalmem());
    const hung = await machineReport(
      async () => ({
        identity: () => new Promise(() => {}),
        memoryBytes: async () => 1,
        graphics: async () => Promise.reject(new Error('lspci: not found')),
        interfaces: async () => [],
      }),
      200,
    );
    expect(hung).toEqual({ identity: { error: 'no answer within 0.2 s' }, memoryBytes: 1, graphics: { error: 'lspci: not found' }, interfaces: [] });
    expect(await machineReport(() => Promise.reject(new Error('gone')), 200)).toEqual({ error: 'the machine probe could not be loaded: gone' });
  });
});
