import type { MethodName, MethodParams, MethodResult } from '../shared';

/** One function per method of the contract: what the engine answers with (system/ fills a part). */
export type Handlers = { readonly [M in MethodName]: (params: MethodParams<M>) => Promise<MethodResult<M>> };
