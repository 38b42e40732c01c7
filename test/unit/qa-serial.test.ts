import { PassThrough } from 'node:stream';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { formatSummary, type QaReport, type VariantReport } from '../qa/report';
import { crc32, ppmToPng } from '../qa/screen';
import { cleanChunk, SerialConsole } from '../qa/serial';

function fakeConsole() {
  const fromGuest = new PassThrough();
  const toGuest = new PassThrough();
  let typed = '';
  toGuest.setEncoding('utf8').on('data', (d: string) => (typed += d));
  const logged: string[] = [];
  const c = new SerialConsole({ input: fromGuest, output: toGuest, onText: (t) => logged.push(t) });
  return { c, say: (s: string) => fromGuest.write(s), end: () => fromGuest.end(), typed: () => typed, logged };
}

describe('QA: the serial console', () => {
  it('removes control sequences, also one cut in two by a chunk boundary', () => {
    expect(cleanChunk('\x1b[2J\x1b[1;1H*Install Particle\r\n')).toEqual({ clean: '*Install Particle\n', rest: '' });
    expect(cleanChunk('Boot to a\x1b[0')).toEqual({ clean: 'Boot to a', rest: '\x1b[0' });
    const { c, say } = fakeConsole();
    say('Boot to a\x1b[0');
    say('m shell\r\n');
    expect(c.transcript()).toBe('Boot to a shell\n');
  });

  it('waits in order, past what earlier waits matched', async () => {
    const { c, say } = fakeConsole();
    say('one\nlogin: \ntwo\n');
    await c.waitFor(/login: /, 1000);
    const waiting = c.waitFor(/login: /, 2000);
    say('three\nlogin: ');
    await expect(waiting).resolves.toBeTruthy();
    await expect(c.waitFor(/never/, 50)).rejects.toThrow(/did not appear .* last lines:\n.*three\nlogin:$/s);
  });

  it('fails a wait at once when the guest goes away', async () => {
    const { c, say, end } = fakeConsole();
    const waiting = c.waitFor(/never/, 60_000);
    say('[  OK  ] Reached target Power-Off.\n');
    end();
    await expect(waiting).rejects.toThrow(/stopped before .*Power-Off/s);
  });

  it('notes when a watched line first appears, even before the watch', () => {
    const { c, say } = fakeConsole();
    say('particle-live: kiosk started\n');
    c.watch('kiosk', /particle-live: kiosk started/);
    c.watch('late', /late line/);
    expect(c.seenAt('kiosk')).not.toBeNull();
    expect(c.seenAt('late')).toBeNull();
    say('a late line\n');
    expect(c.seenAt('late')).not.toBeNull();
  });

  it('logs in on a getty and runs a command, returning its output without the echoed command line', async () => {
    const { c, say, typed } = fakeConsole();
    const login = c.login('live', 'live', 5000);
    await new Promise((r) => setTimeout(r, 10));
    say('\nparticle-live login: ');
    await new Promise((r) => setTimeout(r, 10));
    say('live\nPassword: ');
    await new Promise((r) => setTimeout(r, 10));
    say('\nlive@particle-live:~$ ');
    await new Promise((r) => setTimeout(r, 10));
    say("export TERM=dumb PS1='$ '\n$ ");
    await login;
    expect(typed()).toContain('live\nlive\n');
    const running = c.run('cat /proc/meminfo');
    await new Promise((r) => setTimeout(r, 10));
    const line = typed().split('\n').filter(Boolean).pop()!;
    const marker = /(__QA_\w+__)\$\?/.exec(line)![1]!;
    say(`${line}\nMemTotal: 3000000 kB\nMemAvailable: 2000000 kB\n${marker}0\n$ `);
    const r = await running;
    expect(r.exitCode).toBe(0);
    expect(r.output).toBe('MemTotal: 3000000 kB\nMemAvailable: 2000000 kB\n');
  });

  it('runs a diagnostic bounded by timeout(1), and gets the shell back when it never ends', async () => {
    const { c, say, typed } = fakeConsole();
    const answer = async (output: string, status: number): Promise<string> => {
      await new Promise((r) => setTimeout(r, 10));
      const line = typed().split('\n').filter(Boolean).pop()!;
      const marker = /(__QA_\w+__)\$\?/.exec(line)![1]!;
      say(`${line}\n${output}${marker}${status}\n$ `);
      return line;
    };
    // Quoted for sh -c, single quotes included; the guest's timeout is the limit given.
    const fine = c.diagnose("systemd-analyze blame | head -n 2 | sed 's/ms//'", 90);
    const line = await answer('1.2s a.service\n', 0);
    expect(line).toMatch(/^timeout -k 5 90 sh -c 'systemd-analyze blame \| head -n 2 \| sed '\\''s\/ms\/\/'\\''';/);
    await expect(fine).resolves.toBe('1.2s a.service\n');
    // timeout(1) stopped it: what it printed, and a line saying so.
    const stopped = c.diagnose('systemd-analyze blame', 90);
    await answer('4.5s b.service\n', 124);
    await expect(stopped).resolves.toBe('4.5s b.service\n(cut short: still running after 90 s)\n');
    // No end at all: Ctrl-C, then a command that must come back; the partial output is kept.
    const hung = c.diagnose('systemd-analyze blame', 0.05, 0.05);
    await new Promise((r) => setTimeout(r, 20));
    say('9.9s c.service\n');
    await new Promise((r) => setTimeout(r, 150));
    expect(typed()).toContain('\x03');
    await answer('', 0);
    const text = await hung;
    expect(text).toContain('9.9s c.service');
    expect(text).toMatch(/no answer within 0\.1 s; interrupted/);
    expect(typed().split('\n').filter(Boolean).pop()!.replace('\x03', '')).toMatch(/^true; echo __QA_/);
  });

  it('types a line in small pieces', async () => {
    const { c, typed } = fakeConsole();
    await c.type('initrd /live/initrd.img', { chunk: 5, delayMs: 1 });
    expect(typed()).toBe('initrd /live/initrd.img');
  });
});

