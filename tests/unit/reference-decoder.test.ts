/**
 * The reference reader (tests/vectors/reference-decoder.ts, written from docs/FORMAT.md alone) against
 * the committed format-2 vectors, and against its own reference writer (round trips and one tamper
 * case per §9 step).
 */
import { createCipheriv, hkdfSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { argon2id } from '@noble/hashes/argon2.js';
import { describe, expect, it } from 'vitest';
import { decodeShareText as appDecodeShareText, encodeShareText as appEncodeShareText } from '../../src/core/share-text.js';
import {
  argon2idTag,
  checkSequenceKey,
  counterBlock,
  ctrTransform,
  decodeKeyText,
  decodeLocator,
  decodeShareText,
  decodeShareStorage,
  deriveRecordKeyKeys,
  deriveSequenceKeys,
  encodeKeyText,
  encodeLocator,
  deriveParityKey,
  gf256Inv,
  HEAD_LENGTH,
  gf256Mul,
  parityRow,
  objectName,
  openRecord,
  padme,
  RefError,
  sequenceKeyIssues,
  type RefErrorCode,
} from '../vectors/reference-decoder.js';
import { writeRecord, type WriterInput, type WriterTweaks } from '../vectors/reference-writer.js';

// ───────────────────────────────────── helpers ─────────────────────────────────────

const hex = (s: string) => Buffer.from(s, 'hex');
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Runs `f`, returns the RefError it throws (fails the test if it returns or throws something else). */
function refError(f: () => unknown): RefError {
  let result: unknown;
  try {
    result = f();
  } catch (e) {
    if (e instanceof RefError) return e;
    throw e;
  }
  throw new Error(`expected a RefError, got a result: ${JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)).slice(0, 200)}`);
}

// ───────────────────────────────────── committed vectors (§12) ─────────────────────────────────────

interface ExpectedError {
  readonly error: RefErrorCode;
  readonly sources?: number[];
  readonly indexChars?: string[];
  readonly missing?: string[];
  readonly positions?: number[];
  readonly chunk?: number;
}

interface RecordVector {
  readonly description?: string;
  readonly recordKey: string;
  readonly recordId: string;
  readonly sequenceKey: string;
  readonly objects: string[];
  readonly expect: 'ok' | ExpectedError;
  readonly kdf?: { memoryKiB: number; passes: number; parallelism: number };
  readonly random?: { kdfSalt: string; noncePrefix: string; headNonces: string[] };
  readonly chunkSize?: number;
  readonly metadata?: Record<string, unknown>;
  readonly plaintext?: string;
  readonly envelope?: string;
  readonly objectNames?: string[];
  readonly keyText?: string;
  readonly shareText?: string;
  readonly derived?: Partial<Record<'K_names' | 'K_head' | 'X' | 'K_enc' | 'K_commit' | 'K_frag' | 'K_wrap' | 'K_check' | 'K_parity', string>>;
  readonly parity?: number;
}

const vectorDir = new URL('../vectors/', import.meta.url);
const jsonFiles = readdirSync(vectorDir).filter((f) => f.endsWith('.json')).sort();
const loadJson = (file: string): unknown => JSON.parse(readFileSync(new URL(file, vectorDir), 'utf8'));
const isRecordVector = (v: unknown): v is RecordVector =>
  typeof v === 'object' && v !== null && Array.isArray((v as { objects?: unknown }).objects) && 'expect' in v;
const recordVectors = jsonFiles.flatMap((file) => {
  const v = loadJson(file);
  return isRecordVector(v) ? [{ file, v }] : [];
});

describe('reference reader against tests/vectors (§12)', () => {
  it('finds format-2 record vectors (a vector test that finds none must fail)', () => {
    expect(recordVectors.length).toBeGreaterThan(0);
  });

  it('argon2id.json and texts.json exist', () => {
    expect(jsonFiles).toContain('argon2id.json');
    expect(jsonFiles).toContain('texts.json');
  });

  for (const { file, v } of recordVectors) {
    describe(file, () => {
      const k = hex(v.recordKey);
      const r = decodeLocator(v.recordId);

      it('recordId is a canonical locator (§2.2)', () => {
        expect(r).toBeDefined();
      });

      if (v.objectNames) {
        it('object names (§2.3)', () => {
          expect(v.objectNames!.map((_, j) => objectName(k, r!, j))).toEqual(v.objectNames);
        });
      }

      if (v.keyText) {
        it('key text (§11)', () => {
          expect(toHex(decodeKeyText(v.keyText!))).toBe(v.recordKey);
          expect(encodeKeyText(k)).toBe(v.keyText);
        });
      }

      if (v.shareText) {
        it('share text (§11.1)', () => {
          const share = decodeShareText(v.shareText!);
          expect(toHex(share.recordKey)).toBe(v.recordKey);
          expect(share.locator).toBe(v.recordId);
        });
      }

      if (v.derived) {
        it('derived keys (§2, §3)', () => {
          const d = v.derived!;
          const rk = deriveRecordKeyKeys(k);
          const got: Record<string, string> = { K_names: toHex(rk.names), K_head: toHex(rk.head), K_parity: toHex(deriveParityKey(k)) };
          if (v.kdf && v.random && (d.X || d.K_enc || d.K_commit || d.K_frag || d.K_wrap || d.K_check)) {
            const sk = deriveSequenceKeys(k, r!, Buffer.from(v.sequenceKey.normalize('NFC'), 'utf8'), v.kdf, hex(v.random!.kdfSalt));
            Object.assign(got, { X: toHex(sk.x), K_enc: toHex(sk.enc), K_commit: toHex(sk.commit), K_frag: toHex(sk.frag), K_wrap: toHex(sk.wrap), K_check: toHex(sk.check) });
          }
          // every derived value the vector gives is compared (an unknown name fails: undefined ≠ hex)
          expect(Object.fromEntries(Object.keys(d).map((name) => [name, got[name]]))).toEqual(d);
        });
      }

      if (v.expect === 'ok') {
        it('opens: metadata and body (§9)', () => {
          const opened = openRecord(k, r!, v.sequenceKey, v.objects.map(hex), { keepEnvelope: true });
          expect(opened.metadata).toEqual(v.metadata);
          expect(toHex(opened.body)).toBe(v.plaintext);
          if (v.envelope !== undefined) expect(toHex(opened.envelope!)).toBe(v.envelope);
        });

        if (v.kdf && v.random && v.chunkSize !== undefined && v.metadata && v.plaintext !== undefined) {
          it('the reference writer reproduces every byte (envelope, objects, names)', () => {
            const w = writeRecord({
              recordKey: k,
              recordId: r!,
              sequenceKey: v.sequenceKey,
              metadata: v.metadata!,
              body: hex(v.plaintext!),
              chunkSize: v.chunkSize!,
              kdf: v.kdf!,
              random: { kdfSalt: hex(v.random!.kdfSalt), noncePrefix: hex(v.random!.noncePrefix), headNonces: v.random!.headNonces.map(hex) },
              ...(v.parity ? { parity: v.parity } : {}),
            });
            if (v.envelope !== undefined) expect(toHex(w.envelope)).toBe(v.envelope);
            if (v.objectNames) expect(w.objectNames).toEqual(v.objectNames);
            // vector objects may be listed in any order; compare as sorted lists
            expect(w.objects.map(toHex).sort()).toEqual([...v.objects].sort());
          });
        }
      } else {
        const e = v.expect;
        it(`fails with ${e.error} (§9)`, () => {
          const error = refError(() => openRecord(k, r!, v.sequenceKey, v.objects.map(hex)));
          expect({ code: error.code, message: error.message }).toMatchObject({ code: e.error });
          // §12: "a field is present only when the step sets it" — so an absent field must be absent here too
          expect({ sources: error.details.sources, indexChars: error.details.indexChars, missing: error.details.missing }).toEqual({
            sources: e.sources,
            indexChars: e.indexChars,
            missing: e.missing,
          });
          if (e.positions) expect(error.details.positions).toEqual(e.positions);
          if (e.chunk !== undefined) expect(error.details.chunk).toBe(e.chunk);
        });
      }
    });
  }
});

// argon2id.json: { password, salt, memoryKiB, passes, parallelism, tag } — or a list of them, or
// { cases: [...] }; the parameters may also sit under `kdf` / `parameters`.
interface Argon2Case {
  readonly description?: string;
  readonly password: string;
  readonly salt: string;
  readonly tag: string;
  readonly memoryKiB?: number;
  readonly passes?: number;
  readonly parallelism?: number;
  readonly kdf?: { memoryKiB: number; passes: number; parallelism: number };
  readonly parameters?: { memoryKiB: number; passes: number; parallelism: number };
}

function argon2Cases(raw: unknown): Argon2Case[] {
  if (Array.isArray(raw)) return raw as Argon2Case[];
  const obj = raw as { cases?: Argon2Case[]; vectors?: Argon2Case[] };
  return obj.cases ?? obj.vectors ?? [raw as Argon2Case];
}

describe.runIf(jsonFiles.includes('argon2id.json'))('argon2id.json (§3, §12)', () => {
  const cases = jsonFiles.includes('argon2id.json') ? argon2Cases(loadJson('argon2id.json')) : [];
  it('has cases', () => expect(cases.length).toBeGreaterThan(0));
  cases.forEach((c, index) => {
    it(`case ${index}: ${c.description ?? c.password}`, () => {
      const p = c.kdf ?? c.parameters ?? { memoryKiB: c.memoryKiB!, passes: c.passes!, parallelism: c.parallelism! };
      expect(p.memoryKiB).toBeTypeOf('number');
      const tag = argon2idTag(Buffer.from(c.password, 'utf8'), hex(c.salt), p, hex(c.tag).length);
      expect(toHex(tag)).toBe(c.tag);
    });
  });
});

// texts.json (§12): { sequenceKeys, keyTexts, shareTexts: [{ input, expect: { ok: … } | { error, issues | problem } }] }
interface TextCase<T> {
  readonly input: string;
  readonly expect: { readonly ok: T } | { readonly error: RefErrorCode; readonly issues?: string[]; readonly problem?: string };
}
interface TextsFile {
  readonly sequenceKeys: TextCase<string[]>[];
  readonly keyTexts: TextCase<string>[];
  readonly shareTexts: TextCase<{ recordId: string; recordKey: string }>[];
}

describe.runIf(jsonFiles.includes('texts.json'))('texts.json (§10, §11, §11.1, §12)', () => {
  const texts = (jsonFiles.includes('texts.json') ? loadJson('texts.json') : {}) as TextsFile;
  it('has the three lists', () => {
    expect(texts.sequenceKeys?.length).toBeGreaterThan(0);
    expect(texts.keyTexts?.length).toBeGreaterThan(0);
    expect(texts.shareTexts?.length).toBeGreaterThan(0);
  });
  const outcome = <T>(f: () => T): { ok: T } | { error: RefErrorCode; issues?: string[]; problem?: string } => {
    try {
      return { ok: f() };
    } catch (e) {
      if (!(e instanceof RefError)) throw e;
      return {
        error: e.code,
        ...(e.details.issues ? { issues: e.details.issues.map((i) => i.code) } : {}),
        ...(e.details.problem ? { problem: e.details.problem } : {}),
      };
    }
  };
  for (const c of texts.sequenceKeys ?? []) {
    it(`sequence key ${JSON.stringify(c.input)}`, () => {
      expect(outcome(() => [...checkSequenceKey(c.input).chars])).toEqual(c.expect);
    });
  }
  for (const c of texts.keyTexts ?? []) {
    it(`key text ${JSON.stringify(c.input)}`, () => {
      expect(outcome(() => toHex(decodeKeyText(c.input)))).toEqual(c.expect);
    });
  }
  for (const c of texts.shareTexts ?? []) {
    it(`share text ${JSON.stringify(c.input)}`, () => {
      expect(outcome(() => {
        const share = decodeShareText(c.input);
        return { recordId: share.locator, recordKey: toHex(share.recordKey) };
      })).toEqual(c.expect);
    });
  }
});

// ───────────────────────────────────── primitives ─────────────────────────────────────

describe('primitives', () => {
  it('@noble/hashes Argon2id reproduces RFC 9106 §5.3', () => {
    const tag = argon2id(Buffer.alloc(32, 1), Buffer.alloc(16, 2), { t: 3, m: 32, p: 4, key: Buffer.alloc(8, 3), personalization: Buffer.alloc(12, 4), dkLen: 32 });
    expect(toHex(tag)).toBe('0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659');
  });

  it('§3 manual HKDF equals node:crypto hkdfSync with salt R and IKM K ‖ X', () => {
    const sk = deriveSequenceKeys(K, R, Buffer.from('adk21937'), KDF, Buffer.alloc(16, 5));
    const ikm = Buffer.concat([K, sk.x]);
    const node = (info: string, length: number) => toHex(Buffer.from(hkdfSync('sha256', ikm, R, info, length)));
    expect(toHex(sk.enc)).toBe(node('ehr-vault/v2/aes-128-gcm', 16));
    expect(toHex(sk.commit)).toBe(node('ehr-vault/v2/key-commitment', 32));
    expect(toHex(sk.frag)).toBe(node('ehr-vault/v2/fragment-mac', 32));
    expect(toHex(sk.wrap)).toBe(node('ehr-vault/v2/object-wrap', 16));
    expect(toHex(sk.check)).toBe(node('ehr-vault/v2/sequence-check', 32));
  });

  it('§4.2 AES-CTR: keystream block k is AES(start block + k)', () => {
    const key = hex('2b7e151628aed2a6abf7158809cf4f3c');
    const j = 0x1234;
    const zeros = Buffer.alloc(16 * 3 + 5);
    const stream = ctrTransform(key, j, zeros);
    const ecb = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
    for (let k = 0; k < 4; k++) {
      const block = counterBlock(j);
      block.writeBigUInt64BE(BigInt(k), 8);
      const ks = ecb.update(block);
      expect(toHex(stream.subarray(16 * k, 16 * k + 16))).toBe(toHex(ks.subarray(0, Math.min(16, stream.length - 16 * k))));
    }
    expect(toHex(counterBlock(j))).toBe('12340000000000000000000000000000');
  });
});

// ───────────────────────────────────── §4.3 Padmé ─────────────────────────────────────

describe('Padmé (§4.3)', () => {
  it('matches the PURBs definition on small values', () => {
    // E = ⌊log₂ L⌋, S = ⌊log₂ E⌋ + 1, z = E − S
    const table: [number, number][] = [
      [2, 2], [3, 3], [7, 7], [8, 8], [9, 10], [15, 16], [16, 16], [17, 18], [31, 32], [33, 36], [100, 104], [1000, 1024],
      [344, 352], [1025, 1088],
    ];
    for (const [l, p] of table) expect([l, Number(padme(l))]).toEqual([l, p]);
  });

  it('works beyond 2^32 and 2^53 (no 32-bit bitwise operators)', () => {
    // L = 2^32 + 1: E = 32, S = 6, z = 26 → ⌈L / 2^26⌉ · 2^26 = 2^32 + 2^26
    expect(padme(2n ** 32n + 1n)).toBe(2n ** 32n + 2n ** 26n);
    // L = 2^40 + 5: E = 40, S = 6, z = 34
    expect(padme(2n ** 40n + 5n)).toBe(2n ** 40n + 2n ** 34n);
    // L = 2^53 − 1: E = 52, S = 6, z = 46 → 2^53
    expect(padme(2n ** 53n - 1n)).toBe(2n ** 53n);
    expect(padme(2n ** 60n)).toBe(2n ** 60n);
  });

  it('overhead stays within 12 % and the result is a multiple of 2^z', () => {
    for (let l = 2; l < 5000; l++) {
      const p = Number(padme(l));
      expect(p).toBeGreaterThanOrEqual(l);
      expect(p / l).toBeLessThanOrEqual(1.12 + 1e-9);
    }
  });
});

// ───────────────────────────────────── §10, §11, §11.1 texts ─────────────────────────────────────

describe('sequence key (§10)', () => {
  it('the spec examples', () => {
    expect(checkSequenceKey('adk21937').chars).toHaveLength(8);
    expect(sequenceKeyIssues('Adk 1234').issues.map((i) => i.code)).toEqual(['WHITESPACE']);
    expect(sequenceKeyIssues('Adk21224').issues).toEqual([{ code: 'REPEATED', characters: ['2'] }]);
    expect(sequenceKeyIssues('Adk12').issues.map((i) => i.code)).toEqual(['TOO_SHORT']);
    expect(refError(() => checkSequenceKey('Adk12')).code).toBe('SEQUENCE_KEY_INVALID');
  });

  it('NFC, code points, categories', () => {
    // e + U+0301 composes to é under NFC: 8 code points, valid
    expect(checkSequenceKey('abcdefge\u0301').chars).toHaveLength(8);
    // 𝔸 (astral) counts once
    expect(checkSequenceKey('𝔸bcdefgh').chars).toHaveLength(8);
    expect(sequenceKeyIssues('abcdefg\u200d').issues).toEqual([{ code: 'DISALLOWED_CHARACTER', characters: ['\u200d'], kinds: ['Cf'] }]);
    expect(sequenceKeyIssues('abcdefg\u0378').issues).toEqual([{ code: 'DISALLOWED_CHARACTER', characters: ['\u0378'], kinds: ['Cn'] }]);
    expect(sequenceKeyIssues('abcdefg\ue000').issues).toEqual([{ code: 'DISALLOWED_CHARACTER', characters: ['\ue000'], kinds: ['Co'] }]);
    expect(sequenceKeyIssues('abcdefg\u3000').issues).toEqual([{ code: 'WHITESPACE', positions: [7] }]);
    expect(sequenceKeyIssues('abcdefg\u0085').issues).toEqual([{ code: 'WHITESPACE', positions: [7] }]);
    expect(sequenceKeyIssues('abcdefg+€').issues).toEqual([]);
    expect(sequenceKeyIssues('a'.repeat(1) + 'bcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%').issues.map((i) => i.code)).toEqual(['TOO_LONG']);
  });
});

describe('key text (§11) and share text (§11.1)', () => {
  const key = hex('000102030405060708090a0b0c0d0e0f');

  it('round trip, whitespace and case of the prefix', () => {
    const text = encodeKeyText(key);
    expect(text).toHaveLength(30);
    expect(toHex(decodeKeyText(text))).toBe(toHex(key));
    expect(toHex(decodeKeyText(` EHRVK1.${text.slice(7, 15)}\u200b\n${text.slice(15)}\ufeff `))).toBe(toHex(key));
  });

  it('problems', () => {
    const text = encodeKeyText(key);
    const problem = (t: string) => refError(() => decodeKeyText(t)).details.problem;
    expect(problem(`x${text}`)).toBe('prefix');
    expect(problem(text.replace('k', '\u212a'))).toBe('prefix');
    expect(problem(text.slice(0, -1))).toBe('length');
    expect(problem(`${text.slice(0, 10)}+${text.slice(11)}`)).toBe('character');
    // every single substitution is detected
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let at = 7; at < 30; at++) {
      for (const c of alphabet) {
        if (c === text[at]) continue;
        const t = text.slice(0, at) + c + text.slice(at + 1);
        expect(['checksum', 'non-canonical']).toContain(problem(t));
      }
    }
    // every adjacent swap of different characters is detected
    for (let at = 7; at < 29; at++) {
      if (text[at] === text[at + 1]) continue;
      const t = text.slice(0, at) + text[at + 1] + text[at] + text.slice(at + 2);
      expect(['checksum', 'non-canonical']).toContain(problem(t));
    }
  });

  it('non-canonical: unused bits set but the checksum right', () => {
    const body = key.toString('base64url');
    const values = Array.from(body, (c) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(c));
    values[21] = values[21]! | 1;
    let s = 0;
    const times = (v: number) => ((v << 1) & 0x40 ? (v << 1) ^ 0x43 : v << 1);
    for (const v of values) s = times(s) ^ v;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const t = `ehrvk1.${values.map((v) => alphabet[v]).join('')}${alphabet[times(s)]}`;
    expect(refError(() => decodeKeyText(t)).details.problem).toBe('non-canonical');
  });

  it('share text', () => {
    const id = hex('f0e1d2c3b4a5968778695a4b3c2d1e0f');
    const share = `ehrv1:${encodeLocator(id)}:${encodeKeyText(key)}`;
    const read = decodeShareText(`  ${share.toUpperCase().slice(0, 6)}${share.slice(6)}.;, `);
    expect(toHex(read.recordId)).toBe(toHex(id));
    expect(toHex(read.recordKey)).toBe(toHex(key));
    const problem = (t: string) => refError(() => decodeShareText(t));
    expect(problem(`ehrv2:${share.slice(6)}`).details.problem).toBe('prefix');
    expect(problem(`ehrv1:${encodeLocator(id).slice(1)}:${encodeKeyText(key)}`).details.problem).toBe('locator');
    expect(problem(`ehrv1:${encodeLocator(id).slice(0, 21)}B:${encodeKeyText(key)}`).details.problem).toBe('locator');
    // 'E' = 000100: the low 2 bits are zero but bit 2 is one; 16 bytes leave 4 unused bits (SPEC-GAP §2.2 says 2)
    expect(problem(`ehrv1:${encodeLocator(id).slice(0, 21)}E:${encodeKeyText(key)}`).details.problem).toBe('locator');
    expect(decodeLocator('AAECAwQFBgcICQoLDA0ODE')).toBeUndefined();
    expect(decodeLocator('AAECAwQFBgcICQoLDA0OAA')).toBeDefined();
    expect(problem(`ehrv1:${encodeLocator(id)}`).details.problem).toBe('key');
    expect(problem(`ehrv1:${encodeLocator(id)}:`).details.problem).toBe('key');
    expect(problem(`ehrv1:${encodeLocator(id)}:xyz`).details.problem).toBe('key');
    const bad = problem(`ehrv1:${encodeLocator(id)}:${encodeKeyText(key).slice(0, -1)}`);
    expect([bad.code, bad.details.problem]).toEqual(['KEY_TEXT_INVALID', 'length']);
  });

  it('storage part with several providers (§11.2, §11.4) reads as the app reads it', () => {
    const A = 'storageAAAAAAAAAAAAAAAAAAAAAAA';
    const B = 'storageBBBBBBBBBBBBBBBBBBBBBBB';
    const providers = [{ storageId: A }, { storageId: B, origin: 'https://two.example.org' }, { storageId: B, origin: 'http://127.0.0.1:9123' }];
    const link = appEncodeShareText({ recordId: 'AAECAwQFBgcICQoLDA0ODw', recordKey: key, storageId: A, providers });
    const storage = link.split(':').slice(3).join(':');
    expect(decodeShareStorage(storage)).toEqual(providers);
    expect(appDecodeShareText(link).providers).toEqual(providers);
    expect(decodeShareStorage(A)).toEqual([{ storageId: A }]);
    for (const wrong of [`${A},${B}`, `${A}.aHR0cDovL2V4YW1wbGUub3Jn`, `${A.slice(0, 10)}`, `${A}.aHR0cHM6Ly94LmV4YW1wbGUub3JnLw`]) {
      expect(refError(() => decodeShareStorage(wrong)).details.problem).toBe('storage');
      expect(() => appDecodeShareText(`ehrv1:AAECAwQFBgcICQoLDA0ODw:${encodeKeyText(key)}:${wrong}`)).toThrow();
    }
  });
});

