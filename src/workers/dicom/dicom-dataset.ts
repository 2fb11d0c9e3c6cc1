import dicomParser, { type DataSet } from 'dicom-parser';
import { inflateSync } from 'fflate';
import { DicomPreviewError } from './dicom-error.js';
import { decodeText, formatDate, formatPersonName } from './dicom-text.js';

/** How the pixel data of a transfer syntax is decoded (src/workers/dicom/dicom-decode.ts). */
export type PixelCodec = 'native' | 'native-big-endian' | 'rle' | 'jpeg' | 'jpeg-lossless' | 'jpeg-ls' | 'jpeg-2000';

interface TransferSyntax {
  readonly name: string;
  /** undefined: recognised but no preview decoder here (the bytes are still protected exactly). */
  readonly codec: PixelCodec | undefined;
  readonly encapsulated: boolean;
}

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';
const DEFLATED_LE = '1.2.840.10008.1.2.1.99';

export const TRANSFER_SYNTAXES: Readonly<Record<string, TransferSyntax>> = {
  [IMPLICIT_LE]: { name: 'Implicit VR Little Endian', codec: 'native', encapsulated: false },
  [EXPLICIT_LE]: { name: 'Explicit VR Little Endian', codec: 'native', encapsulated: false },
  [DEFLATED_LE]: { name: 'Deflated Explicit VR Little Endian', codec: 'native', encapsulated: false },
  [EXPLICIT_BE]: { name: 'Explicit VR Big Endian', codec: 'native-big-endian', encapsulated: false },
  '1.2.840.10008.1.2.1.98': { name: 'Encapsulated Uncompressed Explicit VR Little Endian', codec: 'native', encapsulated: true },
  '1.2.840.10008.1.2.5': { name: 'RLE Lossless', codec: 'rle', encapsulated: true },
  '1.2.840.10008.1.2.4.50': { name: 'JPEG Baseline (Process 1)', codec: 'jpeg', encapsulated: true },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG Extended (Process 2 & 4)', codec: 'jpeg', encapsulated: true },
  '1.2.840.10008.1.2.4.57': { name: 'JPEG Lossless (Process 14)', codec: 'jpeg-lossless', encapsulated: true },
  '1.2.840.10008.1.2.4.70': { name: 'JPEG Lossless (Process 14, SV1)', codec: 'jpeg-lossless', encapsulated: true },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS Lossless', codec: 'jpeg-ls', encapsulated: true },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS Near-Lossless', codec: 'jpeg-ls', encapsulated: true },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 Lossless', codec: 'jpeg-2000', encapsulated: true },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000', codec: 'jpeg-2000', encapsulated: true },
  '1.2.840.10008.1.2.4.201': { name: 'HTJ2K Lossless', codec: undefined, encapsulated: true },
  '1.2.840.10008.1.2.4.202': { name: 'HTJ2K Lossless RPCL', codec: undefined, encapsulated: true },
  '1.2.840.10008.1.2.4.203': { name: 'HTJ2K', codec: undefined, encapsulated: true },
  '1.2.840.10008.1.2.4.100': { name: 'MPEG2 Main Profile', codec: undefined, encapsulated: true },
  '1.2.840.10008.1.2.4.102': { name: 'MPEG-4 AVC/H.264', codec: undefined, encapsulated: true },
  '1.2.840.10008.1.2.4.110': { name: 'JPEG XL Lossless', codec: undefined, encapsulated: true },
};

export interface DicomFile {
  readonly dataSet: DataSet;
  readonly transferSyntax: string;
  /** False for files without the 128-byte preamble and "DICM" (older or non-conformant writers). */
  readonly part10: boolean;
}

const VRS = new Set('AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '));

