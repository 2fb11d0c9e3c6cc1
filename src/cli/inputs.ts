import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, normalize, posix, sep } from 'node:path';
import { ioError, usage } from './errors.js';

/** One input file: `key` names it in the journal, the manifest and the shard assignment. */
export interface InputFile {
  readonly key: string;
  readonly path: string;
}

const toPosix = (p: string) => p.split(sep).join('/');

/**
 * Files of the given paths, folders walked recursively. The key is the path as given, normalised, plus the
 * path inside a folder, with "/" separators: the same arguments give the same keys on every machine.
 */
export async function collectInputs(paths: readonly string[]): Promise<InputFile[]> {
  const out = new Map<string, InputFile>();
  for (const given of paths) {
    let info;
    try {
      info = await stat(given);
    } catch (error) {
      throw ioError('INPUT_UNREADABLE', given, error);
    }
    const base = toPosix(normalize(given)).replace(/\/+$/, '') || '.';
    if (info.isFile()) {
      out.set(base, { key: base, path: given });
      continue;
    }
    let entries: string[];
    try {
      entries = await readdir(given, { recursive: true });
    } catch (error) {
      throw ioError('INPUT_UNREADABLE', given, error);
    }
    for (const entry of entries) {
      const path = join(given, entry);
      const s = await stat(path).catch(() => undefined);
      if (!s?.isFile()) continue;
      const key = posix.join(base, toPosix(entry));
      out.set(key, { key, path });
    }
  }
  return [...out.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Paths from a list file, one per line (blank lines and lines starting with # skipped). */
export async function readInputList(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw ioError('INPUT_UNREADABLE', path, error);
  }
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

export interface Shard {
  /** 1-based, as in `--shard 2/8`. */
  readonly index: number;
  readonly count: number;
}

export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || count < 1 || count > 1_000_000 || index < 1 || index > count) {
    throw usage(`--shard ${text} is not i/N with 1 ≤ i ≤ N.`, 'For example --shard 1/4 on the first of four machines, --shard 4/4 on the last.');
  }
  return { index, count };
}

/**
 * Stable assignment of an input to a shard: the first 8 bytes of SHA-256 of its key, modulo N. Depends on
 * nothing but the key, so every machine agrees without talking to the others, and shards are even.
 */
export function shardOf(key: string, count: number): number {
  const digest = createHash('sha256').update(key, 'utf8').digest();
  return Number(digest.readBigUInt64BE(0) % BigInt(count)) + 1;
}

export function inShard(inputs: readonly InputFile[], shard: Shard | undefined): InputFile[] {
  return shard ? inputs.filter((i) => shardOf(i.key, shard.count) === shard.index) : [...inputs];
}