// ───────────────────────────────────── round trips through the reference writer ─────────────────────────────────────

const K = hex('000102030405060708090a0b0c0d0e0f');
const R = hex('101112131415161718191a1b1c1d1e1f');
const KDF = { memoryKiB: 8, passes: 1, parallelism: 1 };

function input(overrides: Partial<WriterInput> = {}): WriterInput {
  const sequenceKey = overrides.sequenceKey ?? 'adk21937';
  const n = Array.from(sequenceKey.normalize('NFC')).length;
  const body = overrides.body ?? Buffer.from('hello, reference reader: this body spans a few chunks of 64 bytes each. '.repeat(3));
  return {
    recordKey: K,
    recordId: R,
    sequenceKey,
    metadata: { kind: 'file', name: 'note.txt', mime: 'text/plain', byteLength: body.length, createdAt: 1_700_000_000_000 },
    body,
    chunkSize: 64,
    kdf: KDF,
    random: { kdfSalt: Buffer.alloc(16, 0x5a), noncePrefix: hex('a0a1a2a3a4a5a6'), headNonces: Array.from({ length: n }, (_, j) => Buffer.alloc(12, 0x40 + j)) },
    ...overrides,
  };
}

function write(overrides: Partial<WriterInput> = {}, tweaks: WriterTweaks = {}) {
  const i = input(overrides);
  return { i, w: writeRecord(i, tweaks) };
}


