// npm start: run the installer in demo mode (virtual disks only), safely, on this machine.
// With an Electron binary it opens the app; without one it serves the same UI and opens it in a
// browser. The engine needs root for the virtual loop disks; the UI never runs as root.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, statSync, readdirSync, rmSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';

const isRoot = process.getuid?.() === 0;
const sudoUid = Number(process.env.SUDO_UID ?? NaN);
const sudoGid = Number(process.env.SUDO_GID ?? NaN);
const asUser = isRoot && Number.isInteger(sudoUid) && sudoUid > 0 ? { uid: sudoUid, gid: sudoGid } : null;
const hasDisplay = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}
const outs = ['out/engine/cli.mjs', 'out/renderer/index.html', 'out/main/index.js'];
if (!outs.every(existsSync) || newest('src') > Math.min(...outs.map((f) => statSync(f).mtimeMs))) {
  console.log('Building…');
  if (spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' }).status !== 0) process.exit(1);
}

function electronPath() {
  try {
    const p = createRequire(import.meta.url)('electron');
    return typeof p === 'string' && existsSync(p) ? { path: p } : { why: 'the electron package has no binary' };
  } catch (e) {
    return { why: String(e.message).split('\n')[0] };
  }
}

// The demo installs for real onto its virtual disks. Where bootc and podman are missing (a developer
// machine), the engine deploys with the project's contract fake instead, which writes a small stand-in
// system with the same commands, output and on-disk layout; say so.
function onPath(cmd) {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, cmd)));
}
const engineEnv = { ...process.env };
if (!onPath('podman')) {
  const fakeDir = mkdtempSync(join(tmpdir(), 'particle-fake-storage-'));
  engineEnv.PATH = `${resolve('test/fakes/bin')}${delimiter}${process.env.PATH ?? ''}`;
  engineEnv.PARTICLE_FAKE_STORAGE = fakeDir;
  engineEnv.PARTICLE_FAKE_DELAY_MS ??= '120';
  engineEnv.PARTICLE_FAKE_LAYER_DELAY_MS ??= '600';
  console.log('podman is not installed: the demo deploys a stand-in image with the test fake of bootc and podman (test/fakes).');
  process.on('exit', () => rmSync(fakeDir, { recursive: true, force: true }));
}

const children = [];
const stopAll = () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
};
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);

const electron = electronPath();
if ('path' in electron && (!isRoot || asUser)) {
  if (!hasDisplay) console.warn('No DISPLAY or WAYLAND_DISPLAY: Electron may not be able to open a window.');
  const args = ['out/main/index.js', '--demo'];
  if (isRoot) {
    // Root engine on a socket only the invoking user can open; the window runs as that user.
    const dir = mkdtempSync(join(tmpdir(), 'particle-'));
    const sock = join(dir, 'engine.sock');
    const svc = spawn(process.execPath, ['out/engine/cli.mjs', 'service', '--socket', sock, '--socket-owner', String(sudoUid), '--mode', 'demo'], { stdio: 'inherit', env: engineEnv });
    children.push(svc);
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    spawnSync('chown', [`${sudoUid}`, dir]);
    args.push('--engine-socket', sock);
    const ui = spawn(electron.path, args, { stdio: 'inherit', uid: asUser.uid, gid: asUser.gid });
    children.push(ui);
    ui.on('exit', () => {
      stopAll();
      svc.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    });
  } else {
    const ui = spawn(electron.path, args, { stdio: 'inherit' });
    children.push(ui);
  }
} else {
  const why = 'path' in electron ? 'Electron will not run as root without its sandbox' : `no Electron binary is installed (${electron.why})`;
  console.log(`Opening the installer in a browser instead of the app window, because ${why}.`);
  if (!isRoot) console.log('Not running as root: demo mode lists this machine\'s disks read-only (run with sudo for virtual disks).');
  const dir = mkdtempSync(join(tmpdir(), 'particle-'));
  const tokenFile = join(dir, 'url');
  const svc = spawn(process.execPath, ['out/engine/cli.mjs', 'serve', '--demo', '--port', '0', '--token-file', tokenFile], { stdio: ['ignore', 'pipe', 'inherit'], env: engineEnv });
  children.push(svc);
  svc.stdout.setEncoding('utf8').on('data', (chunk) => {
    for (const line of chunk.split('\n')) {
      let msg = null;
      try {
        msg = JSON.parse(line);
      } catch {
        if (line.trim()) console.log(line);
      }
      if (msg?.event !== 'listening') continue;
      console.log(`\nInstaller UI: ${msg.url}\n(the token in this address is the only way in; press Ctrl-C to stop and detach the virtual disks)`);
      const browser = ['/usr/bin/chromium', '/usr/bin/google-chrome', '/usr/bin/firefox'].find(existsSync);
      if (hasDisplay && browser && (!isRoot || asUser)) {
        const profile = mkdtempSync(join(tmpdir(), 'particle-browser-'));
        if (asUser) spawnSync('chown', [`${asUser.uid}:${asUser.gid}`, profile]);
        const args = browser.includes('firefox') ? ['--new-window', msg.url] : [`--app=${msg.url}`, `--user-data-dir=${profile}`, '--no-first-run'];
        const b = spawn(browser, args, { stdio: 'ignore', ...(asUser ?? {}) });
        b.on('exit', () => rmSync(profile, { recursive: true, force: true }));
      } else {
        console.log(hasDisplay ? 'Open that address in a browser as your normal user.' : 'No display here: open that address in a browser on this machine.');
      }
    }
  });
  svc.on('exit', (code) => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(code ?? 0);
  });
}
