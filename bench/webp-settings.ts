/**
 * Lossless WebP settings on real images (issue #15): for each 8-bit image, the `filtered-deflate-raw`
 * body (FORMAT.md §6.2, the engine's own encoder) against lossless WebP (@jsquash/webp, `exact`) at
 * libwebp's effort presets (-z 0 … 9 map to method/quality pairs), size and encode/decode time. Times
 * are medians of `--repeats` in this one run; compare ratios within the run, not across runs.
 *
 *   npx tsx bench/webp-settings.ts [--repeats=1] [file.png|file.jpg …]
 *
 * Without files it uses the repository's real photo (tests/fixtures/photo-board.jpg) and whatever real
 * PNG screenshots/diagrams this machine has among DEFAULT_PNGS.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode as decodePng } from 'fast-png';
import { deflateFilteredRows } from '../src/workers/deflate.js';
import type { ImageInfo } from '../src/core/metadata.js';
import { decodeWebpBody, encodeWebpBody } from '../src/workers/webp-body.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const repeats = Number(args.find((a) => a.startsWith('--repeats='))?.slice(10) ?? 1);
const files = args.filter((a) => !a.startsWith('--'));

/** Real PNGs found on the Debian reference machine (documentation screenshots, charts, diagrams, photos). */
export const DEFAULT_PNGS = [
  '/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/share/doc/rust/html/rustc/images/llvm-cov-show-01.png',
  '/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/share/doc/rust/html/rustc/images/image1.png',
  '/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/share/doc/rust/html/book/img/trpl14-01.png',
  '/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/share/doc/rust/html/embedded-book/assets/nrf52-memory-map.png',
  '/root/.pyenv/terminal_output.png',
  '/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/networkx/drawing/tests/baseline/test_display_complex.png',
  '/usr/share/doc/nodejs/contributing/doc_img/compare-boxplot.png',
  '/usr/share/doc/nodejs/contributing/doc_img/scatter-plot.png',
  '/usr/share/doc/nodejs/contributing/doc_img/youtube-stream-analytics.png',
  '/usr/share/doc/valgrind/html/images/dh-tree.png',
  '/usr/lib/google-cloud-sdk/platform/gsutil/third_party/requests/ext/requests-logo.png',
  '/usr/lib/google-cloud-sdk/platform/gsutil/third_party/requests/ext/ss.png',
  '/usr/lib/google-cloud-sdk/platform/gsutil/third_party/requests/docs/_static/requests-sidebar.png',
  '/usr/lib/google-cloud-sdk/platform/google_appengine/google/appengine/tools/java/jetty12/jetty-home/modules/demo.d/root/images/jetty-pic.png',
];

/** libwebp's lossless presets (-z level → method, quality), from WebPConfigLosslessPreset. */
export const PRESETS: readonly { z: number; method: number; quality: number }[] = [
  { z: 0, method: 0, quality: 0 },
  { z: 1, method: 1, quality: 20 },
  { z: 3, method: 3, quality: 30 },
  { z: 5, method: 4, quality: 50 },
  { z: 6, method: 4, quality: 75 },
  { z: 8, method: 5, quality: 90 },
];

export interface Image8 {
  readonly name: string;
  readonly fileBytes: number;
  readonly info: ImageInfo;
  readonly pixels: Uint8Array;
}

/** An 8-bit PNG as the engine stores it (§13.1: RGB8 when opaque, else RGBA8; grey stays GRAY8). */
export function pngImage(path: string): Image8 | undefined {
  const bytes = readFileSync(path);
  const png = decodePng(bytes);
  if (png.depth !== 8) return undefined;
  const n = png.width * png.height;
  const src = png.data as Uint8Array;
  let pixels: Uint8Array;
  let pixelFormat: ImageInfo['pixelFormat'];
  if (png.palette) {
    pixels = new Uint8Array(n * 4);
    for (let i = 0; i < n; i++) {
      const entry = png.palette[src[i]!]!;
      pixels.set([entry[0]!, entry[1]!, entry[2]!, entry[3] ?? 255], i * 4);
    }
    pixelFormat = 'RGBA8';
  } else if (png.channels === 1) {
    pixels = src;
    pixelFormat = 'GRAY8';
  } else if (png.channels === 2) {
    pixels = new Uint8Array(n * 4);
    for (let i = 0; i < n; i++) pixels.set([src[2 * i]!, src[2 * i]!, src[2 * i]!, src[2 * i + 1]!], i * 4);
    pixelFormat = 'RGBA8';
  } else if (png.channels === 3) {
    pixels = src;
    pixelFormat = 'RGB8';
  } else {
    pixels = src;
    pixelFormat = 'RGBA8';
  }
  if (pixelFormat === 'RGBA8') {
    let opaque = true;
    for (let i = 3; i < pixels.length && opaque; i += 4) opaque = pixels[i] === 255;
    if (opaque) {
      const rgb = new Uint8Array(n * 3);
      for (let i = 0; i < n; i++) rgb.set(pixels.subarray(i * 4, i * 4 + 3), i * 3);
      pixels = rgb;
      pixelFormat = 'RGB8';
    }
  }
  return { name: path.split('/').pop()!, fileBytes: bytes.length, info: { width: png.width, height: png.height, pixelFormat }, pixels };
}

