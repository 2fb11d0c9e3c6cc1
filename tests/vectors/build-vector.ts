import { hkdfSync } from 'node:crypto';
import { argon2id } from 'hash-wasm';
import { deriveLocatorBytes, deriveSecretBytes, EhrVaultError, encodeKeyText, encodeShareText, fragmentObjectName, fromHex, openRecord, protectRecord, stretchSequenceKey, parseSequenceKey, toHex, type KdfParams, type RecordMetadata } from '../../src/core/index.js';
import { deriveLocatorKeys } from '../../src/core/keychain.js';
import { recordIdBytes } from '../../src/core/open-objects.js';
import { craftRecord } from './craft.js';
import type { NegativeCase } from './negative-cases.js';
import { POSITIVE_CASES, type PositiveCase, type RebuildCase } from './vector-cases.js';

/** What a failing open must report (FORMAT.md §12). */
export interface ExpectedError {
  readonly error: string;
  readonly sources?: readonly number[];
  readonly indexChars?: readonly string[];
  readonly missing?: readonly string[];
  readonly positions?: readonly number[];
  readonly chunk?: number;
}

export interface RecordVector {
  readonly description: string;
  readonly recordKey: string;
  readonly recordId: string;
  readonly sequenceKey: string;
  readonly objects: readonly string[];
  readonly expect: 'ok' | ExpectedError;
  /** Negative vectors: the positive vector they were made from. */
  readonly madeFrom?: string;
  readonly kdf?: KdfParams;
  readonly random?: { readonly kdfSalt: string; readonly noncePrefix: string; readonly headNonces: readonly string[] };
  readonly chunkSize?: number;
  readonly metadata?: RecordMetadata;
  readonly plaintext?: string;
  readonly keyText?: string;
  readonly shareText?: string;
  readonly envelope?: string;
  readonly objectNames?: readonly string[];
  readonly derived?: Readonly<Record<string, string>>;
  /** Parity objects p (FORMAT.md §4.4), when the record has any. */
  readonly parity?: number;
}

/** Head nonces of a vector: 12 bytes each, derived from the slot so the files are easy to read. */
export function headNonces(n: number, seed: number): string[] {
  return Array.from({ length: n }, (_, slot) => toHex(Uint8Array.from({ length: 12 }, (_, i) => (seed + slot * 16 + i) & 0xff)));
}

/** The implementation, run with every random value fixed (the test-only `randomBytes` seam). */
export async function buildPositive(c: PositiveCase): Promise<RecordVector> {
  const n = parseSequenceKey(c.sequenceKey).n;
  const nonces = headNonces(n + (c.parity ?? 0), 0xc0);
  const queue = [fromHex(c.noncePrefix), ...nonces.map(fromHex)];
  const made = await protectRecord([c.plaintext], c.metadata, c.sequenceKey, {
    recordKey: fromHex(c.recordKey),
    recordId: c.recordId,
    kdf: c.kdf,
    kdfSalt: fromHex(c.kdfSalt),
    chunkSize: c.chunkSize,
    parity: c.parity ?? 0,
    randomBytes: (length) => {
      const next = queue.shift();
      if (!next || next.length !== length) throw new Error('the vector seam supplies the nonce prefix, then one head nonce per slot');
      return next.slice();
    },
  });
  const recordKey = fromHex(c.recordKey);
  const id = recordIdBytes(c.recordId);
  const locator = await deriveLocatorBytes(recordKey);
  const stretched = await stretchSequenceKey(parseSequenceKey(c.sequenceKey), fromHex(c.kdfSalt), c.kdf);
  const secret = await deriveSecretBytes(recordKey, id, stretched);
  const names = await deriveLocatorKeys(recordKey);
  return {
    description: c.description,
    recordKey: c.recordKey,
    recordId: c.recordId,
    sequenceKey: c.sequenceKey,
    kdf: c.kdf,
    ...(c.parity ? { parity: c.parity } : {}),
    random: { kdfSalt: c.kdfSalt, noncePrefix: c.noncePrefix, headNonces: nonces },
    chunkSize: c.chunkSize,
    metadata: c.metadata,
    plaintext: toHex(c.plaintext),
    keyText: encodeKeyText(recordKey),
    shareText: encodeShareText({ recordId: c.recordId, recordKey }),
    envelope: toHex(made.envelope),
    objectNames: await Promise.all(made.objects.map((_, slot) => fragmentObjectName(names, c.recordId, slot))),
    derived: {
      K_names: toHex(locator.objectNames),
      K_head: toHex(locator.head),
      X: toHex(stretched),
      K_enc: toHex(secret.encryption),
      K_commit: toHex(secret.commitment),
      K_frag: toHex(secret.fragments),
      K_wrap: toHex(secret.wrap),
      K_check: toHex(secret.check),
      ...(c.parity ? { K_parity: toHex(new Uint8Array(hkdfSync('sha256', recordKey, new Uint8Array(0), 'ehr-vault/v2/parity', 16))) } : {}),
    },
    objects: made.objects.map(toHex),
    expect: 'ok',
  };
}

