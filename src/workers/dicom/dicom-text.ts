/**
 * Decoding DICOM text values by the Specific Character Set (0008,0005), PS3.3 C.12.1.1.2 and PS3.5
 * §6.1. dicom-parser reads strings one byte per character, which garbles names in UTF-8 or non-Latin
 * character sets; patient names must be shown as written.
 */
const DECODER_LABELS: Readonly<Record<string, string>> = {
  'ISO_IR 6': 'ascii',
  'ISO_IR 100': 'iso-8859-1',
  'ISO_IR 101': 'iso-8859-2',
  'ISO_IR 109': 'iso-8859-3',
  'ISO_IR 110': 'iso-8859-4',
  'ISO_IR 144': 'iso-8859-5',
  'ISO_IR 127': 'iso-8859-6',
  'ISO_IR 126': 'iso-8859-7',
  'ISO_IR 138': 'iso-8859-8',
  'ISO_IR 148': 'iso-8859-9',
  'ISO_IR 203': 'iso-8859-15',
  'ISO_IR 166': 'windows-874',
  'ISO_IR 13': 'shift_jis',
  'ISO_IR 192': 'utf-8',
  GB18030: 'gb18030',
  GBK: 'gbk',
};

/** The TextDecoder label for a Specific Character Set value (first value only; ISO 2022 escapes fall back to Latin-1). */
export function decoderLabel(specificCharacterSet: string | undefined): string {
  const first = (specificCharacterSet ?? '').split('\\')[0]!.trim();
  if (first === '') return 'iso-8859-1';
  return DECODER_LABELS[first] ?? DECODER_LABELS[first.replace(/^ISO 2022 IR /, 'ISO_IR ')] ?? 'iso-8859-1';
}

export function decodeText(bytes: Uint8Array, specificCharacterSet: string | undefined): string {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(decoderLabel(specificCharacterSet));
  } catch {
    decoder = new TextDecoder('iso-8859-1');
  }
  // Values are padded to even length with a space or NUL.
  return decoder.decode(bytes).replace(/[\0 ]+$/, '');
}

/** "Family^Given^Middle^Prefix^Suffix", first non-empty component group, as "Family, Given Middle". */
export function formatPersonName(value: string): string {
  const group = value.split('=').find((g) => g.trim() !== '') ?? '';
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = group.split('^').map((p) => p.trim());
  const first = [prefix, given, middle].filter(Boolean).join(' ');
  const name = [family, first].filter(Boolean).join(', ');
  return [name, suffix].filter(Boolean).join(' ');
}

/** DA "YYYYMMDD" (or the old "YYYY.MM.DD") as ISO 8601 "YYYY-MM-DD"; anything else as written. */
export function formatDate(value: string): string {
  const m = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(value.trim());
  return m ? `${m[1]}-${m[2]}-${m[3]}` : value.trim();
}
