import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateRecordId, generateRecordKey } from '../../../src/core/index.js';
import { estimateUpload, imageDimensions, sealedBytes } from '../../../src/services/upload-estimate.js';
import { sniffType } from '../../../src/workers/decoders/sniff.js';
import { protectInWorker } from '../../../src/workers/protect-engine.js';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url)));
const KDF = { memoryKiB: 64, passes: 1, parallelism: 1 };

describe('upload estimate before protecting', () => {
  it('reads width, height and channels from JPEG, PNG and WebP headers', () => {
    for (const [name, expected] of [
      ['photo-board.jpg', { width: 720, height: 477, channels: 3 }],
      ['gray.jpg', { width: 64, height: 48, channels: 1 }],
      ['gray16.png', { width: 37, height: 23, channels: 1 }],
    ] as const) {
      const bytes = fixture(name);
      expect(imageDimensions(sniffType(bytes), bytes)).toEqual(expected);
    }
    const webp = fixture('animated.webp');
    expect(imageDimensions('webp', webp)?.width).toBeGreaterThan(0);
  });

  it('keeping the original file is the exact upload: it equals the sealed objects the engine makes', async () => {
    const jpeg = fixture('photo-board.jpg');
    const file = new File([jpeg as BlobPart], 'photo-board.jpg', { type: 'image/jpeg' });
    const estimate = await estimateUpload(file, 8);
    expect(estimate.pixels).toEqual({ width: 720, height: 477, channels: 3 });
    expect(estimate.approximate).toBe(true);
    const r = await protectInWorker({ source: file, name: file.name, mime: file.type, mode: 'file', sequenceKey: 'adk21937', recordKey: generateRecordKey(), recordId: generateRecordId(), kdf: KDF, parity: 0 });
    expect(r.metadata.bodyEncoding).toBeUndefined();
    expect(estimate.keepOriginalBytes).toBe(r.objects.reduce((s, o) => s + o.blob.size, 0));
    // Pixels cost more than the JPEG: the person sees both figures.
    expect(estimate.bytes).toBeGreaterThan(estimate.keepOriginalBytes!);
  });

  it('a file that is not an image has an upper bound (it may compress); sealed size grows with parity', async () => {
    const text = new File(['hello '.repeat(1000)], 'note.txt', { type: 'text/plain' });
    const e = await estimateUpload(text, 8);
    expect(e).toMatchObject({ approximate: true });
    expect(e.keepOriginalBytes).toBeUndefined();
    expect(sealedBytes(1_000_000, 'x', 8, 2)).toBe((sealedBytes(1_000_000, 'x', 8, 0) / 8) * 10);
  });
});
