import { describe, expect, it } from 'vitest';

import { clockLog, SECRET } from '../support/clock-log';

describe('InstallLog', () => {
  it('records commands, step boundaries and messages with timestamps', () => {
    const { log, tick } = clockLog();
    log.stepStarted('format', 'Formatting');
    tick();
    log.command({ step: 'format', argv: ['mkfs.xfs', '-L', 'my root', '/dev/vdb3'], exitCode: 0, durationMs: 1234.6 });
    log.command({ step: 'format', argv: ['mkfs.vfat', '/dev/vdb1'], exitCode: 1, durationMs: 10, stderrTail: 'line one\nline two' });
    log.message('warn', 'slow disk', 'format');
    log.stepEnded('format', 'failed', 1500);
    expect(log.toText()).toBe(
      [
        '2025-01-01T12:00:00.000Z STEP [format] started: Formatting',
        "2025-01-01T12:00:01.500Z RUN [format] mkfs.xfs -L 'my root' /dev/vdb3 -> 0 in 1235 ms",
        '2025-01-01T12:00:01.500Z RUN [format] mkfs.vfat /dev/vdb1 -> 1 in 10 ms',
        '    stderr: line one',
        '    stderr: line two',
        '2025-01-01T12:00:01.500Z WARN [format] slow disk',
        '2025-01-01T12:00:01.500Z STEP [format] failed (1500 ms)',
        '',
      ].join('\n'),
    );
    const json = log.toJSON();
    expect(json.version).toBe(1);
    expect(json.entries[1]).toEqual({ type: 'command', time: '2025-01-01T12:00:01.500Z', step: 'format', argv: ['mkfs.xfs', '-L', 'my root', '/dev/vdb3'], exitCode: 0, durationMs: 1235 });
    expect(json.entries).toHaveLength(5);
  });

  it('redacts secrets when recording and again when rendering, even those added later', () => {
    const { log } = clockLog([SECRET]);
    log.message('info', `typed ${SECRET} then ${'late-token'}`);
    log.command({ argv: ['tool', `--key=${SECRET}`], exitCode: null, durationMs: 1, stderrTail: `no ${SECRET}` });
    log.addSecrets(['late-token']);
    const all = [log.toText(), JSON.stringify(log.toJSON()), log.lastLines().join('\n'), JSON.stringify(log.entries())];
    for (const text of all) {
      expect(text).not.toContain('pa"ss');
      expect(text).not.toContain('pa\\"ss');
      expect(text).not.toContain('late-token');
    }
    expect(log.toText()).toContain('typed *** then ***');
    expect(log.toText()).toContain("'--key=***' -> killed");
  });

  it('replaces a secret that contains another one whole', () => {
    const { log } = clockLog(['abc', 'xxabcxx']);
    log.message('info', 'v=xxabcxx');
    expect(log.toText()).toContain('v=***\n');
  });

  it('keeps only the last N lines for the install state', () => {
    const { log } = clockLog([], 3);
    for (let i = 0; i < 10; i++) log.message('info', `m${i}`);
    expect(log.lastLines().map((l) => l.split(' ').at(-1))).toEqual(['m7', 'm8', 'm9']);
    expect(log.toJSON().entries).toHaveLength(10);
  });
});
