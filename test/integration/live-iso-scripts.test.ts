import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The live ISO's own scripts, run for real with bash: the kernel-argument parser the session uses,
// the check that the engine answers, the pairing page, the boot menu (checked by GRUB's own parser)
// and build.sh's refusals, which all come before anything is downloaded or mounted. The whole ISO
// boots in test/vm/live-iso.test.ts.

const LIVE = resolve(import.meta.dirname, '../../live-iso');
const SCRIPTS = join(LIVE, 'rootfs/usr/lib/particle-installer/live');
const tmp = mkdtempSync(join(tmpdir(), 'particle-live-scripts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function karg(cmdline: string, name: string): { ok: boolean; value: string } {
  const file = join(tmp, 'cmdline');
  writeFileSync(file, `${cmdline}\n`);
  const r = spawnSync('bash', ['-c', `. "${SCRIPTS}/common.sh"; karg "$1"`, 'karg', name], {
    encoding: 'utf8',
    env: { ...process.env, PARTICLE_CMDLINE: file },
  });
  return { ok: r.status === 0, value: r.stdout.replace(/\n$/, '') };
}

describe('karg: the kernel arguments the live session reads', () => {
  const base = 'BOOT_IMAGE=/live/vmlinuz boot=live components console=tty0 console=ttyS0,115200';
  it('finds a bare flag, with an empty value', () => {
    expect(karg(`${base} installer.remote quiet`, 'installer.remote')).toEqual({ ok: true, value: '' });
  });
  it('finds a value, whole, even with = and : inside', () => {
    expect(karg(`${base} installer.remote=9000`, 'installer.remote')).toEqual({ ok: true, value: '9000' });
    expect(karg(`${base} installer.config=http://10.0.2.2:8080/a.json?x=1`, 'installer.config')).toEqual({ ok: true, value: 'http://10.0.2.2:8080/a.json?x=1' });
  });
  it('fails when absent, and does not match a longer name or a prefix', () => {
    expect(karg(base, 'installer.config').ok).toBe(false);
    expect(karg(`${base} installer.configx=/a`, 'installer.config').ok).toBe(false);
    expect(karg(`${base} xinstaller.shell`, 'installer.shell').ok).toBe(false);
    expect(karg(`${base} installer.shell`, 'installer.shel').ok).toBe(false);
  });
});

function engineAnswers(url: string | null): boolean {
  const run = mkdtempSync(join(tmp, 'run-'));
  if (url !== null) writeFileSync(join(run, 'url'), `${url}\n`);
  const r = spawnSync('bash', ['-c', `. "${SCRIPTS}/common.sh"; PARTICLE_RUN="$1"; engine_answers`, 'engine_answers', run], { encoding: 'utf8' });
  return r.status === 0;
}

describe("engine_answers: the kiosk starts its compositor once the engine's address takes connections", () => {
  it('answers while something listens on the port of the address, and not once it has stopped', async () => {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/?token=0123abcd`;
    try {
      expect(engineAnswers(url)).toBe(true);
    } finally {
      await new Promise<void>((done) => server.close(() => done()));
    }
    expect(engineAnswers(url)).toBe(false);
  });
  it('does not answer without an address, or with one that names no port', () => {
    expect(engineAnswers(null)).toBe(false);
    expect(engineAnswers('')).toBe(false);
    expect(engineAnswers('http://127.0.0.1/?token=00')).toBe(false);
    expect(engineAnswers('http://127.0.0.1:80;touch x/?token=00')).toBe(false);
  });
});

describe("live.conf: the medium's names the embedded image, the live root's names the shell and may override", () => {
  const read = (medium: string | null, etc: string | null): string => {
    const dir = mkdtempSync(join(tmp, 'conf-'));
    mkdirSync(join(dir, 'medium/particle'), { recursive: true });
    mkdirSync(join(dir, 'etc'));
    if (medium !== null) writeFileSync(join(dir, 'medium/particle/live.conf'), medium);
    if (etc !== null) writeFileSync(join(dir, 'etc/live.conf'), etc);
    const r = spawnSync('bash', ['-c', `. "${SCRIPTS}/common.sh"; echo "$PARTICLE_SHELL|$PARTICLE_IMAGE|$PARTICLE_DEPLOYER|$PARTICLE_TARGET_IMGREF"`], {
      encoding: 'utf8',
      env: { ...process.env, PARTICLE_MEDIUM: join(dir, 'medium'), PARTICLE_ETC: join(dir, 'etc') },
    });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.trim();
  };
  const medium = 'PARTICLE_IMAGE=oci:/run/live/medium/particle/image\nPARTICLE_DEPLOYER=bootc\nPARTICLE_TARGET_IMGREF=quay.io/x/os:1\n';
  it('neither: the browser shell and no image', () => {
    expect(read(null, null)).toBe('browser|||');
  });
  it("the medium's image with the root's shell", () => {
    expect(read(medium, 'PARTICLE_SHELL=electron\n')).toBe('electron|oci:/run/live/medium/particle/image|bootc|quay.io/x/os:1');
  });
  it("a hook's live.conf in the root wins over the medium's", () => {
    expect(read(medium, 'PARTICLE_SHELL=browser\nPARTICLE_DEPLOYER=oci-rootfs\n')).toBe('browser|oci:/run/live/medium/particle/image|oci-rootfs|quay.io/x/os:1');
  });
});

describe('starting page: the kiosk\'s first page, naming the wizard\'s address', () => {
  const make = (url: string) =>
    spawnSync(join(SCRIPTS, 'starting-page'), [url], { encoding: 'utf8', env: { ...process.env, PARTICLE_STARTING_TEMPLATE: join(SCRIPTS, 'starting.html') } });

  it("writes the address engine-start makes into the page, once, and changes nothing else", () => {
    const token = '0123456789abcdef'.repeat(2);
    // engine-start's own format: printf 'http://127.0.0.1:%s/?token=%s'
    const engineStart = readFileSync(join(SCRIPTS, 'engine-start'), 'utf8');
    expect(engineStart).toContain("printf 'http://127.0.0.1:%s/?token=%s\\n' \"$port\" \"$token\"");
    const r = make(`http://127.0.0.1:43210/?token=${token}`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.match(/particle-wizard/g)).toHaveLength(2); // the meta, and the script that reads it
    expect(r.stdout).toContain(`<meta name="particle-wizard" content="http://127.0.0.1:43210/?token=${token}">`);
    const template = readFileSync(join(SCRIPTS, 'starting.html'), 'utf8');
    expect(r.stdout.replace(`content="http://127.0.0.1:43210/?token=${token}"`, 'content=""')).toBe(template);
  });
  it('refuses any other address, so nothing can be written into the HTML or fetched elsewhere', () => {
    for (const bad of ['', 'http://10.0.2.15:8470/?token=ab', 'https://127.0.0.1:1/?token=ab', 'http://127.0.0.1:1/?token=ab"><script>x()</script>', 'http://127.0.0.1:1/?token=AB', 'http://127.0.0.1:1/x?token=ab']) {
      const r = make(bad);
      expect(r.status, bad).toBe(2);
      expect(r.stdout, bad).toBe('');
      expect(r.stderr).toMatch(/not a loopback wizard address/);
    }
  });
});

describe('pairing page', () => {
  const token = 'a3f9'.repeat(16);
  const html = spawnSync(join(SCRIPTS, 'pairing-page'), [token, '<li><code>http://10.0.2.15:8470/?token=x</code></li>', `http://127.0.0.1:8470/?token=${token}`], { encoding: 'utf8' }).stdout;

  it('shows the token and the addresses, and links to the local wizard', () => {
    expect(html).toContain(token);
    expect(html).toContain('http://10.0.2.15:8470/');
    expect(html).toContain(`href="http://127.0.0.1:8470/?token=${token}"`);
  });
  it('says it in every UI language, Arabic right to left', () => {
    const langs = [...html.matchAll(/<section lang="([^"]+)" dir="(ltr|rtl)">/g)].map((m) => `${m[1]}:${m[2]}`);
    expect(langs).toEqual(['en:ltr', 'de:ltr', 'fr:ltr', 'es:ltr', 'pt-BR:ltr', 'ar:rtl', 'zh-CN:ltr', 'ja:ltr']);
    const locales = readFileSync(resolve(import.meta.dirname, '../../src/renderer/src/i18n/locales.ts'), 'utf8');
    for (const l of langs.map((x) => x.split(':')[0]!)) expect(locales).toContain(`'${l}'`);
  });
  it('runs no script (a CSP that allows none)', () => {
    expect(html).toMatch(/Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"/);
    expect(html).not.toMatch(/<script/i);
  });
});

describe('boot menu', () => {
  const cfg = readFileSync(join(LIVE, 'grub.cfg'), 'utf8');
  const entries = [...cfg.matchAll(/menuentry "([^"]+)"[^{]*\{([^}]*)\}/g)].map((m) => ({ title: m[1]!, body: m[2]! }));

  const noChecker = !existsSync('/usr/bin/grub-script-check');
  if (noChecker) console.warn('[unit] grub.cfg syntax check skipped: grub-script-check is missing (apt-get install grub-common)');
  it.skipIf(noChecker)('is valid GRUB script (grub-script-check)', () => {
    const r = spawnSync('grub-script-check', [join(LIVE, 'grub.cfg')], { encoding: 'utf8' });
    expect(r.status, r.stderr + r.stdout).toBe(0);
  });
  it('offers install, safe graphics, remote access and a shell, in that order', () => {
    expect(entries.map((e) => e.title.replace('@PRODUCT@', 'P'))).toEqual(['Install P', 'Install P (safe graphics)', 'Install P with remote access', 'Boot to a shell']);
  });
  it('boots the live system from /live with the serial console on every entry', () => {
    // The serial port gets the messages and a login; the screen stays the main console (last).
    expect(cfg).toMatch(/set live="boot=live [^"]*console=ttyS0,115200 console=tty0[ "]/);
    for (const e of entries) {
      expect(e.body, e.title).toMatch(/linux \/live\/vmlinuz \$live/);
      expect(e.body, e.title).toMatch(/initrd \/live\/initrd\.img/);
    }
    expect(entries[1]!.body).toMatch(/nomodeset/);
    expect(entries[2]!.body).toMatch(/installer\.remote/);
    expect(entries[3]!.body).toMatch(/installer\.shell/);
  });
  it('keeps the screen telling what the boot is doing: no entry is quiet, and systemd shows its status', () => {
    // A quiet boot is a black screen for the minute or more the kernel and initramfs take on a slow machine.
    for (const e of entries) expect(e.body, e.title).not.toMatch(/\bquiet\b/);
    expect(cfg).toMatch(/set live="[^"]*systemd\.show_status=true[^"]*"/);
  });
});

describe('build.sh refuses bad input before touching anything', () => {
  const build = (...args: string[]) => spawnSync('bash', [join(LIVE, 'build.sh'), '--out', join(tmp, 'out'), '--cache', join(tmp, 'cache'), ...args], { encoding: 'utf8' });
  beforeAll(() => {
    mkdirSync(join(tmp, 'layout'), { recursive: true });
    writeFileSync(join(tmp, 'layout/index.json'), '{"schemaVersion":2,"manifests":[]}');
  });
  it.each([
    [['--shell', 'gtk'], /--shell must be browser or electron \(not "gtk"\)/],
    [['--deployer', 'rpm'], /--deployer must be bootc or oci-rootfs/],
    [['--deployer', 'oci-rootfs'], /--deployer only means something with --image/],
    [['--image', 'registry:quay.io/x/y'], /--image must be oci:DIR, oci-archive:FILE or docker-archive:FILE/],
    [['--image', `oci:${tmp}/none`], /is not an OCI layout \(no index\.json\)/],
    [['--image', `oci-archive:${tmp}/layout/index.json`, '--deployer', 'bootc'], /--deployer bootc needs an OCI layout \(--image oci:DIR\): bootc runs from a container of the image, whose id the engine reads from the layout/],
    [['--image', `oci:${tmp}/layout`, '--target-imgref', 'quay.io/x/y:1'], /--target-imgref names the registry image a bootc system updates from: it needs --image and --deployer bootc/],
    [['--target-imgref', 'quay.io/x/y:1'], /--target-imgref names the registry image a bootc system updates from/],
    [['--image', `oci:${tmp}/layout`, '--deployer', 'bootc', '--target-imgref', 'quay.io/x y'], /--target-imgref must be a registry image reference/],
    [['--name', 'a b/c'], /--name may hold letters, digits/],
    [['--frobnicate'], /unknown option --frobnicate/],
  ])('%j', (args, message) => {
    const r = build(...args);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
    // Refused before the rootfs stage: no cache, no output folder.
    expect(existsSync(join(tmp, 'cache'))).toBe(false);
    expect(existsSync(join(tmp, 'out'))).toBe(false);
  });
});
