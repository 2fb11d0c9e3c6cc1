import { validateSequenceKey } from '../../services/sequence-keys.js';
import { getVault } from '../../services/vault.js';
import type { ProtectBatch } from '../../services/vault-types.js';

/**
 * The protect batch of the sequence key on screen: Argon2id runs as soon as a valid key is chosen (after a
 * short pause in typing), while the person picks files, so that pressing Protect does not wait for it. A
 * changed key, leaving the view or locking ends the batch and wipes X (vault.endProtectBatch).
 */
export class KeyBatch {
  private key = '';
  private pending: Promise<ProtectBatch | undefined> | undefined;
  private controller: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly delayMs = 600,
    private readonly begin: (key: string, signal: AbortSignal) => Promise<ProtectBatch> = async (key, signal) => (await getVault()).beginProtectBatch(key, { signal }),
    private readonly end: (batch: ProtectBatch | undefined) => void = (batch) => void getVault().then((vault) => vault.endProtectBatch(batch)),
  ) {}

  /** Starts (after the pause) the batch of `key`, ending any other; nothing for an invalid key. */
  prepare(key: string): void {
    if (key === this.key && (this.pending || this.timer)) return;
    this.release();
    if (!validateSequenceKey(key).ok) return;
    this.key = key;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, this.delayMs);
  }

  /**
   * The batch of `key` if one is prepared (waiting for its Argon2id if it still runs), or undefined: then
   * the caller protects without a batch (or makes its own).
   */
  async take(key: string): Promise<ProtectBatch | undefined> {
    if (key !== this.key || !validateSequenceKey(key).ok) return undefined;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.start();
    }
    return this.pending;
  }

  /** Ends the batch (X wiped) and any Argon2id still running for it. */
  release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.controller?.abort();
    this.controller = undefined;
    const pending = this.pending;
    this.pending = undefined;
    this.key = '';
    void pending?.then((batch) => this.end(batch));
  }

  private start(): void {
    const controller = new AbortController();
    this.controller = controller;
    const key = this.key;
    // A failure (aborted, a stalled worker) only means no batch: protect then runs Argon2id itself.
    this.pending = this.begin(key, controller.signal).catch(() => undefined);
  }
}
