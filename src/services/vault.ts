import { decodeShareText, encodeShareLink, encodeShareText, encodeWrappedShareLink, readShareText } from '../core/share-text.js';
import { decodeKeyCard, unwrapRecordKey, wrapRecordKey, type KeyCard } from '../core/key-card.js';
import { createMyKeyCard, loadCardHolder, readMyKeyCard, removeMyKeyCard, type MyKeyCard } from './key-cards.js';
import { forgetBatch, stretchWithBatch } from '../core/batch-kdf.js';
import { WrongSequenceKeyError } from '../core/errors.js';
import { recordIdBytes, unlockRecord } from '../core/open-objects.js';
import { generateRecordKey } from '../core/keychain.js';
import { generateRecordId } from '../core/object-names.js';
import { pixelByteLength, type ImageInfo, type RecordMetadata } from '../core/metadata.js';
import { parseSequenceKey, type SequenceKey } from '../core/sequence-key.js';
import { throwIfAborted } from '../core/progress.js';
import { idbKeyStore } from '../storage/key-repository.js';
import { openVaultDb, type VaultDb } from '../storage/open-vault-db.js';
import { retryFailedEntries } from '../storage/outbox-repository.js';
import { forgetRecordLocally } from '../storage/record-forget.js';
import { attachSealedKey } from '../storage/record-sealing.js';
import { openBackup, sealBackup, type BackupEntry } from './backup.js';
import { getRecord, listRecords as listRecordEntries } from '../storage/record-repository.js';
import type { RecordEntry } from '../storage/schema.js';
import { estimateStorage, requestPersistentStorage } from '../storage/storage-quota.js';
import {
  addStorageConnection,
  connectPresignClient,
  connectProviderClient,
  connectProviderEngine,
  connectSharedTransferEngine,
  listStorageConnections,
  readCloudSettings,
  removeStorageConnection,
  startOutboxRunner,
  storageProviderIds,
  updateCloudSettings,
} from './cloud-connection.js';
import { providerOfSlot, summarizePlacement, type PlacementSummary } from '../core/placement.js';
import type { SharedProvider } from '../core/share-text.js';
import { PRIMARY_PROVIDER, providerOfRecordSlot } from '../storage/schema.js';
import { EngineClient } from './engine-client.js';
import { sweepScratch } from './scratch-files.js';
import { KeyVault } from './key-vault.js';
import { OidcSession } from './oidc-session.js';
import { readSignInConfig, type OidcSignInConfig } from './presign-client.js';
import { defaultTransport } from './default-transport.js';
import { ServiceError } from './service-error.js';
import { KeyVaultError } from './key-vault-error.js';
import type { OutboxRunner } from './outbox-runner.js';
import { checkRecordHealth, HealthMonitor, repairRecordObjects } from './record-health.js';
import { cachedRecordHead, deleteRecord as queueRecordDeletion, fetchAndOpen, notifyOutbox, storeProtectedRecord, type RecordLayout } from './record-store.js';
import type { TransferEngine } from './transfer-engine.js';
import type { KeyVerdict, LongCall, OpenOutcome, ProtectBatch, ProtectOutcome, RecordSummary, StorageReport } from './vault-types.js';

/**
 * What the vault keeps sealed for each record: only readable on this device, only while unlocked. Never
 * the sequence key: it is the record's second secret (FORMAT.md §1), kept only in memory until the lock.
 */
interface SealedRecordInfo {
  readonly name: string;
  readonly kind: 'image' | 'file';
  readonly mime: string;
  /** The content's true size: a file's original bytes (before any compression), an image's source file when protected here, else its pixel bytes. */
  readonly byteLength: number;
  /** An image record's true pixel size and format (FORMAT.md §6.1); absent for files and older records. */
  readonly image?: ImageInfo | undefined;
  /** Set for a record someone shared with this device: the owner's storage id. Read-only here. */
  readonly sharedFrom?: string | undefined;
  /** A shared record spread over several providers: where each is (FORMAT.md §11.4), to open it again. */
  readonly sharedProviders?: readonly SharedProvider[] | undefined;
}

/**
 * The one service the UI talks to: protect (engine → key vault → store → outbox), list, open (cache or
 * cloud → engine), delete, share, settings and the lock. It holds no bytes itself: workers do the byte
 * work and IndexedDB keeps the Blobs.
 */
