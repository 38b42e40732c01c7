import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { EngineMode } from '../../shared';
import type { Exec } from '../exec';

/**
 * What the system handlers read and run, passed in so unit tests can point every path at a
 * fixture tree and record every command instead of running it.
 */
export interface SystemPaths {
  /** XKB rules directory (evdev.xml, base.xml). */
  readonly xkbRulesDir: string;
  /** Debian's keyboard configuration (XKBLAYOUT=…). */
  readonly keyboardDefaults: string;
  /** tzdata's zoneinfo directory (zone.tab, iso3166.tab). */
  readonly zoneinfoDir: string;
  readonly localtime: string;
  readonly timezoneFile: string;
  readonly proc: string;
  readonly sys: string;
  /** The containers signature policy. */
  readonly policyJson: string;
}

export const DEFAULT_SYSTEM_PATHS: SystemPaths = {
  xkbRulesDir: '/usr/share/X11/xkb/rules',
  keyboardDefaults: '/etc/default/keyboard',
  zoneinfoDir: '/usr/share/zoneinfo',
  localtime: '/etc/localtime',
  timezoneFile: '/etc/timezone',
  proc: '/proc',
  sys: '/sys',
  policyJson: '/etc/containers/policy.json',
};

export interface SystemDeps {
  readonly mode: EngineMode;
  readonly exec: Exec;
  readonly paths: SystemPaths;
  /** The engine's environment: where the live session's display or sway socket is named. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The full path of a command on PATH, or null (like `command -v`). */
  readonly which: (command: string) => string | null;
}

/** Looks a command up on PATH the way a shell's `command -v` does, without running a shell. */
export function whichOnPath(path: () => string | undefined = () => process.env.PATH): (command: string) => string | null {
  return (command) => {
    if (command.includes('/')) return null;
    for (const dir of (path() ?? '').split(delimiter)) {
      if (!dir) continue;
      const candidate = join(dir, command);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
    return null;
  };
}

/** The first line of an error, for a detail sentence. */
export function reason(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}