function positiveCase(id: string): PositiveCase {
  const c = POSITIVE_CASES.find((p) => p.id === id);
  if (!c) throw new Error(`no positive vector ${id}`);
  return c;
}

/** What our reader reports for a negative vector: its code and the blame FORMAT.md §9 defines. */
export async function readerOutcome(v: Pick<RecordVector, 'objects' | 'sequenceKey' | 'recordKey' | 'recordId'>): Promise<'ok' | ExpectedError> {
  try {
    await openRecord(v.objects.map(fromHex), v.sequenceKey, fromHex(v.recordKey), v.recordId);
    return 'ok';
  } catch (error) {
    if (!(error instanceof EhrVaultError)) throw error;
    const d = error.details;
    return {
      error: error.code,
      ...(Array.isArray(d.sources) ? { sources: d.sources as number[] } : {}),
      ...(Array.isArray(d.indexChars) ? { indexChars: d.indexChars as string[] } : {}),
      ...(Array.isArray(d.missing) ? { missing: d.missing as string[] } : {}),
      ...(Array.isArray(d.positions) ? { positions: d.positions as number[] } : {}),
      ...(typeof d.chunk === 'number' ? { chunk: d.chunk } : {}),
    };
  }
}

export async function buildNegative(c: NegativeCase): Promise<RecordVector> {
  const from = positiveCase(c.from);
  const positive = await buildPositive(from);
  let objects = positive.objects.map(fromHex);
  if (c.craft) {
    const nonces = headNonces(objects.length, 0xc0);
    objects = (await craftRecord({ ...from, headNonces: nonces, plaintext: from.plaintext }, c.craft)).objects;
  }
  if (c.spoil) {
    const others = new Map<string, Uint8Array[]>();
    for (const p of POSITIVE_CASES) others.set(p.id, (await buildPositive(p)).objects.map(fromHex));
    objects = c.spoil(objects, (id) => others.get(id)!.map((o) => o.slice()));
  }
  const inputs = {
    recordKey: c.recordKey ?? from.recordKey,
    recordId: c.recordId ?? from.recordId,
    sequenceKey: c.sequenceKey ?? from.sequenceKey,
    objects: objects.map(toHex),
  };
  const outcome = await readerOutcome(inputs);
  return { description: c.description, madeFrom: c.from, ...inputs, expect: outcome };
}

/** A positive vector made by removing objects that parity re-creates (§9 step 10): the reader must open it. */
export async function buildRebuild(c: RebuildCase): Promise<RecordVector> {
  const positive = await buildPositive(positiveCase(c.from));
  const objects = c.spoil(positive.objects.map(fromHex)).map(toHex);
  const inputs = { recordKey: positive.recordKey, recordId: positive.recordId, sequenceKey: positive.sequenceKey, objects };
  return { description: c.description, madeFrom: c.from, ...inputs, metadata: positive.metadata!, plaintext: positive.plaintext!, expect: await readerOutcome(inputs) };
}

