import { KeyVaultError } from './key-vault-error.js';

/**
 * Passphrase strength, estimated with zxcvbn-ts (patterns, dictionaries of common passwords, keyboard
 * walks, repeats, sequences, dates, l33t). A passphrase must reach `MIN_SCORE` (zxcvbn's 3: about 10^8
 * guesses, which at 600,000 PBKDF2 iterations per guess is years of one GPU) and `MIN_LENGTH` characters.
 * The dictionaries (~400 KB) load on first use, in their own chunk.
 */
export const MIN_SCORE = 3;
export const MIN_LENGTH = 10;

export interface PassphraseStrength {
  /** 0 (guessable at once) to 4 (very hard). */
  readonly score: 0 | 1 | 2 | 3 | 4;
  readonly acceptable: boolean;
  /** log10 of the estimated number of guesses. */
  readonly guessesLog10: number;
  /** What is wrong, in words; null when acceptable. */
  readonly problem: string | null;
}

/** zxcvbn-ts warning keys, in words (the package ships keys; translations are separate packages). */
const WARNINGS: Record<string, string> = {
  straightRow: 'a row of keys on the keyboard is easy to guess',
  keyPattern: 'a short keyboard pattern is easy to guess',
  simpleRepeat: 'repeated characters like "aaa" are easy to guess',
  extendedRepeat: 'repeated patterns like "abcabc" are easy to guess',
  sequences: 'sequences like "abc" or "6543" are easy to guess',
  recentYears: 'recent years are easy to guess',
  dates: 'dates are easy to guess',
  topTen: 'it is one of the ten most used passwords',
  topHundred: 'it is one of the hundred most used passwords',
  common: 'it is a commonly used password',
  similarToCommon: 'it is close to a commonly used password',
  wordByItself: 'a single word is easy to guess',
  namesByThemselves: 'a single name or surname is easy to guess',
  commonNames: 'common names and surnames are easy to guess',
  userInputs: 'it contains words from this app',
  pwned: 'it appeared in a data breach',
};

/** Words an attacker of this app would try first. */
const APP_WORDS = ['ehr', 'vault', 'ehrvault', 'ehr-vault', 'medical', 'record', 'records', 'health', 'patient', 'passphrase'];

type Checker = (passphrase: string) => { score: number; guessesLog10: number; feedback: { warning: string | null } };
let checker: Promise<Checker> | undefined;

function loadChecker(): Promise<Checker> {
  checker ??= (async () => {
    const [{ ZxcvbnFactory }, common] = await Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common')]);
    const zxcvbn = new ZxcvbnFactory({ dictionary: { ...common.dictionary, userInputs: APP_WORDS }, graphs: common.adjacencyGraphs });
    return (passphrase: string) => zxcvbn.check(passphrase);
  })();
  return checker;
}

export async function passphraseStrength(passphrase: string): Promise<PassphraseStrength> {
  const text = passphrase.normalize('NFC');
  const result = (await loadChecker())(text);
  const score = Math.max(0, Math.min(4, Math.round(result.score))) as PassphraseStrength['score'];
  const tooShort = Array.from(text).length < MIN_LENGTH;
  const acceptable = !tooShort && score >= MIN_SCORE;
  const warning = result.feedback.warning === null ? undefined : WARNINGS[result.feedback.warning];
  const problem = acceptable ? null : tooShort ? `it has fewer than ${MIN_LENGTH} characters` : (warning ?? 'it would be guessed too quickly');
  return { score, acceptable, guessesLog10: result.guessesLog10, problem };
}

/** Throws PASSPHRASE_TOO_WEAK with the reason and what to do, unless the passphrase is strong enough. */
export async function requireStrongPassphrase(passphrase: string, what: 'lock' | 'backup'): Promise<void> {
  const strength = await passphraseStrength(passphrase);
  if (strength.acceptable) return;
  throw new KeyVaultError(
    'PASSPHRASE_TOO_WEAK',
    `This ${what === 'lock' ? '' : 'backup '}passphrase is too easy to guess: ${strength.problem} (strength ${strength.score} of 4, ${MIN_SCORE} needed).`,
    'Use four or more unrelated words, or a longer sentence only you would write; avoid names, dates and common passwords.',
    { score: strength.score, minScore: MIN_SCORE },
  );
}
