import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BASE64URL_ALPHABET,
  KEY_TEXT_LENGTH,
  KEY_TEXT_PREFIX,
  KeyTextInvalidError,
  decodeKeyText,
  encodeKeyText,
  toBase64Url,
  toHex,
  type EhrVaultError,
  type KeyTextProblem,
} from '../../../src/core/index.js';
import { caughtSync, pseudoRandomBytes } from './helpers.js';

/** Multiplication by x in GF(2⁶) mod x⁶ + x + 1, written from docs/FORMAT.md §9 (independent of the implementation). */
function specTimesX(value: number): number {
  const shifted = value << 1;
  return shifted & 0x40 ? (shifted ^ 0x43) & 0x3f : shifted;
}

/** The Damm check state over the values of `text` (body, or body ‖ check). */
function specState(text: string): number {
  let state = 0;
  for (const char of text) state = specTimesX(state) ^ BASE64URL_ALPHABET.indexOf(char);
  return state;
}

/** The check character FORMAT.md §9 prescribes: x·s after the 22 body values. */
function specCheckCharacter(body: string): string {
  return BASE64URL_ALPHABET[specTimesX(specState(body))]!;
}

function problemOf(text: string): KeyTextProblem {
  const error: EhrVaultError = caughtSync(() => decodeKeyText(text), 'KEY_TEXT_INVALID');
  expect(error).toBeInstanceOf(KeyTextInvalidError);
  const problem = (error as KeyTextInvalidError).problem;
  expect(error.details.problem).toBe(problem);
  return problem;
}

/** Outcome of decoding, without assertion overhead, for the exhaustive loops. */
function outcome(text: string): string {
  try {
    return `key ${toHex(decodeKeyText(text))}`;
  } catch (error) {
    return error instanceof KeyTextInvalidError && error.code === 'KEY_TEXT_INVALID' ? error.problem : `unexpected ${String(error)}`;
  }
}

const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 });

/** Keys whose texts exercise the alphabet's ends ('A' = 0, '_' = 63) and ordinary values. */
const SAMPLE_KEYS: Uint8Array[] = [
  new Uint8Array(16),
  new Uint8Array(16).fill(0xff),
  Uint8Array.from({ length: 16 }, (_, i) => i),
  pseudoRandomBytes(16, 7),
  pseudoRandomBytes(16, 99),
];

describe('encodeKeyText / decodeKeyText', () => {
  it('round-trips every 16-byte key; the text is the prefix, base64url and a spec Luhn check', () => {
    fc.assert(
      fc.property(bytes16, (key) => {
        const text = encodeKeyText(key);
        expect(text.startsWith('ehrvk1.')).toBe(true);
        expect(text).toHaveLength(30);
        expect(KEY_TEXT_LENGTH).toBe(30);
        expect(text).toMatch(/^ehrvk1\.[A-Za-z0-9_-]{23}$/u);
        const body = text.slice(7, 29);
        expect(body).toBe(toBase64Url(key));
        expect(text[29]).toBe(specCheckCharacter(body));
        expect(specState(text.slice(7))).toBe(0);
        expect(toHex(decodeKeyText(text))).toBe(toHex(key));
      }),
      { numRuns: 300 },
    );
  });

  it('ignores whitespace, line breaks and zero-width characters pasted anywhere', () => {
    fc.assert(
      fc.property(
        bytes16,
        fc.array(fc.tuple(fc.nat({ max: 30 }), fc.constantFrom(' ', '\n', '\r\n', '\t', '\u00A0', '\u2028', '\u3000', '\u200B', '\u200C', '\u200D', '\uFEFF')), { maxLength: 8 }),
        (key, insertions) => {
          let text = encodeKeyText(key);
          for (const [at, blank] of insertions) text = text.slice(0, at) + blank + text.slice(at);
          expect(toHex(decodeKeyText(text))).toBe(toHex(key));
        },
      ),
      { numRuns: 200 },
    );
    const key = SAMPLE_KEYS[3]!;
    const text = encodeKeyText(key);
    expect(toHex(decodeKeyText(`  \n${text.slice(0, 15)}\n${text.slice(15)}  \r\n`))).toBe(toHex(key));
  });

  it('matches the prefix case-insensitively, as the spec says', () => {
    const key = SAMPLE_KEYS[4]!;
    const text = encodeKeyText(key);
    expect(toHex(decodeKeyText(`EHRVK1.${text.slice(7)}`))).toBe(toHex(key));
  });

  it('refuses to encode a key that is not 16 bytes', () => {
    for (const length of [0, 15, 17, 32]) {
      const error = caughtSync(() => encodeKeyText(new Uint8Array(length)), 'KEY_TEXT_INVALID');
      expect((error as KeyTextInvalidError).problem).toBe('length');
    }
  });
});

