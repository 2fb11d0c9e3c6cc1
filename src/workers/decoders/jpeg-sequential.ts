import { ImageDecodeError } from './decode-error.js';

/**
 * A decoder for sequential DCT JPEG with Huffman coding (ITU T.81 processes 1, 2 and 4: SOF0 and SOF1),
 * 8- and 12-bit samples. It exists for DICOM's JPEG Extended transfer syntax (1.2.840.10008.1.2.4.51):
 * CT and X-ray images are 12-bit, which neither the browser nor the 8-bit libjpeg-turbo build decode.
 *
 * The inverse DCT is IJG libjpeg's integer "islow" (jidctint.c) step for step, including its rounding and
 * its range-limit table, so the samples equal those of libjpeg-based DICOM toolkits (DCMTK, GDCM) rather
 * than differing by ±1 as a floating-point IDCT would. No colour conversion is done: components are
 * returned as coded (DICOM says in Photometric Interpretation what they are).
 */
export interface JpegSamples {
  readonly width: number;
  readonly height: number;
  readonly precision: number;
  readonly components: number;
  /** Interleaved by pixel, one entry per sample. */
  readonly samples: Uint16Array;
}

const ZIGZAG = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22,
  15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

function fail(message: string, details: Record<string, unknown> = {}): ImageDecodeError {
  return new ImageDecodeError(`This JPEG image could not be decoded: ${message}.`, 'The original bytes are kept; open the file in another viewer.', { reason: 'jpeg-damaged', ...details });
}

interface HuffmanTable {
  /** maxcode[l]: largest code of length l (1…16), or -1. */
  readonly maxcode: Int32Array;
  readonly valptr: Int32Array;
  readonly mincode: Int32Array;
  readonly values: Uint8Array;
  /** 9-bit fast path: (length << 8 | value) for codes of at most 9 bits, else 0. */
  readonly fast: Uint16Array;
}

function buildHuffman(counts: Uint8Array, values: Uint8Array): HuffmanTable {
  const maxcode = new Int32Array(18).fill(-1);
  const valptr = new Int32Array(17);
  const mincode = new Int32Array(17);
  const fast = new Uint16Array(512);
  let code = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    const n = counts[l - 1]!;
    if (n > 0) {
      valptr[l] = k;
      mincode[l] = code;
      for (let i = 0; i < n; i++, k++, code++) {
        if (l <= 9) {
          const shift = 9 - l;
          for (let f = code << shift; f < (code + 1) << shift; f++) fast[f] = (l << 8) | values[k]!;
        }
      }
      maxcode[l] = code - 1;
    }
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  return { maxcode, valptr, mincode, values, fast };
}

interface Component {
  readonly id: number;
  readonly h: number;
  readonly v: number;
  readonly tq: number;
  blocksPerLine: number;
  blocksPerColumn: number;
  coefficients: Int32Array;
  dcTable: number;
  acTable: number;
  pred: number;
}

class BitReader {
  private buffer = 0;
  private bits = 0;
  /** Set when a marker was reached: further bits read as zero, as in libjpeg. */
  marker = -1;
  constructor(
    private readonly data: Uint8Array,
    public at: number,
  ) {}

  private fill(): void {
    while (this.bits <= 24) {
      let byte = 0;
      if (this.marker < 0 && this.at < this.data.length) {
        byte = this.data[this.at]!;
        if (byte === 0xff) {
          const next = this.data[this.at + 1] ?? 0xd9;
          if (next === 0x00) {
            this.at += 2;
          } else {
            this.marker = next;
            byte = 0;
          }
        } else {
          this.at++;
        }
      }
      this.buffer = ((this.buffer << 8) | byte) >>> 0;
      this.bits += 8;
    }
  }

  peek(n: number): number {
    if (this.bits < n) this.fill();
    return (this.buffer >>> (this.bits - n)) & ((1 << n) - 1);
  }

  skip(n: number): void {
    // Bits above `bits` are stale but harmless: `peek` masks them and `fill` shifts them out.
    this.bits -= n;
  }

