import { writeFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { EnvelopeError } from '../core/errors.js';
import { pixelByteLength, type RecordMetadata } from '../core/metadata.js';
import { filteredLength, unfilterImage } from '../core/row-filters.js';
import { encodePng } from '../workers/decoders/png-encode.js';
import { decodeWebpBody } from '../workers/webp-body.js';
import { CliError, ioError } from './errors.js';

/**
 * The record's content: pixels as FORMAT.md §6.1 lays them out, or a file's original bytes — inflated
 * (and unfiltered, §6.2) when the body is encoded.
 */
export async function imagePixels(metadata: RecordMetadata, body: Uint8Array): Promise<Uint8Array> {
  const encoding = metadata.bodyEncoding ?? 'identity';
  if (encoding === 'identity') return body;
  // §6.4: libwebp's WASM decoder, the one the app's open path uses.
  if (encoding === 'webp-lossless' && metadata.image) return decodeWebpBody(body, metadata.image);
  if (!metadata.image) {
    const expected = metadata.contentLength ?? 0;
    let bytes: Buffer;
    try {
      bytes = inflateRawSync(body, { maxOutputLength: Math.max(1, expected + 1) });
    } catch {
      throw new EnvelopeError('METADATA_INVALID', 'The file does not inflate to the size its description gives.', 'The record was written by a faulty program.', { expected });
    }
    if (bytes.length !== expected) throw new EnvelopeError('METADATA_INVALID', 'The file does not inflate to the size its description gives.', 'The record was written by a faulty program.', { expected, actual: bytes.length });
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  }
  const filtered = encoding === 'filtered-deflate-raw';
  const expected = filtered ? filteredLength(metadata.image) : pixelByteLength(metadata.image);
  let pixels: Uint8Array;
  try {
    const inflated = inflateRawSync(body, { maxOutputLength: expected + 1 });
    pixels = new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.length);
  } catch {
    throw new EnvelopeError('METADATA_INVALID', 'The image data does not inflate to the size its description gives.', 'The record was written by a faulty program; it cannot be shown as an image.', { expected });
  }
  if (pixels.length !== expected) {
    throw new EnvelopeError('METADATA_INVALID', 'The image data does not inflate to the size its description gives.', 'The record was written by a faulty program; it cannot be shown as an image.', { expected, actual: pixels.length });
  }
  return filtered ? unfilterImage(pixels, metadata.image) : pixels;
}

/** A file name from the record's description, never a path (the name is shown, never trusted: FORMAT.md §6). */
export function safeName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = basename(name.replace(/\\/g, '/')).replace(/[\u0000-\u001f\u007f]/g, '').replace(/^\.+/, '').trim();
  return cleaned === '' ? 'record' : cleaned.slice(0, 200);
}

export function outputPaths(metadata: RecordMetadata, out: string | undefined): string[] {
  const frames = metadata.image?.frames ?? 1;
  let base = out ?? safeName(metadata.name);
  if (metadata.kind !== 'image') return [base];
  if (out === undefined) base = base.slice(0, base.length - extname(base).length) + '.png';
  if (frames === 1) return [base];
  const stem = base.slice(0, base.length - extname(base).length);
  return Array.from({ length: frames }, (_, f) => `${stem}-f${String(f + 1).padStart(4, '0')}.png`);
}

async function writeNew(path: string, bytes: Uint8Array, force: boolean): Promise<void> {
  try {
    // Health data: readable by the owner only; never over an existing file unless asked.
    await writeFile(path, bytes, { flag: force ? 'w' : 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST') {
      throw new CliError('OUTPUT_EXISTS', `${path} already exists.`, 'Choose another path with --out, or pass --force to replace it.', { path });
    }
    throw ioError('OUTPUT_FAILED', path, error);
  }
}

/**
 * Writes an opened record: a file record byte for byte, an image as lossless PNG of its stored pixel format
 * (16-bit kept, one PNG per frame), encoded without a canvas by the app's own encoder.
 */
export async function writeOpened(metadata: RecordMetadata, body: Uint8Array, out: string | undefined, force: boolean): Promise<string[]> {
  const paths = outputPaths(metadata, out);
  if (metadata.kind !== 'image' || !metadata.image) {
    // A compressed file (FORMAT.md §6.3) is written as its original bytes.
    await writeNew(paths[0]!, await imagePixels(metadata, body), force);
    return paths;
  }
  const pixels = await imagePixels(metadata, body);
  for (const [frame, path] of paths.entries()) {
    const png = await encodePng(pixels, metadata.image, { frame });
    await writeNew(path, new Uint8Array(await png.arrayBuffer()), force);
  }
  return paths;
}
