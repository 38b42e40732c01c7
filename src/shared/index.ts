export * from './errors';
export * from './disk';
export * from './answer-file';
export * from './api';
export * from './protocol';
export * from './rpc-client';
export * from './install';
export * from './system';
