/**
 * Lossless pixel codecs measured on the images a record holds (issue #15 item 1): raw DEFLATE (the
 * encoding before this bench), PNG row filters + DEFLATE at several fflate levels (the adopted
 * `filtered-deflate-raw`, FORMAT.md §6.2), the browser's CompressionStream on filtered rows, lossless
 * WebP (@jsquash/webp) and JPEG XL lossless (@jsquash/jxl). Runs in Node (V8 and the same WASM as a
 * Worker; one thread), prints a table and writes bench/codecs-results.json.
 *
 *   npx tsx bench/codecs.ts [--repeats=3] [--large] [--kinds-only]   (--large adds a 12 MP generated photo)
 *
 * Every row checks that the decoded pixels equal the source bit for bit (else the codec is marked
 * "not exact"); WebP and JPEG XL take 8-bit RGBA only here, so 16-bit and grey inputs are widened for
 * them (a 16-bit slice has no entry: neither @jsquash build takes 16-bit samples).
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync, inflateSync } from 'fflate';
import { crc32, deflateSync as deflateZlib } from 'node:zlib';
import { decode as decodePng } from 'fast-png';
import dicomParser from 'dicom-parser';
import UTIF from 'utif2';
import { filterImage, unfilterImage } from '../src/core/row-filters.js';
import { asBufferSource } from '../src/core/bytes.js';
import { deflateFilteredRows, inflateFilteredRows } from '../src/workers/deflate.js';
import { encodePixelBody } from '../src/workers/pixel-body.js';
import { DEFAULT_PNGS } from './webp-settings.js';
import { PIXEL_FORMATS, type ImageInfo } from '../src/core/metadata.js';
import { plannedEnvelopeLength } from '../src/core/envelope-header.js';
import { objectBodyLength } from '../src/core/padding.js';
import { HEAD_LENGTH } from '../src/core/object-head.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const fixtures = join(root, 'tests/fixtures');
const require = createRequire(import.meta.url);
const args = new Map(process.argv.slice(2).map((a) => [a.replace(/^--/, '').split('=')[0]!, a.split('=')[1] ?? 'true']));
const repeats = Number(args.get('repeats') ?? 3);

interface Sample {
  readonly name: string;
  readonly info: ImageInfo;
  readonly pixels: Uint8Array;
  /** Bytes of the file it came from. */
  readonly fileBytes: number;
}

async function jpegPixels(path: string): Promise<Sample> {
  // libjpeg-turbo WASM (the same build the DICOM preview uses) decodes like a browser does, 8-bit RGB.
  const factory = (await import(join(root, 'node_modules/@cornerstonejs/codec-libjpeg-turbo-8bit/dist/libjpegturbowasm_decode.js'))).default as () => Promise<{ JPEGDecoder: new () => EmscriptenCodecDecoder }>;
  const module = await factory();
  const decoder = new module.JPEGDecoder();
  const bytes = readFileSync(path);
  decoder.getEncodedBuffer(bytes.length).set(bytes);
  decoder.decode();
  const info = decoder.getFrameInfo();
  return { name: `phone photo (photo-board.jpg, ${info.width}×${info.height})`, info: { width: info.width, height: info.height, pixelFormat: info.componentCount === 1 ? 'GRAY8' : 'RGB8' }, pixels: decoder.getDecodedBuffer().slice(), fileBytes: bytes.length };
}

function scanPixels(): Sample {
  const bytes = readFileSync(join(fixtures, 'scan.tiff'));
  const ifds = UTIF.decode(bytes);
  const ifd = ifds[0]!;
  UTIF.decodeImage(bytes, ifd);
  const rgba = UTIF.toRGBA8(ifd);
  const gray = new Uint8Array(ifd.width * ifd.height);
  for (let i = 0; i < gray.length; i++) gray[i] = rgba[i * 4]!;
  return { name: `scan (scan.tiff, gray ${ifd.width}×${ifd.height})`, info: { width: ifd.width, height: ifd.height, pixelFormat: 'GRAY8' }, pixels: gray, fileBytes: bytes.length };
}

