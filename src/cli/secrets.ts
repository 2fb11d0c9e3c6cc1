import { readFile } from 'node:fs/promises';
import { CliError, ioError } from './errors.js';

/**
 * A sequence key from a file (or - for standard input). Surrounding whitespace and a byte-order mark are removed: a
 * sequence key has no whitespace (FORMAT.md §10), so only an editor's final newline can be there.
 */
export async function readSequenceKeyFile(path: string): Promise<string> {
  let text: string;
  try {
    text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (error) {
    throw ioError('INPUT_UNREADABLE', path, error);
  }
  return text.replace(/^\uFEFF/, '').trim();
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** Asks for the sequence key on the terminal without echoing it. */
export async function promptHidden(question: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<string> {
  if (!input.isTTY) {
    throw new CliError('SEQUENCE_KEY_NEEDED', 'The sequence key is needed and there is no terminal to ask for it.', 'Pass --sequence-key-file <file> (or --sequence-key-file - and pipe it in).');
  }
  output.write(question);
  input.setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  return new Promise<string>((resolve, reject) => {
    let value = '';
    const done = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      output.write('\n');
      if (error) reject(error);
      else resolve(value.trim());
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new CliError('SEQUENCE_KEY_NEEDED', 'Cancelled.', 'Run the command again when you have the sequence key.'));
        if (ch === '\u007f' || ch === '\b') value = Array.from(value).slice(0, -1).join('');
        else value += ch;
      }
    };
    input.on('data', onData);
  });
}

export async function sequenceKeyFrom(file: string | undefined): Promise<string> {
  return file !== undefined ? readSequenceKeyFile(file) : promptHidden('Sequence key (not shown): ');
}
