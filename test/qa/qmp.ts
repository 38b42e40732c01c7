import type { Socket } from 'node:net';
import { sleep } from './serial';
import { connectQemuSocket } from './unix-socket';

/**
 * The guest's own input devices, driven through QEMU's machine protocol (QMP, `-qmp unix:PATH`):
 * keys go to the emulated PS/2 keyboard as key codes (QEMU's "qcode" names a physical key by its
 * position on a US keyboard, so the guest's layout decides which character it types, as on real
 * hardware), and the pointer is the USB tablet, moved to absolute positions. Nothing here reaches the
 * guest through a network or its DOM: what a person at the machine could do, the harness does.
 */

/** QEMU's absolute axes run from 0 to 0x7fff whatever the screen's size (ui/input.c INPUT_EVENT_ABS_MAX). */
export const ABS_MAX = 0x7fff;

/** A key press: the qcode of the physical key and whether Shift is held (US positions). */
export interface KeyStroke {
  readonly qcode: string;
  readonly shift: boolean;
}

const UNSHIFTED: Readonly<Record<string, string>> = {
  ' ': 'spc', '-': 'minus', '=': 'equal', '[': 'bracket_left', ']': 'bracket_right', '\\': 'backslash',
  ';': 'semicolon', "'": 'apostrophe', ',': 'comma', '.': 'dot', '/': 'slash', '`': 'grave_accent', '\n': 'ret', '\t': 'tab',
};
const SHIFTED: Readonly<Record<string, string>> = {
  '!': '1', '@': '2', '#': '3', $: '4', '%': '5', '^': '6', '&': '7', '*': '8', '(': '9', ')': '0',
  _: 'minus', '+': 'equal', '{': 'bracket_left', '}': 'bracket_right', '|': 'backslash', ':': 'semicolon',
  '"': 'apostrophe', '<': 'comma', '>': 'dot', '?': 'slash', '~': 'grave_accent',
};

/**
 * The keys a person presses on a US keyboard to type `text` (printable ASCII, newline and tab). On a
 * guest set to another layout the same keys type what that layout puts there: that is the point.
 */
export function usKeyStrokes(text: string): KeyStroke[] {
  return [...text].map((ch) => {
    if (/^[a-z0-9]$/.test(ch)) return { qcode: ch, shift: false };
    if (/^[A-Z]$/.test(ch)) return { qcode: ch.toLowerCase(), shift: true };
    if (UNSHIFTED[ch]) return { qcode: UNSHIFTED[ch]!, shift: false };
    if (SHIFTED[ch]) {
      const key = SHIFTED[ch]!;
      return { qcode: UNSHIFTED[key] ?? key, shift: true };
    }
    throw new Error(`no key on a US keyboard types ${JSON.stringify(ch)}`);
  });
}

/** One `input-send-event` key event. */
export function keyEvent(qcode: string, down: boolean): { type: 'key'; data: { down: boolean; key: { type: 'qcode'; data: string } } } {
  return { type: 'key', data: { down, key: { type: 'qcode', data: qcode } } };
}

/** The events of one key press with modifiers: modifiers down, the key down and up, modifiers up in reverse. */
export function keyPressEvents(qcode: string, modifiers: readonly string[] = []): ReturnType<typeof keyEvent>[] {
  return [...modifiers.map((m) => keyEvent(m, true)), keyEvent(qcode, true), keyEvent(qcode, false), ...[...modifiers].reverse().map((m) => keyEvent(m, false))];
}

