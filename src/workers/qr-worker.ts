/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import jsQR from 'jsqr';

/** Frames are scaled down to this many pixels on their long side: enough for a share-text QR code, and fast. */
export const QR_FRAME_MAX = 800;

/**
 * Decodes QR codes in camera frames where the browser has no BarcodeDetector (Safari, Firefox, desktop
 * Chromium on Linux and Windows): jsQR, off the main thread. The frame arrives as an ImageBitmap (transferred)
 * and is drawn to an OffscreenCanvas for its pixels; frames never leave the device.
 */
const api = {
  decode(frame: ImageBitmap): string | null {
    try {
      const scale = Math.min(1, QR_FRAME_MAX / Math.max(frame.width, frame.height, 1));
      const width = Math.max(1, Math.round(frame.width * scale));
      const height = Math.max(1, Math.round(frame.height * scale));
      const context = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
      if (!context) return null;
      context.drawImage(frame, 0, 0, width, height);
      const { data } = context.getImageData(0, 0, width, height);
      return jsQR(data, width, height, { inversionAttempts: 'attemptBoth' })?.data ?? null;
    } finally {
      frame.close();
    }
  },
};

export type QrWorkerApi = typeof api;
Comlink.expose(api);
