import { AbortedError } from '../core/errors.js';
import type { Transport, TransportOptions, TransportRequest, TransportResponse } from './http-transport.js';
import { ServiceError } from './service-error.js';

/**
 * The browser transport. XMLHttpRequest because `xhr.upload.onprogress` is the only way a page can see
 * how much of a request body has been sent (fetch has no upload progress).
 */
export function createXhrTransport(): Transport {
  return {
    send(request: TransportRequest, options: TransportOptions = {}): Promise<TransportResponse> {
      const { signal } = options;
      if (signal?.aborted) return Promise.reject(new AbortedError(signal.reason));
      return new Promise<TransportResponse>((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        const onAbort = () => xhr.abort();
        const finish = () => signal?.removeEventListener('abort', onAbort);
        xhr.open(request.method, request.url);
        xhr.responseType = 'blob';
        for (const [name, value] of Object.entries(request.headers ?? {})) xhr.setRequestHeader(name, value);
        if (options.onUploadProgress) {
          const report = options.onUploadProgress;
          xhr.upload.onprogress = (event) => report(event.loaded, event.lengthComputable ? event.total : 0);
        }
        if (options.onDownloadProgress) {
          const report = options.onDownloadProgress;
          xhr.onprogress = (event) => report(event.loaded, event.lengthComputable ? event.total : 0);
        }
        xhr.onload = () => {
          finish();
          const body = xhr.response instanceof Blob ? xhr.response : new Blob([]);
          resolve({ status: xhr.status, header: (name) => xhr.getResponseHeader(name), body });
        };
        xhr.onerror = () => {
          finish();
          // XHR says nothing about why (offline, refused, CORS, reset): all are "the connection failed".
          reject(new ServiceError('NETWORK_ERROR', `The connection failed (${request.method}).`, { method: request.method }));
        };
        xhr.ontimeout = xhr.onerror;
        xhr.onabort = () => {
          finish();
          reject(new AbortedError(signal?.reason));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        xhr.send(request.body ?? null);
      });
    },
  };
}
