import { InstallLog } from '../../src/engine/install';

export const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
/** A secret with a quote and a backslash, as JSON and shells escape them. */
export const SECRET = 'pa"ss\\word';

/** An install log on a clock that moves 1.5 s at each tick. */
export function clockLog(secrets: string[] = [], keepLines?: number): { log: InstallLog; tick: () => void } {
  let t = T0;
  const log = new InstallLog({ secrets, now: () => t, ...(keepLines === undefined ? {} : { keepLines }) });
  return { log, tick: () => (t += 1500) };
}