function gray16Png(): Sample {
  const bytes = readFileSync(join(fixtures, 'gray16.png'));
  const png = decodePng(bytes);
  const data = png.data as Uint16Array;
  const pixels = new Uint8Array(data.length * 2);
  for (let i = 0; i < data.length; i++) {
    pixels[2 * i] = data[i]! & 0xff;
    pixels[2 * i + 1] = data[i]! >> 8;
  }
  return { name: `16-bit PNG (gray16.png, ${png.width}×${png.height})`, info: { width: png.width, height: png.height, pixelFormat: 'GRAY16' }, pixels, fileBytes: bytes.length };
}

function ctSlice(): Sample {
  const bytes = readFileSync(join(fixtures, 'CT_small.dcm'));
  const ds = dicomParser.parseDicom(bytes);
  const el = ds.elements.x7fe00010!;
  const width = ds.uint16('x00280011')!;
  const height = ds.uint16('x00280010')!;
  // Native little-endian 16-bit samples: exactly GRAY16's layout.
  return { name: `16-bit CT slice (CT_small.dcm pixels, ${width}×${height})`, info: { width, height, pixelFormat: 'GRAY16' }, pixels: bytes.slice(el.dataOffset, el.dataOffset + el.length), fileBytes: bytes.length };
}

/**
 * A photo-like image a phone camera makes after JPEG decoding: smooth shading, edges, texture and
 * sensor noise (deterministic), at 12 MP. Photos decoded from JPEG are what pixel mode stores.
 */
export function generatedPhoto(width: number, height: number): Sample {
  const pixels = new Uint8Array(width * height * 3);
  let seed = 0x9e3779b9;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return ((seed >>> 0) % 1000) / 1000;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const v = y / height;
      const edge = (x + y * 0.7) % 600 < 300 ? 40 : 0;
      const texture = Math.sin(x / 9) * Math.cos(y / 13) * 18;
      const noise = (rand() - 0.5) * 6;
      const i = (y * width + x) * 3;
      pixels[i] = Math.max(0, Math.min(255, 120 + 90 * u + edge + texture + noise));
      pixels[i + 1] = Math.max(0, Math.min(255, 90 + 110 * v + texture + noise));
      pixels[i + 2] = Math.max(0, Math.min(255, 160 - 70 * u * v + edge / 2 + noise));
    }
  }
  return { name: `generated photo (${width}×${height}, smooth + edges + noise)`, info: { width, height, pixelFormat: 'RGB8' }, pixels, fileBytes: 0 };
}

function toRgba(sample: Sample): { data: Uint8ClampedArray<ArrayBuffer>; width: number; height: number; colorSpace: 'srgb' } | undefined {
  const f = PIXEL_FORMATS[sample.info.pixelFormat];
  if (f.bytesPerSample !== 1) return undefined;
  const n = sample.info.width * sample.info.height;
  const data = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) data[i * 4 + c] = sample.pixels[i * f.channels + (f.channels >= 3 ? c : 0)]!;
    data[i * 4 + 3] = f.channels === 4 ? sample.pixels[i * 4 + 3]! : 255;
  }
  return { data, width: sample.info.width, height: sample.info.height, colorSpace: 'srgb' };
}

interface Codec {
  readonly name: string;
  readonly wasmBytes: number;
  encode(sample: Sample): Promise<Uint8Array | undefined>;
  decode(body: Uint8Array, sample: Sample): Promise<Uint8Array>;
  /** What decode returns is compared to this. */
  reference?(sample: Sample): Uint8Array;
}

async function compressionStream(format: 'compress' | 'decompress', input: Uint8Array): Promise<Uint8Array> {
  const stream = format === 'compress' ? new CompressionStream('deflate-raw') : new DecompressionStream('deflate-raw');
  const out = new Response(stream.readable).arrayBuffer();
  const w = stream.writable.getWriter();
  await w.write(asBufferSource(input));
  await w.close();
  return new Uint8Array(await out);
}

function wasmSize(...paths: string[]): number {
  return paths.reduce((s, p) => s + statSync(require.resolve(p)).size, 0);
}