function hasDicmMarker(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

/** Guesses the encoding of a dataset without a File Meta header from its first element. */
function guessRawTransferSyntax(bytes: Uint8Array): string {
  if (bytes.length < 8) return IMPLICIT_LE;
  const groupLe = bytes[0]! | (bytes[1]! << 8);
  const vr = String.fromCharCode(bytes[4]!, bytes[5]!);
  if (groupLe > 0xff && (bytes[0]! << 8 | bytes[1]!) <= 0x0008 && VRS.has(vr)) return EXPLICIT_BE;
  return VRS.has(vr) ? EXPLICIT_LE : IMPLICIT_LE;
}

/** Tag "xGGGGEEEE" → group number. */
const groupOf = (tag: string): number => parseInt(tag.slice(1, 5), 16);

/**
 * A dataset parsed from a file without the "DICM" marker counts as DICOM only if it looks like one:
 * at least three elements in ascending tag order, starting in group 0002 or 0008, and an attribute
 * every image or object has (SOP Class UID, Modality, or Rows and Columns). A text or binary file
 * that happens to parse into one long "element" does not pass.
 */
function plausibleDataSet(dataSet: DataSet): boolean {
  // dicom-parser appends a synthetic (0002,0010) holding the transfer syntax it was told to use.
  const tags = Object.keys(dataSet.elements).filter((tag, i, all) => !(tag === 'x00020010' && i === all.length - 1 && i > 0));
  if (tags.length < 3) return false;
  const first = groupOf(tags[0]!);
  if (first !== 0x0002 && first !== 0x0008) return false;
  for (let i = 1; i < tags.length; i++) if (tags[i]! <= tags[i - 1]!) return false;
  const has = (tag: string) => dataSet.elements[tag] !== undefined;
  return has('x00080016') || has('x00080060') || (has('x00280010') && has('x00280011'));
}

/** Names under which a file without the "DICM" marker is tried as DICOM: `.dcm`, `.dicom`, `.dic`, no extension, or a UID. */
export function mayBeRawDicom(name: string): boolean {
  const base = name.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  const extension = dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
  return extension === '' || extension === 'dcm' || extension === 'dicom' || extension === 'dic' || /^[0-9.]+$/.test(base);
}

/** Longest head we try to parse to recognise a DICOM file that lacks the marker. */
export const RAW_DICOM_PROBE_BYTES = 16 * 1024 * 1024;

/**
 * DICOM by content: the "DICM" marker after the 128-byte preamble; or, for a file named `.dcm`,
 * `.dicom`, with no extension or named like a UID (as PACS exports are), a dataset that parses and
 * passes `plausibleDataSet`. `head` may be the first RAW_DICOM_PROBE_BYTES bytes of a longer file.
 */
export function isDicom(head: Uint8Array, name: string): boolean {
  if (hasDicmMarker(head)) return true;
  if (!mayBeRawDicom(name)) return false;
  try {
    const dataSet = dicomParser.parseDicom(head, { TransferSyntaxUID: guessRawTransferSyntax(head), untilTag: 'x7fe00010' });
    return plausibleDataSet(dataSet);
  } catch {
    return false;
  }
}

/** Parses a whole DICOM file (any transfer syntax; a deflated dataset is inflated first). */
export async function readDicom(bytes: Uint8Array, name = ''): Promise<DicomFile> {
  const part10 = hasDicmMarker(bytes);
  if (!part10 && !isDicom(bytes.subarray(0, RAW_DICOM_PROBE_BYTES), name || 'file.dcm')) {
    throw new DicomPreviewError('not-dicom', 'This file is not DICOM.');
  }
  try {
    if (!part10) {
      const transferSyntax = guessRawTransferSyntax(bytes);
      return { dataSet: dicomParser.parseDicom(bytes, { TransferSyntaxUID: transferSyntax }), transferSyntax, part10 };
    }
    const meta = dicomParser.readPart10Header(bytes);
    const transferSyntax = meta.string('x00020010')?.trim() ?? EXPLICIT_LE;
    let inflater: ((array: Uint8Array, position: number) => Uint8Array) | undefined;
    if (transferSyntax === DEFLATED_LE) {
      // dicom-parser looks for pako or Node's zlib; fflate inflates here instead. Not the browser's
      // DecompressionStream: it rejects the padding byte that often follows the deflated dataset.
      const metaEnd = Object.values(meta.elements).reduce((end, e) => Math.max(end, e.dataOffset + e.length), 132);
      const inflated = inflateSync(bytes.subarray(metaEnd));
      const full = new Uint8Array(metaEnd + inflated.length);
      full.set(bytes.subarray(0, metaEnd));
      full.set(inflated, metaEnd);
      inflater = () => full;
    }
    const dataSet = dicomParser.parseDicom(bytes, inflater ? { inflater } : {});
    return { dataSet, transferSyntax, part10 };
  } catch (cause) {
    if (cause instanceof DicomPreviewError) throw cause;
    throw new DicomPreviewError('damaged', 'This DICOM file could not be read; it may be damaged or cut short.', { cause: String(cause) }, cause);
  }
}

export interface WindowSetting {
  readonly center: number;
  readonly width: number;
  /** Window Center & Width Explanation (0028,1055), or the preset's name. */
  readonly name: string;
}

export type VoiLutFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

/** The Image Pixel and related modules, with the defaults PS3.3 gives for absent attributes. */
export interface DicomPixelInfo {
  readonly rows: number;
  readonly columns: number;
  readonly frames: number;
  readonly samplesPerPixel: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly highBit: number;
  /** 0 unsigned, 1 two's complement. */
  readonly pixelRepresentation: 0 | 1;
  readonly photometric: string;
  /** 0: colour-by-pixel (RGBRGB…), 1: colour-by-plane (RR…GG…BB…). */
  readonly planarConfiguration: 0 | 1;
  readonly rescaleSlope: number;
  readonly rescaleIntercept: number;
  /** Windows stored in the file (first is the default), in modality units. */
  readonly windows: readonly WindowSetting[];
  readonly voiLutFunction: VoiLutFunction;
  readonly modality: string;
  readonly transferSyntax: string;
  readonly transferSyntaxName: string;
  /** False when no preview decoder exists for the transfer syntax here. */
  readonly previewSupported: boolean;
}

function itemDataSet(dataSet: DataSet | undefined, tag: string): DataSet | undefined {
  return dataSet?.elements[tag]?.items?.[0]?.dataSet;
}

/** Enhanced multi-frame objects keep rescale and window in the Shared Functional Groups (C.7.6.16). */
function sharedGroup(dataSet: DataSet, sequence: string): DataSet | undefined {
  return itemDataSet(itemDataSet(dataSet, 'x52009229'), sequence);
}

export function pixelInfo(file: DicomFile): DicomPixelInfo {
  const ds = file.dataSet;
  if (!ds.elements.x7fe00010) throw new DicomPreviewError('no-pixel-data', 'This DICOM file holds no image (for example a report or a structured document).');
  const rows = ds.uint16('x00280010') ?? 0;
  const columns = ds.uint16('x00280011') ?? 0;
  const bitsAllocated = ds.uint16('x00280100') ?? 0;
  if (rows < 1 || columns < 1 || ![1, 8, 16, 32].includes(bitsAllocated)) {
    throw new DicomPreviewError('unsupported-pixel-layout', 'This DICOM image has a pixel layout the preview does not handle.', { rows, columns, bitsAllocated });
  }
  const bitsStored = Math.min(bitsAllocated, ds.uint16('x00280101') ?? bitsAllocated);
  const modality = ds.string('x00080060')?.trim() ?? '';
  const rescaleSource = ds.elements.x00281053 ? ds : (sharedGroup(ds, 'x00289145') ?? ds);
  let rescaleSlope = rescaleSource.floatString('x00281053') ?? 1;
  const rescaleIntercept = rescaleSource.floatString('x00281052') ?? 0;
  // RT Dose stores its scaling as Dose Grid Scaling (3004,000E) instead of a rescale slope.
  if (!ds.elements.x00281053 && modality === 'RTDOSE') rescaleSlope = ds.floatString('x3004000e') ?? 1;
  const voiSource = ds.elements.x00281050 ? ds : (sharedGroup(ds, 'x00289132') ?? ds);
  const windows: WindowSetting[] = [];
  const count = Math.min(voiSource.numStringValues('x00281050') ?? 0, voiSource.numStringValues('x00281051') ?? 0);
  for (let i = 0; i < count; i++) {
    const center = voiSource.floatString('x00281050', i);
    const width = voiSource.floatString('x00281051', i);
    if (center === undefined || width === undefined || !Number.isFinite(center) || !(width >= 1)) continue;
    windows.push({ center, width, name: voiSource.string('x00281055', i)?.trim() || (i === 0 ? 'From file' : `From file ${i + 1}`) });
  }
  const fn = voiSource.string('x00281056')?.trim().toUpperCase();
  const transferSyntax = file.transferSyntax;
  const syntax = TRANSFER_SYNTAXES[transferSyntax];
  return {
    rows,
    columns,
    frames: Math.max(1, ds.intString('x00280008') ?? 1),
    samplesPerPixel: ds.uint16('x00280002') ?? 1,
    bitsAllocated,
    bitsStored,
    highBit: ds.uint16('x00280102') ?? bitsStored - 1,
    pixelRepresentation: ds.uint16('x00280103') === 1 ? 1 : 0,
    photometric: ds.string('x00280004')?.trim().toUpperCase() ?? 'MONOCHROME2',
    planarConfiguration: ds.uint16('x00280006') === 1 ? 1 : 0,
    rescaleSlope: Number.isFinite(rescaleSlope) && rescaleSlope !== 0 ? rescaleSlope : 1,
    rescaleIntercept: Number.isFinite(rescaleIntercept) ? rescaleIntercept : 0,
    windows,
    voiLutFunction: fn === 'LINEAR_EXACT' || fn === 'SIGMOID' ? fn : 'LINEAR',
    modality,
    transferSyntax,
    transferSyntaxName: syntax?.name ?? transferSyntax,
    previewSupported: syntax?.codec !== undefined,
  };
}

/** The few identifying and descriptive attributes shown next to the preview, on the device only. */
export interface DicomDisplayTags {
  readonly patientName: string;
  readonly patientId: string;
  /** ISO 8601 date, or as written when not a valid DA. */
  readonly studyDate: string;
  readonly modality: string;
  /** Study Description, else Series Description. */
  readonly description: string;
  readonly seriesDescription: string;
  readonly bodyPart: string;
}

export function displayTags(file: DicomFile): DicomDisplayTags {
  const ds = file.dataSet;
  const charset = ds.string('x00080005');
  const text = (tag: string): string => {
    const e = ds.elements[tag];
    if (!e || e.length === 0 || e.dataOffset + e.length > ds.byteArray.length) return '';
    return decodeText(ds.byteArray.subarray(e.dataOffset, e.dataOffset + e.length) as Uint8Array, charset).trim();
  };
  const studyDescription = text('x00081030');
  const seriesDescription = text('x0008103e');
  return {
    patientName: formatPersonName(text('x00100010')),
    patientId: text('x00100020'),
    studyDate: formatDate(text('x00080020')),
    modality: text('x00080060'),
    description: studyDescription || seriesDescription,
    seriesDescription,
    bodyPart: text('x00180015'),
  };
}
