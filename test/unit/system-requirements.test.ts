import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeError, RequirementsSchema, type Disk, type RequirementCheck } from '../../src/shared';
import { CommandError, type Exec } from '../../src/engine/exec';
import { DEFAULT_SYSTEM_PATHS } from '../../src/engine/system/deps';
import { checkRequirements, hasDefaultRoute, powerSource, registryEndpoint, type RequirementsDeps, type RequirementsParams } from '../../src/engine/system/requirements';
import type { GraphicsFact, MachineIdentity, MachineProbe, NetworkInterfaceFact } from '../../src/engine/system/machine';
import { makeDisk } from '../support/make-disk';

const FIX = resolve('test/fixtures/system');
const GiB = 1024 ** 3;
const MEM = 8039652 * 1024;

interface Setup {
  proc?: string;
  /** What the machine probe answers (a stand-in for systeminformation); null memory: unreadable. */
  memory?: number | null;
  identity?: MachineIdentity | 'fails';
  interfaces?: NetworkInterfaceFact[];
  graphics?: GraphicsFact[] | 'fails';
  sys?: string;
  disks?: Disk[];
  tools?: string[];
  imageExists?: boolean;
  connect?: (host: string, port: number) => Promise<void>;
}

function deps(s: Setup = {}): RequirementsDeps & { calls: string[][]; connects: string[] } {
  const calls: string[][] = [];
  const connects: string[] = [];
  const exec: Exec = async (argv) => {
    calls.push([...argv]);
    return { exitCode: s.imageExists ? 0 : 1, stdout: '', stderr: '', durationMs: 1 };
  };
  const tools = new Set(s.tools ?? []);
  return {
    calls,
    connects,
    exec,
    paths: { ...DEFAULT_SYSTEM_PATHS, proc: join(s.proc ?? 'proc-ac'), sys: join(s.sys ?? 'sys-laptop-ac') },
    which: (c) => (tools.has(c) ? `/usr/bin/${c}` : null),
    probe: async () => s.disks ?? [makeDisk({ size: 64 * GiB })],
    machine: async (): Promise<MachineProbe> => ({
      memoryBytes: async () => (s.memory === undefined ? MEM : s.memory),
      identity: async () => {
        if (s.identity === 'fails') throw new Error('dmidecode broke');
        return s.identity ?? { vendor: 'LENOVO', model: '21HD ThinkPad X13', version: null, virtual: false };
      },
      interfaces: async () => s.interfaces ?? [],
      graphics: async () => {
        if (s.graphics === 'fails') throw new Error('lspci broke');
        return s.graphics ?? [];
      },
    }),
    minimumSize: 16 * GiB,
    tcpConnect: async (host, port) => {
      connects.push(`${host}:${port}`);
      await (s.connect ?? (async () => {}))(host, port);
    },
  };
}
function join(name: string): string {
  return `${FIX}/${name}`;
}

async function check(params: Partial<RequirementsParams>, s: Setup = {}): Promise<Record<string, RequirementCheck>> {
  const r = await checkRequirements({ minimumMemory: 4 * GiB, firmware: 'any', ...params }, deps(s));
  expect(RequirementsSchema.parse(r)).toEqual(r);
  expect(r.checks.map((c) => c.id)).toEqual(['memory', 'disk', 'firmware', 'power', 'network']);
  return Object.fromEntries(r.checks.map((c) => [c.id, c]));
}

const registryImage = { reference: 'quay.io/fedora/fedora-bootc:42', transport: 'registry' as const, enforceSignaturePolicy: false };

describe('memory', () => {
  it('ok when enough, failed when not, unknown when unreadable', async () => {
    expect((await check({ minimumMemory: 4 * GiB })).memory).toMatchObject({ status: 'ok', measured: MEM, required: 4 * GiB });
    expect((await check({ minimumMemory: 16 * GiB })).memory).toMatchObject({ status: 'failed', measured: MEM });
    expect((await check({}, { memory: null })).memory).toMatchObject({ status: 'unknown', measured: null });
  });
});