  read(n: number): number {
    if (n === 0) return 0;
    const v = this.peek(n);
    this.skip(n);
    return v;
  }

  decode(table: HuffmanTable): number {
    const fast = table.fast[this.peek(9)]!;
    if (fast !== 0) {
      this.skip(fast >> 8);
      return fast & 0xff;
    }
    let code = 0;
    for (let l = 1; l <= 16; l++) {
      code = (code << 1) | this.read(1);
      if (code <= table.maxcode[l]!) return table.values[table.valptr[l]! + code - table.mincode[l]!]!;
    }
    throw fail('bad Huffman code');
  }

  /** Discards buffered bits and moves past a restart marker (RSTn). */
  restart(): void {
    this.buffer = 0;
    this.bits = 0;
    if (this.marker >= 0xd0 && this.marker <= 0xd7) {
      this.at += 2;
      this.marker = -1;
      return;
    }
    // Tolerate missing or extra bytes before the marker, as libjpeg does.
    while (this.at + 1 < this.data.length && !(this.data[this.at] === 0xff && this.data[this.at + 1]! >= 0xd0 && this.data[this.at + 1]! <= 0xd7)) this.at++;
    if (this.at + 1 < this.data.length) this.at += 2;
    this.marker = -1;
  }
}

function extend(v: number, t: number): number {
  return t === 0 ? 0 : v < 1 << (t - 1) ? v - (1 << t) + 1 : v;
}

// jidctint.c constants (CONST_BITS = 13).
const FIX_0_298631336 = 2446;
const FIX_0_390180644 = 3196;
const FIX_0_541196100 = 4433;
const FIX_0_765366865 = 6270;
const FIX_0_899976223 = 7373;
const FIX_1_175875602 = 9633;
const FIX_1_501321110 = 12299;
const FIX_1_847759065 = 15137;
const FIX_1_961570560 = 16069;
const FIX_2_053119869 = 16819;
const FIX_2_562915447 = 20995;
const FIX_3_072711026 = 25172;
const CONST_BITS = 13;

/** DESCALE: round, then arithmetic shift right; in floating point so 12-bit products never overflow. */
const descale = (x: number, n: number): number => Math.floor((x + 2 ** (n - 1)) / 2 ** n);

/**
 * libjpeg's post-IDCT range limit: the result wraps modulo 4·(MAXJSAMPLE+1) first (`& RANGE_MASK`),
 * then clamps around the centre value. Built as a table like jdmaster.c's.
 */
function rangeLimitTable(precision: number): Uint16Array {
  const max = (1 << precision) - 1;
  const center = 1 << (precision - 1);
  const size = 4 * (max + 1);
  const table = new Uint16Array(size);
  for (let t = 0; t < size; t++) {
    if (t <= max - center) table[t] = t + center;
    else if (t < 2 * (max + 1)) table[t] = max;
    else if (t < size - center) table[t] = 0;
    else table[t] = t + center - size;
  }
  return table;
}

