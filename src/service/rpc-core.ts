import {
  EVENTS,
  EVENT_METHOD_PREFIX,
  EVENT_NAMES,
  InstallerErrorSchema,
  MAX_MESSAGE_BYTES,
  METHODS,
  RPC_APP_ERROR,
  RPC_INTERNAL_ERROR,
  RPC_INVALID_PARAMS,
  RPC_INVALID_REQUEST,
  RPC_METHOD_NOT_FOUND,
  RPC_PARSE_ERROR,
  RpcRequestSchema,
  fieldPath,
  isMethodName,
  jsonDepthExceeds,
  makeError,
  rpcError,
  type EventName,
  type InstallerError,
  type MethodName,
} from '../shared';
import type { Engine } from '../engine/engine';
import { CommandError } from '../engine/exec';
import { EngineFailure } from '../engine/failure';
import type { Logger } from './log';

/**
 * The transport-independent heart of the engine service: one request line in, at most one
 * response line out. Every transport (stdio, Unix socket, WebSocket) is a thin loop around
 * `handleLine`, so the protocol rules live in exactly one place.
 */
export interface RpcServer {
  /** Answers one message. Resolves to the response line, or null for a notification. Never rejects. */
  handleLine(line: string): Promise<string | null>;
  /** The response to send when a message was larger than MAX_MESSAGE_BYTES and was dropped unread. */
  overflowResponse(): string;
  /** Calls `send` with an `event.<name>` notification line for every engine event; returns unsubscribe. */
  subscribe(send: (line: string) => void): () => void;
}

type Id = string | number | null;
type Handler = (params: unknown) => Promise<unknown>;

// Lets a refused request still carry the caller's id, so the client can match the error to its call.
function salvageId(msg: unknown): Id {
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return null;
  const id = (msg as Record<string, unknown>).id;
  if (typeof id === 'string' && id.length <= 128) return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
  return null;
}

function issuesText(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  return issues.map((i) => `${fieldPath(i.path)}: ${i.message}`).join('; ');
}

/** Builds the RPC core around an engine. `log` receives what must not reach the client (stacks). */
export function createRpcServer(engine: Engine, log: Logger): RpcServer {
  const handlers = engine.handlers as unknown as Record<MethodName, Handler>;

  async function dispatch(id: Id, method: MethodName, rawParams: unknown): Promise<string> {
    const params = METHODS[method].params.safeParse(rawParams ?? {});
    if (!params.success) {
      const text = issuesText(params.error.issues);
      return rpcError(id, RPC_INVALID_PARAMS, `Invalid params for ${method}: ${text}`, makeError('invalid-input', `Invalid params for ${method}: ${text}`));
    }
    let value: unknown;
    try {
      value = await handlers[method](params.data);
    } catch (e) {
      // Errors that carry an InstallerError (a failed command, a refused request) go to the client as they are.
      const appError = e instanceof CommandError || e instanceof EngineFailure ? InstallerErrorSchema.safeParse(e.error) : null;
      if (appError?.success) return rpcError(id, RPC_APP_ERROR, appError.data.message, appError.data);
      log.error(`${method} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return rpcError(id, RPC_INTERNAL_ERROR, 'Internal error', internal(`The engine failed while running ${method}.`));
    }
    // A handler that breaks the contract is our bug: say so, rather than send the client bad data.
    const result = METHODS[method].result.safeParse(value);
    if (!result.success) {
      const text = issuesText(result.error.issues);
      log.error(`${method} returned a result that breaks the contract: ${text}`);
      return rpcError(id, RPC_INTERNAL_ERROR, 'Internal error', internal(`The engine's answer to ${method} does not match the contract.`, text));
    }
    return JSON.stringify({ jsonrpc: '2.0', id, result: result.data });
  }

  async function handle(line: string): Promise<string | null> {
    if (Buffer.byteLength(line, 'utf8') > MAX_MESSAGE_BYTES) return overflowResponse();
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      return rpcError(null, RPC_PARSE_ERROR, 'Parse error: the message is not valid JSON');
    }
    // The id sits at the top level, so it is still safe to read: the client can match the refusal to its call.
    if (jsonDepthExceeds(msg)) return rpcError(salvageId(msg), RPC_INVALID_REQUEST, 'Invalid request: JSON nested too deeply');
    if (Array.isArray(msg)) return rpcError(null, RPC_INVALID_REQUEST, 'Invalid request: batches are not supported');
    if (msg === null || typeof msg !== 'object') return rpcError(null, RPC_INVALID_REQUEST, 'Invalid request: expected a JSON object');

    const req = RpcRequestSchema.safeParse(msg);
    if (!req.success) return rpcError(salvageId(msg), RPC_INVALID_REQUEST, `Invalid request: ${issuesText(req.error.issues)}`);
    const { id, method } = req.data;
    // Check the params exactly as they arrived, not the envelope schema's copy of them: that copy
    // silently drops an own "__proto__" key, which would let it past the method's strict schema.
    const params = (msg as Record<string, unknown>).params;
    // JSON-RPC: a request without an id is a notification and is never answered, not even with an error.
    const notification = id === undefined;
    const replyId: Id = id ?? null;

    if (!isMethodName(method)) {
      if (notification) return null;
      return rpcError(replyId, RPC_METHOD_NOT_FOUND, `Method not found: ${method}`, makeError('method-not-found', `The engine has no method "${method}".`));
    }
    const response = await dispatch(replyId, method, params);
    return notification ? null : response;
  }

  function overflowResponse(): string {
    return rpcError(
      null,
      RPC_INVALID_REQUEST,
      `Invalid request: message larger than ${MAX_MESSAGE_BYTES} bytes`,
      makeError('message-too-large', `A message to the engine was larger than ${MAX_MESSAGE_BYTES} bytes and was ignored.`),
    );
  }

  return {
    async handleLine(line) {
      try {
        return await handle(line);
      } catch (e) {
        // Nothing above should throw; if it does, the service must still answer and live on.
        log.error(`unexpected failure handling a message: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        return rpcError(null, RPC_INTERNAL_ERROR, 'Internal error', internal('The engine failed to handle a message.'));
      }
    },
    overflowResponse,
    subscribe(send) {
      const offs = EVENT_NAMES.map((name: EventName) =>
        engine.on(name, (payload: unknown) => {
          const checked = EVENTS[name].safeParse(payload);
          if (!checked.success) {
            log.error(`event ${name} breaks the contract and was not sent: ${issuesText(checked.error.issues)}`);
            return;
          }
          send(JSON.stringify({ jsonrpc: '2.0', method: `${EVENT_METHOD_PREFIX}${name}`, params: checked.data }));
        }),
      );
      return () => offs.forEach((off) => off());
    },
  };
}

function internal(message: string, detail?: string): InstallerError {
  return makeError('internal', message, detail === undefined ? {} : { detail });
}