async function codecs(): Promise<Codec[]> {
  const list: Codec[] = [
    {
      name: 'raw + deflate (CompressionStream, before)',
      wasmBytes: 0,
      encode: async (s) => compressionStream('compress', s.pixels),
      decode: async (b) => compressionStream('decompress', b),
    },
    ...[1, 6, 9].map((level) => ({
      name: `filters + deflate (fflate ${level})`,
      wasmBytes: 0,
      encode: async (s: Sample) => deflateSync(filterImage(s.pixels, s.info), { level: level as 1 | 6 | 9 }),
      decode: async (b: Uint8Array, s: Sample) => unfilterImage(inflateSync(b), s.info),
    })),
    {
      // The engine's own functions (src/workers/deflate.ts): native zlib through CompressionStream.
      name: 'filters + deflate (CompressionStream) ← adopted',
      wasmBytes: 0,
      encode: async (s) => deflateFilteredRows(s.pixels, s.info),
      decode: async (b, s) => inflateFilteredRows(b, s.info),
    },
    {
      name: 'raw + deflate (fflate 6)',
      wasmBytes: 0,
      encode: async (s) => deflateSync(s.pixels, { level: 6 }),
      decode: async (b) => inflateSync(b),
    },
  ];
  try {
    const webpEnc = await import('@jsquash/webp/encode.js');
    const webpDec = await import('@jsquash/webp/decode.js');
    await webpEnc.init(await WebAssembly.compile(readFileSync(require.resolve('@jsquash/webp/codec/enc/webp_enc_simd.wasm'))));
    await webpDec.init(await WebAssembly.compile(readFileSync(require.resolve('@jsquash/webp/codec/dec/webp_dec.wasm'))));
    list.push({
      name: 'lossless WebP (@jsquash/webp, method 4)',
      wasmBytes: wasmSize('@jsquash/webp/codec/enc/webp_enc_simd.wasm', '@jsquash/webp/codec/dec/webp_dec.wasm'),
      encode: async (s) => {
        const rgba = toRgba(s);
        return rgba ? new Uint8Array(await webpEnc.default(rgba, { lossless: 1, quality: 75, method: 4, exact: 1 })) : undefined;
      },
      decode: async (b) => new Uint8Array((await webpDec.default(b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer)).data.buffer),
      reference: (s) => new Uint8Array(toRgba(s)!.data.buffer),
    });
  } catch (error) {
    console.log(`lossless WebP not measured: ${String(error)}`);
  }
  try {
    const jxlEnc = await import('@jsquash/jxl/encode.js');
    const jxlDec = await import('@jsquash/jxl/decode.js');
    await jxlEnc.init(await WebAssembly.compile(readFileSync(require.resolve('@jsquash/jxl/codec/enc/jxl_enc.wasm'))));
    await jxlDec.init(await WebAssembly.compile(readFileSync(require.resolve('@jsquash/jxl/codec/dec/jxl_dec.wasm'))));
    list.push({
      name: 'JPEG XL lossless (@jsquash/jxl, effort 7)',
      wasmBytes: wasmSize('@jsquash/jxl/codec/enc/jxl_enc.wasm', '@jsquash/jxl/codec/dec/jxl_dec.wasm'),
      encode: async (s) => {
        const rgba = toRgba(s);
        return rgba ? new Uint8Array(await jxlEnc.default(rgba, { lossless: true, effort: 7 })) : undefined;
      },
      decode: async (b) => new Uint8Array((await jxlDec.default(b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer)).data.buffer),
      reference: (s) => new Uint8Array(toRgba(s)!.data.buffer),
    });
  } catch (error) {
    console.log(`JPEG XL not measured: ${String(error)}`);
  }
  return list;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

export interface CodecRow {
  readonly image: string;
  readonly codec: string;
  readonly pixelBytes: number;
  readonly fileBytes: number;
  readonly bytes: number | null;
  readonly toPixels: number | null;
  readonly toFile: number | null;
  readonly encodeMs: number | null;
  readonly decodeMs: number | null;
  readonly exact: boolean | null;
  readonly wasmBytes: number;
}

export async function runCodecBench(options: { repeats: number; large: boolean }): Promise<CodecRow[]> {
  const samples = [await jpegPixels(join(fixtures, 'photo-board.jpg')), scanPixels(), gray16Png(), ctSlice(), generatedPhoto(1600, 1200)];
  if (options.large) samples.push(generatedPhoto(4000, 3000));
  const list = await codecs();
  const rows: CodecRow[] = [];
  for (const sample of samples) {
    for (const codec of list) {
      let body: Uint8Array | undefined;
      const enc: number[] = [];
      const dec: number[] = [];
      let exact = true;
      for (let r = 0; r < options.repeats; r++) {
        let t = performance.now();
        body = await codec.encode(sample);
        enc.push(performance.now() - t);
        if (!body) break;
        t = performance.now();
        const out = await codec.decode(body, sample);
        dec.push(performance.now() - t);
        exact &&= same(out, codec.reference ? codec.reference(sample) : sample.pixels);
      }
      const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
      rows.push({
        image: sample.name,
        codec: codec.name,
        pixelBytes: sample.pixels.length,
        fileBytes: sample.fileBytes,
        bytes: body ? body.length : null,
        toPixels: body ? round(body.length / sample.pixels.length, 3) : null,
        toFile: body && sample.fileBytes ? round(body.length / sample.fileBytes, 2) : null,
        encodeMs: body ? round(median(enc)) : null,
        decodeMs: body ? round(median(dec)) : null,
        exact: body ? exact : null,
        wasmBytes: codec.wasmBytes,
      });
    }
  }
  return rows;
}

export function printCodecTable(rows: readonly CodecRow[]): void {
  let image = '';
  for (const r of rows) {
    if (r.image !== image) {
      image = r.image;
      console.log(`\n${image}: ${r.pixelBytes.toLocaleString('en')} pixel bytes${r.fileBytes ? `, file ${r.fileBytes.toLocaleString('en')} B` : ''}`);
      console.log(`  ${'codec'.padEnd(46)} ${'bytes'.padStart(11)} ${'/pixels'.padStart(8)} ${'/file'.padStart(6)} ${'enc ms'.padStart(8)} ${'dec ms'.padStart(8)}  exact  wasm`);
    }
    if (r.bytes === null) {
      console.log(`  ${r.codec.padEnd(46)} ${'—'.padStart(11)}  (takes no ${r.image.includes('16-bit') ? '16-bit' : 'such'} input)`);
      continue;
    }
    console.log(
      `  ${r.codec.padEnd(46)} ${r.bytes.toLocaleString('en').padStart(11)} ${r.toPixels!.toFixed(3).padStart(8)} ${(r.toFile === null ? '' : r.toFile.toFixed(2)).padStart(6)} ${r.encodeMs!.toFixed(1).padStart(8)} ${r.decodeMs!.toFixed(1).padStart(8)}  ${r.exact ? 'yes' : 'NO '}    ${r.wasmBytes ? `${Math.round(r.wasmBytes / 1024)} KiB` : '—'}`,
    );
  }
}

/** A PNG as libpng writes it by default: adaptive filters (the same heuristic), zlib level 6. */
function pngFile(sample: Sample): Uint8Array {
  const f = PIXEL_FORMATS[sample.info.pixelFormat];
  const colourType = { 1: 0, 2: 4, 3: 2, 4: 6 }[f.channels]!;
  const chunk = (type: string, data: Uint8Array) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    out.set(data, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(sample.info.width, 0);
  ihdr.writeUInt32BE(sample.info.height, 4);
  ihdr[8] = f.bytesPerSample * 8;
  ihdr[9] = colourType;
  // 16-bit PNG samples are big-endian; §6.1 stores them little-endian.
  const pixels = f.bytesPerSample === 2 ? Uint8Array.from(sample.pixels, (_, i) => sample.pixels[i ^ 1]!) : sample.pixels;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateZlib(filterImage(pixels, sample.info), { level: 6 })), chunk('IEND', new Uint8Array(0))]);
}

