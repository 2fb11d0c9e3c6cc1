import { AbortedError } from '../core/errors.js';
import type { Transport, TransportOptions, TransportRequest, TransportResponse } from './http-transport.js';
import { ServiceError } from './service-error.js';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/**
 * A transport on `fetch`, for Node (tests, tools) and as a fallback. fetch has no upload progress, so
 * progress is reported once the body has been sent (when the response arrives).
 */
export function createFetchTransport(fetchImpl: FetchLike = (input, init) => fetch(input, init)): Transport {
  return {
    async send(request: TransportRequest, options: TransportOptions = {}): Promise<TransportResponse> {
      const { signal } = options;
      if (signal?.aborted) throw new AbortedError(signal.reason);
      const size = request.body === undefined ? 0 : typeof request.body === 'string' ? request.body.length : request.body.size;
      let response: Response;
      let body: Blob;
      try {
        response = await fetchImpl(request.url, {
          method: request.method,
          headers: { ...request.headers },
          ...(request.body !== undefined ? { body: request.body } : {}),
          ...(signal ? { signal } : {}),
        });
        options.onUploadProgress?.(size, size);
        body = await response.blob();
      } catch (error) {
        if (signal?.aborted) throw new AbortedError(signal.reason);
        throw new ServiceError('NETWORK_ERROR', `The connection failed (${request.method}).`, { method: request.method }, { cause: error });
      }
      options.onDownloadProgress?.(body.size, body.size);
      return { status: response.status, header: (name) => response.headers.get(name), body };
    },
  };
}
