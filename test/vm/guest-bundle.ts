import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';

/**
 * A guest script (test/vm/guest/*.ts) and the engine sources it imports, bundled on the host into one
 * ES module that the guest's plain `node` runs. Under TCG, `node --import tsx` spent about 50 s
 * compiling the sources before the script's first line ran (its "ready after" figure in
 * oci-rootfs.test.ts); esbuild does the same transform on the host in about a second. tsx itself
 * compiles with esbuild, so the code that runs is the same.
 *
 * The bundle is written under test-results/ in the project, which every guest sees read-only at
 * /project. Test code finds files beside itself (the contract fakes, the repository root) through
 * `import.meta`: in each file under test/ it is replaced by that file's own place in the guest, so
 * those paths are unchanged. The engine's sources keep the bundle's own `import.meta.url`, as in the
 * engine bundle the live ISO runs: the CLI compares it with the script it was started as, and the
 * machine-facts module it imports on first use is bundled beside it under the engine bundle's name.
 */
const REPO = resolve(import.meta.dirname, '../..');
/** Where the project is mounted in the guest (test/vm/guest/particle-vm-init). */
export const GUEST_PROJECT = '/project';

/**
 * In every file under test/: `import.meta.url`, `.dirname` and `.filename` become that file's own,
 * as the guest sees it under /project. A single define cannot do this: it would give every module the
 * same folder, and test/fakes/index.ts, for one, finds its bin/ beside itself.
 */
const testFilesKeepTheirPlace: Plugin = {
  name: 'test-files-keep-their-place',
  setup(b) {
    b.onLoad({ filter: /\/test\/.*\.(ts|mjs|js)$/ }, (args) => {
      const rel = relative(REPO, args.path);
      if (rel.startsWith('..')) return undefined;
      const file = `${GUEST_PROJECT}/${rel}`;
      const contents = readFileSync(args.path, 'utf8')
        .replace(/\bimport\.meta\.url\b/g, JSON.stringify(`file://${file}`))
        .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(dirname(file)))
        .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(file));
      return { contents, loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
    });
  },
};

/**
 * Bundles `test/vm/guest/<name>.ts` (or `entry`, relative to the project: the CLI a guest script runs
 * as a child, for one); returns the bundle's path in the guest.
 */
export async function bundleGuestScript(name: string, entry = `test/vm/guest/${name}.ts`): Promise<string> {
  const outdir = join(REPO, 'test-results', 'vm-guest', name);
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    write: false,
    entryPoints: { [name]: join(REPO, entry), 'machine-si': join(REPO, 'src/engine/system/machine-si.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // Whitespace and syntax only, as the engine bundle: a smaller file parses sooner under TCG, and
    // names stay as written, so a guest's stack trace still reads without a source map.
    minifyWhitespace: true,
    minifySyntax: true,
    define: { __PARTICLE_ENGINE_BUNDLE__: 'true' },
    plugins: [testFilesKeepTheirPlace],
    // Some dependencies still call require(); give the ESM bundle one.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'warning',
  });
  // Each file replaced in one rename: a guest of another lane never reads half of one.
  for (const f of result.outputFiles) {
    const temporary = join(outdir, `.${basename(f.path)}.${process.pid}`);
    writeFileSync(temporary, f.contents);
    renameSync(temporary, f.path);
  }
  return `${GUEST_PROJECT}/${relative(REPO, join(outdir, `${name}.mjs`))}`;
}
