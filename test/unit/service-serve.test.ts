import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES } from '../../src/shared';
import { cookieName, createRpcServer, serveHttp, silentLogger, tokenMatches, type HttpService } from '../../src/service';
import { WS_MAX_FRAME_BYTES, loadingNotice } from '../../src/service/http';
import { get, openWs, wsCall } from '../support/http';
import { stubEngine } from '../support/stub-engine';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

describe('serve: HTTP + WebSocket with a token', () => {
  let dir: string;
  let svc: HttpService;
  let cookie: string;
  let host: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pi-serve-'));
    mkdirSync(join(dir, 'ui', 'assets'), { recursive: true });
    writeFileSync(join(dir, 'ui', 'index.html'), '<!doctype html><title>Particle</title>');
    writeFileSync(join(dir, 'ui', 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'do not serve');
    svc = await serveHttp(createRpcServer(stubEngine(), silentLogger), { port: 0, uiDir: join(dir, 'ui') }, silentLogger);
    host = `127.0.0.1:${svc.port}`;
    cookie = `${cookieName(svc.port)}=${svc.token}`;
  });

  afterAll(async () => {
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes a 128-bit hex token and a loopback URL carrying it', () => {
    expect(svc.token).toMatch(/^[0-9a-f]{32}$/);
    expect(svc.url).toBe(`http://127.0.0.1:${svc.port}/?token=${svc.token}`);
  });

  it('compares tokens only when lengths match', () => {
    expect(tokenMatches('abcd', 'abcd')).toBe(true);
    expect(tokenMatches('abcd', 'abc')).toBe(false);
    expect(tokenMatches('abcd', undefined)).toBe(false);
  });

  it('refuses a request without the token with 401 and a short text', async () => {
    const r = await get(svc.port, '/');
    expect(r.status).toBe(401);
    expect(r.body.trim()).toBe('Unauthorized');
    expect(r.body).not.toContain('Particle');
  });

  it('refuses a wrong token (same length or not)', async () => {
    const sameLength = svc.token.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
    for (const t of [sameLength, 'short']) {
      const r = await get(svc.port, `/?token=${t}`);
      expect([401, 403]).toContain(r.status);
      expect(r.headers['set-cookie']).toBeUndefined();
    }
    expect((await get(svc.port, '/', { cookie: `${cookieName(svc.port)}=${sameLength}` })).status).toBe(401);
  });

  it('trades the right token for an HttpOnly SameSite=Strict cookie and a redirect to /', async () => {
    const r = await get(svc.port, `/?token=${svc.token}`);
    expect([302, 303]).toContain(r.status);
    expect(r.headers.location).toBe('/');
    const set = String(r.headers['set-cookie']);
    expect(set).toContain(cookie);
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
  });

  it('keeps other parameters of the link (the pseudo-locale) but never the token', async () => {
    const r = await get(svc.port, `/?pseudo=1&token=${svc.token}`);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/?pseudo=1');
  });

  it('answers a trade another site started (Fetch Metadata cross-site, as from the kiosk\'s file:// page) with a page that moves on by itself, so the Strict cookie is sent', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const r = await get(svc.port, `/?pseudo=1&x=%3Cb%3E&token=${svc.token}`, { 'sec-fetch-site': site });
      expect(r.status, site).toBe(200);
      expect(r.headers.location).toBeUndefined();
      expect(String(r.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
      expect(r.headers['content-security-policy']).toBe(CSP);
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.body).toContain('<meta http-equiv="refresh" content="0; url=/?pseudo=1&amp;x=%3Cb%3E">');
      expect(r.body).not.toContain(svc.token);
    }
    // Typed, bookmarked or given on a command line: the plain redirect, as before.
    for (const site of ['none', 'same-origin']) {
      const r = await get(svc.port, `/?token=${svc.token}`, { 'sec-fetch-site': site });
      expect(r.status, site).toBe(303);
    }
  });

  it('serves the UI with the cookie, with CSP and the other security headers', async () => {
    const page = await get(svc.port, '/', { cookie });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Particle</title>');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(CSP);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const js = await get(svc.port, '/assets/app.js', { authorization: `Bearer ${svc.token}` });
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
  });

  it('does not let a path leave the UI directory', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt', '/%00']) {
      const r = await get(svc.port, p, { cookie });
      expect(r.status, p).toBe(404);
      expect(r.body).not.toContain('do not serve');
    }
  });

  it('refuses a foreign Host header (DNS rebinding) even with the cookie', async () => {
    const r = await get(svc.port, '/', { cookie, host: `evil.example:${svc.port}` });
    expect(r.status).toBe(403);
    expect((await get(svc.port, '/', { cookie, host: `localhost:${svc.port}` })).status).toBe(200);
  });

  it('refuses methods other than GET and HEAD', async () => {
    expect((await get(svc.port, '/', { cookie }, 'POST')).status).toBe(405);
  });

  it('refuses a WebSocket without the cookie', async () => {
    expect(await openWs(svc.port, { origin: `http://${host}` })).toEqual({ status: 401 });
  });

  it('refuses a WebSocket from a foreign Origin', async () => {
    expect(await openWs(svc.port, { cookie, origin: 'http://evil.example' })).toEqual({ status: 403 });
  });

  it('refuses a WebSocket with a bad Host', async () => {
    expect(await openWs(svc.port, { cookie, origin: 'http://evil.example:1', host: 'evil.example:1' })).toEqual({ status: 403 });
  });

  it('refuses a cookie-only WebSocket without Origin, but lets Bearer clients omit it', async () => {
    expect(await openWs(svc.port, { cookie })).toEqual({ status: 403 });
    const r = await openWs(svc.port, { authorization: `Bearer ${svc.token}` });
    expect('ws' in r).toBe(true);
    if ('ws' in r) r.ws.close();
  });

  it('answers the engine protocol over /rpc with the right cookie and Origin', async () => {
    const r = await openWs(svc.port, { cookie, origin: `http://${host}` });
    if (!('ws' in r)) throw new Error(`refused with ${r.status}`);
    const reply = await wsCall(r.ws, 1, 'listDisks');
    expect(reply.result.disks[0].path).toBe('/dev/vda');
    const bad = await wsCall(r.ws, 2, 'noSuchMethod');
    expect(bad.error.code).toBe(-32601);
    r.ws.close();
  });

  it('answers a message over the limit with an error and keeps the connection', async () => {
    const r = await openWs(svc.port, { cookie, origin: `http://${host}` });
    if (!('ws' in r)) throw new Error(`refused with ${r.status}`);
    const reply = new Promise<string>((resolve) => r.ws.once('message', (d) => resolve(d.toString())));
    r.ws.send('x'.repeat(MAX_MESSAGE_BYTES + 1));
    expect(JSON.parse(await reply).error.data.code).toBe('message-too-large');
    expect((await wsCall(r.ws, 7, 'getInfo')).result.protocol).toBe(1);
    r.ws.close();
  });

  it('closes a WebSocket that sends a frame beyond the hard cap, and keeps serving others', async () => {
    const r = await openWs(svc.port, { cookie, origin: `http://${host}` });
    if (!('ws' in r)) throw new Error(`refused with ${r.status}`);
    const closed = new Promise<number>((resolve) => r.ws.once('close', (code) => resolve(code)));
    r.ws.on('error', () => {});
    r.ws.send('x'.repeat(WS_MAX_FRAME_BYTES + 1));
    expect(await closed).toBe(1009);
    const again = await openWs(svc.port, { cookie, origin: `http://${host}` });
    if (!('ws' in again)) throw new Error('refused');
    expect((await wsCall(again.ws, 1, 'getInfo')).result.protocol).toBe(1);
    again.ws.close();
  });

  it('refuses upgrades on other paths', async () => {
    expect(await openWs(svc.port, { cookie, origin: `http://${host}` }, '/other')).toEqual({ status: 404 });
  });
});

