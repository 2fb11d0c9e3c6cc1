/**
 * Test-only helpers for tests/browser/clinical-*.spec.ts: protect and open real files through the real
 * engine workers, export PNGs, and drive the DICOM/pixel viewer. Fixtures arrive as base64 from the spec.
 */
import { decode as decodePng, encode as encodePngFast } from 'fast-png';
import { generateRecordKey } from '../../src/core/keychain.js';
import { generateRecordId } from '../../src/core/object-names.js';
import { isEhrVaultError } from '../../src/core/errors.js';
import type { ImageInfo, RecordMetadata } from '../../src/core/metadata.js';
import type { EngineClient } from '../../src/services/engine-client.js';
import { FrameViewerClient, type RenderRequest, type ViewerSummary } from '../../src/services/frame-viewer-client.js';
import type { ProtectRequest, StoredAs } from '../../src/workers/engine-api.js';

const KEY = 'adk21937';

const fromBase64 = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function failure(error: unknown): Failure {
  return isEhrVaultError(error) ? { code: error.code, reason: (error.details as { reason?: string }).reason } : { code: `untyped: ${String(error)}` };
}

async function bitmapPixels(bitmap: ImageBitmap): Promise<Uint8ClampedArray> {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d')!;
  context.drawImage(bitmap, 0, 0);
  return context.getImageData(0, 0, bitmap.width, bitmap.height).data;
}

/** Little-endian bytes of 16-bit samples, the record layout. */
function le16(samples: Uint16Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  samples.forEach((v, i) => {
    out[2 * i] = v & 0xff;
    out[2 * i + 1] = v >> 8;
  });
  return out;
}

/** Decodes a PNG with fast-png directly (not through the engine) to record-layout bytes. */
function independentPngPixels(bytes: Uint8Array): { depth: number; channels: number; bytes: Uint8Array } {
  const png = decodePng(bytes);
  const data = png.depth === 16 ? le16(png.data as Uint16Array) : new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength);
  return { depth: png.depth, channels: png.channels, bytes: data };
}

interface Failure {
  readonly code: string;
  readonly reason?: string | undefined;
}

/** One shape for every outcome, so specs read fields without narrowing (absent = not applicable). */
export interface RoundTripResult {
  readonly error?: Failure | undefined;
  readonly stored?: StoredAs | undefined;
  readonly metadata?: RecordMetadata | undefined;
  readonly kind?: 'file' | 'image' | undefined;
  readonly bytesEqual?: boolean | undefined;
  readonly dicom?: boolean | undefined;
  readonly mime?: string | undefined;
  readonly pixels?: number[] | undefined;
  readonly bitmap?: { readonly width: number; readonly height: number } | undefined;
  readonly exportedPng?: { readonly decodesToSamePixels: boolean; readonly independentDecoderAgrees: boolean; readonly depth: number; readonly channels: number } | undefined;
}

export interface DicomResult {
  readonly error?: Failure | undefined;
  readonly viewerError?: Failure | undefined;
  readonly stored?: StoredAs | undefined;
  readonly metadata?: RecordMetadata | undefined;
  readonly bytesEqual?: boolean | undefined;
  readonly dicom?: boolean | undefined;
  readonly summary?: ViewerSummary | undefined;
  readonly values?: number[][] | undefined;
  readonly rendered?: { frame: number; window?: { center: number; width: number } | undefined; size: number[]; levels: number[][] }[] | undefined;
  readonly progressCalls?: number | undefined;
  readonly outOfRange?: Failure | string | undefined;
}

