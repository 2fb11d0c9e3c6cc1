import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EhrVaultError,
  SEQUENCE_KEY_MAX_LENGTH,
  SEQUENCE_KEY_MIN_LENGTH,
  SequenceKeyInvalidError,
  describeSequenceKeyIssue,
  generateSequenceKey,
  parseSequenceKey,
  validateSequenceKey,
  type SequenceKey,
  type SequenceKeyIssue,
} from '../../../src/core/index.js';
import { caughtSync } from './helpers.js';

function issuesOf(input: string): readonly SequenceKeyIssue[] {
  const result = validateSequenceKey(input);
  if (result.ok) return expect.fail(`expected ${JSON.stringify(input)} to be invalid`);
  expect(result.messages).toHaveLength(result.issues.length);
  return result.issues;
}

function keyOf(input: string): SequenceKey {
  const result = validateSequenceKey(input);
  if (!result.ok) return expect.fail(`expected ${JSON.stringify(input)} to be valid: ${result.messages.join(' ')}`);
  return result.key;
}

describe('validateSequenceKey: the paper examples (V.D)', () => {
  it('adk21937 is valid, n = 8, characters in order', () => {
    const key = keyOf('adk21937');
    expect(key.n).toBe(8);
    expect(key.chars).toEqual(['a', 'd', 'k', '2', '1', '9', '3', '7']);
    expect(key.text).toBe('adk21937');
  });

  it("'Adk 1234' is rejected for whitespace at zero-based position 3 only", () => {
    expect(issuesOf('Adk 1234')).toEqual([{ code: 'WHITESPACE', positions: [3] }]);
  });

  it("'Adk21224' is rejected for the repeated '2' only", () => {
    expect(issuesOf('Adk21224')).toEqual([{ code: 'REPEATED', characters: ['2'] }]);
  });

  it("'Adk12' is rejected as too short (5 < 8) only", () => {
    expect(issuesOf('Adk12')).toEqual([{ code: 'TOO_SHORT', length: 5, min: 8 }]);
  });
});

describe('validateSequenceKey: every reason at once', () => {
  it("'a a' is too short, has whitespace and repeats 'a'", () => {
    expect(issuesOf('a a')).toEqual([
      { code: 'TOO_SHORT', length: 3, min: 8 },
      { code: 'WHITESPACE', positions: [1] },
      { code: 'REPEATED', characters: ['a'] },
    ]);
  });

  it('reports whitespace, repetition and disallowed characters together on a long enough key', () => {
    expect(issuesOf('ab c\u200Dbb\u0007xyz')).toEqual([
      { code: 'WHITESPACE', positions: [2] },
      { code: 'REPEATED', characters: ['b'] },
      {
        code: 'DISALLOWED_CHARACTER',
        characters: [
          { character: '\u200D', codePoint: 'U+200D', kind: 'format' },
          { character: '\u0007', codePoint: 'U+0007', kind: 'control' },
        ],
      },
    ]);
  });

  it('names each repeated character once, in order of first repetition', () => {
    expect(issuesOf('abcabcdefgh')).toEqual([{ code: 'REPEATED', characters: ['a', 'b', 'c'] }]);
  });

  it('lists all whitespace positions', () => {
    expect(issuesOf(' abc defgh ')).toEqual([
      { code: 'WHITESPACE', positions: [0, 4, 10] },
      { code: 'REPEATED', characters: [' '] },
    ]);
  });
});

describe('validateSequenceKey: whitespace of any kind', () => {
  const blanks: [string, string][] = [
    ['space', ' '],
    ['tab', '\t'],
    ['newline', '\n'],
    ['carriage return', '\r'],
    ['vertical tab', '\v'],
    ['form feed', '\f'],
    ['no-break space U+00A0', '\u00A0'],
    ['em space U+2003', '\u2003'],
    ['ideographic space U+3000', '\u3000'],
    ['line separator U+2028', '\u2028'],
    ['paragraph separator U+2029', '\u2029'],
    ['next line U+0085', '\u0085'],
    ['narrow no-break space U+202F', '\u202F'],
  ];
  for (const [name, blank] of blanks) {
    it(`${name} is WHITESPACE (and only that)`, () => {
      expect(issuesOf(`abcd${blank}efgh`)).toEqual([{ code: 'WHITESPACE', positions: [4] }]);
    });
  }
});

