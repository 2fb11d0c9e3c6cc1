import { z } from 'zod';
import { ApiError } from './api-error.js';
import { OBJECT_NAME_PATTERN } from './object-key.js';

export const OPERATIONS = ['put', 'get', 'head', 'delete'] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface PresignObject {
  name: string;
  /** Base64 SHA-256 of the exact bytes to upload (put only, required there); signed as x-amz-checksum-sha256. */
  sha256?: string | undefined;
  /** Exact byte length of the upload (put only, required there); signed as Content-Length. */
  size?: number | undefined;
}

export interface PresignRequest {
  operation: Operation;
  objects: PresignObject[];
}

export interface PresignLimits {
  maxObjects: number;
  maxObjectBytes: number;
}

/** Base64 (with padding) of a 32-byte digest, as S3 expects in x-amz-checksum-sha256. */
const SHA256_BASE64_PATTERN = /^[A-Za-z0-9+/]{43}=$/;

function buildSchema(limits: PresignLimits) {
  const object = z.strictObject({
    name: z.string().regex(OBJECT_NAME_PATTERN),
    sha256: z.string().regex(SHA256_BASE64_PATTERN).optional(),
    size: z.number().int().min(0).max(limits.maxObjectBytes).optional(),
  });
  return z
    .strictObject({
      operation: z.enum(OPERATIONS),
      objects: z.array(object).min(1).max(limits.maxObjects),
    })
    .superRefine((request, ctx) => {
      const seen = new Set<string>();
      request.objects.forEach((object, index) => {
        if (seen.has(object.name)) {
          ctx.addIssue({ code: 'custom', path: ['objects', index, 'name'], message: `duplicate name ${object.name}`, params: { apiCode: 'DUPLICATE_OBJECT_NAME' } });
        }
        seen.add(object.name);
        if (request.operation === 'put') {
          for (const field of ['sha256', 'size'] as const) {
            if (object[field] === undefined) {
              ctx.addIssue({ code: 'custom', path: ['objects', index, field], message: `"${field}" is required with operation "put"`, params: { apiCode: 'FIELD_REQUIRED' } });
            }
          }
        } else {
          for (const field of ['sha256', 'size'] as const) {
            if (object[field] !== undefined) {
              ctx.addIssue({ code: 'custom', path: ['objects', index, field], message: `"${field}" is only allowed with operation "put"`, params: { apiCode: 'FIELD_NOT_ALLOWED' } });
            }
          }
        }
      });
    });
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out === '' ? '' : '.'}${String(part)}`;
  return out === '' ? 'body' : out;
}

function toApiError(issue: z.core.$ZodIssue, limits: PresignLimits): ApiError {
  const where = formatPath(issue.path);
  const field = issue.path.length >= 3 ? issue.path[2] : issue.path[0];
  const fail = (code: string, message: string, hint: string) => new ApiError(400, code, `${where}: ${message}`, hint);

  if (issue.code === 'custom') {
    const apiCode = (issue.params as { apiCode?: string } | undefined)?.apiCode ?? 'INVALID_REQUEST';
    const hint = apiCode === 'DUPLICATE_OBJECT_NAME'
      ? 'List each object name once per request.'
      : apiCode === 'FIELD_REQUIRED'
        ? 'Every upload binds its bytes: send "size" (exact byte length) and "sha256" (base64 SHA-256 of the bytes) for each object.'
        : 'Send "sha256" and "size" only when presigning uploads ("operation": "put").';
    return fail(apiCode, issue.message, hint);
  }
  if (issue.code === 'unrecognized_keys') {
    return fail('UNKNOWN_FIELD', `unknown field(s) ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}`,
      'Allowed fields: operation, objects[] with name, sha256 and size (put only).');
  }
  if (issue.path.length === 0) {
    return fail('INVALID_REQUEST', 'the body must be a JSON object', 'Send {"operation": "put"|"get"|"head"|"delete", "objects": [{"name": "..."}]}.');
  }
  if (field === 'operation') {
    return fail('INVALID_OPERATION', `must be one of ${OPERATIONS.join(', ')}`, 'Set "operation" to "put", "get", "head" or "delete".');
  }
  if (issue.path.length <= 2) {
    return fail('INVALID_OBJECTS', `must be an array of 1 to ${limits.maxObjects} objects like {"name": "..."}`,
      'Send "objects" as a non-empty array of {"name": "<fragment name>"}.');
  }
  if (field === 'name') {
    return fail('INVALID_OBJECT_NAME', `must match ${OBJECT_NAME_PATTERN.source}`,
      'Object names are 16-64 characters of [a-z0-9] (lowercase base32 or hex of an HMAC); send only the name, never a path.');
  }
  if (field === 'sha256') {
    return fail('INVALID_SHA256', 'must be the base64 (padded, 44 characters) SHA-256 digest of the bytes to upload',
      'Compute SHA-256 over the exact fragment bytes and encode the 32-byte digest in standard base64.');
  }
  if (field === 'size') {
    return fail('INVALID_SIZE', `must be an integer from 0 to ${limits.maxObjectBytes}`,
      `Send the exact byte length of the fragment; fragments larger than ${limits.maxObjectBytes} bytes are not accepted.`);
  }
  return fail('INVALID_REQUEST', issue.message, 'Check the request against the API description in server/README.md.');
}

/**
 * Returns a validator for already-parsed JSON bodies. It throws ApiError (400) with a stable code
 * describing the first problem found.
 */
export function createPresignRequestParser(limits: PresignLimits): (body: unknown) => PresignRequest {
  const schema = buildSchema(limits);
  return (body) => {
    // Checked first so an oversized batch is reported as such, not as its first bad element.
    if (typeof body === 'object' && body !== null && 'objects' in body) {
      const { objects } = body as { objects: unknown };
      if (Array.isArray(objects) && objects.length > limits.maxObjects) {
        throw new ApiError(400, 'TOO_MANY_OBJECTS', `objects: ${objects.length} objects sent, at most ${limits.maxObjects} allowed per request.`,
          `Split the batch into requests of at most ${limits.maxObjects} objects.`);
      }
    }
    const result = schema.safeParse(body);
    if (result.success) return result.data;
    const [first] = result.error.issues;
    throw first === undefined
      ? new ApiError(400, 'INVALID_REQUEST', 'The request is invalid.', 'Check the request against the API description in server/README.md.')
      : toApiError(first, limits);
  };
}