/** jpeg_idct_islow for one block: dequantises `coef` (natural order) and writes 8×8 samples. */
function idctIslow(coef: Int32Array, offset: number, quant: Uint16Array, pass1Bits: number, limit: Uint16Array, ws: Float64Array, out: Uint16Array, outOffset: number, outStride: number): void {
  const mask = limit.length - 1;
  for (let c = 0; c < 8; c++) {
    const i = offset + c;
    if (coef[i + 8] === 0 && coef[i + 16] === 0 && coef[i + 24] === 0 && coef[i + 32] === 0 && coef[i + 40] === 0 && coef[i + 48] === 0 && coef[i + 56] === 0) {
      const dc = coef[i]! * quant[c]! * 2 ** pass1Bits;
      for (let r = 0; r < 8; r++) ws[r * 8 + c] = dc;
      continue;
    }
    let z2 = coef[i + 16]! * quant[c + 16]!;
    let z3 = coef[i + 48]! * quant[c + 48]!;
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 + z3 * -FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    z2 = coef[i]! * quant[c]!;
    z3 = coef[i + 32]! * quant[c + 32]!;
    let tmp0 = (z2 + z3) * 2 ** CONST_BITS;
    let tmp1 = (z2 - z3) * 2 ** CONST_BITS;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = coef[i + 56]! * quant[c + 56]!;
    tmp1 = coef[i + 40]! * quant[c + 40]!;
    tmp2 = coef[i + 24]! * quant[c + 24]!;
    tmp3 = coef[i + 8]! * quant[c + 8]!;
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 *= FIX_0_298631336;
    tmp1 *= FIX_2_053119869;
    tmp2 *= FIX_3_072711026;
    tmp3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    z3 = z3 * -FIX_1_961570560 + z5;
    z4 = z4 * -FIX_0_390180644 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    const n = CONST_BITS - pass1Bits;
    ws[c] = descale(tmp10 + tmp3, n);
    ws[56 + c] = descale(tmp10 - tmp3, n);
    ws[8 + c] = descale(tmp11 + tmp2, n);
    ws[48 + c] = descale(tmp11 - tmp2, n);
    ws[16 + c] = descale(tmp12 + tmp1, n);
    ws[40 + c] = descale(tmp12 - tmp1, n);
    ws[24 + c] = descale(tmp13 + tmp0, n);
    ws[32 + c] = descale(tmp13 - tmp0, n);
  }
  const n = CONST_BITS + pass1Bits + 3;
  for (let r = 0; r < 8; r++) {
    const w = r * 8;
    const o = outOffset + r * outStride;
    let z2 = ws[w + 2]!;
    let z3 = ws[w + 6]!;
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 + z3 * -FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    let tmp0 = (ws[w]! + ws[w + 4]!) * 2 ** CONST_BITS;
    let tmp1 = (ws[w]! - ws[w + 4]!) * 2 ** CONST_BITS;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = ws[w + 7]!;
    tmp1 = ws[w + 5]!;
    tmp2 = ws[w + 3]!;
    tmp3 = ws[w + 1]!;
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 *= FIX_0_298631336;
    tmp1 *= FIX_2_053119869;
    tmp2 *= FIX_3_072711026;
    tmp3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    z3 = z3 * -FIX_1_961570560 + z5;
    z4 = z4 * -FIX_0_390180644 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    out[o] = limit[descale(tmp10 + tmp3, n) & mask]!;
    out[o + 7] = limit[descale(tmp10 - tmp3, n) & mask]!;
    out[o + 1] = limit[descale(tmp11 + tmp2, n) & mask]!;
    out[o + 6] = limit[descale(tmp11 - tmp2, n) & mask]!;
    out[o + 2] = limit[descale(tmp12 + tmp1, n) & mask]!;
    out[o + 5] = limit[descale(tmp12 - tmp1, n) & mask]!;
    out[o + 3] = limit[descale(tmp13 + tmp0, n) & mask]!;
    out[o + 4] = limit[descale(tmp13 - tmp0, n) & mask]!;
  }
}