function openWritten(i: WriterInput, objects: readonly Buffer[], sequenceKey = i.sequenceKey) {
  return openRecord(i.recordKey, i.recordId, sequenceKey, objects);
}

describe('round trips (reference writer → reference reader)', () => {
  it('a small file in several chunks, objects in any order', () => {
    const { i, w } = write();
    expect(w.objects.every((o) => o.length === w.objects[0]!.length)).toBe(true);
    const opened = openWritten(i, [...w.objects].reverse());
    expect(opened.body.equals(Buffer.from(i.body))).toBe(true);
    expect(opened.metadata).toEqual(i.metadata);
    expect(new Set(w.objectNames).size).toBe(8);
    for (const name of w.objectNames) expect(name).toMatch(/^[a-z2-7]{32}$/);
  });

  it('an empty body (one empty final chunk)', () => {
    const body = Buffer.alloc(0);
    const { i, w } = write({ body, metadata: { kind: 'file', name: 'empty', mime: '', byteLength: 0 } });
    expect(openWritten(i, w.objects).body.length).toBe(0);
  });

  it('a body of exactly two chunks', () => {
    const body = Buffer.alloc(128, 7);
    const { i, w } = write({ body, metadata: { kind: 'file', name: 'x', mime: 'application/octet-stream', byteLength: 128 } });
    expect(openWritten(i, w.objects).body.equals(body)).toBe(true);
  });

  it('an RGBA8 image with a Unicode sequence key (multi-byte index characters)', () => {
    const body = Buffer.from(Array.from({ length: 3 * 2 * 4 }, (_, k) => k * 7));
    const { i, w } = write({
      body,
      sequenceKey: 'ä€𝔸ß中!0z',
      metadata: { kind: 'image', name: 'Röntgen 🦴.png', mime: 'image/png', byteLength: body.length, image: { width: 3, height: 2, pixelFormat: 'RGBA8' } },
    });
    const opened = openWritten(i, w.objects);
    expect(opened.body.equals(body)).toBe(true);
    expect(opened.metadata).toEqual(i.metadata);
  });

  it('a deflate-raw GRAY16 image with 2 frames', () => {
    const pixels = Buffer.alloc(4 * 4 * 2 * 2, 3);
    const body = deflateRawSync(pixels);
    const metadata = { kind: 'image', name: 'ct', mime: '', byteLength: body.length, image: { width: 4, height: 4, pixelFormat: 'GRAY16', frames: 2 }, bodyEncoding: 'deflate-raw' };
    const { i, w } = write({ body, metadata });
    expect(openWritten(i, w.objects).body.equals(body)).toBe(true);
    const wrongSize = deflateRawSync(pixels.subarray(1));
    const bad = write({ body: wrongSize, metadata: { ...metadata, byteLength: wrongSize.length } });
    expect(refError(() => openWritten(bad.i, bad.w.objects)).code).toBe('METADATA_INVALID');
  });

  it('filtered-deflate-raw (§6.2): content is the unfiltered pixels; a filter type 5 or a short stream is METADATA_INVALID', () => {
    // Rows: 2×2 GRAY16 = 4 bytes per row, bpp 2; hand-filtered: row 0 Sub, row 1 Paeth.
    const pixels = Buffer.from([10, 1, 12, 1, 11, 2, 15, 2]);
    const filtered = Buffer.from([1, 10, 1, 2, 0, 4, 1, 1, 3, 0]);
    // Row 1 Paeth: x=11: a=0,b=10,c=0 → p=10, pa=10,pb=0 → b=10 → 1; x=2: b=1 → 1; x=15: a=11,b=12,c=10 → p=13 → b=12 → 3; x=2: a=2,b=1,c=1 → p=2 → a → 0.
    const body = deflateRawSync(filtered);
    const metadata = { kind: 'image', name: 'ct', mime: '', byteLength: body.length, image: { width: 2, height: 2, pixelFormat: 'GRAY16' }, bodyEncoding: 'filtered-deflate-raw' };
    const { i, w } = write({ body, metadata });
    expect(openWritten(i, w.objects).content!.equals(pixels)).toBe(true);
    const badType = Buffer.from(filtered);
    badType[5] = 5;
    const b1 = deflateRawSync(badType);
    const bad = write({ body: b1, metadata: { ...metadata, byteLength: b1.length } });
    expect(refError(() => openWritten(bad.i, bad.w.objects)).code).toBe('METADATA_INVALID');
    const b2 = deflateRawSync(filtered.subarray(1));
    const short = write({ body: b2, metadata: { ...metadata, byteLength: b2.length } });
    expect(refError(() => openWritten(short.i, short.w.objects)).code).toBe('METADATA_INVALID');
  });

  it('webp-lossless (§6.4): content is the declared pixels; a colour body declared GRAY8, a transparent one declared RGB8, another size or a broken container is METADATA_INVALID', () => {
    const vector = JSON.parse(readFileSync(new URL('../vectors/image-webp-rgba8.json', import.meta.url), 'utf8')) as { plaintext: string };
    const body = hex(vector.plaintext);
    const metadata = { kind: 'image', name: 'w', mime: '', byteLength: body.length, image: { width: 5, height: 4, pixelFormat: 'RGBA8' }, bodyEncoding: 'webp-lossless' };
    const { i, w } = write({ body, metadata });
    const pixels = openWritten(i, w.objects).content!;
    expect(pixels.length).toBe(5 * 4 * 4);
    // Fully transparent pixels (every third) keep their RGB.
    expect(pixels[0]).toBe(5);
    expect(pixels[3]).toBe(0);
    const gray = JSON.parse(readFileSync(new URL('../vectors/image-webp-gray8.json', import.meta.url), 'utf8')) as { plaintext: string };
    const grayBody = hex(gray.plaintext);
    const declared = (body: Buffer, image: Record<string, unknown>) => {
      const r = write({ body, metadata: { ...metadata, byteLength: body.length, image } });
      return refError(() => openWritten(r.i, r.w.objects)).code;
    };
    expect(declared(body, { width: 5, height: 4, pixelFormat: 'RGB8' })).toBe('METADATA_INVALID');
    expect(declared(body, { width: 5, height: 4, pixelFormat: 'GRAY8' })).toBe('METADATA_INVALID');
    expect(declared(body, { width: 4, height: 5, pixelFormat: 'RGBA8' })).toBe('METADATA_INVALID');
    expect(declared(grayBody, { width: 6, height: 4, pixelFormat: 'GRAY16' })).toBe('METADATA_INVALID');
    expect(declared(grayBody, { width: 6, height: 4, pixelFormat: 'GRAY8', frames: 2 })).toBe('METADATA_INVALID');
    // The padding byte of the odd VP8L chunk must be zero; nothing may follow it.
    const padded = Buffer.from(grayBody);
    padded[padded.length - 1] = 1;
    expect(declared(padded, { width: 6, height: 4, pixelFormat: 'GRAY8' })).toBe('METADATA_INVALID');
    expect(declared(Buffer.concat([grayBody, Buffer.alloc(2)]), { width: 6, height: 4, pixelFormat: 'GRAY8' })).toBe('METADATA_INVALID');
    const r = write({ body: grayBody, metadata: { ...metadata, byteLength: grayBody.length, image: { width: 6, height: 4, pixelFormat: 'GRAY8' } } });
    expect(openWritten(r.i, r.w.objects).content!.equals(Buffer.from(Array.from({ length: 24 }, (_, k) => (k * 11 + 7) & 0xff)))).toBe(true);
  });

  it('a compressed file (§6.3) inflates to contentLength; another length is METADATA_INVALID; filters on a file are refused', () => {
    const file = Buffer.from('DICM pixel rows '.repeat(50));
    const body = deflateRawSync(file);
    const metadata = { kind: 'file', name: 'ct.dcm', mime: 'application/dicom', byteLength: body.length, bodyEncoding: 'deflate-raw', contentLength: file.length };
    const { i, w } = write({ body, metadata });
    expect(openWritten(i, w.objects).content!.equals(file)).toBe(true);
    const wrong = write({ body, metadata: { ...metadata, contentLength: file.length - 1 } });
    expect(refError(() => openWritten(wrong.i, wrong.w.objects)).code).toBe('METADATA_INVALID');
    const filteredFile = write({ body, metadata: { ...metadata, bodyEncoding: 'filtered-deflate-raw' } });
    expect(refError(() => openWritten(filteredFile.i, filteredFile.w.objects)).code).toBe('METADATA_INVALID');
  });

  it('parity (§4.4): algorithm 01 pinned by hand for one byte column, and the reader opens with any 8 of 10 objects', () => {
    const n = 8;
    // c(r, j) = ((n + r) ⊕ j)⁻¹; one column of data bytes d_j = j + 1
    const column = Array.from({ length: n }, (_, j) => Buffer.of(j + 1));
    const expected0 = column.reduce((acc, d, j) => acc ^ gf256Mul(gf256Inv(8 ^ j), d[0]!), 0);
    expect(parityRow(n, 0, column)[0]).toBe(expected0);
    expect(gf256Mul(0x02, 0x80)).toBe(0x1d);
    expect(gf256Mul(0x03, 0x07)).toBe(0x09);
    const heads = (count: number) => Array.from({ length: count }, (_, j) => Buffer.alloc(12, 0x40 + j));
    const { i, w } = write({ parity: 2, random: { kdfSalt: Buffer.alloc(16, 0x5a), noncePrefix: hex('a0a1a2a3a4a5a6'), headNonces: heads(10) } });
    expect(w.objects).toHaveLength(10);
    const body = Buffer.from(i.body);
    for (let a = 0; a < 10; a++) {
      for (let b = a + 1; b < 10; b++) {
        expect(openWritten(i, w.objects.filter((_, k) => k !== a && k !== b)).body.equals(body)).toBe(true);
      }
    }
    // one damaged object (frame, payload, head, parity body), and one removed plus one damaged
    const damaged = (k: number, at: number) =>
      w.objects.map((o, x) => {
        if (x !== k) return o;
        const copy = Buffer.from(o);
        copy[at]! ^= 0x01;
        return copy;
      });
    const B = Number(w.bodyLength);
    for (const [k, at] of [[2, HEAD_LENGTH + 3], [5, HEAD_LENGTH + Math.floor(B / 2)], [0, 30], [9, HEAD_LENGTH + 10], [7, HEAD_LENGTH + B - 1], [8, HEAD_LENGTH + 3], [9, HEAD_LENGTH + Math.floor(B / 2)]] as const) {
      expect(openWritten(i, damaged(k, at)).body.equals(body)).toBe(true);
      expect(openWritten(i, damaged(k, at).filter((_, x) => x !== (k + 3) % 10)).body.equals(body)).toBe(true);
    }
    // three removed: FRAGMENT_MISSING naming the missing data fragments
    const e = refError(() => openWritten(i, w.objects.filter((_, k) => k !== 0 && k !== 4 && k !== 9)));
    expect([e.code, e.details.missing, e.details.positions]).toEqual(['FRAGMENT_MISSING', ['a', '1'], [0, 4]]);
    // p > 0 requires algorithm 01
    const alg0 = write({ parity: 2, random: { kdfSalt: Buffer.alloc(16, 0x5a), noncePrefix: hex('a0a1a2a3a4a5a6'), headNonces: heads(10) } }, { headFields: (_j, f) => ({ ...f, parityAlgorithm: 0 }) });
    expect(refError(() => openWritten(alg0.i, alg0.w.objects)).code).toBe('FRAGMENT_MALFORMED');
  });

  it('a 64-character key', () => {
    const sequenceKey = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!?';
    const { i, w } = write({ sequenceKey });
    expect(w.objects).toHaveLength(64);
    expect(openWritten(i, w.objects).body.equals(Buffer.from(i.body))).toBe(true);
  });
});