export async function jpegImage(path: string): Promise<Image8> {
  const factory = (await import(join(root, 'node_modules/@cornerstonejs/codec-libjpeg-turbo-8bit/dist/libjpegturbowasm_decode.js'))).default as () => Promise<{ JPEGDecoder: new () => EmscriptenCodecDecoder }>;
  const decoder = new (await factory()).JPEGDecoder();
  const bytes = readFileSync(path);
  decoder.getEncodedBuffer(bytes.length).set(bytes);
  decoder.decode();
  const info = decoder.getFrameInfo();
  return { name: path.split('/').pop()!, fileBytes: bytes.length, info: { width: info.width, height: info.height, pixelFormat: info.componentCount === 1 ? 'GRAY8' : 'RGB8' }, pixels: decoder.getDecodedBuffer().slice() };
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const times: number[] = [];
  let value!: T;
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    value = await run();
    times.push(performance.now() - t);
  }
  return { value, ms: median(times) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const images: Image8[] = [];
  const seen = new Set<string>();
  const sources = files.length > 0 ? files : [join(root, 'tests/fixtures/photo-board.jpg'), ...DEFAULT_PNGS.filter((p) => existsSync(p))];
  for (const path of sources) {
    const digest = createHash('sha256').update(readFileSync(path)).digest('hex');
    if (seen.has(digest)) continue;
    seen.add(digest);
    const image = /\.jpe?g$/i.test(path) ? await jpegImage(path) : pngImage(path);
    if (image) images.push(image);
  }
  console.log(`lossless WebP vs filtered-deflate-raw, ${repeats} repeat(s); size ÷ deflate body, time ÷ deflate encode time (same run)`);
  console.log(`  ${'image'.padEnd(34)} ${'format'.padEnd(13)} ${'file'.padStart(8)} ${'deflate'.padStart(8)} ${'ms'.padStart(5)}  ${PRESETS.map((p) => `z${p.z} size/time`.padStart(15)).join(' ')}  dec ms`);
  const ratios = PRESETS.map(() => ({ size: [] as number[], time: [] as number[], ms: [] as number[] }));
  for (const image of images) {
    const deflate = await timed(() => deflateFilteredRows(image.pixels, image.info));
    const cells: string[] = [];
    let decodeMs = 0;
    for (const [k, preset] of PRESETS.entries()) {
      const webp = await timed(() => encodeWebpBody(image.pixels, image.info, { method: preset.method, quality: preset.quality }));
      ratios[k]!.size.push(webp.value.length / deflate.value.length);
      ratios[k]!.time.push(webp.ms / deflate.ms);
      ratios[k]!.ms.push(webp.ms);
      cells.push(`${(webp.value.length / deflate.value.length).toFixed(2)} ${(webp.ms / deflate.ms).toFixed(1).padStart(5)}×`.padStart(15));
      if (preset.z === 5) {
        const d = await timed(() => decodeWebpBody(webp.value, image.info));
        if (Buffer.compare(Buffer.from(d.value), Buffer.from(image.pixels)) !== 0) throw new Error(`${image.name}: not bit-exact`);
        decodeMs = d.ms;
      }
    }
    const fmt = `${image.info.pixelFormat} ${((image.info.width * image.info.height) / 1e6).toFixed(1)}MP`;
    console.log(`  ${image.name.slice(0, 34).padEnd(34)} ${fmt.padEnd(13)} ${image.fileBytes.toLocaleString('en').padStart(8)} ${deflate.value.length.toLocaleString('en').padStart(8)} ${deflate.ms.toFixed(0).padStart(5)}  ${cells.join(' ')}  ${decodeMs.toFixed(0).padStart(6)}`);
  }
  console.log(`  ${'median'.padEnd(34)} ${''.padEnd(13)} ${''.padStart(8)} ${''.padStart(8)} ${''.padStart(5)}  ${ratios.map((r) => `${median(r.size).toFixed(2)} ${median(r.time).toFixed(1).padStart(5)}×`.padStart(15)).join(' ')}`);
  console.log(`  median encode ms per MP: ${PRESETS.map((p, k) => `z${p.z} ${median(ratios[k]!.ms.map((ms, i) => ms / ((images[i]!.info.width * images[i]!.info.height) / 1e6))).toFixed(0)}`).join(', ')}`);
}