/** A text-only PDF with uncompressed content streams (as simple generators and scanners' OCR layers write). */
function textPdf(pages: number): Uint8Array {
  const lines: string[] = ['%PDF-1.4'];
  for (let p = 0; p < pages; p++) {
    const body = Array.from({ length: 40 }, (_, l) => `BT /F1 10 Tf 50 ${780 - l * 18} Td (Page ${p + 1} line ${l + 1}: blood pressure ${110 + ((p * 7 + l) % 30)}/${70 + (l % 15)} mmHg, pulse ${60 + ((p + l) % 25)}, medication as prescribed.) Tj ET`).join('\n');
    lines.push(`${p + 4} 0 obj << /Length ${body.length} >> stream\n${body}\nendstream endobj`);
  }
  lines.push('trailer << /Root 1 0 R >>', '%%EOF');
  return new TextEncoder().encode(lines.join('\n'));
}

export interface KindRow {
  readonly kind: string;
  readonly source: string;
  readonly originalBytes: number;
  readonly bodyBytes: number;
  readonly sealedP2: number;
  readonly sealedP0: number;
  readonly ratioP2: number;
  readonly ratioP0: number;
}

/**
 * Sealed/original per record kind (issue #15 acceptance), through the engine's real protect pipeline
 * in Node (protect-engine.ts) where Node can decode the source (files, PNG); a JPEG's pixels come from
 * libjpeg-turbo (a browser's decoder gives the same RGB8 up to rounding) through the same codec, and
 * its sealed size from the format's length rules (FORMAT.md §4.3). Sequence key of 8 characters.
 */