describe('the machine, named for the summary', () => {
  it('vendor and model in one line, the vendor not said twice, virtual machines said so', async () => {
    const r = await checkRequirements({ minimumMemory: 0, firmware: 'any' }, deps({ identity: { vendor: 'LENOVO', model: 'Lenovo ThinkPad X13', version: null, virtual: false } }));
    expect(r.machine).toEqual({ vendor: 'LENOVO', model: 'Lenovo ThinkPad X13', virtual: false, name: 'LENOVO ThinkPad X13', graphics: [], safeGraphics: [] });
    const vm = await checkRequirements({ minimumMemory: 0, firmware: 'any' }, deps({ identity: { vendor: 'QEMU', model: 'Standard PC (Q35 + ICH9, 2009)', version: null, virtual: true } }));
    expect(vm.machine?.name).toBe('QEMU Standard PC (Q35 + ICH9, 2009) (virtual machine)');
    const blank = await checkRequirements({ minimumMemory: 0, firmware: 'any' }, deps({ identity: { vendor: null, model: null, version: null, virtual: false } }));
    expect(blank.machine?.name).toBeNull();
  });

  it('names the graphics cards, and the safe-graphics arguments the session started with (exact words only)', async () => {
    const graphics: GraphicsFact[] = [
      { vendor: 'NVIDIA Corporation', model: 'GA106M [GeForce RTX 3060 Mobile]', bus: 'PCIe' },
      { vendor: 'Intel Corporation', model: null, bus: 'Onboard' },
      { vendor: null, model: null, bus: null },
    ];
    const r = await checkRequirements({ minimumMemory: 0, firmware: 'any' }, deps({ graphics, proc: 'proc-safe-graphics' }));
    expect(r.machine?.graphics).toEqual(['NVIDIA Corporation GA106M [GeForce RTX 3060 Mobile]', 'Intel Corporation']);
    expect(r.machine?.safeGraphics).toEqual(['nomodeset', 'nouveau.modeset=0']);
    // A graphics probe that fails names no card and costs nothing else.
    const broken = await checkRequirements({ minimumMemory: 0, firmware: 'any' }, deps({ graphics: 'fails', proc: 'proc-safe-graphics' }));
    expect(broken.machine?.graphics).toEqual([]);
    expect(broken.machine?.name).toBe('LENOVO 21HD ThinkPad X13');
  });

  it('a probe that fails leaves the machine unnamed and every check still there', async () => {
    const r = await checkRequirements({ minimumMemory: 0, firmware: 'any' }, deps({ identity: 'fails' }));
    expect(r.machine).toBeNull();
    expect(r.checks).toHaveLength(5);
  });
});

describe('disk', () => {
  it('measures the largest disk that is not refused against the minimum size', async () => {
    const disks = [makeDisk({ path: '/dev/sda', size: 32 * GiB }), makeDisk({ path: '/dev/sdb', size: 500 * GiB, verdict: 'refused', reasons: [{ code: 'live-medium', message: 'boot medium' }] })];
    expect((await check({}, { disks })).disk).toMatchObject({ status: 'ok', measured: 32 * GiB, required: 16 * GiB });
  });

  it('fails when every disk is refused, measuring the ones refused only for size', async () => {
    const small = makeDisk({ path: '/dev/sda', size: 8 * GiB, verdict: 'refused', reasons: [{ code: 'too-small', message: 'too small' }] });
    const live = makeDisk({ path: '/dev/sdb', size: 500 * GiB, verdict: 'refused', reasons: [{ code: 'live-medium', message: 'boot medium' }] });
    expect((await check({}, { disks: [small, live] })).disk).toMatchObject({ status: 'failed', measured: 8 * GiB, required: 16 * GiB });
    expect((await check({}, { disks: [live] })).disk).toMatchObject({ status: 'failed', measured: null });
  });
});

describe('firmware', () => {
  it('uefi from /sys/firmware/efi; fails only when the image needs UEFI and the machine is BIOS', async () => {
    expect((await check({ firmware: 'uefi' }, { sys: 'sys-laptop-ac' })).firmware).toMatchObject({ status: 'ok', measured: 'uefi', required: 'uefi' });
    expect((await check({ firmware: 'any' }, { sys: 'sys-laptop-battery' })).firmware).toMatchObject({ status: 'ok', measured: 'bios', required: null });
    expect((await check({ firmware: 'uefi' }, { sys: 'sys-laptop-battery' })).firmware).toMatchObject({ status: 'failed', measured: 'bios' });
  });
});

describe('power', () => {
  it('ac, battery, no battery (a mouse battery does not count)', async () => {
    expect(powerSource(join('sys-laptop-ac'))).toBe('ac');
    expect(powerSource(join('sys-laptop-battery'))).toBe('battery');
    expect(powerSource(join('sys-desktop-mouse'))).toBe('no-battery');
    expect(powerSource(join('nowhere'))).toBe('no-battery');
    expect((await check({}, { sys: 'sys-laptop-battery' })).power).toMatchObject({ status: 'failed', measured: 'battery' });
    expect((await check({}, { sys: 'sys-desktop-mouse' })).power).toMatchObject({ status: 'ok', measured: 'no-battery' });
  });
});