/** Reads the SOF precision (8, 12, 16) without decoding; undefined when no frame header is found. */
export function jpegPrecision(data: Uint8Array): number | undefined {
  let at = 2;
  while (at + 9 < data.length) {
    if (data[at] !== 0xff) return undefined;
    const marker = data[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return data[at + 4];
    if (marker === 0xda || marker === 0xd9) return undefined;
    at += 2 + ((data[at + 2]! << 8) | data[at + 3]!);
  }
  return undefined;
}

export function decodeJpegSequential(data: Uint8Array): JpegSamples {
  if (data[0] !== 0xff || data[1] !== 0xd8) throw fail('no start-of-image marker');
  const quant: (Uint16Array | undefined)[] = [];
  const dcTables: (HuffmanTable | undefined)[] = [];
  const acTables: (HuffmanTable | undefined)[] = [];
  let components: Component[] = [];
  let width = 0;
  let height = 0;
  let precision = 8;
  let hMax = 1;
  let vMax = 1;
  let mcusX = 0;
  let mcusY = 0;
  let restartInterval = 0;
  let at = 2;
  let frameSeen = false;
  const u16 = (p: number) => (data[p]! << 8) | data[p + 1]!;

  while (at + 4 <= data.length) {
    if (data[at] !== 0xff) {
      at++;
      continue;
    }
    const marker = data[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker === 0xd9) break;
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    const length = u16(at + 2);
    const body = at + 4;
    const end = at + 2 + length;
    if (end > data.length) throw fail('a marker segment runs past the end');
    switch (marker) {
      case 0xdb: {
        let p = body;
        while (p < end) {
          const pq = data[p]! >> 4;
          const tq = data[p]! & 15;
          p++;
          const table = new Uint16Array(64);
          for (let k = 0; k < 64; k++) {
            table[ZIGZAG[k]!] = pq ? u16(p + 2 * k) : data[p + k]!;
          }
          p += pq ? 128 : 64;
          quant[tq] = table;
        }
        break;
      }
      case 0xc4: {
        let p = body;
        while (p < end) {
          const tc = data[p]! >> 4;
          const th = data[p]! & 15;
          const counts = data.subarray(p + 1, p + 17);
          const total = counts.reduce((s, c) => s + c, 0);
          const values = data.slice(p + 17, p + 17 + total);
          (tc === 0 ? dcTables : acTables)[th] = buildHuffman(counts, values);
          p += 17 + total;
        }
        break;
      }
      case 0xc0:
      case 0xc1: {
        precision = data[body]!;
        height = u16(body + 1);
        width = u16(body + 3);
        const n = data[body + 5]!;
        if (precision !== 8 && precision !== 12) throw fail(`${precision}-bit samples`, { precision });
        if (width === 0 || height === 0) throw fail('no image size in the frame header');
        components = [];
        for (let i = 0; i < n; i++) {
          const p = body + 6 + 3 * i;
          components.push({ id: data[p]!, h: data[p + 1]! >> 4 || 1, v: data[p + 1]! & 15 || 1, tq: data[p + 2]!, blocksPerLine: 0, blocksPerColumn: 0, coefficients: new Int32Array(0), dcTable: 0, acTable: 0, pred: 0 });
        }
        hMax = Math.max(...components.map((c) => c.h));
        vMax = Math.max(...components.map((c) => c.v));
        mcusX = Math.ceil(width / (8 * hMax));
        mcusY = Math.ceil(height / (8 * vMax));
        for (const c of components) {
          c.blocksPerLine = mcusX * c.h;
          c.blocksPerColumn = mcusY * c.v;
          c.coefficients = new Int32Array(c.blocksPerLine * c.blocksPerColumn * 64);
        }
        frameSeen = true;
        break;
      }
      case 0xc2:
      case 0xc3:
      case 0xc5:
      case 0xc6:
      case 0xc7:
      case 0xc9:
      case 0xca:
      case 0xcb:
      case 0xcd:
      case 0xce:
      case 0xcf:
        throw fail('not a sequential Huffman-coded JPEG (progressive, lossless, hierarchical or arithmetic)', { marker });
      case 0xdd:
        restartInterval = u16(body);
        break;
      case 0xda: {
        if (!frameSeen) throw fail('scan before frame header');
        const n = data[body]!;
        const scan: Component[] = [];
        for (let i = 0; i < n; i++) {
          const id = data[body + 1 + 2 * i]!;
          const c = components.find((x) => x.id === id);
          if (!c) throw fail('scan names an unknown component');
          c.dcTable = data[body + 2 + 2 * i]! >> 4;
          c.acTable = data[body + 2 + 2 * i]! & 15;
          c.pred = 0;
          scan.push(c);
        }
        at = decodeScan(data, end, scan, dcTables, acTables, restartInterval, mcusX, mcusY, width, height, hMax, vMax);
        continue;
      }
      default:
        break;
    }
    at = end;
  }
  if (!frameSeen) throw fail('no frame header');

  const limit = rangeLimitTable(precision);
  const pass1Bits = precision === 8 ? 2 : 1;
  const ws = new Float64Array(64);
  const out = new Uint16Array(width * height * components.length);
  components.forEach((c, ci) => {
    const q = quant[c.tq];
    if (!q) throw fail('missing quantisation table');
    const planeWidth = c.blocksPerLine * 8;
    const plane = new Uint16Array(planeWidth * c.blocksPerColumn * 8);
    for (let by = 0; by < c.blocksPerColumn; by++) {
      for (let bx = 0; bx < c.blocksPerLine; bx++) {
        idctIslow(c.coefficients, (by * c.blocksPerLine + bx) * 64, q, pass1Bits, limit, ws, plane, by * 8 * planeWidth + bx * 8, planeWidth);
      }
    }
    // Subsampled components are replicated to full size (no DICOM 12-bit image is subsampled in practice).
    const sx = hMax / c.h;
    const sy = vMax / c.v;
    const nc = components.length;
    for (let y = 0; y < height; y++) {
      const row = Math.floor(y / sy) * planeWidth;
      for (let x = 0; x < width; x++) out[(y * width + x) * nc + ci] = plane[row + Math.floor(x / sx)]!;
    }
  });
  return { width, height, precision, components: components.length, samples: out };
}

function decodeScan(
  data: Uint8Array,
  start: number,
  scan: Component[],
  dcTables: (HuffmanTable | undefined)[],
  acTables: (HuffmanTable | undefined)[],
  restartInterval: number,
  mcusX: number,
  mcusY: number,
  width: number,
  height: number,
  hMax: number,
  vMax: number,
): number {
  const reader = new BitReader(data, start);
  const decodeBlock = (c: Component, offset: number) => {
    const dc = dcTables[c.dcTable];
    const ac = acTables[c.acTable];
    if (!dc || !ac) throw fail('missing Huffman table');
    const t = reader.decode(dc);
    c.pred += extend(reader.read(t), t);
    const coef = c.coefficients;
    coef[offset] = c.pred;
    for (let k = 1; k < 64; ) {
      const rs = reader.decode(ac);
      const r = rs >> 4;
      const s = rs & 15;
      if (s === 0) {
        if (r !== 15) break;
        k += 16;
        continue;
      }
      k += r;
      if (k > 63) break;
      coef[offset + ZIGZAG[k]!] = extend(reader.read(s), s);
      k++;
    }
  };
  let total: number;
  let blockAt: (index: number) => void;
  if (scan.length === 1) {
    // Non-interleaved: only the blocks that cover the component's own size, in raster order.
    const c = scan[0]!;
    const perLine = Math.ceil(Math.ceil((width * c.h) / hMax) / 8);
    const perColumn = Math.ceil(Math.ceil((height * c.v) / vMax) / 8);
    total = perLine * perColumn;
    blockAt = (i) => decodeBlock(c, (Math.floor(i / perLine) * c.blocksPerLine + (i % perLine)) * 64);
  } else {
    total = mcusX * mcusY;
    blockAt = (m) => {
      const mx = m % mcusX;
      const my = Math.floor(m / mcusX);
      for (const c of scan) {
        for (let v = 0; v < c.v; v++) {
          for (let h = 0; h < c.h; h++) decodeBlock(c, ((my * c.v + v) * c.blocksPerLine + mx * c.h + h) * 64);
        }
      }
    };
  }
  for (let i = 0; i < total; i++) {
    if (restartInterval > 0 && i > 0 && i % restartInterval === 0) {
      reader.restart();
      for (const c of scan) c.pred = 0;
    }
    blockAt(i);
  }
  // Continue after the entropy-coded data: at the marker that ended it.
  let at = reader.at;
  while (at + 1 < data.length && !(data[at] === 0xff && data[at + 1] !== 0x00 && !(data[at + 1]! >= 0xd0 && data[at + 1]! <= 0xd7))) at++;
  return at;
}