export async function runKindBench(): Promise<KindRow[]> {
  const { protectInWorker } = await import('../src/workers/protect-engine.js');
  const { generateRecordId, generateRecordKey } = await import('../src/core/index.js');
  const { writeCtDicom } = await import('./dicom-writer.js');
  const kdf = { memoryKiB: 64, passes: 1, parallelism: 1 };
  const sealed = async (bytes: Uint8Array, name: string, mime: string, parity: number) => {
    const r = await protectInWorker({ source: new Blob([bytes as BlobPart]), name, mime, mode: 'auto', sequenceKey: 'adk21937', recordKey: generateRecordKey(), recordId: generateRecordId(), kdf, parity });
    return { total: r.objects.reduce((s, o) => s + o.blob.size, 0), body: r.metadata.byteLength, encoding: r.metadata.bodyEncoding ?? 'identity' };
  };
  const rows: KindRow[] = [];
  const row = (kind: string, source: string, original: number, body: number, p2: number, p0: number) =>
    rows.push({ kind, source, originalBytes: original, bodyBytes: body, sealedP2: p2, sealedP0: p0, ratioP2: Math.round((p2 / original) * 1000) / 1000, ratioP0: Math.round((p0 / original) * 1000) / 1000 });
  const jpeg = await jpegPixels(join(fixtures, 'photo-board.jpg'));
  // The engine's own choice for pixels decoded from a JPEG (pixel-body.ts: WebP -z 1 or filters + DEFLATE).
  const { body, bodyEncoding } = await encodePixelBody(jpeg.pixels, jpeg.info, 'jpeg');
  const metadata = { kind: 'image' as const, name: 'photo-board.jpg', mime: 'image/jpeg', byteLength: body.length, image: jpeg.info, bodyEncoding, createdAt: Date.now() };
  const b = objectBodyLength(plannedEnvelopeLength(metadata), 8);
  row('phone JPEG, pixel mode', `photo-board.jpg (${bodyEncoding})`, jpeg.fileBytes, body.length, 10 * (HEAD_LENGTH + b), 8 * (HEAD_LENGTH + b));
  for (const sample of [jpeg, generatedPhoto(1600, 1200), scanPixels()]) {
    const png = pngFile(sample);
    const [p2, p0] = [await sealed(png, 'x.png', 'image/png', 2), await sealed(png, 'x.png', 'image/png', 0)];
    row('PNG', `${sample.name} as a libpng-style PNG (${p2.encoding})`, png.length, p2.body, p2.total, p0.total);
  }
  // Real PNGs (screenshots, charts, diagrams, photos saved as PNG) where this machine has them: the
  // median of issue #15 is taken over every PNG row.
  for (const path of realPngs()) {
    const png = readFileSync(path);
    const [p2, p0] = [await sealed(png, 'x.png', 'image/png', 2), await sealed(png, 'x.png', 'image/png', 0)];
    row('PNG', `${path.split('/').pop()} (real, ${p2.encoding})`, png.length, p2.body, p2.total, p0.total);
  }
  const dicoms: [string, Uint8Array][] = [
    ['CT_small.dcm', readFileSync(join(fixtures, 'CT_small.dcm'))],
    ['liver_1frame.dcm', readFileSync(join(fixtures, 'liver_1frame.dcm'))],
    ['MR_small.dcm', readFileSync(join(fixtures, 'MR_small.dcm'))],
    ['generated CT 512×512 (bench/dicom-writer.ts)', writeCtDicom(512, 1)],
  ];
  for (const [name, bytes] of dicoms) {
    const [p2, p0] = [await sealed(bytes, 'slice.dcm', '', 2), await sealed(bytes, 'slice.dcm', '', 0)];
    row('uncompressed DICOM', name, bytes.length, p2.body, p2.total, p0.total);
  }
  const pdf = textPdf(30);
  const [p2, p0] = [await sealed(pdf, 'report.pdf', 'application/pdf', 2), await sealed(pdf, 'report.pdf', 'application/pdf', 0)];
  row('PDF', '30-page text PDF, uncompressed streams (generated)', pdf.length, p2.body, p2.total, p0.total);
  const noise = new Uint8Array(3 << 20);
  for (let i = 0; i < noise.length; i += 65_536) crypto.getRandomValues(noise.subarray(i, i + 65_536));
  const [n2, n0] = [await sealed(noise, 'scan.pdf', 'application/pdf', 2), await sealed(noise, 'scan.pdf', 'application/pdf', 0)];
  row('PDF', '3 MiB incompressible (Flate/JPEG streams): stored as is', noise.length, n2.body, n2.total, n0.total);
  return rows;
}

