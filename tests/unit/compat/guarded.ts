/**
 * Web APIs and call options the app uses although some supported browser (targets.ts) lacks them, each with
 * the file that uses it and how the app copes there. The compatibility test fails on any use missing from
 * this list, on an entry whose file no longer uses it, and on an entry no longer needed.
 */
export interface Guard {
  /** Source files (under src/) where the use is guarded. */
  readonly files: readonly string[];
  /** What happens in a browser without it. */
  readonly fallback: string;
}

export const GUARDED: Record<string, Guard> = {
  'api.Navigator.share': {
    files: ['src/ui/controllers/send-link.ts'],
    fallback: 'checked with typeof before use: where the system share sheet is missing (desktop Firefox, Chrome on desktops) "Send…" copies the link',
  },
  'api.Navigator.canShare': {
    files: ['src/ui/controllers/send-link.ts'],
    fallback: 'called as navigator.canShare?.(…) ?? true, only where navigator.share exists; otherwise the link is copied',
  },
  'api.ReadableStreamBYOBReader': {
    files: ['src/workers/read-range.ts'],
    fallback: 'the type of the reader obtained by the guarded getReader({ mode: "byob" }) call below',
  },
  'api.HTMLMediaElement.srcObject': {
    files: ['src/ui/components/qr-scanner.ts'],
    fallback: 'BCD marks it partial where only MediaStream objects are accepted: the scanner assigns a MediaStream',
  },
  'api.ReadableStreamBYOBReader.read': {
    files: ['src/workers/read-range.ts'],
    fallback: "getReader({ mode: 'byob' }) throws where Blob streams are not byte streams (Safari < 26.4): a default reader's chunks are copied into the reused buffer",
  },
  'api.ReadableStreamBYOBReader.releaseLock': {
    files: ['src/workers/read-range.ts'],
    fallback: 'only on a BYOB reader obtained above; the default-reader path releases its own lock',
  },
  'api.FileSystemFileHandle.createSyncAccessHandle.mode': {
    files: ['src/workers/scratch-file.ts'],
    fallback: "ignored where unknown (Firefox, Safari, Chrome < 121, Samsung Internet < 25): chooseSink probes a second handle, and when it is refused the pool Workers relay their output to one writer",
  },
  'api.FileSystemFileHandle.createWritable': {
    files: ['src/services/scratch-files.ts'],
    fallback: 'the IndexedDB-copies-Blobs probe fails where it is missing (Safari < 26), so protect keeps its output in memory Blobs',
  },
  'api.FileSystemWritableFileStream.write': {
    files: ['src/services/scratch-files.ts'],
    fallback: 'same probe as createWritable',
  },
  'api.BarcodeDetector': {
    files: ['src/services/qr-reader.ts'],
    fallback: 'jsQR in a Worker (qr-worker.ts) where BarcodeDetector is missing or knows no QR codes (its detect and getSupportedFormats are called only on an instance found here)',
  },
  'api.createImageBitmap.options_premultiplyAlpha_parameter': {
    files: ['src/workers/decode-image.ts'],
    fallback: "ignored before Safari 17: PNGs (alpha included) are decoded in JavaScript, JPEGs have no alpha; only a partially transparent WebP/GIF/AVIF decoded by Safari 16 may come back premultiplied",
  },
  'api.HTMLCanvasElement.getContext.2d_context.options_willReadFrequently_parameter': {
    files: ['src/workers/decode-image.ts', 'src/workers/qr-worker.ts'],
    fallback: 'a performance hint, ignored where unknown',
  },
  'api.HTMLCanvasElement.getContext.2d_context.options_colorSpace_parameter': {
    files: ['src/workers/decode-image.ts'],
    fallback: "ignored where unknown: 'srgb' is the default",
  },
};