export function createClinical(engine: EngineClient) {
  async function protectOpen(blob: Blob, name: string, mode: ProtectRequest['mode']) {
    const recordKey = generateRecordKey();
    const protectedRecordId = generateRecordId();
    let protectedRecord;
    try {
      protectedRecord = await engine.protect({ source: blob, name, mime: blob.type, mode, sequenceKey: KEY, recordKey, recordId: protectedRecordId, kdf: { memoryKiB: 64, passes: 1, parallelism: 1 }, compress: true });
    } catch (error) {
      return { error: failure(error) } as const;
    }
    const opened = await engine.open({ objects: [...protectedRecord.objects].reverse().map((f) => f.blob), sequenceKey: KEY, recordKey, recordId: protectedRecordId, display: true, png: true });
    return { protectedRecord, opened } as const;
  }

  return {
    /** Protect + open one fixture; for pixel records also check the PNG export against the pixels. */
    async roundTrip(base64: string, name: string, type: string, mode: ProtectRequest['mode']): Promise<RoundTripResult> {
      const source = fromBase64(base64);
      const r = await protectOpen(new Blob([source as BlobPart], { type }), name, mode);
      if ('error' in r) return { error: r.error };
      const { protectedRecord, opened } = r;
      const base = { stored: protectedRecord.stored, metadata: opened.metadata };
      if (opened.kind === 'file') {
        return { ...base, kind: 'file', bytesEqual: equalBytes(source, new Uint8Array(await opened.blob.arrayBuffer())), dicom: opened.dicom, mime: opened.blob.type };
      }
      const png = new Uint8Array(await opened.png!.arrayBuffer());
      const viaEngine = await engine.decode(new Blob([png], { type: 'image/png' }));
      const independent = independentPngPixels(png);
      return {
        ...base,
        kind: 'image',
        pixels: Array.from(opened.pixels),
        bitmap: opened.bitmap ? { width: opened.bitmap.width, height: opened.bitmap.height } : undefined,
        exportedPng: {
          decodesToSamePixels: viaEngine.pixelFormat === opened.metadata.image!.pixelFormat && equalBytes(viaEngine.pixels, opened.pixels),
          independentDecoderAgrees: equalBytes(independent.bytes, opened.pixels),
          depth: independent.depth,
          channels: independent.channels,
        },
      };
    },

    /** Encodes samples with fast-png (an encoder that is not ours), for inputs generated in the test. */
    pngBase64(width: number, height: number, depth: 8 | 16, channels: number, samples: number[]): string {
      const data = depth === 16 ? Uint16Array.from(samples) : Uint8Array.from(samples);
      const bytes = encodePngFast({ width, height, depth, channels, data });
      let s = '';
      for (const b of bytes) s += String.fromCharCode(b);
      return btoa(s);
    },

    async exportPng(pixels: number[], image: ImageInfo, frame?: number) {
      const blob = await engine.exportPng({ pixels: Uint8Array.from(pixels), image, frame });
      const decoded = await engine.decode(blob);
      return { type: blob.type, pixelFormat: decoded.pixelFormat, width: decoded.width, height: decoded.height, pixels: Array.from(decoded.pixels) };
    },

    async inspect(base64: string, name: string, type: string) {
      return engine.inspect(new Blob([fromBase64(base64) as BlobPart], { type }), name, type);
    },

    /**
     * A DICOM file through protect (auto) and open, then the viewer: stored values at `probes`
     * ([frame, x, y]) and the grey levels a render draws there.
     */
    async dicom(base64: string, name: string, probes: readonly (readonly [number, number, number])[], renders: readonly RenderRequest[]): Promise<DicomResult> {
      const source = fromBase64(base64);
      const r = await protectOpen(new Blob([source as BlobPart]), name, 'auto');
      if ('error' in r) return { error: r.error };
      const { protectedRecord, opened } = r;
      if (opened.kind !== 'file') return { error: { code: 'expected a file record' } };
      const bytesEqual = equalBytes(source, new Uint8Array(await opened.blob.arrayBuffer()));
      let viewer: FrameViewerClient;
      try {
        viewer = await FrameViewerClient.openDicom(opened.blob, name);
      } catch (error) {
        return { stored: protectedRecord.stored, bytesEqual, dicom: opened.dicom, viewerError: failure(error) };
      }
      try {
        const { width, frames } = viewer.summary;
        const values: number[][] = [];
        for (const [frame, x, y] of probes) {
          const v = await viewer.frameValues(frame);
          values.push(Array.from(v.values.subarray((y * width + x) * v.samplesPerPixel, (y * width + x + 1) * v.samplesPerPixel)));
        }
        const rendered = [];
        for (const request of renders) {
          const out = await viewer.render(request);
          const rgba = await bitmapPixels(out!.bitmap);
          const frame = request.frame ?? 0;
          rendered.push({
            frame: out!.frame,
            window: out!.window,
            size: [out!.bitmap.width, out!.bitmap.height],
            levels: probes.filter(([f]) => f === frame).map(([, x, y]) => Array.from(rgba.subarray((y * width + x) * 4, (y * width + x) * 4 + 4))),
          });
        }
        let progressCalls = 0;
        await viewer.decodeAll(() => progressCalls++);
        const outOfRange = await viewer.render({ frame: frames }).then(() => 'no error', (e: unknown) => failure(e));
        return { stored: protectedRecord.stored, metadata: opened.metadata, bytesEqual, dicom: opened.dicom, summary: viewer.summary, values, rendered, progressCalls, outOfRange };
      } finally {
        viewer.close();
      }
    },

    /** Many renders in a burst, as a drag gesture makes: only the last one (and the first) draw. */
    async dragBurst(base64: string, name: string, steps: number) {
      const viewer = await FrameViewerClient.openDicom(new Blob([fromBase64(base64) as BlobPart]), name);
      try {
        const results = await Promise.all(Array.from({ length: steps }, (_, i) => viewer.render({ center: 500 + i * 10, width: 1000 })));
        const drawn = results.filter((r) => r !== null);
        return { drawn: drawn.length, last: results[results.length - 1]?.window };
      } finally {
        viewer.close();
      }
    },

    async dicomSummary(base64: string, name: string) {
      return engine.dicomSummary(new Blob([fromBase64(base64) as BlobPart]), name);
    },

    /** A pixel record (GRAY16 frames) in the viewer: windowed render and frame slider. */
    async pixelViewer(samples: number[], image: ImageInfo, request: RenderRequest) {
      const viewer = await FrameViewerClient.openPixels(le16(Uint16Array.from(samples)), image);
      try {
        const out = await viewer.render(request);
        return { summary: viewer.summary, window: out!.window, rgba: Array.from(await bitmapPixels(out!.bitmap)) };
      } finally {
        viewer.close();
      }
    },
  };
}