describe('decodeKeyText rejects mistakes with a typed problem', () => {
  const text = encodeKeyText(SAMPLE_KEYS[3]!);

  it("wrong or missing prefix → 'prefix'", () => {
    expect(problemOf(`ehrvk2.${text.slice(7)}`)).toBe('prefix');
    expect(problemOf(text.slice(7))).toBe('prefix');
    expect(problemOf(`ehrvk1${text.slice(7)}`)).toBe('prefix');
    expect(problemOf('')).toBe('prefix');
  });

  it("a missing or an extra character → 'length'", () => {
    for (let i = 7; i < 30; i++) expect(problemOf(text.slice(0, i) + text.slice(i + 1))).toBe('length');
    expect(problemOf(`${text}A`)).toBe('length');
    expect(problemOf('ehrvk1.')).toBe('length');
    const error = caughtSync(() => decodeKeyText(text.slice(0, 29)), 'KEY_TEXT_INVALID');
    expect(error.details.length).toBe(29);
  });

  it("'+', '/', '=' and other non-base64url characters → 'character' with the position", () => {
    for (const bad of ['+', '/', '=', '.', '~', 'é', '!']) {
      const spoiled = `${text.slice(0, 12)}${bad}${text.slice(13)}`;
      expect(problemOf(spoiled)).toBe('character');
      expect(caughtSync(() => decodeKeyText(spoiled)).details.position).toBe(12);
    }
  });

  it("a key text whose last body character has non-zero unused bits → 'non-canonical'", () => {
    const body = toBase64Url(SAMPLE_KEYS[3]!);
    const last = BASE64URL_ALPHABET.indexOf(body[21]!);
    for (let low = 1; low < 16; low++) {
      const spoiledBody = body.slice(0, 21) + BASE64URL_ALPHABET[(last & 0b110000) | low]!;
      expect(problemOf(KEY_TEXT_PREFIX + spoiledBody + specCheckCharacter(spoiledBody))).toBe('non-canonical');
    }
  });

  it('every single-character substitution is rejected; none decodes to another key', () => {
    const replacements = [...BASE64URL_ALPHABET, '+', '/', '=', '.', '~', 'é', '*', '\u00FF', '\u4E2D'];
    const wrong: string[] = [];
    let checked = 0;
    for (const key of SAMPLE_KEYS) {
      const original = encodeKeyText(key);
      for (let position = 0; position < original.length; position++) {
        for (const replacement of replacements) {
          if (replacement === original[position]) continue;
          const spoiled = original.slice(0, position) + replacement + original.slice(position + 1);
          checked++;
          let expected: string;
          if (position < KEY_TEXT_PREFIX.length) {
            // The prefix is matched case-insensitively: only its other case is accepted, and then the key is the same.
            expected = replacement.toLowerCase() === original[position] ? `key ${toHex(key)}` : 'prefix';
          } else {
            expected = BASE64URL_ALPHABET.includes(replacement) ? 'checksum' : 'character';
          }
          const got = outcome(spoiled);
          if (got !== expected) wrong.push(`${spoiled}: expected ${expected}, got ${got}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    // 5 keys × 30 positions × 73 replacements, less the few that equal the original character.
    expect(checked).toBeGreaterThan(SAMPLE_KEYS.length * 30 * (replacements.length - 1) - 1);
  });

  it('rejects random single substitutions of random keys (property)', () => {
    fc.assert(
      fc.property(bytes16, fc.integer({ min: 7, max: 29 }), fc.constantFrom(...BASE64URL_ALPHABET), (key, position, replacement) => {
        const original = encodeKeyText(key);
        fc.pre(original[position] !== replacement);
        const spoiled = original.slice(0, position) + replacement + original.slice(position + 1);
        expect(problemOf(spoiled)).toBe('checksum');
      }),
      { numRuns: 300 },
    );
  });
});

describe('adjacent transpositions (FORMAT.md §9: every swap of two adjacent different characters is detected)', () => {
  const swapAt = (text: string, position: number) => text.slice(0, position) + text[position + 1]! + text[position]! + text.slice(position + 2);

  it('detects swaps of adjacent different characters anywhere in body and check (property)', () => {
    fc.assert(
      fc.property(bytes16, fc.integer({ min: 7, max: 28 }), (key, position) => {
        const original = encodeKeyText(key);
        fc.pre(original[position] !== original[position + 1]);
        expect(problemOf(swapAt(original, position))).toBe('checksum');
      }),
      { numRuns: 500 },
    );
  });

  it('detects the swap of every ordered pair of different characters inside the body (exhaustive)', () => {
    const base = toBase64Url(SAMPLE_KEYS[3]!);
    const wrong: string[] = [];
    for (const at of [0, 10, 19]) {
      for (const a of BASE64URL_ALPHABET) {
        for (const b of BASE64URL_ALPHABET) {
          if (a === b) continue;
          const body = base.slice(0, at) + a + b + base.slice(at + 2);
          const valid = KEY_TEXT_PREFIX + body + specCheckCharacter(body);
          if (!outcome(valid).startsWith('key ')) wrong.push(`${valid} should be valid`);
          const swapped = swapAt(valid, KEY_TEXT_PREFIX.length + at);
          if (outcome(swapped) !== 'checksum') wrong.push(`${swapped}: ${outcome(swapped)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("detects swapping adjacent 'A' and '_' (missed by the former Luhn mod 64 check)", () => {
    const key = new Uint8Array(16);
    key.set([0x03, 0xf0, 0x12]);
    const original = encodeKeyText(key);
    expect(original.slice(7, 9)).toBe('A_');
    expect(problemOf(`${KEY_TEXT_PREFIX}_A${original.slice(9)}`)).toBe('checksum');
  });
});
