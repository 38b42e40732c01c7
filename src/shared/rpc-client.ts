import { EVENTS, METHODS, isEventName, type EventName, type EventPayload, type InstallerApi, type MethodName } from './api';
import { makeError, type InstallerError, type Result } from './errors';
import { EVENT_METHOD_PREFIX, RpcResponseSchema, RpcNotificationSchema, RPC_APP_ERROR } from './protocol';

/**
 * A JSON-RPC client for the engine protocol, independent of the transport: give it a way to send a
 * line and feed it every line received. Used over stdio (Electron main) and WebSocket (browser).
 * Results and events are validated with the contract's schemas before anyone sees them.
 */
// Both browsers and Node have timers, but this folder is compiled with neither's types.
interface Timers {
  setTimeout(cb: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
const timers = globalThis as unknown as Timers;

export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, (r: Result<unknown>) => void>();
  private readonly listeners = new Map<EventName, Set<(p: unknown) => void>>();
  private closedWith: InstallerError | null = null;

  constructor(
    private readonly send: (line: string) => void,
    private readonly timeoutMs = 120_000,
  ) {}

  call<M extends MethodName>(method: M, params: unknown): Promise<Result<unknown>> {
    if (this.closedWith) return Promise.resolve({ ok: false, error: this.closedWith });
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = timers.setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, error: makeError('timeout', `The engine did not answer ${method} within ${this.timeoutMs / 1000} s.`) });
      }, this.timeoutMs);
      this.pending.set(id, (r) => {
        timers.clearTimeout(timer);
        if (!r.ok) return resolve(r);
        const parsed = METHODS[method].result.safeParse(r.value);
        resolve(
          parsed.success
            ? { ok: true, value: parsed.data }
            : { ok: false, error: makeError('internal', `The engine's answer to ${method} does not match the contract.`, { detail: parsed.error.message }) },
        );
      });
      try {
        this.send(JSON.stringify({ jsonrpc: '2.0', id, method, params: params ?? {} }));
      } catch (e) {
        this.pending.delete(id);
        timers.clearTimeout(timer);
        resolve({ ok: false, error: makeError('internal', `Could not send ${method} to the engine: ${String(e)}`) });
      }
    });
  }

  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const l = listener as (p: unknown) => void;
    set.add(l);
    return () => set.delete(l);
  }

  /** Feed one received line. Lines that are not valid protocol messages are ignored. */
  receive(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    const note = RpcNotificationSchema.safeParse(msg);
    if (note.success && note.data.method.startsWith(EVENT_METHOD_PREFIX)) {
      const name = note.data.method.slice(EVENT_METHOD_PREFIX.length);
      if (!isEventName(name)) return;
      const payload = EVENTS[name].safeParse(note.data.params);
      if (!payload.success) return;
      for (const l of this.listeners.get(name) ?? []) l(payload.data);
      return;
    }
    const res = RpcResponseSchema.safeParse(msg);
    if (!res.success || typeof res.data.id !== 'number') return;
    const done = this.pending.get(res.data.id);
    if (!done) return;
    this.pending.delete(res.data.id);
    if ('error' in res.data) {
      const e = res.data.error;
      done({ ok: false, error: e.code === RPC_APP_ERROR && e.data ? e.data : (e.data ?? makeError('invalid-input', e.message)) });
    } else {
      done({ ok: true, value: res.data.result });
    }
  }

  /** The connection is gone: fail everything pending and tell listeners. */
  close(error: InstallerError): void {
    if (this.closedWith) return;
    this.closedWith = error;
    for (const done of this.pending.values()) done({ ok: false, error });
    this.pending.clear();
    for (const l of this.listeners.get('engineLost') ?? []) l({ error });
  }

  /** An InstallerApi backed by this client. */
  api(): InstallerApi {
    const api: Record<string, unknown> = { on: this.on.bind(this) };
    for (const m of Object.keys(METHODS) as MethodName[]) api[m] = (params: unknown) => this.call(m, params);
    return api as unknown as InstallerApi;
  }
}