describe('network', () => {
  it('skipped without an image, for local transports, and when the image is in storage', async () => {
    expect((await check({})).network?.status).toBe('skipped');
    expect((await check({ image: { ...registryImage, reference: '/srv/image', transport: 'oci' } })).network?.status).toBe('skipped');
    const d = await check({ image: registryImage }, { tools: ['podman'], imageExists: true });
    expect(d.network).toMatchObject({ status: 'skipped', message: expect.stringMatching(/local container storage/) });
  });

  it('asks podman, then needs a default route, then connects to the registry on 443', async () => {
    const s = deps({ tools: ['podman'] });
    const r = await checkRequirements({ minimumMemory: 0, firmware: 'any', image: registryImage }, s);
    expect(r.checks.at(-1)).toMatchObject({ id: 'network', status: 'ok' });
    expect(s.calls).toEqual([['podman', 'image', 'exists', 'quay.io/fedora/fedora-bootc:42']]);
    expect(s.connects).toEqual(['quay.io:443']);
  });

  it('fails without a default route, without connecting', async () => {
    const s = deps({ proc: 'proc-offline' });
    const r = await checkRequirements({ minimumMemory: 0, firmware: 'any', image: registryImage }, s);
    expect(r.checks.at(-1)).toMatchObject({ status: 'failed', measured: 'no-route', message: expect.stringMatching(/No network interface was found\.$/) });
    expect(s.connects).toEqual([]);
  });

  it('without a default route, names the interfaces that are there and their state', async () => {
    const interfaces: NetworkInterfaceFact[] = [
      { name: 'enp1s0', kind: 'wired', state: 'down', isDefault: false, ipv4: null },
      { name: 'wlp2s0', kind: 'wireless', state: 'dormant', isDefault: false, ipv4: null },
    ];
    const r = await checkRequirements({ minimumMemory: 0, firmware: 'any', image: registryImage }, deps({ proc: 'proc-offline', interfaces }));
    expect(r.checks.at(-1)?.message).toMatch(/Interfaces: enp1s0 \(wired, down\), wlp2s0 \(wireless, dormant\)\.$/);
  });

  it('fails when the registry cannot be reached', async () => {
    const net = await check({ image: { ...registryImage, reference: 'fedora:40' } }, { connect: async () => Promise.reject(new Error('connect ECONNREFUSED')) });
    expect(net.network).toMatchObject({ status: 'failed', message: expect.stringContaining('registry-1.docker.io cannot be reached on port 443: connect ECONNREFUSED') });
  });

  it('a failing podman does not stop the check', async () => {
    const s = deps({ tools: ['podman'] });
    const exec: Exec = async (argv) => {
      throw new CommandError(makeError('command-failed', `${argv[0]} broke`));
    };
    const r = await checkRequirements({ minimumMemory: 0, firmware: 'any', image: registryImage }, { ...s, exec });
    expect(r.checks.at(-1)!.status).toBe('ok');
  });

  it('default routes from /proc/net/route and ipv6_route', () => {
    const v4 = 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\nwlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\n';
    expect(hasDefaultRoute(v4, '')).toBe(true);
    expect(hasDefaultRoute(v4.replace('0003', '0002'), '')).toBe(false);
    const v6 = '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003   wlan0\n';
    expect(hasDefaultRoute('', v6)).toBe(true);
    expect(hasDefaultRoute('', v6.replace('wlan0', 'lo'))).toBe(false);
  });

  it('registry host and port from a reference', () => {
    expect(registryEndpoint('fedora')).toEqual({ host: 'registry-1.docker.io', port: 443 });
    expect(registryEndpoint('library/fedora:40')).toEqual({ host: 'registry-1.docker.io', port: 443 });
    expect(registryEndpoint('docker.io/library/fedora')).toEqual({ host: 'registry-1.docker.io', port: 443 });
    expect(registryEndpoint('quay.io/fedora/fedora-bootc:42')).toEqual({ host: 'quay.io', port: 443 });
    expect(registryEndpoint('localhost:5000/os:1')).toEqual({ host: 'localhost', port: 5000 });
  });
});