describe('cookies planted by another local server', () => {
  it('a same-named cookie sent first does not lock out the real one', async () => {
    const { authenticate, cookieName: name } = await import('../../src/service/auth');
    const token = 'a'.repeat(32);
    const header = `${name(8470)}=planted-by-someone-else; other=1; ${name(8470)}=${token}`;
    expect(authenticate({ cookie: header }, token, 8470)).toBe('cookie');
    expect(authenticate({ cookie: `${name(8470)}=planted; ${name(8470)}=also-wrong` }, token, 8470)).toBeNull();
  });
});

describe("the trade page reads like the wizard's first page", () => {
  const wizardPage = readFileSync(join(process.cwd(), 'src', 'renderer', 'index.html'), 'utf8');
  const LANGS = ['en', 'de', 'fr', 'es', 'pt-BR', 'ar', 'zh-CN', 'ja'];

  it("takes the wizard page's loading notice: every UI language, no script, no comment", () => {
    const notice = loadingNotice(wizardPage);
    expect(notice).toMatch(/^<div role="status"/);
    for (const lang of LANGS) expect(notice, lang).toContain(`lang="${lang}"`);
    expect(notice).toContain('Starting the installer…');
    expect(notice).not.toMatch(/<script|<!--|<div id="root">/);
  });

  it('takes nothing from a page without a root element, or with a script or handler inside it', () => {
    expect(loadingNotice('<!doctype html><title>Particle</title>')).toBe('');
    expect(loadingNotice('<body><div id="root"><p>a</p><script>x()</script></div></body>')).toBe('');
    expect(loadingNotice('<body><div id="root"><p onclick="x()">a</p></div></body>')).toBe('');
    expect(loadingNotice('<body><div id="root"><p>a</p></div>\n<script type="module" src="/m.js"></script></body>')).toBe('<p>a</p>');
  });

  it('serves the notice on the trade page another site started, and still moves on to /', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pi-serve-notice-'));
    try {
      writeFileSync(join(dir, 'index.html'), wizardPage);
      const svc = await serveHttp(createRpcServer(stubEngine(), silentLogger), { port: 0, uiDir: dir }, silentLogger);
      try {
        const r = await get(svc.port, `/?token=${svc.token}`, { 'sec-fetch-site': 'cross-site' });
        expect(r.status).toBe(200);
        expect(r.body).toContain('<meta http-equiv="refresh" content="0; url=/">');
        expect(r.body).toContain(loadingNotice(wizardPage));
        expect(r.body).not.toContain(svc.token);
      } finally {
        await svc.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