describe('validateSequenceKey: length bounds in code points', () => {
  const pool = Array.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%');

  it('accepts exactly 8 and exactly 64 characters', () => {
    expect(keyOf(pool.slice(0, SEQUENCE_KEY_MIN_LENGTH).join('')).n).toBe(8);
    expect(keyOf(pool.slice(0, SEQUENCE_KEY_MAX_LENGTH).join('')).n).toBe(64);
  });

  it('rejects 7 as TOO_SHORT and 65 as TOO_LONG', () => {
    expect(issuesOf(pool.slice(0, 7).join(''))).toEqual([{ code: 'TOO_SHORT', length: 7, min: 8 }]);
    expect(issuesOf(pool.slice(0, 65).join(''))).toEqual([{ code: 'TOO_LONG', length: 65, max: 64 }]);
  });

  it('rejects the empty key as TOO_SHORT', () => {
    expect(issuesOf('')).toEqual([{ code: 'TOO_SHORT', length: 0, min: 8 }]);
  });

  it('counts an astral emoji as one character, not two UTF-16 units', () => {
    const eight = '😀😁😂🤣😃😄😅😆';
    expect(eight.length).toBe(16);
    const key = keyOf(eight);
    expect(key.n).toBe(8);
    expect(key.chars).toEqual(['😀', '😁', '😂', '🤣', '😃', '😄', '😅', '😆']);
    expect(issuesOf('😀😁😂🤣😃😄😅')).toEqual([{ code: 'TOO_SHORT', length: 7, min: 8 }]);
  });

  it('counts 64 astral characters as 64 (valid) and 65 as too long', () => {
    const astral = Array.from({ length: 65 }, (_, i) => String.fromCodePoint(0x1f600 + i));
    expect(keyOf(astral.slice(0, 64).join('')).n).toBe(64);
    expect(issuesOf(astral.join(''))).toEqual([{ code: 'TOO_LONG', length: 65, max: 64 }]);
  });

  it('accepts CJK, accented letters and symbols', () => {
    const key = keyOf('中文é→ß€ΩЖ');
    expect(key.chars).toEqual(['中', '文', 'é', '→', 'ß', '€', 'Ω', 'Ж']);
  });
});

describe('validateSequenceKey: NFC normalisation', () => {
  it("'e' + U+0301 is the same key as the precomposed 'é'", () => {
    const decomposed = keyOf('e\u0301bcdfgh1');
    const composed = keyOf('\u00E9bcdfgh1');
    expect(decomposed.n).toBe(8);
    expect(decomposed.chars).toEqual(composed.chars);
    expect(decomposed.text).toBe(composed.text);
    expect(decomposed.chars[0]).toBe('\u00E9');
  });

  it("'é' typed both ways within one key is a repetition", () => {
    expect(issuesOf('\u00E9e\u0301abcdefg')).toEqual([{ code: 'REPEATED', characters: ['\u00E9'] }]);
  });

  it('a combining mark that does not compose is a disallowed combining-mark', () => {
    expect(issuesOf('q\u0301abcdefg')).toEqual([
      { code: 'DISALLOWED_CHARACTER', characters: [{ character: '\u0301', codePoint: 'U+0301', kind: 'combining-mark' }] },
    ]);
  });

  it('a leading combining mark is a disallowed combining-mark', () => {
    expect(issuesOf('\u0308abcdefgh')).toEqual([
      { code: 'DISALLOWED_CHARACTER', characters: [{ character: '\u0308', codePoint: 'U+0308', kind: 'combining-mark' }] },
    ]);
  });

  it('a precomposed character that NFC decomposes (U+0958) leaves a combining mark behind', () => {
    // FORMAT.md §8 counts characters after NFC; U+0958 is a composition exclusion, so it becomes U+0915 U+093C.
    expect(issuesOf('\u0958abcdefg')).toEqual([
      { code: 'DISALLOWED_CHARACTER', characters: [{ character: '\u093C', codePoint: 'U+093C', kind: 'combining-mark' }] },
    ]);
  });

  it('compatibility characters that NFC maps to one code point count once (Ω U+2126 is Ω U+03A9)', () => {
    expect(keyOf('\u2126abcdefg').chars[0]).toBe('\u03A9');
    expect(issuesOf('\u2126\u03A9abcdefg')).toEqual([{ code: 'REPEATED', characters: ['\u03A9'] }]);
  });

  it('a variation selector (emoji presentation) is a disallowed combining-mark', () => {
    const issues = issuesOf('❤\uFE0Fabcdefgh');
    expect(issues).toEqual([{ code: 'DISALLOWED_CHARACTER', characters: [{ character: '\uFE0F', codePoint: 'U+FE0F', kind: 'combining-mark' }] }]);
  });
});

describe('validateSequenceKey: disallowed kinds', () => {
  const cases: [string, string, string, string][] = [
    ['zero-width joiner', '\u200D', 'U+200D', 'format'],
    ['right-to-left mark', '\u200F', 'U+200F', 'format'],
    ['zero-width space', '\u200B', 'U+200B', 'format'],
    ['bell control', '\u0007', 'U+0007', 'control'],
    ['NUL control', '\u0000', 'U+0000', 'control'],
    ['DEL control', '\u007F', 'U+007F', 'control'],
    ['private use U+E000', '\uE000', 'U+E000', 'private-use'],
    ['supplementary private use U+F0000', '\u{F0000}', 'U+F0000', 'private-use'],
    ['lone high surrogate', '\uD800', 'U+D800', 'surrogate'],
    ['unassigned U+0378', '\u0378', 'U+0378', 'unassigned'],
  ];
  for (const [name, char, codePoint, kind] of cases) {
    it(`${name} → ${kind}`, () => {
      expect(issuesOf(`abcd${char}efgh`)).toEqual([{ code: 'DISALLOWED_CHARACTER', characters: [{ character: char, codePoint, kind }] }]);
    });
  }

  it('an emoji ZWJ sequence is rejected for its joiner', () => {
    const issues = issuesOf('👩\u200D💻abcdefg');
    expect(issues).toEqual([{ code: 'DISALLOWED_CHARACTER', characters: [{ character: '\u200D', codePoint: 'U+200D', kind: 'format' }] }]);
  });
});

