/** A rejection the API reports to the client as `{ error: { code, message, hint } }`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export interface ApiErrorBody {
  error: { code: string; message: string; hint: string };
}

export function toErrorBody(error: ApiError): ApiErrorBody {
  return { error: { code: error.code, message: error.message, hint: error.hint } };
}
