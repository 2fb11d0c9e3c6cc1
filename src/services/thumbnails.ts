import { saveRecordExtras } from './record-catalog.js';

const SIZE = 96;

async function toDataUrl(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `data:${blob.type};base64,${btoa(binary)}`;
}

/**
 * Makes a small (96 px) JPEG of an image on this device and keeps it sealed with the record's extras,
 * so the list can show it without opening the record. Returns false when the image cannot be read here
 * (the record then has no thumbnail; nothing else changes).
 */
export async function rememberThumbnail(recordId: string, source: Blob | ImageBitmap): Promise<boolean> {
  try {
    const full = source instanceof Blob ? await createImageBitmap(source, { imageOrientation: 'from-image' }) : source;
    const scale = Math.min(1, SIZE / Math.max(full.width, full.height));
    const width = Math.max(1, Math.round(full.width * scale));
    const height = Math.max(1, Math.round(full.height * scale));
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d');
    if (!context) return false;
    context.drawImage(full, 0, 0, width, height);
    if (source instanceof Blob) full.close();
    const jpeg = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.7 });
    await saveRecordExtras(recordId, { thumbnail: await toDataUrl(jpeg) });
    return true;
  } catch {
    return false;
  }
}
