import dicomParser, { type DataSet, type Element } from 'dicom-parser';
import { DicomPreviewError } from './dicom-error.js';
import type { DicomFile, DicomPixelInfo } from './dicom-dataset.js';
import { TRANSFER_SYNTAXES } from './dicom-dataset.js';

/** Samples of one frame, interleaved by pixel when there are several per pixel. */
export type SampleArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

function pixelElement(dataSet: DataSet): Element {
  const element = dataSet.elements.x7fe00010;
  if (!element) throw new DicomPreviewError('no-pixel-data', 'This DICOM file holds no image.');
  return element;
}

function checkFrame(info: DicomPixelInfo, frame: number): void {
  if (!Number.isInteger(frame) || frame < 0 || frame >= info.frames) {
    throw new DicomPreviewError('frame-out-of-range', `There is no frame ${frame + 1}; this image has ${info.frames}.`, { frame, frames: info.frames });
  }
}

/**
 * The compressed bytes of one frame of encapsulated pixel data (PS3.5 A.4): by the Basic Offset Table
 * when present, else one fragment per frame when the counts match, else all fragments for a single
 * frame, else (JPEG family) by finding each frame's start-of-image marker.
 */
export function encapsulatedFrame(file: DicomFile, info: DicomPixelInfo, frame: number): Uint8Array {
  checkFrame(info, frame);
  const ds = file.dataSet;
  const element = pixelElement(ds);
  const fragments = element.fragments ?? [];
  if (fragments.length === 0) throw new DicomPreviewError('damaged', 'The image data of this DICOM file is empty.');
  try {
    let bytes: Uint8Array;
    if (element.basicOffsetTable && element.basicOffsetTable.length > 0) {
      bytes = dicomParser.readEncapsulatedImageFrame(ds, element, frame) as Uint8Array;
    } else if (info.frames === 1) {
      bytes = dicomParser.readEncapsulatedPixelDataFromFragments(ds, element, 0, fragments.length) as Uint8Array;
    } else if (fragments.length === info.frames) {
      bytes = dicomParser.readEncapsulatedPixelDataFromFragments(ds, element, frame, 1) as Uint8Array;
    } else {
      const table = dicomParser.createJPEGBasicOffsetTable(ds, element);
      bytes = dicomParser.readEncapsulatedImageFrame(ds, element, frame, table) as Uint8Array;
    }
    return bytes;
  } catch (cause) {
    throw new DicomPreviewError('damaged', 'A frame of this DICOM image could not be found in its data.', { frame }, cause);
  }
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Native (uncompressed) samples of one frame: byte order fixed, samples masked to Bits Stored and
 * sign-extended when Pixel Representation is 1, so callers see the values the standard defines
 * (PS3.5 8.1.1: bits above the high bit may hold other data).
 */
export function nativeSamples(bytes: Uint8Array, info: DicomPixelInfo, bigEndian: boolean, frame: number): SampleArray {
  const count = info.rows * info.columns * info.samplesPerPixel;
  if (info.bitsAllocated === 1) {
    // Bit-packed across frame boundaries, least significant bit first (PS3.5 8.1.1, 8.2).
    const out = new Uint8Array(count);
    const startBit = frame * count;
    if (Math.ceil((startBit + count) / 8) > bytes.length) throw new DicomPreviewError('damaged', 'The image data of this DICOM file is shorter than its size says.');
    for (let i = 0; i < count; i++) {
      const bit = startBit + i;
      out[i] = (bytes[bit >> 3]! >> (bit & 7)) & 1;
    }
    return out;
  }
  const bytesPerSample = info.bitsAllocated / 8;
  const frameBytes = count * bytesPerSample;
  const start = frame * frameBytes;
  if (start + frameBytes > bytes.length) {
    throw new DicomPreviewError('damaged', 'The image data of this DICOM file is shorter than its size says.', { expected: start + frameBytes, actual: bytes.length });
  }
  // Copy: the source is rarely aligned for a typed-array view, and the copy is ours to fix in place.
  const raw = bytes.slice(start, start + frameBytes);
  if (bytesPerSample > 1 && bigEndian === LITTLE_ENDIAN_HOST) {
    for (let i = 0; i < raw.length; i += bytesPerSample) raw.subarray(i, i + bytesPerSample).reverse();
  }
  const signed = info.pixelRepresentation === 1;
  const samples: SampleArray =
    bytesPerSample === 1
      ? signed ? new Int8Array(raw.buffer) : raw
      : bytesPerSample === 2
        ? signed ? new Int16Array(raw.buffer) : new Uint16Array(raw.buffer)
        : signed ? new Int32Array(raw.buffer) : new Uint32Array(raw.buffer);
  return maskToBitsStored(samples, info);
}

/** Keeps the Bits Stored bits ending at High Bit, sign-extended for signed data. */
export function maskToBitsStored<T extends SampleArray>(samples: T, info: Pick<DicomPixelInfo, 'bitsAllocated' | 'bitsStored' | 'highBit' | 'pixelRepresentation'>): T {
  const { bitsAllocated, bitsStored, highBit } = info;
  if (bitsStored >= bitsAllocated && highBit === bitsAllocated - 1) return samples;
  const shift = 2 ** (highBit + 1 - bitsStored);
  const allocated = 2 ** bitsAllocated;
  const stored = 2 ** bitsStored;
  for (let i = 0; i < samples.length; i++) {
    // Unsigned bit pattern of the sample, then the stored bits; plain arithmetic, as `&` is 32-bit signed.
    const pattern = (samples[i]! >>> 0) % allocated;
    let v = Math.floor(pattern / shift) % stored;
    if (info.pixelRepresentation === 1 && v >= stored / 2) v -= stored;
    samples[i] = v;
  }
  return samples;
}

/** The bytes of a frame's pixel data as stored (native) or compressed (encapsulated). */
export function frameSource(file: DicomFile, info: DicomPixelInfo, frame: number): { readonly encapsulated: boolean; readonly bytes: Uint8Array } {
  checkFrame(info, frame);
  const element = pixelElement(file.dataSet);
  const encapsulated = element.encapsulatedPixelData === true || TRANSFER_SYNTAXES[file.transferSyntax]?.encapsulated === true;
  if (encapsulated) return { encapsulated, bytes: encapsulatedFrame(file, info, frame) };
  const ds = file.dataSet;
  const end = Math.min(ds.byteArray.length, element.dataOffset + element.length);
  return { encapsulated, bytes: (ds.byteArray as Uint8Array).subarray(element.dataOffset, end) };
}