describe('QA: screen dumps', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('a PPM becomes a PNG with the same pixels', () => {
    const pixels = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
    const ppm = Buffer.concat([Buffer.from('P6\n# made by a test\n2 2\n255\n'), pixels]);
    const png = ppmToPng(ppm);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.toString('latin1', 12, 16)).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBe(2);
    expect(png.readUInt32BE(20)).toBe(2);
    const idatAt = png.indexOf('IDAT');
    const raw = inflateSync(png.subarray(idatAt + 4, idatAt + 4 + png.readUInt32BE(idatAt - 4)));
    // Each row: filter byte 0, then RGB.
    expect(raw).toEqual(Buffer.concat([Buffer.from([0]), pixels.subarray(0, 6), Buffer.from([0]), pixels.subarray(6)]));
    expect(() => ppmToPng(Buffer.from('P5\n1 1\n255\n\0'))).toThrow(/P6/);
    expect(() => ppmToPng(Buffer.from('P6\n2 2\n255\n\0\0\0'))).toThrow(/cut short/);
  });
});

describe('QA: the summary', () => {
  const variant = (o: Partial<VariantReport>): VariantReport => ({
    variant: 'remote-uefi', mode: 'remote', firmware: 'uefi', medium: 'cd', accel: 'tcg', passed: true, error: null,
    seconds: { grubMenu: 9.5, remoteAccessLine: 48.2, httpReady: 50.1, interactive: 71.9, kioskStarted: 66 },
    idleMemory: { totalMiB: 2978, availableMiB: 2182, usedMiB: 796, afterSeconds: 120 },
    installSeconds: 412, powerOff: 'wizard', expectedHostname: 'particle-qa',
    target: { accel: 'tcg', loginPromptSeconds: 31.2, hostname: 'particle-qa', whoami: 'anna', firmwareSeen: 'uefi' },
    images: [], artifacts: 'test-results/qa/remote-uefi', ...o,
  });

  it('prints the ISO, every figure, and PASS/FAIL per variant', () => {
    const r: QaReport = {
      iso: { path: '/x/particle-live.iso', bytes: 1024 ** 2 * 900.5, how: 'built', seconds: 300, build: { isoBytes: 1, rootfsCache: 'hit', seconds: { rootfs: 0.1, total: 95.2 } } },
      variants: [
        variant({
          variant: 'interactive-bios-std', mode: 'interactive', firmware: 'bios', expectedHostname: 'particle-kiosk',
          seconds: { grubMenu: 0.6, systemd: 60.2, engineReady: 150.3, kioskStarted: 120.4, interactive: 210.5 },
          kiosk: { longestBlankSeconds: 12.5, longestBlankFrom: 130, screenSamples: 90, pages: { welcome: 210.5, keyboard: 230 }, fullNameRead: 'Zylka' },
          target: { accel: 'tcg', loginPromptSeconds: 40, hostname: 'particle-kiosk', whoami: 'anna', firmwareSeen: 'bios' },
        }),
        variant({}),
        variant({ variant: 'unattended-bios', mode: 'unattended', firmware: 'bios', passed: false, error: 'the unattended install exited 1\nmore', unattendedExit: 1, expectedHostname: 'particle-unattended', target: undefined })],
    };
    const s = formatSummary(r);
    expect(s).toContain('900.5 MiB');
    expect(s).toContain('rootfs cache hit (warm); seconds: rootfs 0.1, total 95.2');
    expect(s).toContain("power-on to the Welcome page on the guest's screen (tcg): 210.5 s (over the 90 s target); GRUB menu 0.6 s, systemd 60.2 s, engine ready 150.3 s, kiosk started 120.4 s");
    expect(s).toContain('longest blank screen: 12.5 s from 130.0 s (90 screendumps); pages read on screen: welcome 211 s, keyboard 230 s');
    expect(s).toContain('typed with German chosen, the screen read: Zylka');
    expect(s).toContain('boot-to-interactive (tcg): 71.9 s; GRUB menu');
    expect(s).toContain('-- interactive-bios-std: PASS');
    expect(s).toContain('796 MiB used of 2978 MiB');
    expect(s).toContain('install: 412.0 s');
    expect(s).toContain('login prompt 31.2 s, hostname "particle-qa"');
    expect(s).toContain('-- remote-uefi: PASS');
    expect(s).toContain('-- unattended-bios: FAIL');
    expect(s).toContain('error: the unattended install exited 1');
    expect(s.trimEnd().split('\n').pop()).toBe('FAIL: unattended-bios');
  });
});
