import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url)));

/** SHA-256 of values as little-endian int32, the digest pydicom's `pixel_array.astype('<i4')` gives. */
export function int32Digest(values: ArrayLike<number>): string {
  return createHash('sha256').update(new Uint8Array(Int32Array.from(values).buffer)).digest('hex');
}

/** Node has no WebAssembly codec builds wired up: frames that need one must not be asked for here. */
export const noWasm = async (): Promise<never> => {
  throw new TypeError('no WebAssembly codecs in Node tests');
};