/** Screen pixel → QEMU absolute axis value, for a screen of `size` pixels along that axis. */
export function toAbs(pixel: number, size: number): number {
  if (!(size > 1)) throw new Error(`a screen axis of ${size} pixels`);
  const clamped = Math.min(Math.max(pixel, 0), size - 1);
  return Math.round((clamped * ABS_MAX) / (size - 1));
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class Qmp {
  private buf = '';
  private readonly pending: Pending[] = [];
  private greeted = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8').on('data', (d: string) => this.feed(d));
    socket.on('close', () => {
      for (const p of this.pending.splice(0)) p.reject(new Error('the QMP connection closed'));
    });
  }

  /** Connects to `-qmp unix:PATH,server=on,wait=off` (waiting for QEMU to create it) and leaves capabilities negotiation done. */
  static connect(path: string, timeoutMs = 30_000, alive: () => boolean = () => true): Promise<Qmp> {
    return connectQemuSocket(path, 'QMP socket', async (socket) => {
      const q = new Qmp(socket);
      const greetingBy = performance.now() + 10_000;
      while (!q.greeted) {
        if (performance.now() > greetingBy) throw new Error('no QMP greeting within 10 s');
        await sleep(20);
      }
      await q.execute('qmp_capabilities');
      return q;
    }, timeoutMs, alive);
  }

  private feed(data: string): void {
    this.buf += data;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      let msg: { QMP?: unknown; return?: unknown; error?: { class?: string; desc?: string }; event?: string };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        continue;
      }
      if (msg.QMP) this.greeted = true;
      else if (msg.event) continue;
      else if ('return' in msg) this.pending.shift()?.resolve(msg.return);
      else if (msg.error) this.pending.shift()?.reject(new Error(`QMP: ${msg.error.class ?? 'error'}: ${msg.error.desc ?? ''}`));
    }
  }

  /** One QMP command; QMP answers in order, so answers are matched to the oldest pending command. */
  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed) {
        reject(new Error('the QMP connection is closed'));
        return;
      }
      this.pending.push({ resolve, reject });
      this.socket.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
    });
  }

  private async events(events: unknown[]): Promise<void> {
    await this.execute('input-send-event', { events });
  }

  /**
   * Presses and releases one key, with modifiers (qcodes such as "shift", "ctrl", "alt") held around
   * it, as one QMP command: the releases are queued in the guest's keyboard right behind the presses.
   * Sent as separate commands with a pause between them, a release could reach the guest late when
   * this host is busy (a CI run with other lanes beside the VM), and past the console's 250 ms repeat
   * delay the kernel types the key again. That is the likeliest reading of one CI run where the
   * installed system's console answered "Login incorrect" to the password typed on its screen, while
   * the serial console (fed characters, not keys) had just logged in with the same password.
   */
  async press(qcode: string, modifiers: readonly string[] = []): Promise<void> {
    await this.events(keyPressEvents(qcode, modifiers));
  }

  /** Types `text` as the keys a person presses on a US keyboard (see usKeyStrokes). */
  async typeUs(text: string, gapMs = 60): Promise<void> {
    for (const k of usKeyStrokes(text)) {
      await this.press(k.qcode, k.shift ? ['shift'] : []);
      await sleep(gapMs);
    }
  }

  /** Moves the tablet to pixel (x, y) of a screen `width` x `height`. */
  async pointTo(x: number, y: number, width: number, height: number): Promise<void> {
    await this.events([
      { type: 'abs', data: { axis: 'x', value: toAbs(x, width) } },
      { type: 'abs', data: { axis: 'y', value: toAbs(y, height) } },
    ]);
  }

  /** A left click at pixel (x, y): move, settle, press, release. */
  async click(x: number, y: number, width: number, height: number): Promise<void> {
    await this.pointTo(x, y, width, height);
    await sleep(150);
    await this.events([{ type: 'btn', data: { down: true, button: 'left' } }]);
    await sleep(80);
    await this.events([{ type: 'btn', data: { down: false, button: 'left' } }]);
  }

  /** Turns the wheel `notches` times over pixel (x, y): positive scrolls down, negative up. */
  async wheel(x: number, y: number, width: number, height: number, notches: number): Promise<void> {
    await this.pointTo(x, y, width, height);
    const button = notches > 0 ? 'wheel-down' : 'wheel-up';
    for (let i = 0; i < Math.abs(notches); i++) {
      await this.events([{ type: 'btn', data: { down: true, button } }]);
      await this.events([{ type: 'btn', data: { down: false, button } }]);
      await sleep(100);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
