import { deflateRawSync } from 'node:zlib';
import { readFile, readdir, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { decode, encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRecord, protectRecord } from '../../src/core/record.js';
import { decodeShareText, encodeShareText } from '../../src/core/share-text.js';
import { deriveLocatorKeys } from '../../src/core/keychain.js';
import { fragmentObjectName } from '../../src/core/object-names.js';
import type { RecordMetadata } from '../../src/core/metadata.js';
import { decodePngPixels, u16LittleEndian } from '../../src/workers/decoders/png-decode.js';
import { deflateRaw } from '../../src/workers/deflate.js';
import { startStack, type Stack } from '../../server/start.js';
import { bucketReader, pseudoRandomBytes, sha256Base64, tempDir } from '../integration/stack-helpers.js';
import { PresignStore } from '../../src/cli/storage.js';
import { imagePixels } from '../../src/cli/output.js';
import { TEST_KDF } from '../../src/cli/kdf-choice.js';
import { runCli } from './cli-helpers.js';

const TOKEN = 'cli-test-token-0123456789abcdef';
const SEQUENCE_KEY = 'Kp7#mQ2x!z';

/** A 16-bit greyscale PNG with values over the whole range (the low byte matters). */
function png16(width: number, height: number, seed: number): Uint8Array {
  const data = new Uint16Array(width * height);
  const noise = pseudoRandomBytes(width * height * 2, seed);
  for (let i = 0; i < data.length; i++) data[i] = noise[2 * i]! | (noise[2 * i + 1]! << 8);
  return encode({ width, height, data, depth: 16, channels: 1 });
}

/** DICOM-like: 128-byte preamble, "DICM", then bytes. */
function dicomLike(size: number, seed: number): Uint8Array {
  const bytes = pseudoRandomBytes(size, seed);
  bytes.fill(0, 0, 128);
  bytes.set([0x44, 0x49, 0x43, 0x4d], 128);
  return bytes;
}

describe('ehr-vault CLI against the local stack', () => {
  let stack: Stack;
  let temp: { path: string; remove: () => Promise<void> };
  let bucket: ReturnType<typeof bucketReader>;
  let store: PresignStore;
  let env: Record<string, string>;
  let keyFile: string;

  beforeAll(async () => {
    temp = await tempDir('cli');
    stack = await startStack({ appPort: 0, distDir: temp.path, localS3: { port: 0, dataDir: `${temp.path}/s3` }, tokens: { [TOKEN]: 'hospital' }, rateLimit: { burst: 10_000, perSecond: 1_000 } });
    bucket = bucketReader(`${temp.path}/s3`);
    env = { EHRV_STORAGE: `${stack.appUrl}/api/presign`, EHRV_TOKEN: TOKEN };
    store = new PresignStore({ url: env.EHRV_STORAGE!, token: TOKEN });
    keyFile = join(temp.path, 'sequence-key.txt');
    await writeFile(keyFile, `${SEQUENCE_KEY}\n`);
  });

  afterAll(async () => {
    await stack?.close();
    await temp?.remove();
  });

  /** Protects with the app's own pieces (core + the engine's PNG decoder and DEFLATE) and uploads. */
  async function appProtect(body: Uint8Array, metadata: RecordMetadata): Promise<{ shareText: string; names: string[]; objects: Uint8Array[] }> {
    const record = await protectRecord([body], metadata, SEQUENCE_KEY, { kdf: TEST_KDF, parity: 0 });
    const locator = await deriveLocatorKeys(record.recordKey);
    const names = await Promise.all(record.objects.map((_, j) => fragmentObjectName(locator, record.recordId, j)));
    await store.putMany(names.map((name, j) => ({ name, bytes: record.objects[j]!, sha256: sha256Base64(record.objects[j]!) })));
    return { shareText: encodeShareText(record), names, objects: record.objects };
  }

  it('opens a 16-bit PNG record protected by the app engine: the PNG it writes has the same 16-bit pixels', async () => {
    const source = png16(61, 37, 7);
    const decoded = decodePngPixels(source);
    expect(decoded.pixelFormat).toBe('GRAY16');
    const body = await deflateRaw(decoded.pixels);
    const { shareText } = await appProtect(body, { kind: 'image', name: 'scan.png', mime: 'image/png', byteLength: body.length, image: { width: 61, height: 37, pixelFormat: 'GRAY16' }, bodyEncoding: 'deflate-raw', createdAt: 1 });
    const out = join(temp.path, 'opened-scan.png');
    const run = await runCli(['--json', 'open', shareText, '--sequence-key-file', keyFile, '--out', out], env);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.json.ok).toBe(true);
    const written = decode(await readFile(out));
    expect(written.depth).toBe(16);
    expect(written.channels).toBe(1);
    expect(u16LittleEndian(written.data as Uint16Array)).toEqual(decoded.pixels);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
  });

  it('opens a compressed file record made by the app (deflate-raw, contentLength) as its original bytes', async () => {
    const dicom = dicomLike(200_000, 5);
    const body = new Uint8Array(deflateRawSync(dicom));
    const { shareText } = await appProtect(body, { kind: 'file', name: 'ct.dcm', mime: 'application/dicom', byteLength: body.length, bodyEncoding: 'deflate-raw', contentLength: dicom.length });
    const out = join(temp.path, 'opened-compressed.dcm');
    const run = await runCli(['--json', 'open', shareText, '--sequence-key-file', keyFile, '--out', out], env);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(Buffer.compare(await readFile(out), Buffer.from(dicom))).toBe(0);
  });

  it('opens a file record from a folder of objects under other names, in any order, byte for byte', async () => {
    const dicom = dicomLike(300_000, 3);
    const { shareText, objects } = await appProtect(dicom, { kind: 'file', name: 'ct.dcm', mime: 'application/dicom', byteLength: dicom.length });
    const dir = join(temp.path, 'downloaded');
    await mkdir(dir);
    // Reversed order, meaningless names, plus a stranger file that must be ignored.
    for (const [i, o] of [...objects].reverse().entries()) await writeFile(join(dir, `download (${i}).bin`), o);
    await writeFile(join(dir, 'notes.txt'), 'not an object');
    const out = join(temp.path, 'opened-ct.dcm');
    const run = await runCli(['open', shareText, '--from', dir, '--out', out, '--sequence-key-file', '-'], {}, SEQUENCE_KEY);
    expect(run.code, run.stderr).toBe(0);
    expect(new Uint8Array(await readFile(out))).toEqual(dicom);
    // Never over an existing file without --force.
    const again = await runCli(['--json', 'open', shareText, '--from', dir, '--out', out, '--sequence-key-file', keyFile]);
    expect(again.code).toBe(6);
    expect(again.json.error?.code).toBe('OUTPUT_EXISTS');
  });

  it('a wrong sequence key and a mistyped share text are typed errors with their exit code', async () => {
    const { shareText } = await appProtect(new Uint8Array(5_000).fill(9), { kind: 'file', name: 'a.txt', mime: 'text/plain', byteLength: 5_000 });
    const wrongKey = join(temp.path, 'wrong-key.txt');
    await writeFile(wrongKey, 'zK7#mQ2x!p');
    const wrong = await runCli(['--json', 'open', shareText, '--sequence-key-file', wrongKey, '--out', join(temp.path, 'never')], env);
    expect(wrong.code).toBe(3);
    expect(wrong.json.error?.code).toBe('WRONG_SEQUENCE_KEY');
    const typo = await runCli(['--json', 'verify', shareText.slice(0, -1) + (shareText.endsWith('A') ? 'B' : 'A')], env);
    expect(typo.code).toBe(3);
    expect(typo.json.error?.code).toBe('KEY_TEXT_INVALID');
  });

  it('verify: intact, then a deleted object, a damaged head and a damaged body are each reported', async () => {
    const bytes = pseudoRandomBytes(200_000, 11);
    const { shareText, names, objects } = await appProtect(bytes, { kind: 'file', name: 'report.pdf', mime: 'application/pdf', byteLength: bytes.length });
    const ok = await runCli(['--json', 'verify', shareText], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json).toMatchObject({ ok: true, n: 10, objects: 10, checked: 'heads-and-lengths' });
    const full = await runCli(['--json', 'verify', shareText, '--sequence-key-file', keyFile], env);
    expect(full.json).toMatchObject({ ok: true, checked: 'full-open' });

    await store.deleteMany([names[3]!]);
    const deleted = await runCli(['--json', 'verify', shareText], env);
    expect(deleted.code).toBe(4);
    expect(deleted.json.error).toMatchObject({ code: 'FRAGMENT_MISSING', details: { positions: [3] } });

    const put = async (j: number, b: Uint8Array) => store.putMany([{ name: names[j]!, bytes: b, sha256: sha256Base64(b) }]);
    await put(3, objects[3]!);
    const head = objects[5]!.slice();
    head[30]! ^= 1;
    await put(5, head);
    const badHead = await runCli(['--json', 'verify', shareText], env);
    expect(badHead.code).toBe(4);
    expect(badHead.json.error).toMatchObject({ code: 'FRAGMENT_FOREIGN', details: { sources: [5] } });

    await put(5, objects[5]!);
    const body = objects[6]!.slice();
    body[body.length - 40]! ^= 1;
    await put(6, body);
    // Without the sequence key the body cannot be checked (FORMAT.md §2.1); with it, the damage is named.
    const withKey = await runCli(['--json', 'verify', shareText, '--sequence-key-file', keyFile], env);
    expect(withKey.code).toBe(4);
    expect(withKey.json.error).toMatchObject({ code: 'FRAGMENT_TAMPERED', details: { sources: [6] } });
  });

  it('protect: a record protected by the CLI opens with the core reader (pixels and bytes equal); manifest 0600', async () => {
    const dir = join(temp.path, 'archive');
    await mkdir(join(dir, 'sub'), { recursive: true });
    const scan = png16(40, 30, 5);
    const ct = dicomLike(700_000, 6);
    const text = new TextEncoder().encode('discharge letter\n');
    await writeFile(join(dir, 'scan.png'), scan);
    await writeFile(join(dir, 'sub', 'ct.dcm'), ct);
    await writeFile(join(dir, 'sub', 'letter.txt'), text);
    const manifest = join(temp.path, 'archive-manifest.json');
    const run = await runCli(['--json', 'protect', dir, '--sequence-key-file', keyFile, '--manifest', manifest, '--jobs', '2'], env);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect((await stat(manifest)).mode & 0o777).toBe(0o600);
    const rows = JSON.parse(await readFile(manifest, 'utf8')) as { input: string; shareText: string; storedAs: string; objects: number }[];
    expect(rows.map((r) => r.input)).toEqual([`${dir}/scan.png`, `${dir}/sub/ct.dcm`, `${dir}/sub/letter.txt`].map((p) => p.replace(/^\//, '/')));
    const fetchObjects = async (shareText: string) => {
      const info = decodeShareText(shareText);
      const locator = await deriveLocatorKeys(info.recordKey);
      const names = await Promise.all(Array.from({ length: 10 }, (_, j) => fragmentObjectName(locator, info.recordId, j)));
      return { info, objects: await Promise.all(names.map((n) => bucket.read(`users/hospital/fragments/${n}`))) };
    };
    const [pngRow, ctRow, textRow] = rows;
    expect(pngRow!.storedAs).toBe('pixels');
    const png = await fetchObjects(pngRow!.shareText);
    const openedPng = await openRecord(png.objects, SEQUENCE_KEY, png.info.recordKey, png.info.recordId);
    expect(openedPng.metadata.image).toEqual({ width: 40, height: 30, pixelFormat: 'GRAY16' });
    expect(await imagePixels(openedPng.metadata, openedPng.body)).toEqual(decodePngPixels(scan).pixels);
    const dcm = await fetchObjects(ctRow!.shareText);
    const openedCt = await openRecord(dcm.objects, SEQUENCE_KEY, dcm.info.recordKey, dcm.info.recordId);
    expect(openedCt.metadata).toMatchObject({ kind: 'file', mime: 'application/dicom', name: 'ct.dcm' });
    expect(openedCt.body).toEqual(ct);
    const letter = await fetchObjects(textRow!.shareText);
    expect((await openRecord(letter.objects, SEQUENCE_KEY, letter.info.recordKey, letter.info.recordId)).body).toEqual(text);
  });

  it('protect --to DIR then open --from DIR round-trips, with generated keys per record in the manifest', async () => {
    const dir = join(temp.path, 'offline-in');
    await mkdir(dir);
    const files = Array.from({ length: 3 }, (_, i) => pseudoRandomBytes(10_000 + i, 40 + i));
    for (const [i, f] of files.entries()) await writeFile(join(dir, `f${i}.bin`), f);
    const objectsDir = join(temp.path, 'offline-objects');
    const manifest = join(temp.path, 'offline.csv');
    const run = await runCli(['--json', 'protect', dir, '--to', objectsDir, '--generate-keys', '--manifest', manifest, '--jobs', '0']);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const lines = (await readFile(manifest, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('input,name,recordId,shareText,sequenceKey,storedAs,type,reason,bytes,objects,protectedAt');
    expect(lines).toHaveLength(4);
    const [, , , shareText, sequenceKey] = lines[2]!.split(',');
    expect(sequenceKey).toHaveLength(12);
    // 3 records × (12 data objects + 2 parity objects, the default as in the app)
    expect((await readdir(objectsDir)).length).toBe(3 * (12 + 2));
    const keyPath = join(temp.path, 'generated-key.txt');
    await writeFile(keyPath, sequenceKey!);
    const out = join(temp.path, 'offline-f1.bin');
    const open = await runCli(['open', shareText!, '--from', objectsDir, '--sequence-key-file', keyPath, '--out', out]);
    expect(open.code, open.stderr).toBe(0);
    expect(new Uint8Array(await readFile(out))).toEqual(files[1]);
  });

  it('every command has --help (exit 0, exit codes listed); a usage error is exit 2, as JSON with --json', async () => {
    for (const command of ['open', 'verify', 'protect']) {
      const help = await runCli([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: ehr-vault ${command}`);
      expect(help.stdout).toContain('Exit codes');
    }
    const missing = await runCli(['--json', 'protect', '--to', join(temp.path, 'none')]);
    expect(missing.code).toBe(2);
    expect(missing.json).toMatchObject({ ok: false, error: { code: 'USAGE' }, exitCode: 2 });
    const noKey = await runCli(['--json', 'open', 'ehrv1:AAAAAAAAAAAAAAAAAAAAAA:ehrvk1.AAAAAAAAAAAAAAAAAAAAAAA', '--from', temp.path]);
    expect(noKey.code).toBe(3);
    expect(noKey.json.error?.code).toBe('SEQUENCE_KEY_NEEDED');
  });
});
