import * as Comlink from 'comlink';
import type { QrWorkerApi } from '../workers/qr-worker.js';

interface DetectedBarcode {
  readonly rawValue: string;
}
interface BarcodeDetectorLike {
  detect(source: HTMLVideoElement): Promise<DetectedBarcode[]>;
}
type BarcodeDetectorConstructor = (new (options: { formats: string[] }) => BarcodeDetectorLike) & { getSupportedFormats?(): Promise<string[]> };

/** Reads QR codes from a playing video: texts found in the current frame (often none). */
export interface QrReader {
  /** `native`: the browser's BarcodeDetector; `worker`: jsQR in a Worker (everywhere else). */
  readonly kind: 'native' | 'worker';
  read(video: HTMLVideoElement): Promise<string[]>;
  close(): void;
}

/**
 * The browser's BarcodeDetector where it exists and knows QR codes (Chromium on Android, macOS and ChromeOS,
 * Samsung Internet); elsewhere jsQR in a Worker (qr-worker.ts). `prefer` forces one, for tests.
 */
export async function createQrReader(prefer?: 'native' | 'worker'): Promise<QrReader> {
  const Detector = (globalThis as { BarcodeDetector?: BarcodeDetectorConstructor }).BarcodeDetector;
  let native = prefer !== 'worker' && Detector !== undefined;
  if (native && Detector?.getSupportedFormats) native = (await Detector.getSupportedFormats().catch(() => [] as string[])).includes('qr_code');
  if (native && Detector) {
    const detector = new Detector({ formats: ['qr_code'] });
    return {
      kind: 'native',
      read: async (video) => (await detector.detect(video).catch(() => [])).map((b) => b.rawValue),
      close: () => {},
    };
  }
  const worker = new Worker(new URL('../workers/qr-worker.ts', import.meta.url), { type: 'module', name: 'ehr-vault-qr' });
  const api = Comlink.wrap<QrWorkerApi>(worker);
  return {
    kind: 'worker',
    read: async (video) => {
      if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || video.videoWidth === 0) return [];
      const frame = await createImageBitmap(video);
      const text = await api.decode(Comlink.transfer(frame, [frame]));
      return text === null ? [] : [text];
    },
    close: () => {
      api[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}
