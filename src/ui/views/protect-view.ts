import { LitElement, css, html, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { APP_PARITY, getVault } from '../../services/vault.js';
import type { ProtectBatch, ProtectOutcome } from '../../services/vault-types.js';
import { KeyBatch } from '../controllers/key-batch.js';
import { validateSequenceKey } from '../../services/sequence-keys.js';
import { onSessionSequenceKeyChange, recordProtected, sessionSequenceKey, setSessionSequenceKey } from '../../services/session-sequence-key.js';
import { rememberThumbnail } from '../../services/thumbnails.js';
import { estimateUpload, type UploadEstimate } from '../../services/upload-estimate.js';
import { describeError, type ErrorView } from '../controllers/describe-error.js';
import { sharedStyles } from '../styles/shared.js';
import { formatBytes } from '../components/format.js';
import type { FragmentRow } from '../components/fragment-list.js';
import '../components/sequence-key-field.js';
import '../components/progress-panel.js';
import '../components/fragment-list.js';
import '../components/share-link.js';
import '../components/secret-text.js';
import '../components/qr-code.js';
import '../components/error-card.js';
import '../components/backup-reminder.js';

interface Done {
  readonly file: File;
  readonly outcome: ProtectOutcome;
  readonly originalUrl: string | undefined;
}

/**
 * Protect: first the sequence key (generate, copy, show; kept until the lock if wished), then pick,
 * photograph or drop files; see the original next to its cipher noise (paper Fig. 5.1); watch progress,
 * cancel; then the upload state and, once in the cloud, the share text — never next to the sequence key.
 */
@customElement('ev-protect-view')
export class ProtectView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      .drop {
        border: 2px dashed var(--ev-border);
        border-radius: 14px;
        padding: 16px;
        text-align: center;
      }
      .drop.over {
        border-color: var(--ev-accent);
        background: light-dark(#e4f2f7, #10303b);
      }
      .drop p {
        margin: 0 0 10px;
      }
      input[type='file'] {
        display: none;
      }
      .pair {
        display: grid;
        grid-template-columns: 1fr 1fr;
        gap: 8px;
      }
      .pair figure {
        margin: 0;
        min-width: 0;
      }
      .pair img,
      .pair canvas {
        width: 100%;
        height: auto;
        max-height: 40vh;
        object-fit: contain;
        border-radius: 8px;
        border: 1px solid var(--ev-border);
        background: #000;
      }
      figcaption {
        font-size: 0.9rem;
      }
      ul.files {
        padding-left: 20px;
        margin: 0 0 12px;
      }
      ul.files li,
      h3 {
        overflow-wrap: anywhere;
      }
      .cost {
        display: block;
        font-size: 0.9rem;
      }
      .keep-original {
        display: flex;
        gap: 8px;
        align-items: center;
        min-height: 44px;
        font-size: 0.9rem;
      }
      .keep {
        display: flex;
        gap: 10px;
        align-items: center;
        margin-top: 10px;
        font-weight: 400;
        min-height: 44px;
      }
      .keep input {
        width: 22px;
        height: 22px;
        flex: none;
      }
      .step-title {
        display: flex;
        gap: 8px;
        align-items: baseline;
      }
      .num {
        flex: none;
        display: inline-grid;
        place-items: center;
        width: 1.6em;
        height: 1.6em;
        border-radius: 50%;
        background: var(--ev-accent);
        color: var(--ev-accent-ink);
        font-size: 0.9rem;
      }
      /* Wide screens: the two steps side by side. */
      @media (min-width: 1000px) {
        .steps {
          display: grid;
          grid-template-columns: 1fr 1fr;
          gap: 16px;
          align-items: start;
        }
        .steps > .card {
          margin-block: 0 12px;
        }
      }
      details summary {
        min-height: 44px;
        display: flex;
        align-items: center;
        cursor: pointer;
        font-weight: 600;
      }
    `,
  ];

  @state() private files: File[] = [];
  /** Upload size of each selected file, before protecting (issue #15): an estimate for pixels. */
  @state() private estimates = new Map<File, UploadEstimate>();
  /** Lossy originals (JPEG, WebP) the person chose to keep as their file instead of pixels. */
  @state() private keepOriginal = new Set<File>();
  @state() private sequenceKey = sessionSequenceKey().value;
  @state() private keepKey = sessionSequenceKey().keep;
  @state() private busy = false;
  @state() private progress = { phase: '', done: 0, total: 0 };
  @state() private fileIndex = 0;
  @state() private results: Done[] = [];
  @state() private error: ErrorView | undefined;
  /** The file an image decode failed on: it can be protected as a file (original bytes) instead. */
  @state() private undecodable: File | undefined;
  @state() private dragOver = false;
  @state() private syncStates = new Map<string, RecordSync>();
  /** Persistent storage, asked for after a record is stored (never while storing: see record-store.ts). */
  @state() private persistence: 'unknown' | 'ask' | 'asking' | 'granted' | 'refused' = 'unknown';
  @state() private keyCleared = false;
  @query('#pick') private pickInput!: HTMLInputElement;
  @query('#camera') private cameraInput!: HTMLInputElement;
  private controller: AbortController | undefined;
  /** Argon2id of the chosen key, run while files are picked (key-batch.ts). */
  private readonly keyBatch = new KeyBatch();
  private unsubscribe: (() => void) | undefined;
  private unsubscribeKey: (() => void) | undefined;

  override connectedCallback() {
    super.connectedCallback();
    void getVault().then((vault) => {
      this.unsubscribe = vault.onRecordsChanged(() => void this.refreshSync());
    });
    this.unsubscribeKey = onSessionSequenceKeyChange((key) => {
      this.sequenceKey = key.value;
      this.keepKey = key.keep;
      this.keyBatch.prepare(key.value);
    });
    this.keyBatch.prepare(this.sequenceKey);
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.unsubscribe?.();
    this.unsubscribeKey?.();
    this.controller?.abort();
    this.keyBatch.release();
    for (const r of this.results) if (r.originalUrl) URL.revokeObjectURL(r.originalUrl);
  }

  private async refreshSync() {
    const vault = await getVault();
    const next = new Map<string, RecordSync>();
    for (const r of this.results) {
      const summary = await vault.summary(r.outcome.recordId);
      if (summary) next.set(r.outcome.recordId, { state: summary.sync.state, uploaded: summary.sync.uploaded });
    }
    this.syncStates = next;
  }

  private addFiles(list: FileList | null) {
    if (!list || list.length === 0) return;
    const added = Array.from(list);
    this.files = [...this.files, ...added];
    this.error = undefined;
    // n is the sequence key's length when it is already chosen (it sets how many objects), else 8; the
    // parity objects are uploaded too, so they are in the figure.
    const n = Math.min(64, Math.max(8, [...this.sequenceKey.normalize('NFC')].length));
    for (const file of added) {
      void estimateUpload(file, n, APP_PARITY).then(
        (estimate) => (this.estimates = new Map(this.estimates).set(file, estimate)),
        () => {},
      );
    }
  }

  private toggleKeepOriginal(file: File, keep: boolean) {
    const next = new Set(this.keepOriginal);
    if (keep) next.add(file);
    else next.delete(file);
    this.keepOriginal = next;
  }

  private renderCost(file: File) {
    const e = this.estimates.get(file);
    if (!e) return nothing;
    const keep = this.keepOriginal.has(file);
    const pixels = e.pixels ? `${e.pixels.width} × ${e.pixels.height} pixels, ` : '';
    const main = e.keepOriginalBytes !== undefined && keep ? `Upload ${formatBytes(e.keepOriginalBytes)} (the original file)` : `${pixels}upload ${e.approximate ? 'about ' : ''}${formatBytes(e.bytes)}${e.pixels ? ' (lossless pixels)' : e.approximate ? ' at most (compressed when it helps)' : ''}`;
    return html`<span class="cost muted" data-upload-estimate>${main}</span>
      ${e.keepOriginalBytes !== undefined
        ? html`<label class="keep-original"
            ><input type="checkbox" .checked=${keep} ?disabled=${this.busy} @change=${(ev: Event) => this.toggleKeepOriginal(file, (ev.target as HTMLInputElement).checked)} data-keep-original />
            Keep the original file instead: ${formatBytes(e.keepOriginalBytes)} rather than about ${formatBytes(e.bytes)} as pixels (the original is already lossy; pixels stay exact but larger)</label
          >`
        : nothing}`;
  }

  private onDrop(e: DragEvent) {
    e.preventDefault();
    this.dragOver = false;
    this.addFiles(e.dataTransfer?.files ?? null);
  }

  private async protect(asFile?: File) {
    const vault = await getVault();
    this.busy = true;
    this.error = undefined;
    this.undecodable = undefined;
    this.keyCleared = false;
    this.controller = new AbortController();
    const queue = [...this.files];
    let current: File | undefined;
    let protectedAny = false;
    let own: ProtectBatch | undefined;
    try {
      // The chosen key's batch, its Argon2id usually done while the files were picked; without one, several
      // files at once still share one Argon2id (a batch of their own).
      const onProgress = (p: { phase: string; done: number; total: number }) => (this.progress = { phase: p.phase, done: p.done, total: p.total });
      onProgress({ phase: 'unlock', done: 0, total: 1 });
      let batch = await this.keyBatch.take(this.sequenceKey);
      if (!batch && queue.length > 1) batch = own = await vault.beginProtectBatch(this.sequenceKey, { signal: this.controller.signal, onProgress });
      for (const [i, file] of queue.entries()) {
        this.fileIndex = i;
        current = file;
        const outcome = await vault.protect(file, this.sequenceKey, {
          signal: this.controller.signal,
          onProgress: (p) => (this.progress = { phase: p.phase, done: p.done, total: p.total }),
          asFile: file === asFile || this.keepOriginal.has(file),
          batch,
        });
        protectedAny = true;
        const originalUrl = outcome.metadata.kind === 'image' ? URL.createObjectURL(file) : undefined;
        if (file.type.startsWith('image/')) void rememberThumbnail(outcome.recordId, file);
        this.results = [{ file, outcome, originalUrl }, ...this.results];
        this.files = this.files.filter((f) => f !== file);
      }
    } catch (error) {
      this.error = describeError(error);
      if (this.error.undecodableImage) this.undecodable = current;
    } finally {
      vault.endProtectBatch(own);
      this.busy = false;
      this.controller = undefined;
      if (protectedAny && this.files.length === 0 && !this.keepKey) {
        recordProtected();
        this.keyCleared = true;
      }
      // The share card will be on screen: the kept key goes back to dots.
      if (protectedAny) this.renderRoot.querySelector('ev-sequence-key-field')?.conceal();
      // On a phone the result is below the two steps: bring it into view.
      if (protectedAny && !this.error) void this.updateComplete.then(() => this.renderRoot.querySelector('section[data-record-id]')?.scrollIntoView({ block: 'start', behavior: 'smooth' }));
      void this.refreshSync();
      if (this.results.length > 0 && this.persistence === 'unknown') void this.checkPersistence();
    }
  }

  /** Offers persistent storage once a record lives only here until uploaded: a moment its point is clear. */
  private async checkPersistence() {
    const report = await (await getVault()).storageReport().catch(() => undefined);
    if (this.persistence === 'unknown') this.persistence = report?.persisted === false ? 'ask' : 'granted';
  }

  private async askPersistence() {
    this.persistence = 'asking';
    const granted = await (await getVault()).requestPersistence();
    this.persistence = granted ? 'granted' : 'refused';
  }

  private renderPersistence() {
    if (this.persistence === 'ask' || this.persistence === 'asking') {
      return html`<div class="card" role="region" aria-label="Keep records on this device" data-persistence=${this.persistence}>
        <p>Until its upload finishes, a record exists only on this device, and the browser may clear stored data when space runs low. Ask it to keep EHR Vault’s data?</p>
        <div class="row">
          <button type="button" ?disabled=${this.persistence === 'asking'} @click=${() => void this.askPersistence()}>Keep records on this device</button>
          <button type="button" class="secondary" @click=${() => (this.persistence = 'refused')}>Not now</button>
        </div>
      </div>`;
    }
    return nothing;
  }

  private onErrorAction(e: CustomEvent<{ run: string }>) {
    if (e.detail.run === 'protect-as-file' && this.undecodable) void this.protect(this.undecodable);
    if (e.detail.run === 'retry') void this.protect();
    if (e.detail.run === 'fix-sequence-key') this.renderRoot.querySelector('ev-sequence-key-field')?.focus();
  }

  private fragmentRows(done: Done): FragmentRow[] {
    const sync = this.syncStates.get(done.outcome.recordId);
    return done.outcome.fragments.map((f, i) => ({
      slot: f.slot,
      size: f.size,
      state: sync?.state === 'synced' || (sync && i < sync.uploaded) ? 'in the cloud' : sync?.state === 'failed' ? 'failed' : sync?.state === 'uploading' ? 'uploading' : 'on device',
    }));
  }

  private drawNoise(canvas: Element | undefined, bitmap: ImageBitmap | undefined) {
    if (!(canvas instanceof HTMLCanvasElement) || !bitmap || canvas.width === bitmap.width) return;
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    canvas.getContext('2d')?.drawImage(bitmap, 0, 0);
  }

  protected override updated() {
    for (const done of this.results) {
      this.drawNoise(this.renderRoot.querySelector(`canvas[data-record="${done.outcome.recordId}"]`) ?? undefined, done.outcome.noise);
    }
  }

  private renderResult(done: Done) {
    const { outcome } = done;
    const sync = this.syncStates.get(outcome.recordId);
    const inCloud = sync?.state === 'synced';
    return html`<section class="card" aria-label="Protected ${done.file.name}" data-record-id=${outcome.recordId}>
      <h3>${done.file.name}</h3>
      <p class="muted">
        ${outcome.metadata.kind === 'image' ? html`Image ${outcome.metadata.image?.width}×${outcome.metadata.image?.height}: its pixels were encrypted.` : html`File: its bytes were encrypted.`}
        Split into ${outcome.fragments.length - outcome.parityCount} fragments${outcome.parityCount > 0 ? html`, plus ${outcome.parityCount} parity objects: <span data-survives=${outcome.parityCount}>survives the loss of ${outcome.parityCount} fragments</span>` : nothing}.
        <span data-sync-state=${sync?.state ?? 'local'}>${syncWords(sync, outcome.fragments.length)}</span>
      </p>
      ${outcome.noise && done.originalUrl
        ? html`<div class="pair">
            <figure><img src=${done.originalUrl} alt="Original image (shown only on this device)" /><figcaption>Original (plaintext)</figcaption></figure>
            <figure><canvas data-record=${outcome.recordId} role="img" aria-label="Encrypted image: noise"></canvas><figcaption>Encrypted (ciphertext)</figcaption></figure>
          </div>`
        : nothing}
      <details>
        <summary>Fragments (${outcome.fragments.length})</summary>
        <ev-fragment-list .fragments=${this.fragmentRows(done)}></ev-fragment-list>
      </details>
      <h3 style="margin-top:12px">Share</h3>
      ${inCloud
        ? html`<ev-share-link .recordId=${outcome.recordId}></ev-share-link>
            <p class="muted">Or the share text (for your own devices, or to paste). Tell the sequence key another way, never in the same message or picture.</p>
            <ev-secret-text label="Share text" qr .value=${outcome.shareText}></ev-secret-text>`
        : html`<p class="muted" data-share-pending>The share text appears here once the record is in the cloud: before that, nobody else could open it.</p>`}
    </section>`;
  }

  private renderKeyStep() {
    return html`<section class="card" aria-labelledby="key-title">
      <h3 id="key-title" class="step-title"><span class="num" aria-hidden="true">1</span> Choose your sequence key</h3>
      <p class="muted">Whoever opens the record needs it: remember it or write it down, and give it only separately from the share text.</p>
      <ev-sequence-key-field
        .value=${this.sequenceKey}
        @sequence-key-change=${(e: CustomEvent<{ value: string }>) => {
          this.keyCleared = false;
          setSessionSequenceKey(e.detail.value, this.keepKey);
        }}
      ></ev-sequence-key-field>
      <label class="keep">
        <input type="checkbox" .checked=${this.keepKey} @change=${(e: Event) => setSessionSequenceKey(this.sequenceKey, (e.target as HTMLInputElement).checked)} />
        Keep using this key until I lock the app
      </label>
      ${this.keyCleared ? html`<p class="muted" role="status">The key was cleared after protecting. To see it again, open the record from Records.</p>` : nothing}
    </section>`;
  }

  override render() {
    const keyOk = validateSequenceKey(this.sequenceKey).ok;
    return html`
      <h2>Protect a record</h2>
      <div class="steps">
      ${this.renderKeyStep()}
      <section class="card" aria-labelledby="files-title">
        <h3 id="files-title" class="step-title"><span class="num" aria-hidden="true">2</span> Choose what to protect</h3>
        <div
          class="drop ${this.dragOver ? 'over' : ''}"
          @dragover=${(e: DragEvent) => {
            e.preventDefault();
            this.dragOver = true;
          }}
          @dragleave=${() => (this.dragOver = false)}
          @drop=${this.onDrop}
        >
          <p>Scans, X-rays, photos, PDFs or DICOM files: drop them here, or</p>
          <div class="row" style="justify-content:center">
            <button type="button" @click=${() => this.pickInput.click()} ?disabled=${this.busy}>Choose files</button>
            <button type="button" class="secondary" @click=${() => this.cameraInput.click()} ?disabled=${this.busy}>Take a photo</button>
          </div>
          <input id="pick" type="file" multiple aria-label="Choose files" @change=${(e: Event) => this.addFiles((e.target as HTMLInputElement).files)} />
          <input id="camera" type="file" accept="image/*" capture="environment" aria-label="Take a photo" @change=${(e: Event) => this.addFiles((e.target as HTMLInputElement).files)} />
        </div>
        ${this.files.length > 0
          ? html`<h3 style="margin-top:12px">Selected</h3>
              <ul class="files">
                ${this.files.map((f) => html`<li>${f.name} <span class="muted">(${formatBytes(f.size)})</span>${this.renderCost(f)}</li>`)}
              </ul>
              ${keyOk ? nothing : html`<p class="muted">Choose a sequence key first (step 1).</p>`}
              ${this.busy
                ? html`<p>File ${this.fileIndex + 1} of ${this.files.length + this.fileIndex}</p>
                    <ev-progress-panel .phase=${this.progress.phase} .done=${this.progress.done} .total=${this.progress.total} @cancel=${() => this.controller?.abort()}></ev-progress-panel>`
                : html`<div class="row">
                    <button type="button" ?disabled=${!keyOk} @click=${() => this.protect()}>Protect ${this.files.length === 1 ? 'file' : `${this.files.length} files`}</button>
                    <button
                      type="button"
                      class="secondary"
                      @click=${() => {
                        this.files = [];
                        this.keepOriginal = new Set();
                      }}
                    >
                      Clear
                    </button>
                  </div>`}`
          : nothing}
      </section>
      </div>
      <ev-error-card
        .error=${this.error && this.undecodable ? { ...this.error, actions: this.error.actions.map((a) => ('run' in a && a.run === 'protect-as-file' ? { ...a, label: `Protect “${this.undecodable!.name}” as a file` } : a)) } : this.error}
        .available=${new Set([...(this.undecodable && this.files.includes(this.undecodable) && keyOk && !this.busy ? ['protect-as-file'] : []), 'fix-sequence-key', ...(this.files.length && keyOk ? ['retry'] : [])])}
        @error-action=${this.onErrorAction}
      ></ev-error-card>
      ${this.renderPersistence()}
      ${repeat(this.results, (r) => r.outcome.recordId, (r) => this.renderResult(r))}
      ${this.results.length ? html`<ev-backup-reminder variant="prompt"></ev-backup-reminder>` : nothing}
    `;
  }
}

interface RecordSync {
  readonly state: string;
  readonly uploaded: number;
}

function syncWords(sync: RecordSync | undefined, n: number): string {
  switch (sync?.state) {
    case 'synced':
      return 'All objects are in the cloud.';
    case 'uploading':
      return `Uploading: ${sync.uploaded} of ${n} in the cloud.`;
    case 'failed':
      return 'Upload failed; retry from Records.';
    default:
      return navigator.onLine ? 'Waiting to upload.' : 'Offline: the upload will start when you are back online.';
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-protect-view': ProtectView;
  }
}
