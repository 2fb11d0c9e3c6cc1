/**
 * The one HTTP seam of the cloud services. The browser uses XMLHttpRequest (the only browser API with
 * upload progress); Node tests use fetch. Both resolve for every HTTP status and reject only for a
 * failed connection (ServiceError NETWORK_ERROR) or cancellation (AbortedError).
 */
export interface TransportRequest {
  readonly method: 'GET' | 'PUT' | 'POST' | 'HEAD' | 'DELETE';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly body?: Blob | string | undefined;
}

export interface TransportResponse {
  readonly status: number;
  header(name: string): string | null;
  /** The response body (empty for HEAD/DELETE). */
  readonly body: Blob;
}

export interface TransportOptions {
  readonly signal?: AbortSignal | undefined;
  /** Bytes of the request body sent so far. */
  readonly onUploadProgress?: ((loaded: number, total: number) => void) | undefined;
  /** Bytes of the response body received so far (total 0 when unknown). */
  readonly onDownloadProgress?: ((loaded: number, total: number) => void) | undefined;
}

export interface Transport {
  send(request: TransportRequest, options?: TransportOptions): Promise<TransportResponse>;
}
