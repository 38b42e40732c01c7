#!/usr/bin/env node
// The CLI entry point: runs the bundled engine (npm run build makes it).
import { existsSync } from 'node:fs';

const bundle = new URL('../out/engine/cli.mjs', import.meta.url);
if (!existsSync(bundle)) {
  console.error('particle-installer: the engine is not built yet; run `npm run build` first.');
  process.exit(2);
}
const { main } = await import(bundle.href);
process.exitCode = await main(process.argv.slice(2));