// ───────────────────────────────────── one tamper case per §9 step ─────────────────────────────────────

describe('tampered records: the code and blame of §9', () => {
  const base = write();
  const { i } = base;
  const objects = base.w.objects;
  const chars = Array.from(i.sequenceKey);
  const fails = (objs: readonly Buffer[], sequenceKey = i.sequenceKey) => refError(() => openWritten(i, objs, sequenceKey));
  const flip = (b: Buffer, at: number) => {
    const c = Buffer.from(b);
    c[at] = c[at]! ^ 0x01;
    return c;
  };
  const tweaked = (tweaks: WriterTweaks, overrides: Partial<WriterInput> = {}) => {
    const t = write(overrides, tweaks);
    return refError(() => openWritten(t.i, t.w.objects));
  };

  it('step 1: SEQUENCE_KEY_INVALID', () => {
    const e = fails(objects, 'adk 1937');
    expect(e.code).toBe('SEQUENCE_KEY_INVALID');
    expect(e.details.issues?.map((x) => x.code)).toEqual(['WHITESPACE']);
  });

  it('step 2: FRAGMENT_MISSING with every character', () => {
    const e = fails([]);
    expect([e.code, e.details.missing]).toEqual(['FRAGMENT_MISSING', chars]);
  });

  it('step 3: FRAGMENT_TRUNCATED (shorter than a head)', () => {
    const e = fails([objects[0]!, objects[1]!.subarray(0, 75), objects[2]!.subarray(0, 10)]);
    expect([e.code, e.details.sources]).toEqual(['FRAGMENT_TRUNCATED', [1, 2]]);
  });

  it('step 4: WRONG_RECORD_KEY and FRAGMENT_FOREIGN', () => {
    expect(refError(() => openRecord(hex('ff'.repeat(16)), R, i.sequenceKey, objects)).code).toBe('WRONG_RECORD_KEY');
    expect(refError(() => openRecord(K, hex('ff'.repeat(16)), i.sequenceKey, objects)).code).toBe('WRONG_RECORD_KEY');
    const other = write({ recordId: hex('ee'.repeat(16)) });
    const e = fails([objects[0]!, other.w.objects[1]!, objects[2]!, flip(objects[3]!, 30)]);
    expect([e.code, e.details.sources]).toEqual(['FRAGMENT_FOREIGN', [1, 3]]);
  });

  it('step 5: FRAGMENT_UNSUPPORTED', () => {
    const e = tweaked({ headFields: (j, f) => (j === 2 ? { ...f, version: 3 } : f) });
    expect([e.code, e.details.sources]).toEqual(['FRAGMENT_UNSUPPORTED', [2]]);
  });

  it('step 6: FRAGMENT_MALFORMED', () => {
    const cases: WriterTweaks['headFields'][] = [
      (j, f) => (j === 1 ? { ...f, parallelism: 2 } : f),
      (j, f) => (j === 1 ? { ...f, kind: 1 } : f),
      (j, f) => (j === 1 ? { ...f, slot: 8 } : f),
      (j, f) => (j === 1 ? { ...f, passes: 17 } : f),
      (j, f) => (j === 1 ? { ...f, memoryKiB: 262_145 } : f),
      (j, f) => (j === 1 ? { ...f, parityAlgorithm: 1 } : f),
      (j, f) => (j === 1 ? { ...f, reserved: Buffer.from([0, 0, 0, 0, 0, 0, 1]) } : f),
      (j, f) => (j === 1 ? { ...f, bodyLength: 52n } : f),
      (j, f) => (j === 1 ? { ...f, n: 7 } : f),
    ];
    for (const headFields of cases) {
      const e = tweaked({ headFields });
      expect([e.code, e.details.sources]).toEqual(['FRAGMENT_MALFORMED', [1]]);
    }
  });

  it('step 7: FRAGMENT_TRUNCATED / FRAGMENT_MALFORMED by length', () => {
    const short = fails([objects[0]!, objects[1]!.subarray(0, objects[1]!.length - 1), ...objects.slice(2)]);
    expect([short.code, short.details.sources]).toEqual(['FRAGMENT_TRUNCATED', [1]]);
    const long = fails([...objects.slice(0, 5), Buffer.concat([objects[5]!, Buffer.of(0)]), ...objects.slice(6)]);
    expect([long.code, long.details.sources]).toEqual(['FRAGMENT_MALFORMED', [5]]);
  });

  it('step 8: CHAIN_BROKEN (different protections) and FRAGMENT_DUPLICATE', () => {
    const e = tweaked({ headFields: (j, f) => (j === 4 ? { ...f, passes: 2 } : f) });
    expect([e.code, e.details.sources]).toEqual(['CHAIN_BROKEN', [4]]);
    const d = fails([objects[3]!, ...objects]);
    expect([d.code, d.details.sources]).toEqual(['FRAGMENT_DUPLICATE', [0, 4]]);
  });

  it('step 9: WRONG_SEQUENCE_KEY (length, order)', () => {
    expect(fails(objects, 'adk219370').code).toBe('WRONG_SEQUENCE_KEY');
    expect(fails(objects, 'dak21937').code).toBe('WRONG_SEQUENCE_KEY');
  });

  it('step 10: FRAGMENT_MISSING with characters and positions', () => {
    const e = fails([objects[0]!, objects[2]!, objects[3]!, objects[4]!, objects[5]!, objects[6]!]);
    expect([e.code, e.details.missing, e.details.positions]).toEqual(['FRAGMENT_MISSING', ['d', '7'], [1, 7]]);
  });

  it('step 11: FRAGMENT_TAMPERED in a frame field, the mac or the padding', () => {
    const inFrame = fails([...objects.slice(0, 2), flip(objects[2]!, HEAD_LENGTH + 3), ...objects.slice(3)]);
    expect([inFrame.code, inFrame.details.sources, inFrame.details.indexChars]).toEqual(['FRAGMENT_TAMPERED', [2], ['k']]);
    const inPadding = fails([...objects.slice(0, 6), flip(objects[6]!, objects[6]!.length - 1), objects[7]!].reverse());
    expect([inPadding.code, inPadding.details.sources, inPadding.details.indexChars]).toEqual(['FRAGMENT_TAMPERED', [1], ['3']]);
    const macBroken = tweaked({ frame: (idx, f) => (idx === 0 ? flip(f, f.length - 1) : f) });
    expect([macBroken.code, macBroken.details.indexChars]).toEqual(['FRAGMENT_TAMPERED', ['a']]);
    const tooLong = tweaked({ frameParts: (idx, p) => (idx === 0 ? { ...p, payload: Buffer.concat([p.payload, Buffer.alloc(500)]) } : p) });
    expect([tooLong.code, tooLong.details.indexChars]).toEqual(['FRAGMENT_TAMPERED', ['a']]);
    const badChar = tweaked({ frameParts: (idx, p) => (idx === 0 ? { ...p, own: Buffer.from([0xc0, 0x80]) } : p) });
    expect([badChar.code, badChar.details.indexChars]).toEqual(['FRAGMENT_TAMPERED', ['a']]);
  });

  it('step 12: CHAIN_BROKEN and CHAIN_LOOP on authentic frames', () => {
    const wrongI = tweaked({ frameParts: (idx, p) => (idx === 3 ? { ...p, i: 4 } : p) });
    expect(wrongI.code).toBe('CHAIN_BROKEN');
    const wrongN = tweaked({ frameParts: (idx, p) => (idx === 3 ? { ...p, n: 9 } : p) });
    expect(wrongN.code).toBe('CHAIN_BROKEN');
    const wrongOwn = tweaked({ frameParts: (idx, p) => (idx === 3 ? { ...p, own: Buffer.from('x') } : p) });
    expect(wrongOwn.code).toBe('CHAIN_BROKEN');
    // frame 3 ('2') points back to 'd' (position 1) → loop
    const loop = tweaked({ frameParts: (idx, p) => (idx === 3 ? { ...p, next: Buffer.from('d') } : p) });
    expect([loop.code, loop.details.indexChars]).toEqual(['CHAIN_LOOP', ['2']]);
    // frame 3 points to itself
    const self = tweaked({ frameParts: (idx, p) => (idx === 3 ? { ...p, next: Buffer.from('2') } : p) });
    expect(self.code).toBe('CHAIN_LOOP');
    // frame 3 points forward, skipping 4 → broken
    const jump = tweaked({ frameParts: (idx, p) => (idx === 3 ? { ...p, next: Buffer.from('3') } : p) });
    expect(jump.code).toBe('CHAIN_BROKEN');
    // the last frame closes the ring to s0; pointing to s1 is a loop
    const lastLoop = tweaked({ frameParts: (idx, p) => (idx === 7 ? { ...p, next: Buffer.from('d') } : p) });
    expect(lastLoop.code).toBe('CHAIN_LOOP');
    // a frame pointing to s0 before the end is a loop
    const early = tweaked({ frameParts: (idx, p) => (idx === 2 ? { ...p, next: Buffer.from('a') } : p) });
    expect(early.code).toBe('CHAIN_LOOP');
  });

  it('step 13: ENVELOPE_TRUNCATED, key commitment, magic, version, ranges', () => {
    const tiny = tweaked({ payloads: (ps) => ps.map((p) => p.subarray(0, 5)) });
    expect(tiny.code).toBe('ENVELOPE_TRUNCATED');
    const commit = tweaked({ envelope: (env) => flip(env, 30) });
    // envelope bytes 0–55 of a ~500-byte envelope in 8 fragments: fragment 0 holds them
    expect([commit.code, commit.details.indexChars, commit.details.sources]).toEqual(['FRAGMENT_TAMPERED', ['a'], [0]]);
    expect(tweaked({ envelopeHeader: (f) => ({ ...f, magic: Buffer.from('EHRW') }) }).code).toBe('ENVELOPE_MALFORMED');
    expect(tweaked({ envelopeHeader: (f) => ({ ...f, version: 1 }) }).code).toBe('ENVELOPE_UNSUPPORTED');
    expect(tweaked({ envelopeHeader: (f) => ({ ...f, flags: 1 }) }).code).toBe('ENVELOPE_UNSUPPORTED');
    expect(tweaked({ envelopeHeader: (f) => ({ ...f, algorithm: 2 }) }).code).toBe('ENVELOPE_UNSUPPORTED');
    expect(tweaked({ envelopeHeader: (f) => ({ ...f, chunkSize: 63 }) }).code).toBe('ENVELOPE_MALFORMED');
    expect(tweaked({ envelopeHeader: (f) => ({ ...f, metadataSegmentLength: f.metadataSegmentLength + 1 }) }).code).toBe('ENVELOPE_MALFORMED');
    expect(tweaked({ envelopeHeader: (f) => ({ ...f, reserved: 1 }) }).code).toBe('ENVELOPE_MALFORMED');
  });

  it('step 14: lengths, metadata authentication and content, B', () => {
    expect(tweaked({ envelope: (env) => env.subarray(0, 56 + 100) }).code).toBe('ENVELOPE_TRUNCATED');
    const meta = tweaked({ envelope: (env) => flip(env, 56 + 100) });
    expect(meta.code).toBe('FRAGMENT_TAMPERED');
    expect(meta.details.indexChars!.length).toBeGreaterThan(0);
    const invalid = (json: string) => tweaked({ metadataJson: json }).code;
    const opens = (json: string) => {
      const t = write({}, { metadataJson: json });
      return openWritten(t.i, t.w.objects).metadata;
    };
    const n = i.body.length;
    expect(invalid(`{"kind":"file","name":"a","mime":"text","byteLength":${n}}`)).toBe('METADATA_INVALID');
    expect(invalid(`{"kind":"file","name":"a","mime":"","byteLength":${n},"image":{"width":1,"height":1,"pixelFormat":"GRAY8"}}`)).toBe('METADATA_INVALID');
    expect(invalid(`{"kind":"picture","name":"a","mime":"","byteLength":${n}}`)).toBe('METADATA_INVALID');
    expect(invalid(`{"kind":"file","name":"a","mime":"","byteLength":${n},"createdAt":-1}`)).toBe('METADATA_INVALID');
    expect(invalid(`[1]`)).toBe('METADATA_INVALID');
    // §6 reads JSON as JSON.parse does: a repeated name counts with its last value; 1.0 and 1e0 are integers.
    expect(opens(`{"kind":"file","name":"a","mime":"","byteLength":${n},"name":"b"}`)).toMatchObject({ name: 'b' });
    expect(opens(`{"kind":"file","name":"a","mime":"","byteLength":${n}.0}`)).toMatchObject({ byteLength: n });
    expect(opens(`{"kind":"file","name":"a","mime":"","byteLength":${n}e0}`)).toMatchObject({ byteLength: n });
    expect(invalid(`{"kind":"file","name":"a","mime":"","byteLength":"${n}"}`)).toBe('METADATA_INVALID');
    expect(invalid(`{"kind":"file","name":"a","mime":"","byteLength":${n}} x`)).toBe('METADATA_INVALID');
    expect(invalid(`\ufeff{"kind":"file","name":"a","mime":"","byteLength":${n}}`)).toBe('METADATA_INVALID');
    expect(tweaked({ metadataBlock: (b) => { b[b.length - 1] = 1; return b; } }).code).toBe('METADATA_INVALID');
    expect(tweaked({ metadataBlock: (b) => { b.writeUInt32BE(b.length - 3, 0); return b; } }).code).toBe('METADATA_INVALID');
    expect(tweaked({ envelope: (env) => env.subarray(0, env.length - 1) }).code).toBe('ENVELOPE_TRUNCATED');
    expect(tweaked({ envelope: (env) => Buffer.concat([env, Buffer.alloc(3)]) }).code).toBe('ENVELOPE_TRAILING_DATA');
    expect(tweaked({ bodyLength: base.w.bodyLength + 1n }).code).toBe('ENVELOPE_MALFORMED');
  });

  it('step 14: unknown members are ignored and kept in the metadata (B recomputed by the writer)', () => {
    const deep = `${'['.repeat(3000)}${']'.repeat(3000)}`;
    const json = ` { "extra" : [1,{"x":null, "y": 2.5e3}], "mime":"", "byteLength" : ${i.body.length} ,"kind":"file","name":"a\\u0000\\ud800", "deep": ${deep}, "__proto__": {"z": 1}}`;
    const t = write({}, { metadataJson: json });
    const metadata = openWritten(t.i, t.w.objects).metadata;
    // (compared as JSON text: a deep equality walk of 3000 nested arrays overflows the stack)
    expect(JSON.stringify(metadata)).toBe(JSON.stringify(JSON.parse(json)));
    expect(Object.keys(metadata)).toContain('__proto__');
  });

  it('step 7 with a long and a short object: truncated objects are reported first', () => {
    const e = fails([objects[0]!, Buffer.concat([objects[1]!, Buffer.of(0)]), objects[2]!.subarray(0, 100), ...objects.slice(3)]);
    expect([e.code, e.details.sources]).toEqual(['FRAGMENT_TRUNCATED', [2]]);
  });

  it('step 15: a chunk held by more than two fragments names all of them', () => {
    const sequenceKey = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!?';
    const t = write({ sequenceKey });
    const chunk0 = 56 + t.w.metadataSegmentLength;
    const e = tweaked({ envelope: (env) => flip(env, chunk0 + 40) }, { sequenceKey });
    const keyChars = Array.from(sequenceKey);
    const holders = t.w.payloadOffsets.flatMap((off, k) => {
      const end = t.w.payloadOffsets[k + 1] ?? t.w.envelope.length;
      return off < chunk0 + 80 && end > chunk0 ? [keyChars[k]!] : [];
    });
    expect(holders.length).toBeGreaterThan(2);
    expect([e.code, e.details.chunk, e.details.indexChars]).toEqual(['FRAGMENT_TAMPERED', 0, holders]);
  });

  it('step 15: the lowest failing chunk, and the fragments that hold it', () => {
    // chunk 1 starts at 56 + Mseg + (64 + 16)
    const chunk1 = 56 + base.w.metadataSegmentLength + 80;
    const e = tweaked({ envelope: (env) => flip(flip(env, chunk1 + 5), env.length - 3) });
    expect([e.code, e.details.chunk]).toEqual(['FRAGMENT_TAMPERED', 1]);
    const holders = base.w.payloadOffsets.flatMap((off, k) => {
      const end = base.w.payloadOffsets[k + 1] ?? base.w.envelope.length;
      return off < chunk1 + 80 && end > chunk1 ? [chars[k]!] : [];
    });
    expect(e.details.indexChars).toEqual(holders);
  });
});
