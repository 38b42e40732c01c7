import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheHome } from '../support/cache-home';

describe('the test caches follow the XDG Base Directory rule', () => {
  it('uses an absolute XDG_CACHE_HOME', () => {
    expect(cacheHome({ XDG_CACHE_HOME: '/var/cache/ci' })).toBe('/var/cache/ci');
  });
  it('ignores an empty or relative one, and falls back to ~/.cache', () => {
    for (const v of ['', 'cache', './x', undefined]) expect(cacheHome({ XDG_CACHE_HOME: v }), JSON.stringify(v)).toBe(join(homedir(), '.cache'));
  });
});
