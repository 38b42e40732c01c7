import { resolve } from 'node:path';
import { build } from 'esbuild';
import type { Plugin } from 'vite';

/** Prefix of the modules the plugin makes: `virtual:particle-i18n/de` is German's strings. */
export const I18N_PREFIX = 'virtual:particle-i18n/';

/**
 * A Vite plugin (electron.vite.config.ts): `virtual:particle-i18n/<locale>` is one language's strings,
 * taken from src/renderer/src/i18n/resources.ts (which holds every language, as translators edit them)
 * when the renderer is built. So the wizard's first page carries English only and fetches another
 * language when it is chosen (i18n/load.ts): on a slow machine every kilobyte parsed before Welcome
 * shows costs time.
 */
export function i18nPerLocale(repo: string): Plugin {
  const entry = resolve(repo, 'src/renderer/src/i18n/resources.ts');
  let evaluated: Promise<{ resources: Record<string, unknown>; inputs: string[] }> | null = null;
  const evaluate = async () => {
    const out = await build({ entryPoints: [entry], absWorkingDir: repo, bundle: true, write: false, format: 'esm', platform: 'neutral', metafile: true, logLevel: 'silent' });
    const code = Buffer.from(out.outputFiles[0]!.text).toString('base64');
    const module = (await import(`data:text/javascript;base64,${code}`)) as { RESOURCES: Record<string, unknown> };
    return { resources: module.RESOURCES, inputs: Object.keys(out.metafile.inputs).map((f) => resolve(repo, f)) };
  };
  return {
    name: 'particle-i18n-per-locale',
    buildStart() {
      evaluated = null;
    },
    watchChange(id) {
      if (id.includes('/i18n/')) evaluated = null;
    },
    resolveId(id) {
      return id.startsWith(I18N_PREFIX) ? `\0${id}` : null;
    },
    async load(id) {
      if (!id.startsWith(`\0${I18N_PREFIX}`)) return null;
      const locale = id.slice(I18N_PREFIX.length + 1);
      const { resources, inputs } = await (evaluated ??= evaluate());
      for (const f of inputs) this.addWatchFile(f);
      if (!Object.hasOwn(resources, locale)) this.error(`${I18N_PREFIX}${locale}: no such UI language in i18n/locales.ts`);
      // A JSON string parses faster than the same object as JavaScript (V8's advice for large data).
      return `export default JSON.parse(${JSON.stringify(JSON.stringify(resources[locale]))});`;
    },
  };
}