/** FORMAT.md §12: the KDF alone. */
export async function buildArgon2Vector(): Promise<object> {
  const cases = [
    { password: 'adk21937', salt: '000102030405060708090a0b0c0d0e0f', memoryKiB: 64, passes: 1, parallelism: 1 },
    { password: 'é𝄞a😀b𐐷c1', salt: 'f0e1d2c3b4a5968778695a4b3c2d1e0f', memoryKiB: 256, passes: 2, parallelism: 1 },
    { password: 'Qw7#zR2!xKm9', salt: '0f0e0d0c0b0a09080706050403020100', memoryKiB: 65_536, passes: 4, parallelism: 1 },
  ];
  return {
    description: 'Argon2id (RFC 9106, version 0x13), tag length 32, no secret or associated data: X of FORMAT.md §3. The last case uses the parameters writers use.',
    cases: await Promise.all(
      cases.map(async (k) => ({
        ...k,
        tag: await argon2id({ password: new TextEncoder().encode(k.password), salt: fromHex(k.salt), parallelism: k.parallelism, iterations: k.passes, memorySize: k.memoryKiB, hashLength: 32, outputType: 'hex' }),
      })),
    ),
  };
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function outcomeSync(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof EhrVaultError && typeof error.details.problem === 'string' ? error.details.problem : undefined;
  }
}

type TextOutcome = { readonly ok: unknown } | { readonly error: string; readonly problem?: string; readonly issues?: readonly string[] };

async function outcome(run: () => unknown): Promise<TextOutcome> {
  try {
    return { ok: await run() };
  } catch (error) {
    if (!(error instanceof EhrVaultError)) throw error;
    const d = error.details;
    return {
      error: error.code,
      ...(typeof d.problem === 'string' ? { problem: d.problem } : {}),
      ...(Array.isArray(d.issues) ? { issues: (d.issues as { code: string }[]).map((i) => i.code) } : {}),
    };
  }
}

/** FORMAT.md §10, §11, §11.1: inputs a person types or pastes, and what a reader must make of them. */
export async function buildTextsVector(): Promise<object> {
  const { decodeKeyText, decodeShareText } = await import('../../src/core/index.js');
  const key = '000102030405060708090a0b0c0d0e0f';
  const keyText = encodeKeyText(fromHex(key));
  const share = encodeShareText({ recordId: 'AAECAwQFBgcICQoLDA0ODw', recordKey: fromHex(key) });
  const swapped = keyText.slice(0, 10) + keyText[11] + keyText[10] + keyText.slice(12);
  const mistyped = keyText.slice(0, 12) + (keyText[12] === 'A' ? 'B' : 'A') + keyText.slice(13);
  const sequenceKeys = ['adk21937', 'Adk 1234', 'Adk21224', 'Adk12', 'e\u0301dk21937x', 'abc\u200Ddefgh', 'a\tbcdefghi', 'é𝄞a😀b𐐷c1', 'abcdefgh\u00A0'];
  // Padding bits set in the last body character, with a check character that matches: non-canonical.
  const body = keyText.slice(7, 28);
  const nonCanonical = BASE64URL.split('').map((c) => `ehrvk1.${body}x${c}`).find((t) => outcomeSync(() => decodeKeyText(t)) === 'non-canonical')!;
  const keyTexts = [keyText, nonCanonical, ` ${keyText.slice(0, 15)}\n${keyText.slice(15)} `, keyText.toUpperCase().slice(0, 7) + keyText.slice(7), 'ehrvk2.' + keyText.slice(7), keyText.slice(0, -1), keyText.slice(0, 20) + '*' + keyText.slice(21), swapped, mistyped];
  const shareTexts = [share, `${share}.`, `  ${share.slice(0, 20)}\u200B${share.slice(20)}\n`, 'ehrv2:' + share.slice(6), share.replace('AAECAwQFBgcICQoLDA0ODw', 'AAECAwQFBgcICQoLDA0ODx'), share.slice(0, 29), `${share.slice(0, 29)}:nothing`, share.slice(0, -1), share.slice(0, 28)];
  return {
    description: 'Sequence keys (§10: ok gives the NFC characters; errors list every issue code), key texts (§11: ok gives the key in hex) and share texts (§11.1: ok gives the record id and key).',
    sequenceKeys: await Promise.all(sequenceKeys.map(async (input) => ({ input, expect: await outcome(() => parseSequenceKey(input).chars) }))),
    keyTexts: await Promise.all(keyTexts.map(async (input) => ({ input, expect: await outcome(() => toHex(decodeKeyText(input))) }))),
    shareTexts: await Promise.all(
      shareTexts.map(async (input) => ({
        input,
        expect: await outcome(() => {
          const s = decodeShareText(input);
          return { recordId: s.recordId, recordKey: toHex(s.recordKey) };
        }),
      })),
    ),
  };
}
