import { LitElement, css, html, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { getVault } from '../../services/vault.js';
import type { ProtectOutcome } from '../../services/vault-types.js';
import { validateSequenceKey } from '../../services/sequence-keys.js';
import { describeError, type ErrorView } from '../controllers/describe-error.js';
import { sharedStyles } from '../styles/shared.js';
import { formatBytes } from '../components/format.js';
import type { FragmentRow } from '../components/fragment-list.js';
import '../components/sequence-key-field.js';
import '../components/progress-panel.js';
import '../components/fragment-list.js';
import '../components/secret-text.js';
import '../components/qr-code.js';

interface Done {
  readonly file: File;
  readonly outcome: ProtectOutcome;
  readonly originalUrl: string | undefined;
}

/**
 * Protect: pick, photograph or drop files; see the original next to its cipher noise (paper Fig. 5.1);
 * choose a sequence key (Fig. 5.2); watch progress, cancel; then see the fragments (Fig. 5.3) and how
 * to share the record.
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
        padding: 20px;
        text-align: center;
      }
      .drop.over {
        border-color: var(--ev-accent);
        background: light-dark(#e4f2f7, #10303b);
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
      }
    `,
  ];

  @state() private files: File[] = [];
  @state() private sequenceKey = '';
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
  @query('#pick') private pickInput!: HTMLInputElement;
  @query('#camera') private cameraInput!: HTMLInputElement;
  private controller: AbortController | undefined;
  private unsubscribe: (() => void) | undefined;

  override connectedCallback() {
    super.connectedCallback();
    void getVault().then((vault) => {
      this.unsubscribe = vault.onRecordsChanged(() => void this.refreshSync());
    });
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.unsubscribe?.();
    this.controller?.abort();
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
    this.files = [...this.files, ...Array.from(list)];
    this.error = undefined;
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
    this.controller = new AbortController();
    const queue = [...this.files];
    let current: File | undefined;
    try {
      for (const [i, file] of queue.entries()) {
        this.fileIndex = i;
        current = file;
        const outcome = await vault.protect(file, this.sequenceKey, {
          signal: this.controller.signal,
          onProgress: (p) => (this.progress = { phase: p.phase, done: p.done, total: p.total }),
          asFile: file === asFile,
        });
        const originalUrl = outcome.metadata.kind === 'image' ? URL.createObjectURL(file) : undefined;
        this.results = [{ file, outcome, originalUrl }, ...this.results];
        this.files = this.files.filter((f) => f !== file);
      }
    } catch (error) {
      this.error = describeError(error);
      if (this.error.undecodableImage) this.undecodable = current;
    } finally {
      this.busy = false;
      this.controller = undefined;
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
    return html`<section class="card" aria-label="Protected ${done.file.name}" data-record-id=${outcome.recordId}>
      <h3>${done.file.name}</h3>
      <p class="muted">
        ${outcome.metadata.kind === 'image' ? html`Image ${outcome.metadata.image?.width}×${outcome.metadata.image?.height}: its pixels were encrypted.` : html`File: its bytes were encrypted.`}
        Split into ${outcome.fragments.length} fragments.
        <span data-sync-state=${sync?.state ?? 'local'}>${syncWords(sync, outcome.fragments.length)}</span>
      </p>
      ${outcome.noise && done.originalUrl
        ? html`<div class="pair">
            <figure><img src=${done.originalUrl} alt="Original image (shown only on this device)" /><figcaption>Original (plaintext)</figcaption></figure>
            <figure><canvas data-record=${outcome.recordId} role="img" aria-label="Encrypted image: noise"></canvas><figcaption>Encrypted (ciphertext)</figcaption></figure>
          </div>`
        : nothing}
      <h3>Fragments</h3>
      <ev-fragment-list .fragments=${this.fragmentRows(done)}></ev-fragment-list>
      <h3 style="margin-top:12px">Share</h3>
      <p class="muted">Give the share text to the person who should open this record. Send the sequence key separately, by another channel.</p>
      <ev-secret-text label="Share text" qr .value=${outcome.shareText}></ev-secret-text>
    </section>`;
  }

  override render() {
    const keyOk = validateSequenceKey(this.sequenceKey).ok;
    return html`
      <h2>Protect a record</h2>
      <div
        class="drop ${this.dragOver ? 'over' : ''}"
        @dragover=${(e: DragEvent) => {
          e.preventDefault();
          this.dragOver = true;
        }}
        @dragleave=${() => (this.dragOver = false)}
        @drop=${this.onDrop}
      >
        <p>Drop scans, X-rays, photos, PDFs or DICOM files here, or</p>
        <div class="row" style="justify-content:center">
          <button type="button" @click=${() => this.pickInput.click()} ?disabled=${this.busy}>Choose files</button>
          <button type="button" class="secondary" @click=${() => this.cameraInput.click()} ?disabled=${this.busy}>Take a photo</button>
        </div>
        <input id="pick" type="file" multiple aria-label="Choose files" @change=${(e: Event) => this.addFiles((e.target as HTMLInputElement).files)} />
        <input id="camera" type="file" accept="image/*" capture="environment" aria-label="Take a photo" @change=${(e: Event) => this.addFiles((e.target as HTMLInputElement).files)} />
      </div>
      ${this.files.length > 0
        ? html`<div class="card">
            <h3>Selected</h3>
            <ul class="files">
              ${this.files.map((f) => html`<li>${f.name} <span class="muted">(${formatBytes(f.size)})</span></li>`)}
            </ul>
            <ev-sequence-key-field .value=${this.sequenceKey} @sequence-key-change=${(e: CustomEvent<{ value: string }>) => (this.sequenceKey = e.detail.value)}></ev-sequence-key-field>
            <p class="muted">Keep the sequence key: it is needed, with the share text, to open the record.</p>
            ${this.busy
              ? html`<p>File ${this.fileIndex + 1} of ${this.files.length + this.fileIndex}</p>
                  <ev-progress-panel .phase=${this.progress.phase} .done=${this.progress.done} .total=${this.progress.total} @cancel=${() => this.controller?.abort()}></ev-progress-panel>`
              : html`<div class="row">
                  <button type="button" ?disabled=${!keyOk} @click=${this.protect}>Protect ${this.files.length === 1 ? 'file' : `${this.files.length} files`}</button>
                  <button type="button" class="secondary" @click=${() => (this.files = [])}>Clear</button>
                </div>`}
          </div>`
        : nothing}
      ${this.error
        ? html`<div class="card error" role="alert" data-error-code=${this.error.code}>
            <strong>${this.error.title}</strong>
            <p>${this.error.hint}</p>
            ${this.undecodable && this.files.includes(this.undecodable)
              ? html`<button type="button" class="secondary" ?disabled=${!keyOk || this.busy} @click=${() => this.protect(this.undecodable)}>Protect “${this.undecodable.name}” as a file</button>`
              : nothing}
          </div>`
        : nothing}
      ${this.renderPersistence()} ${repeat(this.results, (r) => r.outcome.recordId, (r) => this.renderResult(r))}
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
      return 'All fragments are in the cloud.';
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
