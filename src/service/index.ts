/** The engine service: the RPC core and its transports (stdio, Unix socket, HTTP + WebSocket). */
export * from './rpc-core';
export * from './log';
export * from './lines';
export * from './stdio';
export * from './socket';
export * from './http';
export * from './auth';
export * from './static';
export * from './peercred';
