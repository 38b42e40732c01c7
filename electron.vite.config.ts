import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

const pkg = JSON.parse(readFileSync(resolve(__dirname, 'package.json'), 'utf8')) as { version: string };
const define = { __APP_VERSION__: JSON.stringify(pkg.version) };

// The branding folder under resources/branding the renderer is built with (see src/renderer/src/branding.ts).
const brandingName = process.env.PARTICLE_BRANDING ?? 'particleos';
if (!/^[A-Za-z0-9_-]+$/.test(brandingName)) throw new Error(`PARTICLE_BRANDING must be a folder name under resources/branding, not "${brandingName}"`);
const brandingAlias = { '@branding': resolve(__dirname, 'resources/branding', brandingName) };

export default defineConfig({
  main: {
    define,
    build: {
      outDir: 'out/main',
      rollupOptions: { input: { index: resolve(__dirname, 'src/main/index.ts') } },
    },
  },
  preload: {
    define,
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        // A sandboxed preload cannot be an ES module.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    define,
    plugins: [react()],
    resolve: { alias: brandingAlias },
    // Each language's JSON (src/shared/locales) becomes `JSON.parse("…")`: V8 parses a JSON string
    // faster than the same object as JavaScript, which matters on a slow live system.
    json: { stringify: true, namedExports: false },
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      emptyOutDir: true,
      // What a live ISO loads from a slow USB stick: keep it small.
      minify: true,
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
  },
});
