/** The fake bootc's install-config reader (config.mjs): `root` reads paths relative to the root bootc runs in. */
export function loadConfig(root: { list(dir: string): string[] | null; read(path: string): string | null }): Record<string, unknown> | null;
