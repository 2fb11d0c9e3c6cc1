import { createFetchTransport } from './fetch-transport.js';
import type { Transport } from './http-transport.js';
import { createXhrTransport } from './xhr-transport.js';

/** XHR where it exists (pages, for upload progress), fetch elsewhere (Node, service workers). */
export function defaultTransport(): Transport {
  return typeof XMLHttpRequest === 'function' ? createXhrTransport() : createFetchTransport();
}
