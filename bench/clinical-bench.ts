/**
 * Clinical measurements for bench/run.ts (`window.clinicalBench`): a 512×512 16-bit CT slice as a
 * 16-bit PNG (pixel path: decode + protect) and as DICOM (original bytes + windowed preview), and a
 * multi-frame CT study. Every figure is measured in the same run; nothing is assumed.
 */
import { encode as encodePng } from 'fast-png';
import { generateRecordKey } from '../src/core/keychain.js';
import { generateRecordId } from '../src/core/object-names.js';
import { EngineClient } from '../src/services/engine-client.js';
import { FrameViewerClient } from '../src/services/frame-viewer-client.js';
import { ctPhantom, writeCtDicom } from './dicom-writer.js';

const KEY = 'adk21937';
/** One record id for every record of the bench: each has its own random record key. */
const RID = generateRecordId();
const engine = new EngineClient();

const time = async <T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> => {
  const t0 = performance.now();
  const value = await run();
  return { ms: performance.now() - t0, value };
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** 16-bit grey PNG of one phantom slice (stored = HU + 1024, as a CT export would be). */
function ctPng(size: number): Blob {
  const hu = ctPhantom(size, 1);
  const data = new Uint16Array(hu.length);
  for (let i = 0; i < hu.length; i++) data[i] = hu[i]! + 1024;
  return new Blob([encodePng({ width: size, height: size, depth: 16, channels: 1, data }) as BlobPart], { type: 'image/png' });
}

async function dicomPath(file: Blob, name: string, scrollFrames: number) {
  const recordKey = generateRecordKey();
  const protect = await time(() => engine.protect({ source: file, name, mime: '', mode: 'auto', sequenceKey: KEY, recordKey, recordId: RID }));
  const open = await time(() => engine.open({ objects: protect.value.objects.map((f) => f.blob), sequenceKey: KEY, recordKey, recordId: RID }));
  if (open.value.kind !== 'file') throw new TypeError('expected a file record');
  const blob = open.value.blob;
  const viewerOpen = await time(() => FrameViewerClient.openDicom(blob, name));
  const viewer = viewerOpen.value;
  try {
    const firstRender = await time(() => viewer.render({}));
    firstRender.value?.bitmap.close();
    const decodeAll = await time(() => viewer.decodeAll());
    const rewindow: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await time(() => viewer.render({ center: -600 + i * 50, width: 1500 }));
      r.value?.bitmap.close();
      rewindow.push(r.ms);
    }
    const scroll: number[] = [];
    for (let f = 0; f < Math.min(scrollFrames, viewer.summary.frames); f++) {
      const r = await time(() => viewer.render({ frame: f }));
      r.value?.bitmap.close();
      scroll.push(r.ms);
    }
    return {
      fileBytes: file.size,
      frames: viewer.summary.frames,
      stored: protect.value.stored.as,
      protectMs: protect.ms,
      openMs: open.ms,
      previewOpenMs: viewerOpen.ms,
      firstRenderMs: firstRender.ms,
      decodeAllFramesMs: decodeAll.ms,
      protectPlusPreviewMs: protect.ms + viewerOpen.ms + firstRender.ms + decodeAll.ms,
      rewindowMedianMs: median(rewindow),
      frameScrollMedianMs: median(scroll),
    };
  } finally {
    viewer.close();
  }
}

const clinicalBench = {
  /** 16-bit PNG CT slice through the pixel path (GRAY16), identity and deflate. */
  async ctSlicePng(size: number) {
    const png = ctPng(size);
    const out: Record<string, unknown> = { sourceBytes: png.size };
    for (const compress of [false, true]) {
      const recordKey = generateRecordKey();
      const protect = await time(() => engine.protect({ source: png, name: 'ct.png', mime: 'image/png', mode: 'auto', sequenceKey: KEY, recordKey, recordId: RID, compress }));
      const open = await time(() => engine.open({ objects: protect.value.objects.map((f) => f.blob), sequenceKey: KEY, recordKey, recordId: RID, display: true }));
      if (open.value.kind !== 'image') throw new TypeError('expected an image record');
      const pixels = open.value.pixels;
      const image = open.value.metadata.image!;
      open.value.bitmap?.close();
      const exported = await time(() => engine.exportPng({ pixels, image }));
      out[compress ? 'deflate' : 'identity'] = {
        pixelFormat: image.pixelFormat,
        decodeProtectMs: protect.ms,
        openDisplayMs: open.ms,
        exportPngMs: exported.ms,
        bodyBytes: protect.value.metadata.byteLength,
        pixelBytes: pixels.length,
      };
    }
    return out;
  },

  /** The same slice as a DICOM file: protect keeps the bytes; the preview decodes and windows it. */
  ctSliceDicom(size: number) {
    return dicomPath(new Blob([writeCtDicom(size, 1)]), 'ct-slice.dcm', 1);
  },

  /** A multi-frame CT study (one file, `frames` slices of size²). */
  ctStudyDicom(size: number, frames: number) {
    return dicomPath(new Blob([writeCtDicom(size, frames)]), 'ct-study.dcm', 20);
  },
};

declare global {
  interface Window {
    clinicalBench: typeof clinicalBench;
  }
}
window.clinicalBench = clinicalBench;