export class Vault {
  private readonly listeners = new Set<() => void>();
  private openedScratch: string | undefined;
  /** Sequence keys used in this session, by record id: in memory only, forgotten at the lock. */
  private readonly sessionKeys = new Map<string, string>();
  /** Protect batches begun and not yet ended: X of each, in memory only (see beginProtectBatch). */
  private readonly liveBatches = new Set<ProtectBatch>();
  /** Argon2id run ahead of Open for one record and typed key (`warmOpen`); at most one at a time. */
  private warm: { readonly recordId: string; readonly keyText: string; readonly batch: Promise<ProtectBatch | undefined>; readonly verdict: Promise<KeyVerdict | undefined>; readonly abort: AbortController } | undefined;
  /** This user's opaque storage id, asked once per session (for share links). */
  private storageId: Promise<string> | undefined;

  private constructor(
    private readonly db: VaultDb,
    readonly keys: KeyVault,
    private readonly engine: EngineClient,
    private readonly runner: OutboxRunner,
    private readonly oidc: OidcSession,
  ) {
    for (const type of ['progress', 'record-synced', 'failed'] as const) runner.on(type, () => this.changed());
    // The background check (issue 17): a few records per hour, only while unlocked, never on a metered
    // connection or a low battery (record-health.ts).
    this.monitor = new HealthMonitor({ db, engines: (provider) => this.providerEngine(provider), ready: () => keys.unlocked, onChecked: () => this.changed() });
    // Not at start-up: opening the app is for the person, the check can wait a couple of minutes.
    this.monitor.start(120_000);
  }

  private readonly monitor: HealthMonitor;
  private readonly providerEngines = new Map<string, Promise<TransferEngine>>();

  /** One transfer engine per storage connection, rebuilt after a failure (a token may have changed). */
  private providerEngine(provider: string): Promise<TransferEngine> {
    let engine = this.providerEngines.get(provider);
    if (!engine) {
      engine = connectProviderEngine({ db: this.db, secrets: this.keys, oidc: this.oidc }, provider);
      engine.catch(() => this.providerEngines.delete(provider));
      this.providerEngines.set(provider, engine);
    }
    return engine;
  }

  /** Checks every object of a record in the cloud now: present, of its size and SHA-256 (Records → Check). */
  async checkRecord(recordId: string, signal?: AbortSignal): Promise<void> {
    this.providerEngines.clear();
    try {
      await checkRecordHealth(recordId, { db: this.db, engines: (p) => this.providerEngine(p), deep: true, signal });
    } finally {
      this.changed();
    }
  }

  /** Re-creates and re-uploads every missing or damaged object of a record (Records → Repair). Returns how many. */
  async repairRecord(recordId: string, signal?: AbortSignal): Promise<number> {
    const entry = await getRecord(this.db, recordId);
    if (!entry?.wrappedKey) throw new KeyVaultError('KEY_UNAVAILABLE', 'This device has no key for that record.', 'Open it with its share text and sequence key.');
    if ((await this.info(entry))?.sharedFrom !== undefined) throw new ServiceError('READ_ONLY', 'This record was shared with you; only its owner can repair it.');
    this.providerEngines.clear();
    const recordKey = await this.keys.unwrapRecordKey(recordId, entry.wrappedKey);
    try {
      const outcome = await repairRecordObjects(recordId, { db: this.db, engines: (p) => this.providerEngine(p), recordKey, signal });
      return outcome.repaired.length;
    } finally {
      recordKey.fill(0);
      this.changed();
    }
  }

  static async create(): Promise<Vault> {
    const db = await openVaultDb();
    const keys = new KeyVault(idbKeyStore(db));
    const oidc = new OidcSession(db, keys);
    // A configured token or a sign-in is sealed under the vault key: with a passphrase lock, uploads wait for the unlock.
    const runner = startOutboxRunner({ db, secrets: keys, oidc });
    // Scratch files left by a tab that closed or crashed mid-protect (see scratch-files.ts).
    void sweepScratch();
    return new Vault(db, keys, new EngineClient(undefined, { warm: true }), runner, oidc);
  }

