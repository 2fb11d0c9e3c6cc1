import { openRecord } from '../core/record.js';
import { cliStretch } from './native-argon2.js';
import { decodeShareText, type ShareInfo } from '../core/share-text.js';
import { FragmentError, EhrVaultError } from '../core/errors.js';
import { fetchFromStore, readFromFolder, verifyHeads, type GatheredObjects, type HeadReport } from './record-io.js';
import { writeOpened, imagePixels } from './output.js';
import { sequenceKeyFrom } from './secrets.js';
import { storeFromOptions } from './storage.js';

export interface SourceOptions {
  readonly from?: string | undefined;
  readonly storage?: string | undefined;
  readonly token?: string | undefined;
  readonly sequenceKeyFile?: string | undefined;
}

export async function gather(info: ShareInfo, o: SourceOptions): Promise<GatheredObjects> {
  return o.from !== undefined ? readFromFolder(o.from, info) : fetchFromStore(storeFromOptions(o), info);
}

/** Adds the folder's ignored files to a "missing" error: a damaged head looks like another record's object. */
function withIgnored(error: unknown, gathered: GatheredObjects): unknown {
  if (!(error instanceof EhrVaultError) || error.code !== 'FRAGMENT_MISSING' || gathered.ignored.length === 0) return error;
  return new FragmentError('FRAGMENT_MISSING', `${error.message} ${gathered.ignored.length} other file(s) in the folder are not objects of this record (or their heads are damaged).`, error.hint, { ...error.details, ignored: gathered.ignored });
}

export interface OpenResult {
  readonly recordId: string;
  readonly kind: 'image' | 'file';
  readonly name: string;
  readonly mime: string;
  readonly image?: unknown;
  readonly written: string[];
  readonly objects: number;
}

export async function runOpen(shareText: string, o: SourceOptions & { out?: string | undefined; force?: boolean | undefined }): Promise<OpenResult> {
  const info = decodeShareText(shareText);
  const gathered = await gather(info, o);
  const key = await sequenceKeyFrom(o.sequenceKeyFile);
  let opened;
  try {
    opened = await openRecord(gathered.objects, key, info.recordKey, info.recordId, { stretch: await cliStretch() });
  } catch (error) {
    throw withIgnored(error, gathered);
  }
  try {
    const written = await writeOpened(opened.metadata, opened.body, o.out, o.force ?? false);
    const m = opened.metadata;
    return { recordId: info.recordId, kind: m.kind, name: m.name, mime: m.mime, ...(m.image ? { image: m.image } : {}), written, objects: gathered.objects.length };
  } finally {
    opened.body.fill(0);
  }
}

export interface VerifyResult extends HeadReport {
  readonly recordId: string;
  readonly checked: 'heads-and-lengths' | 'full-open';
  readonly ignored: number;
}

export async function runVerify(shareText: string, o: SourceOptions & { full?: boolean | undefined }): Promise<VerifyResult> {
  const info = decodeShareText(shareText);
  const gathered = await gather(info, o);
  try {
    const report = await verifyHeads(info, gathered.objects);
    if (o.sequenceKeyFile === undefined && !o.full) return { recordId: info.recordId, ...report, checked: 'heads-and-lengths', ignored: gathered.ignored.length };
    const key = await sequenceKeyFrom(o.sequenceKeyFile);
    const opened = await openRecord(gathered.objects, key, info.recordKey, info.recordId, { stretch: await cliStretch() });
    // An image's raw DEFLATE must inflate to exactly its pixels (§9 step 16).
    await imagePixels(opened.metadata, opened.body);
    opened.body.fill(0);
    return { recordId: info.recordId, ...report, checked: 'full-open', ignored: gathered.ignored.length };
  } catch (error) {
    throw withIgnored(error, gathered);
  }
}
