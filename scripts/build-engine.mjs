// Bundles the engine, service and CLI into one file that runs on the live system's Node.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const zodEnglishOnly = fileURLToPath(new URL('./zod-locales-en.mjs', import.meta.url));

/** zod's locales index, as zod's own modules import it, is replaced by the English-only stub. */
const zodLocales = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /(^|\/)locales\/index\.js$/ }, (args) => (/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: zodEnglishOnly } : undefined));
  },
};

const started = performance.now();
const result = await build({
  // The engine in one file, and beside it what it imports only on first use: the machine's facts
  // through systeminformation (src/engine/system/machine.ts), so start-up never parses them.
  entryPoints: { cli: 'src/cli/main.ts', 'machine-si': 'src/engine/system/machine-si.ts' },
  outdir: 'out/engine',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  // Node parses the whole file before the engine can listen: on a slow live system (one CPU under
  // emulation) every byte costs. Whitespace and syntax only: names stay as written, for stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [zodLocales],
  metafile: true,
  define: { __APP_VERSION__: JSON.stringify(pkg.version), __PARTICLE_ENGINE_BUNDLE__: 'true' },
  // Some dependencies still call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
const size = (name) => (result.metafile.outputs[`out/engine/${name}`]?.bytes ?? 0) / 1024;
console.log(`engine bundle: out/engine/cli.mjs (${size('cli.mjs').toFixed(0)} KiB), machine-si.mjs (${size('machine-si.mjs').toFixed(0)} KiB, loaded on first use) in ${Math.round(performance.now() - started)} ms`);