describe('parseSequenceKey', () => {
  it('returns the validated key', () => {
    expect(parseSequenceKey('adk21937')).toEqual(keyOf('adk21937'));
  });

  it('throws SequenceKeyInvalidError with code SEQUENCE_KEY_INVALID and every issue', () => {
    const error = caughtSync(() => parseSequenceKey('a a'), 'SEQUENCE_KEY_INVALID');
    expect(error).toBeInstanceOf(SequenceKeyInvalidError);
    expect(error).toBeInstanceOf(EhrVaultError);
    const issues = (error as SequenceKeyInvalidError).issues;
    expect(issues.map((i) => i.code)).toEqual(['TOO_SHORT', 'WHITESPACE', 'REPEATED']);
    expect(error.details.issues).toEqual(issues);
    expect(error.message).toContain("'a'");
    expect(error.hint.length).toBeGreaterThan(0);
  });

  it('re-validates a SequenceKey object rather than trusting it', () => {
    const forged: SequenceKey = { text: 'Adk21224', chars: Array.from('Adk21224'), n: 8 };
    const error = caughtSync(() => parseSequenceKey(forged), 'SEQUENCE_KEY_INVALID');
    expect((error as SequenceKeyInvalidError).issues).toEqual([{ code: 'REPEATED', characters: ['2'] }]);
    const good = keyOf('adk21937');
    expect(parseSequenceKey(good)).toEqual(good);
  });
});

describe('describeSequenceKeyIssue', () => {
  it('names the repeated character', () => {
    expect(describeSequenceKeyIssue({ code: 'REPEATED', characters: ['2'] })).toContain("'2'");
    const two = describeSequenceKeyIssue({ code: 'REPEATED', characters: ['a', 'é'] });
    expect(two).toContain("'a'");
    expect(two).toContain("'é'");
  });

  it('gives whitespace positions one-based and lengths as numbers', () => {
    expect(describeSequenceKeyIssue({ code: 'WHITESPACE', positions: [3] })).toContain('position 4');
    const short = describeSequenceKeyIssue({ code: 'TOO_SHORT', length: 5, min: 8 });
    expect(short).toContain('5');
    expect(short).toContain('8');
    expect(describeSequenceKeyIssue({ code: 'TOO_LONG', length: 65, max: 64 })).toContain('64');
  });

  it('names the code point of a disallowed character', () => {
    const text = describeSequenceKeyIssue({ code: 'DISALLOWED_CHARACTER', characters: [{ character: '\u200D', codePoint: 'U+200D', kind: 'format' }] });
    expect(text).toContain('U+200D');
  });

  it('is what validateSequenceKey puts in messages', () => {
    const result = validateSequenceKey('Adk 1234');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.messages).toEqual(result.issues.map(describeSequenceKeyIssue));
  });
});

describe('generateSequenceKey', () => {
  const LOOKALIKES = /[0O1lIio]/u;

  it('defaults to a valid 10-character key', () => {
    const key = generateSequenceKey();
    expect(key.n).toBe(10);
    expect(validateSequenceKey(key.text)).toEqual({ ok: true, key });
  });

  it('returns valid keys of the requested length, all characters distinct and readable', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 40 }), (length) => {
        const key = generateSequenceKey(length);
        expect(key.n).toBe(length);
        expect(key.chars).toHaveLength(length);
        expect(new Set(key.chars).size).toBe(length);
        expect(validateSequenceKey(key.text)).toEqual({ ok: true, key });
        expect(key.text).not.toMatch(LOOKALIKES);
        expect(key.text).toMatch(/^[A-Za-z2-9]+$/u);
      }),
      { numRuns: 200 },
    );
  });

  it('draws from the injected random source', () => {
    // Every byte 0 picks the first remaining character each time.
    expect(generateSequenceKey(10, (n) => new Uint8Array(n)).text).toBe('abcdefghjk');
  });

  it('rejects lengths outside 8 … 55 (the alphabet size) and non-integers', () => {
    for (const bad of [7, 56, 64, 8.5, Number.NaN]) expect(() => generateSequenceKey(bad)).toThrow(RangeError);
    expect(generateSequenceKey(55).n).toBe(55);
  });
});