/** Distinct 8-bit real PNGs of bench/webp-settings.ts's list that exist here (none on other machines). */
function realPngs(): string[] {
  const seen = new Set<number>();
  return DEFAULT_PNGS.filter((p) => {
    if (!existsSync(p)) return false;
    const size = statSync(p).size;
    if (seen.has(size)) return false;
    seen.add(size);
    return true;
  });
}

/** Median ratios per kind (issue #15: PNG ≤ 1.0×, phone JPEG pixel mode ≤ 1.6×, DICOM ≤ 0.5×). */
export function kindMedians(rows: readonly KindRow[]): { kind: string; count: number; medianP2: number; medianP0: number }[] {
  const kinds = [...new Set(rows.map((r) => r.kind))];
  // The true median (mean of the two middle values for an even count).
  const median = (v: number[]) => {
    const s = [...v].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m]! : Math.round(((s[m - 1]! + s[m]!) / 2) * 1000) / 1000;
  };
  return kinds.map((kind) => {
    const of = rows.filter((r) => r.kind === kind);
    return { kind, count: of.length, medianP2: median(of.map((r) => r.ratioP2)), medianP0: median(of.map((r) => r.ratioP0)) };
  });
}

export function printKindTable(rows: readonly KindRow[]): void {
  console.log(`\nsealed/original per record kind (n = 8; p = 2 parity objects is the default, p = 0 the paper's n objects)`);
  console.log(`  ${'kind'.padEnd(24)} ${'source'.padEnd(58)} ${'original'.padStart(10)} ${'body'.padStart(10)} ${'sealed p=2'.padStart(11)} ${'÷orig'.padStart(6)} ${'sealed p=0'.padStart(11)} ${'÷orig'.padStart(6)}`);
  for (const r of rows) {
    console.log(`  ${r.kind.padEnd(24)} ${r.source.slice(0, 58).padEnd(58)} ${r.originalBytes.toLocaleString('en').padStart(10)} ${r.bodyBytes.toLocaleString('en').padStart(10)} ${r.sealedP2.toLocaleString('en').padStart(11)} ${r.ratioP2.toFixed(2).padStart(6)} ${r.sealedP0.toLocaleString('en').padStart(11)} ${r.ratioP0.toFixed(2).padStart(6)}`);
  }
  for (const m of kindMedians(rows)) console.log(`  median ${m.kind} (${m.count}): p = 2 ${m.medianP2.toFixed(2)}×, p = 0 ${m.medianP0.toFixed(2)}×`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rows = args.has('kinds-only') ? [] : await runCodecBench({ repeats, large: args.has('large') });
  printCodecTable(rows);
  const kinds = await runKindBench();
  printKindTable(kinds);
  writeFileSync(join(here, 'codecs-results.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, repeats, rows, kinds }, null, 2) + '\n');
  console.log('\nwritten bench/codecs-results.json');
}
