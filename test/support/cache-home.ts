import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The base of the test caches (VM image, test images): $XDG_CACHE_HOME when it is an absolute path,
 * else ~/.cache. The XDG Base Directory specification says an empty or relative value is ignored; an
 * empty one once put a whole VM image build under the working directory.
 */
export function cacheHome(env: NodeJS.ProcessEnv = process.env): string {
  const v = env.XDG_CACHE_HOME;
  return v && v.startsWith('/') ? v : join(homedir(), '.cache');
}
