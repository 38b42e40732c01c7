/**
 * Draws live-iso/rootfs/usr/lib/particle-installer/live/starting.png: "Starting the installer…" in
 * every UI language, the picture sway's background shows (sway.conf) from the compositor's first frame
 * until swaynag's notice or the browser draws. Under load those took more than 25 s to appear, and the
 * screen was one colour all that time. The text is the same as the renderer's first paint
 * (src/renderer/index.html). Run it again when that text changes: npx tsx scripts/render-kiosk-splash.ts
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright';

const REPO = resolve(import.meta.dirname, '..');
const OUT = join(REPO, 'live-iso/rootfs/usr/lib/particle-installer/live/starting.png');
const html = readFileSync(join(REPO, 'src/renderer/index.html'), 'utf8');
const splash = /<div role="status"[\s\S]*?<\/div>/.exec(html)?.[0];
if (!splash) throw new Error('src/renderer/index.html has no <div role="status"> splash to draw');
// The page's own block, without its full-height box, on sway's background colour.
const block = splash.replace(/min-height: 100vh;/, '').replace(/background: #[0-9a-f]+;/i, 'background: #eef2f7;');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 360 }, deviceScaleFactor: 1 });
  await page.setContent(`<!doctype html><html><body style="margin:0;padding:20px 0;background:#eef2f7">${block}</body></html>`);
  const box = await page.locator('[role=status]').boundingBox();
  if (!box) throw new Error('the splash was not drawn');
  await page.screenshot({ path: OUT, clip: { x: 0, y: 0, width: 900, height: Math.ceil(box.height) + 40 } });
  console.log(`${OUT}: 900x${Math.ceil(box.height) + 40}`);
} finally {
  await browser.close();
}
