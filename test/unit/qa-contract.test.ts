import { describe, expect, it } from 'vitest';
import {
  BASE_KERNEL_ARGS, chunks, hostUrl, KEY_DOWN, KEY_ENTER, MENU_ENTRIES, menuKeys, parseMeminfo, parseRemoteAccess, parseUnattendedExit, unattendedGrubCommands,
} from '../qa/contract';

describe('QA: the live ISO contract', () => {
  it('the remote-access entry is two cursor-downs and Enter away; the default entry is Enter alone', () => {
    expect(MENU_ENTRIES[0]).toBe('Install Particle');
    expect(menuKeys('Install Particle with remote access')).toEqual(['\x1b[B', '\x1b[B', '\r']);
    expect(menuKeys('Install Particle')).toEqual([KEY_ENTER]);
    expect(menuKeys('Boot to a shell')).toEqual([KEY_DOWN, KEY_DOWN, KEY_DOWN, KEY_ENTER]);
  });

  it('GRUB command lines boot the live kernel with the base arguments and the answer file URL', () => {
    expect(unattendedGrubCommands('http://10.0.2.2:41234/answer.json')).toEqual([
      'linux /live/vmlinuz boot=live components console=tty0 console=ttyS0,115200 installer.config=http://10.0.2.2:41234/answer.json',
      'initrd /live/initrd.img',
      'boot',
    ]);
    expect(BASE_KERNEL_ARGS).toContain('console=ttyS0,115200');
    expect(() => unattendedGrubCommands('http://x/a b')).toThrow(/spaces/);
  });

  it('typing is split into small pieces that join back to the text', () => {
    const line = unattendedGrubCommands('http://10.0.2.2:8000/answer.json')[0]!;
    const parts = chunks(line, 4);
    expect(parts.join('')).toBe(line);
    expect(Math.max(...parts.map((p) => p.length))).toBe(4);
    expect(chunks('', 4)).toEqual([]);
    expect(() => chunks('x', 0)).toThrow();
  });

  it('reads the remote-access line amid console noise, and maps it to the forwarded host URL', () => {
    const console = '[  OK  ] Started particle-remote.service.\nparticle-live: remote access http://10.0.2.15:8470/?token=9f86d081884c7d65\n[   12.3] random: crng init done\n';
    const r = parseRemoteAccess(console);
    expect(r).toEqual({ url: 'http://10.0.2.15:8470/?token=9f86d081884c7d65', host: '10.0.2.15', port: 8470, token: '9f86d081884c7d65' });
    expect(hostUrl(r!.token)).toBe('http://127.0.0.1:8470/?token=9f86d081884c7d65');
    expect(parseRemoteAccess('particle-live: remote access starting')).toBeNull();
    expect(parseRemoteAccess('particle-live: remote access http://10.0.2.15:8470/?token=')).toBeNull();
  });

  it('reads the unattended exit status', () => {
    expect(parseUnattendedExit('x\nparticle-live: unattended install finished (exit 0)\n')).toBe(0);
    expect(parseUnattendedExit('particle-live: unattended install finished (exit 3)')).toBe(3);
    expect(parseUnattendedExit('particle-live: unattended install started')).toBeNull();
  });

  it('memory in use is MemTotal minus MemAvailable, in MiB', () => {
    const meminfo = 'MemTotal:        3049120 kB\nMemFree:         1800000 kB\nMemAvailable:    2234456 kB\nBuffers:           12000 kB\n';
    expect(parseMeminfo(meminfo)).toEqual({ totalMiB: 2978, availableMiB: 2182, usedMiB: 796 });
    expect(parseMeminfo('MemTotal: 1 kB\n')).toBeNull();
  });
});
