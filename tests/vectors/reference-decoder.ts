/**
 * A second, deliberately separate decoder written from docs/FORMAT.md alone, on Node's own crypto
 * (not WebCrypto, not src/core). The vector tests run both, so the spec, the vectors and the code
 * must all agree.
 */
import { createDecipheriv, createHmac, hkdfSync } from 'node:crypto';

const derive = (key: Buffer, info: string, length: number) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), info, length));
const hmac = (key: Buffer, ...parts: Buffer[]) => createHmac('sha256', key).update(Buffer.concat(parts)).digest();

export interface ReferenceResult {
  readonly metadata: Record<string, unknown>;
  readonly plaintext: Buffer;
  readonly envelope: Buffer;
}

function charLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  throw new Error('bad lead byte');
}

/** Merges (§7) and decrypts (§3–§5); throws a plain Error with a reason on anything unexpected. */
export function referenceOpen(fragmentsHex: readonly string[], sequenceKey: string, recordKeyHex: string): ReferenceResult {
  const k = Buffer.from(recordKeyHex, 'hex');
  const kEnc = derive(k, 'ehr-vault/v1/aes-128-gcm', 16);
  const kCommit = derive(k, 'ehr-vault/v1/key-commitment', 32);
  const kFrag = derive(k, 'ehr-vault/v1/fragment-mac', 32);
  const keyChars = Array.from(sequenceKey.normalize('NFC'));
  const byChar = new Map<string, Buffer>();
  for (const hex of fragmentsHex) {
    const f = Buffer.from(hex, 'hex');
    const ownLen = charLength(f[0]!);
    const own = f.subarray(0, ownLen);
    const h = ownLen;
    if (f[h] !== 1 || f[h + 1] !== 0) throw new Error('version/flags');
    const n = f.readUInt16BE(h + 2);
    const position = f.readUInt16BE(h + 4);
    const payloadLength = Number(f.readBigUInt64BE(h + 6));
    const recordTag = f.subarray(h + 14, h + 30);
    const mac = f.subarray(h + 30, h + 46);
    const payload = f.subarray(h + 46, h + 46 + payloadLength);
    const next = f.subarray(h + 46 + payloadLength);
    if (next.length < 1 || next.length > 4 || charLength(next[0]!) !== next.length) throw new Error('next char');
    if (!hmac(kFrag, Buffer.from('EHRV1 record-tag\0'), own).subarray(0, 16).equals(recordTag)) throw new Error('record tag');
    const fields = Buffer.alloc(14);
    fields[0] = 1;
    fields[1] = 0;
    fields.writeUInt16BE(n, 2);
    fields.writeUInt16BE(position, 4);
    fields.writeBigUInt64BE(BigInt(payloadLength), 6);
    const expectedMac = hmac(kFrag, Buffer.from('EHRV1 fragment\0'), Buffer.of(own.length), own, fields, recordTag, Buffer.of(next.length), next).subarray(0, 16);
    if (!expectedMac.equals(mac)) throw new Error('header mac');
    const ownChar = own.toString('utf8');
    if (n !== keyChars.length || keyChars[position] !== ownChar || keyChars[(position + 1) % n] !== next.toString('utf8')) throw new Error('sequence key');
    if (byChar.has(ownChar)) throw new Error('duplicate');
    byChar.set(ownChar, payload);
  }
  const envelope = Buffer.concat(keyChars.map((c) => {
    const p = byChar.get(c);
    if (!p) throw new Error(`missing ${c}`);
    return p;
  }));

  const header = envelope.subarray(0, 40);
  if (header.subarray(0, 4).toString('latin1') !== 'EHRV' || header[4] !== 1 || header[5] !== 1) throw new Error('header');
  if (!hmac(kCommit, header.subarray(0, 24)).subarray(0, 16).equals(header.subarray(24, 40))) throw new Error('commitment');
  const chunkSize = header.readUInt32BE(8);
  const metaLen = header.readUInt32BE(12);
  const prefix = header.subarray(16, 23);
  const open = (counter: number, last: boolean, segment: Buffer) => {
    const nonce = Buffer.concat([prefix, Buffer.alloc(4), Buffer.of(last ? 1 : 0)]);
    nonce.writeUInt32BE(counter, 7);
    const d = createDecipheriv('aes-128-gcm', kEnc, nonce);
    d.setAAD(header);
    d.setAuthTag(segment.subarray(segment.length - 16));
    return Buffer.concat([d.update(segment.subarray(0, segment.length - 16)), d.final()]);
  };
  const block = open(0, false, envelope.subarray(40, 40 + metaLen));
  const jsonLength = block.readUInt32BE(0);
  const metadata = JSON.parse(block.subarray(4, 4 + jsonLength).toString('utf8')) as Record<string, unknown>;
  const byteLength = metadata.byteLength as number;
  const m = Math.max(1, Math.ceil(byteLength / chunkSize));
  const out: Buffer[] = [];
  let at = 40 + metaLen;
  for (let i = 0; i < m; i++) {
    const plain = i < m - 1 ? chunkSize : byteLength - chunkSize * (m - 1);
    out.push(open(i + 1, i === m - 1, envelope.subarray(at, at + plain + 16)));
    at += plain + 16;
  }
  if (at !== envelope.length) throw new Error('length');
  return { metadata, plaintext: Buffer.concat(out), envelope };
}

/** FORMAT.md §2.1, from the spec: base32 (lower case) of the first 20 bytes of the HMAC. */
export function referenceObjectName(recordKeyHex: string, recordIdBase64Url: string, position: number): string {
  const kNames = derive(Buffer.from(recordKeyHex, 'hex'), 'ehr-vault/v1/object-names', 32);
  const pos = Buffer.alloc(2);
  pos.writeUInt16BE(position);
  const mac = hmac(kNames, Buffer.from('EHRV1 object-name\0'), Buffer.from(recordIdBase64Url, 'base64url'), pos).subarray(0, 20);
  let bits = '';
  for (const byte of mac) bits += byte.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += 'abcdefghijklmnopqrstuvwxyz234567'[Number.parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return out;
}