  /** Called on any change of the catalog or of sync states; returns an unsubscribe function. */
  onRecordsChanged(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  async unlock(passphrase?: string): Promise<void> {
    await this.keys.unlock(passphrase);
    // Seals a token stored in the clear by an older version, and lets the runner use the sealed one.
    await readCloudSettings(this.db, this.keys).catch(() => undefined);
    this.runner.reconfigure();
  }

  lock(): void {
    this.keys.lock();
    this.sessionKeys.clear();
    for (const batch of this.liveBatches) forgetBatch(batch);
    this.liveBatches.clear();
    this.coolOpen();
    this.oidc.lock();
    // A large opened file is plaintext in a scratch file: locking removes it with the keys.
    void this.engine.releaseScratch(this.openedScratch);
    this.openedScratch = undefined;
    this.changed();
  }

  /**
   * Records protected under one sequence key in one batch share the batch's one Argon2id (FORMAT.md §3),
   * run here in a worker: several files picked at once, or every record protected while a chosen key stays
   * in this session (the protect view starts the batch as soon as the key is chosen, so pressing Protect
   * no longer waits for Argon2id). While a batch is live, opening one of its records skips Argon2id too.
   * End with `endProtectBatch`; locking ends them all.
   */
  async beginProtectBatch(sequenceKey: string, options: LongCall = {}): Promise<ProtectBatch> {
    const key = parseSequenceKey(sequenceKey);
    options.onProgress?.({ phase: 'unlock', done: 0, total: 1 });
    const batch = await this.engine.stretchBatch(key.text, { signal: options.signal });
    options.onProgress?.({ phase: 'unlock', done: 1, total: 1 });
    this.liveBatches.add(batch);
    return batch;
  }

  /**
   * A batch is used only while live: an ended one (or one wiped by the lock) has X zeroed, and sealing under
   * it would make a record nobody could open. Without it the engine runs Argon2id for this record alone.
   */
  private live(batch: ProtectBatch | undefined): ProtectBatch | undefined {
    return batch && this.liveBatches.has(batch) ? batch : undefined;
  }

  /** The newest live batch of this sequence key: opening one of its records then skips Argon2id. */
  private batchFor(sequenceKey: string): ProtectBatch | undefined {
    return [...this.liveBatches].reverse().find((b) => b.sequenceKey.text === sequenceKey);
  }

  /**
   * Runs the sequence key's Argon2id for a record on this device while the person is still at the open
   * form (the open view calls this once the typed key is well formed), so that pressing Open skips the
   * one slow step, and says whether the key is this record's (the head's check, FORMAT.md §4.1: the same
   * answer Open would give, at the same Argon2id cost per guess). Salt, parameters and check come from the
   * head of an object cached here; nothing is requested. Undefined when the record is not on this device.
   * A new call replaces the previous one and stops its worker; locking wipes it.
   */
  warmOpen(recordId: string, sequenceKey: string): Promise<KeyVerdict | undefined> {
    let key: SequenceKey;
    try {
      key = parseSequenceKey(sequenceKey);
    } catch {
      return Promise.resolve(undefined);
    }
    if (this.warm?.recordId === recordId && this.warm.keyText === key.text) return this.warm.verdict;
    this.coolOpen();
    if (!this.keys.unlocked) return Promise.resolve(undefined);
    const abort = new AbortController();
    const work = (async (): Promise<{ batch?: ProtectBatch; verdict?: KeyVerdict }> => {
      const entry = await getRecord(this.db, recordId);
      if (!entry?.wrappedKey) return {};
      const recordKey = await this.keys.unwrapRecordKey(recordId, entry.wrappedKey);
      try {
        const head = await cachedRecordHead(this.db, recordId, recordKey);
        if (!head || abort.signal.aborted) return {};
        const verdict = async (batch?: ProtectBatch): Promise<KeyVerdict> => {
          try {
            await unlockRecord(recordKey, recordIdBytes(recordId), key, head, stretchWithBatch(batch));
            return { matches: true };
          } catch (error) {
            if (error instanceof WrongSequenceKeyError) return { matches: false, message: error.message };
            throw error;
          }
        };
        // A key of the wrong length is told at once, without Argon2id.
        if (key.n !== head.n) return { verdict: await verdict() };
        const batch = await this.engine.stretchBatch(key.text, { signal: abort.signal, kdf: head.kdf, salt: head.kdfSalt });
        return { batch, verdict: await verdict(batch) };
      } finally {
        recordKey.fill(0);
      }
    })().catch((): { batch?: ProtectBatch; verdict?: KeyVerdict } => ({}));
    const warm = { recordId, keyText: key.text, batch: work.then((w) => w.batch), verdict: work.then((w) => w.verdict), abort };
    this.warm = warm;
    return warm.verdict;
  }

  /** Stops and wipes the Argon2id run ahead of an open. */
  private coolOpen(): void {
    const warm = this.warm;
    this.warm = undefined;
    if (!warm) return;
    warm.abort.abort();
    void warm.batch.then(forgetBatch);
  }

  /** X for opening `recordId` with `keyText`: a live protect batch's, or one stretched ahead by `warmOpen`. */
  private async openBatch(recordId: string, keyText: string): Promise<ProtectBatch | undefined> {
    const warm = this.warm;
    const batch = this.batchFor(keyText) ?? (warm?.recordId === recordId && warm.keyText === keyText ? await warm.batch : undefined);
    // A copy: the batch may be ended, or the warm-up replaced, while this open still downloads.
    return batch && { ...batch, stretched: batch.stretched.slice() };
  }

  /** Wipes the batch's stretched key from memory. */
  endProtectBatch(batch: ProtectBatch | undefined): void {
    if (batch) this.liveBatches.delete(batch);
    forgetBatch(batch);
  }

  /**
   * Encrypts and splits `file` in a worker, keeps it on this device and queues its upload. `asFile`: keep
   * the original bytes even if the file is an image (the way out when an image cannot be decoded here, or
   * is too large to decode).
   */
  async protect(file: File, sequenceKey: string, options: LongCall & { readonly asFile?: boolean; readonly batch?: ProtectBatch | undefined; readonly parity?: number } = {}): Promise<ProtectOutcome> {
    const key = parseSequenceKey(sequenceKey);
    const recordKey = generateRecordKey();
    const recordId = generateRecordId();
    let scratch: string | undefined;
    try {
      // sink 'auto': large fragments go to a scratch file where IndexedDB copies them (result-sink.ts).
      const result = await this.engine.protect(
        { source: file, name: file.name, mime: file.type, mode: options.asFile ? 'file' : 'auto', sequenceKey: key.text, recordKey, recordId, noisePreview: true, compress: true, sink: 'auto', parity: options.parity ?? APP_PARITY, batch: this.live(options.batch) },
        { signal: options.signal, onProgress: options.onProgress },
      );
      scratch = result.scratch;
      throwIfAborted(options.signal);
      const info: SealedRecordInfo = { ...contentInfo(result.metadata, file.size) };
      await storeProtectedRecord(result, recordId, recordKey, {
        db: this.db,
        // Spread over every storage connection in Settings (core/placement.ts says what that survives).
        providers: await storageProviderIds(this.db),
        signal: options.signal,
        onProgress: (p) => options.onProgress?.({ phase: 'store', ...p } as never),
        wrappedKey: await this.keys.wrapRecordKey(recordId, recordKey),
        encryptedMetadata: await this.keys.sealJson(recordId, info),
      });
      this.sessionKeys.set(recordId, key.text);
      this.changed();
      return {
        recordId,
        shareText: encodeShareText({ recordId, recordKey }),
        metadata: result.metadata,
        fragments: result.objects.map((f) => ({ slot: f.slot, size: f.blob.size })),
        parityCount: result.objects.length - key.n,
        noise: result.noise,
      };
    } finally {
      recordKey.fill(0);
      // IndexedDB now holds its own copy of the fragments (or nothing, if storing failed).
      await this.engine.releaseScratch(scratch);
    }
  }

  private async info(entry: RecordEntry): Promise<SealedRecordInfo | null> {
    if (!entry.encryptedMetadata || !this.keys.unlocked) return null;
    try {
      return await this.keys.openJson<SealedRecordInfo>(entry.recordId, entry.encryptedMetadata);
    } catch {
      return null;
    }
  }

  private async toSummary(entry: RecordEntry): Promise<RecordSummary> {
    const info = await this.info(entry);
    return {
      recordId: entry.recordId,
      name: info?.name ?? null,
      kind: info?.kind ?? null,
      mime: info?.mime ?? null,
      byteLength: info?.byteLength ?? null,
      image: info?.image ?? null,
      createdAt: entry.createdAt,
      fragmentCount: entry.fragmentCount,
      parityCount: entry.parityCount ?? 0,
      totalBytes: entry.totalBytes,
      sync: { state: entry.sync.state, uploaded: entry.sync.uploaded, error: entry.sync.lastError },
      hasKey: entry.wrappedKey !== null,
      ...(entry.health ? { health: { state: entry.health.state, checkedAt: entry.health.checkedAt, missing: entry.health.missing, damaged: entry.health.damaged, unreachable: entry.health.unreachable } } : {}),
      sharedWithMe: info?.sharedFrom !== undefined,
    };
  }

  async listRecords(): Promise<RecordSummary[]> {
    const entries = await listRecordEntries(this.db);
    return Promise.all(entries.sort((a, b) => b.createdAt - a.createdAt).map((e) => this.toSummary(e)));
  }

  async summary(recordId: string): Promise<RecordSummary | undefined> {
    const entry = await getRecord(this.db, recordId);
    return entry ? this.toSummary(entry) : undefined;
  }

  /** The sequence key used for this record in this session (never stored: forgotten at the lock). */
  rememberedSequenceKey(recordId: string): Promise<string | undefined> {
    return Promise.resolve(this.sessionKeys.get(recordId));
  }

  /**
   * A share link for a record protected here (issue #13): this app's address, then after `#` the locator,
   * the record key and the owner's opaque storage id — never the sequence key. Anyone with the link and the
   * sequence key can open it read-only, with another account or none.
   */
  async shareLink(recordId: string, signal?: AbortSignal): Promise<string> {
    const { recordKey, storageId, providers } = await this.sharingKeys(recordId, signal);
    try {
      return encodeShareLink(location.href, { recordId, recordKey, storageId, ...(providers ? { providers } : {}) });
    } finally {
      recordKey.fill(0);
    }
  }

  /**
   * A share link for one named person (issue #13, FORMAT.md §11.3): as `shareLink`, but the record key is
   * wrapped to their key card (HPKE), so the link opens only on the device that holds that card.
   */
  async shareLinkToCard(recordId: string, card: KeyCard, signal?: AbortSignal): Promise<string> {
    const { recordKey, storageId, providers } = await this.sharingKeys(recordId, signal);
    try {
      return encodeWrappedShareLink(location.href, { recordId, wrapped: await wrapRecordKey(card, recordId, recordKey), storageId, ...(providers ? { providers } : {}) });
    } finally {
      recordKey.fill(0);
    }
  }

  /** Reads a pasted or scanned key card (checks the key; gives the fingerprint to compare). */
  readKeyCard(text: string): Promise<KeyCard> {
    return decodeKeyCard(text);
  }

  /** This device's key card, if it has made one. */
  myKeyCard(): Promise<MyKeyCard | undefined> {
    return readMyKeyCard(this.db, location.href);
  }

  /** Makes (or replaces) this device's key card. */
  createKeyCard(name: string): Promise<MyKeyCard> {
    return createMyKeyCard(this.db, name, location.href);
  }

  removeKeyCard(): Promise<void> {
    return removeMyKeyCard(this.db);
  }

  /**
   * Who a share text is for, before opening it: a card's name, and whether this device holds that card
   * (with this device's fingerprint to compare with the sender's screen).
   */
  async shareTarget(shareText: string): Promise<{ readonly name: string; readonly here: string | undefined } | undefined> {
    let info;
    try {
      info = readShareText(shareText);
    } catch {
      return undefined;
    }
    if (!('wrapped' in info)) return undefined;
    const holder = await loadCardHolder(this.db);
    const matches = holder !== undefined && holder.card.keyId.every((b, i) => b === info.wrapped.keyId[i]);
    return { name: info.wrapped.name, here: matches ? holder.card.fingerprint : undefined };
  }

  /** The record key and this user's storage id, for a link; refused for records shared with this device. */
  private async sharingKeys(recordId: string, signal?: AbortSignal): Promise<{ recordKey: Uint8Array; storageId: string; providers?: readonly SharedProvider[] }> {
    const entry = await getRecord(this.db, recordId);
    if (!entry?.wrappedKey) throw new KeyVaultError('KEY_UNAVAILABLE', 'This device has no key for that record.', 'Open it with its share text and sequence key.');
    const info = await this.info(entry);
    if (info?.sharedFrom !== undefined) throw new ServiceError('READ_ONLY', 'This record was shared with you; only its owner can share it on.');
    this.storageId ??= connectPresignClient({ db: this.db, secrets: this.keys, oidc: this.oidc, signal }).then((client) => client.storageId(signal));
    let storageId: string;
    try {
      storageId = await this.storageId;
    } catch (error) {
      this.storageId = undefined;
      throw error;
    }
    // A record spread over several providers: the link names each (storage id at its presign service's
    // origin), in placement order, so a recipient reaches every object (FORMAT.md §11.4).
    const providers: SharedProvider[] | undefined = entry.providers && entry.providers.length > 1
      ? await Promise.all(
          entry.providers.map(async (id): Promise<SharedProvider> => {
            if (id === PRIMARY_PROVIDER) return { storageId };
            const client = await connectProviderClient({ db: this.db, secrets: this.keys, oidc: this.oidc, signal }, id);
            return { storageId: await client.storageId(signal), origin: new URL(client.endpoint.presignUrl).origin };
          }),
        )
      : undefined;
    return { recordKey: await this.keys.unwrapRecordKey(recordId, entry.wrappedKey), storageId, ...(providers ? { providers } : {}) };
  }

  /** The share text of a record protected here: locator and record key (never the sequence key). */
  async shareText(recordId: string): Promise<string> {
    const entry = await getRecord(this.db, recordId);
    if (!entry?.wrappedKey) throw new KeyVaultError('KEY_UNAVAILABLE', 'This device has no key for that record.', 'Open it with its share text and sequence key.');
    const recordKey = await this.keys.unwrapRecordKey(recordId, entry.wrappedKey);
    return encodeShareText({ recordId, recordKey });
  }

  async openLocal(recordId: string, sequenceKey: string, options: LongCall = {}): Promise<OpenOutcome> {
    const entry = await getRecord(this.db, recordId);
    if (!entry?.wrappedKey) return this.openShared(await this.shareText(recordId), sequenceKey, options);
    const recordKey = await this.keys.unwrapRecordKey(recordId, entry.wrappedKey);
    const info = await this.info(entry);
    return this.openWith(recordId, recordKey, sequenceKey, options, info?.sharedFrom, info?.sharedProviders);
  }

  /** Opens a record from its share text (any device): cached fragments first, then the cloud. */
  async openShared(shareText: string, sequenceKey: string, options: LongCall = {}): Promise<OpenOutcome> {
    const info = readShareText(shareText);
    // Wrapped to a key card: only this device's card opens it (SHARED_TO_ANOTHER_CARD otherwise, before any download).
    const recordKey = 'wrapped' in info ? await unwrapRecordKey(info.wrapped, info.recordId, await loadCardHolder(this.db)) : info.recordKey;
    return this.openWith(info.recordId, recordKey, sequenceKey, options, info.storageId, info.providers);
  }

  /** `storageId`: a record shared by link is read through the anonymous, read-only endpoint (issue #13). */
  private async openWith(recordId: string, recordKey: Uint8Array, sequenceKey: string, options: LongCall, storageId?: string, sharedProviders?: readonly SharedProvider[]): Promise<OpenOutcome> {
    const key = parseSequenceKey(sequenceKey);
    try {
      const known = await getRecord(this.db, recordId);
      // One engine per provider: the owner's own connections, or each provider a share link names.
      const engines = new Map<string, Promise<TransferEngine>>();
      const engineFor = (slot: number): Promise<TransferEngine> => {
        if (storageId !== undefined) {
          const providers = sharedProviders ?? [{ storageId }];
          const provider = providers[providerOfSlot(slot, providers.length)]!;
          const id = `${provider.origin ?? ''} ${provider.storageId}`;
          if (!engines.has(id)) engines.set(id, Promise.resolve(connectSharedTransferEngine({ storageId: provider.storageId, ...(provider.origin !== undefined ? { origin: provider.origin } : {}) })));
          return engines.get(id)!;
        }
        const id = providerOfRecordSlot(known, slot);
        if (!engines.has(id)) engines.set(id, connectProviderEngine({ db: this.db, signal: options.signal, secrets: this.keys, oidc: this.oidc }, id));
        return engines.get(id)!;
      };
      const fetchOptions = {
        db: this.db,
        engine: engineFor,
        signal: options.signal,
        onProgress: (p: { done: number; total: number }) => options.onProgress?.({ phase: 'download', ...p }),
      };
      const layout = known ? { n: known.fragmentCount, p: known.parityCount ?? 0 } : undefined;
      // No PNG here: encoding a 13 MP photo took most of an open (issue 15); it is built when the person saves.
      const batch = await this.openBatch(recordId, key.text);
      const { opened, fetched } = await fetchAndOpen(recordId, recordKey, layout, fetchOptions, (objects) =>
        this.engine.open({ objects: [...objects], sequenceKey: key.text, recordKey, recordId, display: true, batch }, { signal: options.signal, onProgress: options.onProgress }),
      ).finally(() => forgetBatch(batch));
      this.sessionKeys.set(recordId, key.text);
      // A large opened file is a scratch file on disk; it stays readable until the next record is opened.
      await this.engine.releaseScratch(this.openedScratch);
      this.openedScratch = opened.kind === 'file' ? opened.scratch : undefined;
      // A record opened from a share text is remembered (sealed), so Records can show and reopen it.
      if (this.keys.unlocked) {
        const m = opened.metadata;
        await this.rememberKey(recordId, recordKey, fetched.layout, { ...contentInfo(m), ...(storageId !== undefined ? { sharedFrom: storageId } : {}), ...(sharedProviders ? { sharedProviders } : {}) });
      }
      this.changed();
      if (opened.kind === 'file') {
        return { kind: 'file', metadata: opened.metadata, blob: opened.blob, ...(opened.dicom ? { preview: { kind: 'dicom' as const, blob: opened.blob, name: opened.metadata.name } } : {}) };
      }
      const image = opened.metadata.image!;
      const pixels = opened.pixels;
      let png: Promise<Blob> | undefined;
      // Grey and 16-bit scans get the windowed preview; colour photos are shown as they are.
      const windowable = image.pixelFormat === 'GRAY8' || image.pixelFormat === 'GRAY16';
      return {
        kind: 'image',
        metadata: opened.metadata,
        bitmap: opened.bitmap!,
        pngBlob: () => (png ??= this.engine.exportPng({ pixels, image })),
        ...(windowable ? { preview: { kind: 'pixels' as const, pixels: opened.pixels, image } } : {}),
      };
    } finally {
      recordKey.fill(0);
    }
  }

  /** An encrypted backup of every record this device holds a key for (Settings → Backup). */
  async exportBackup(passphrase: string): Promise<Blob> {
    const entries: BackupEntry[] = [];
    for (const entry of await listRecordEntries(this.db)) {
      const info = await this.info(entry);
      if (!entry.wrappedKey || !info) continue;
      const recordKey = await this.keys.unwrapRecordKey(entry.recordId, entry.wrappedKey);
      entries.push({ shareText: encodeShareText({ recordId: entry.recordId, recordKey }), fragmentCount: entry.fragmentCount, parityCount: entry.parityCount ?? 0, createdAt: entry.createdAt, info });
      recordKey.fill(0);
    }
    return sealBackup(entries, passphrase);
  }

  /** Restores the records of a backup; their fragments are fetched from the cloud when opened. Returns how many. */
  async importBackup(file: Blob, passphrase: string): Promise<number> {
    const entries = await openBackup(file, passphrase);
    for (const entry of entries) {
      const { recordId, recordKey } = decodeShareText(entry.shareText);
      await this.rememberKey(recordId, recordKey, { n: entry.fragmentCount, p: entry.parityCount ?? 0 }, entry.info, entry.createdAt);
      recordKey.fill(0);
    }
    this.changed();
    return entries.length;
  }

  /** Keeps a record's key (sealed) in the catalog, so it appears in Records with its name. */
  private async rememberKey(recordId: string, recordKey: Uint8Array, layout: RecordLayout, info: SealedRecordInfo, createdAt = Date.now()): Promise<void> {
    const base: RecordEntry = {
      recordId,
      createdAt,
      fragmentCount: layout.n,
      parityCount: layout.p,
      envelopeLength: null,
      fragmentSizes: [],
      totalBytes: 0,
      sync: { state: 'remote', uploaded: layout.n + layout.p, updatedAt: Date.now(), lastError: null },
      wrappedKey: null,
      encryptedMetadata: null,
    };
    await attachSealedKey(this.db, base, await this.keys.wrapRecordKey(recordId, recordKey), await this.keys.sealJson(recordId, info));
  }

  /** Deletes a record here, and everywhere (its fragments in the cloud) unless `fromCloud` is false. */
  async deleteRecord(recordId: string, options: { readonly fromCloud: boolean }): Promise<void> {
    if (options.fromCloud) {
      const entry = await getRecord(this.db, recordId);
      // A recipient never deletes the owner's copy (the server refuses it anyway: issue #13).
      if (entry && (await this.info(entry))?.sharedFrom !== undefined) throw new ServiceError('READ_ONLY', 'This record was shared with you; it can only be forgotten on this device.');
      await queueRecordDeletion(recordId, { db: this.db });
    }
    else await forgetRecordLocally(this.db, recordId);
    this.changed();
  }

  /**
   * Withdraw, and keep access for the people who should (issue #13): the record is opened with the sequence
   * key used for it in this session, protected again under a fresh record key (a new record: new id, new
   * object names, same sequence key), and the old one is deleted here and in the cloud. Every link made
   * for the old record then says it was withdrawn; the owner sends new links to whom should keep access.
   * An image is carried over as its lossless PNG (the very pixels); a file as its original bytes.
   */
  async withdrawAndReprotect(recordId: string, options: LongCall = {}): Promise<ProtectOutcome> {
    const sequenceKey = this.sessionKeys.get(recordId);
    if (sequenceKey === undefined) {
      throw new ServiceError('SEQUENCE_KEY_NEEDED', 'Open this record once first: re-protecting needs its sequence key.', { recordId });
    }
    const opened = await this.openLocal(recordId, sequenceKey, options);
    const name = opened.metadata.name;
    if (opened.kind === 'image' && !opened.pngBlob) throw new ServiceError('SEQUENCE_KEY_NEEDED', 'This image cannot be exported here to be protected again.', { recordId });
    const file = opened.kind === 'image'
      ? new File([await opened.pngBlob!()], `${name.replace(/\.[^.]*$/u, '') || 'image'}.png`, { type: 'image/png' })
      : new File([opened.blob], name, { type: opened.metadata.mime });
    const outcome = await this.protect(file, sequenceKey, options);
    await this.deleteRecord(recordId, { fromCloud: true });
    return outcome;
  }

  async retryUpload(recordId: string): Promise<void> {
    await retryFailedEntries(this.db, Date.now(), recordId);
    notifyOutbox();
    this.runner.wake();
    this.changed();
  }

  cloudSettings(): Promise<{ presignUrl: string; token: string } | undefined> {
    return readCloudSettings(this.db, this.keys);
  }

  async saveCloudSettings(settings: { readonly presignUrl: string; readonly token: string } | undefined): Promise<void> {
    await updateCloudSettings(this.db, settings ?? null, this.keys, this.runner);
  }

  /** The storage connections besides the primary one (Settings → Storage providers). */
  storageConnections(): Promise<{ id: string; presignUrl: string }[]> {
    return listStorageConnections(this.db);
  }

  async addStorageConnection(settings: { readonly presignUrl: string; readonly token: string }): Promise<void> {
    await addStorageConnection(this.db, settings, this.keys, this.runner);
    this.changed();
  }

  async removeStorageConnection(id: string): Promise<void> {
    await removeStorageConnection(this.db, id, this.runner);
    this.changed();
  }

  /** What a record of n fragments protected now survives, spread over the current connections. */
  async storagePlan(n: number): Promise<PlacementSummary & { readonly providers: number; readonly parity: number }> {
    const providers = (await storageProviderIds(this.db)).length;
    return { ...summarizePlacement(n, APP_PARITY, providers), providers, parity: APP_PARITY };
  }

  /** How this app's server signs people in (OpenID Connect), or null when it does not. */
  signInConfig(): Promise<OidcSignInConfig | null> {
    return readSignInConfig(location.origin, defaultTransport());
  }

  async signedIn(): Promise<boolean> {
    const config = await this.signInConfig();
    return config !== null && (await this.oidc.signedIn(config));
  }

  /** The identity provider's address to send the person to (the app comes back to its root). */
  async beginSignIn(): Promise<string> {
    const config = await this.signInConfig();
    if (config === null) throw new ServiceError('CLOUD_NOT_CONFIGURED', 'This server does not sign people in.', {}, { retryable: false });
    return this.oidc.beginSignIn(config, `${location.origin}/`);
  }

  /**
   * When the page is the provider sending the person back: finishes the sign-in (the vault must be
   * unlocked), cleans the URL, and lets uploads that waited for it go on. Returns whether it did.
   */
  async completeSignInIfReturning(): Promise<boolean> {
    const url = new URL(location.href);
    if (!this.oidc.isCallback(url)) return false;
    history.replaceState(null, '', `${location.pathname}#/settings`);
    const config = await this.signInConfig();
    if (config === null) throw new ServiceError('CLOUD_NOT_CONFIGURED', 'This server does not sign people in.', {}, { retryable: false });
    await this.oidc.completeSignIn(config, url);
    await retryFailedEntries(this.db, Date.now());
    this.runner.reconfigure();
    this.changed();
    return true;
  }

  async signOut(): Promise<void> {
    const config = await this.signInConfig();
    if (config !== null) await this.oidc.signOut(config);
    this.runner.reconfigure();
    this.changed();
  }

  async storageReport(): Promise<StorageReport> {
    const estimate = await estimateStorage();
    return { usage: estimate.usage, quota: estimate.quota, persisted: estimate.persisted };
  }

  requestPersistence(): Promise<boolean> {
    return requestPersistentStorage();
  }
}

/**
 * Parity objects the app gives every record (FORMAT.md §4.4, issue 17). Two, by measurement
 * (`npm run bench:parity`, bench/README.md): n = 8 costs 25 % more stored bytes and coding runs at
 * ~70–110 MiB/s, far faster than an uplink moves the extra quarter; one parity object survives one loss
 * but cannot say which object holds damage, two survive any two losses or locate and repair one damaged
 * object with the record key alone. The UI says "survives the loss of 2 objects".
 */
export const APP_PARITY = 2;

/** For images the catalog shows the size of the pixel data a person would get back. */
/**
 * What the Records list shows of a record's content: the true sizes, never the encoded body's length
 * (a compressed file's body is smaller, an image's pixels larger than the file they came from).
 */
function contentInfo(metadata: RecordMetadata, sourceBytes?: number): SealedRecordInfo {
  const base = { name: metadata.name, kind: metadata.kind, mime: metadata.mime };
  if (metadata.kind === 'image' && metadata.image) return { ...base, byteLength: sourceBytes ?? pixelByteLength(metadata.image), image: metadata.image };
  return { ...base, byteLength: metadata.contentLength ?? metadata.byteLength };
}

let instance: Promise<Vault> | undefined;

/** The app's single vault (one IndexedDB connection, one outbox runner per tab). */
export function getVault(): Promise<Vault> {
  instance ??= Vault.create();
  return instance;
}
