import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { getVault } from '../../services/vault.js';
import type { OpenOutcome } from '../../services/vault-types.js';
import { describeError, type ErrorView } from '../controllers/describe-error.js';
import { formatBytes } from '../components/format.js';
import { inertObjectUrl, safeFileName, saveAs } from '../components/inert-download.js';
import { sharedStyles } from '../styles/shared.js';
import '../components/progress-panel.js';
import '../components/image-viewer.js';
import '../components/scan-preview.js';
import '../components/qr-scanner.js';

/**
 * Open a record from this device's list (by `recordId`) or one shared from elsewhere (share text +
 * sequence key): fetch the fragments, merge, decrypt, and show the image or offer the file.
 * Nothing is shown unless every byte checked out.
 */
@customElement('ev-open-view')
export class OpenView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      form {
        display: grid;
        gap: 12px;
      }
      textarea {
        min-height: 88px;
      }
    `,
  ];

  /** Set when opening a record from the list; the share text is then not needed. */
  @property({ type: String }) recordId = '';
  /** A share text that came with a share link: fills the field, so only the sequence key is asked for. */
  @property({ attribute: false }) arrivedShareText = '';
  @state() private shareText = '';
  /** The share text came with a link: the view says that only the sequence key is needed. */
  @state() private fromLink = false;
  @state() private sequenceKey = '';
  @state() private busy = false;
  @state() private progress = { phase: '', done: 0, total: 0 };
  @state() private outcome: OpenOutcome | undefined;
  @state() private downloadUrl: string | undefined;
  @state() private error: ErrorView | undefined;
  @state() private knownName: string | null = null;
  private controller: AbortController | undefined;

  protected override async willUpdate(changed: Map<string, unknown>) {
    if (changed.has('arrivedShareText') && this.arrivedShareText) {
      this.shareText = this.arrivedShareText;
      this.fromLink = true;
    }
    if (changed.has('recordId') && this.recordId) {
      const vault = await getVault();
      const summary = await vault.summary(this.recordId);
      this.knownName = summary?.name ?? null;
      this.sequenceKey = (await vault.rememberedSequenceKey(this.recordId)) ?? '';
    }
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.controller?.abort();
    if (this.downloadUrl) URL.revokeObjectURL(this.downloadUrl);
  }

  private async open(e: Event) {
    e.preventDefault();
    this.busy = true;
    this.error = undefined;
    this.outcome = undefined;
    if (this.downloadUrl) URL.revokeObjectURL(this.downloadUrl);
    this.downloadUrl = undefined;
    this.controller = new AbortController();
    const options = { signal: this.controller.signal, onProgress: (p: { phase: string; done: number; total: number }) => (this.progress = p) };
    try {
      const vault = await getVault();
      const outcome = this.recordId ? await vault.openLocal(this.recordId, this.sequenceKey, options) : await vault.openShared(this.shareText, this.sequenceKey, options);
      this.outcome = outcome;
      // Typed application/octet-stream whatever the record says: opened in a tab it downloads, never renders.
      if (outcome.kind === 'file') this.downloadUrl = inertObjectUrl(outcome.blob);
    } catch (error) {
      this.error = describeError(error);
    } finally {
      this.busy = false;
      this.controller = undefined;
    }
  }

  private async savePng() {
    if (this.outcome?.kind !== 'image' || !this.outcome.pngBlob) return;
    saveAs(await this.outcome.pngBlob(), `${safeFileName(this.outcome.metadata.name.replace(/\.[^.]*$/, ''), 'image')}.png`);
  }

  override render() {
    return html`
      <h2>${this.recordId ? `Open “${this.knownName ?? 'record'}”` : 'Open a shared record'}</h2>
      <form @submit=${this.open}>
        ${this.fromLink && !this.recordId
          ? html`<p class="card" data-from-link>A record was shared with you by link. Type the <strong>sequence key</strong> the sender gave you by another way (a call, a message on another app) to open it. You can read it and save it; you cannot change or delete it.</p>`
          : nothing}
        ${this.recordId
          ? nothing
          : html`<div>
              <label for="share">Share link or share text</label>
              <textarea id="share" .value=${this.shareText} @input=${(e: Event) => (this.shareText = (e.target as HTMLTextAreaElement).value)} autocomplete="off" spellcheck="false" placeholder="ehrv1:… or a share link"></textarea>
              <ev-qr-scanner @scanned=${(e: CustomEvent<{ value: string }>) => (this.shareText = e.detail.value)}></ev-qr-scanner>
            </div>`}
        <div>
          <label for="seq">Sequence key</label>
          <input id="seq" type="text" .value=${this.sequenceKey} @input=${(e: Event) => (this.sequenceKey = (e.target as HTMLInputElement).value)} autocomplete="off" autocapitalize="off" spellcheck="false" />
        </div>
        ${this.busy
          ? html`<ev-progress-panel .phase=${this.progress.phase} .done=${this.progress.done} .total=${this.progress.total} @cancel=${() => this.controller?.abort()}></ev-progress-panel>`
          : html`<div class="row"><button type="submit" ?disabled=${!this.sequenceKey || (!this.recordId && !this.shareText)}>Open</button></div>`}
      </form>
      ${this.error ? html`<div class="card error" role="alert" data-error-code=${this.error.code}><strong>${this.error.title}</strong><p>${this.error.hint}</p></div>` : nothing}
      ${this.outcome?.kind === 'image'
        ? html`<div class="card">
            <h3>${this.outcome.metadata.name}</h3>
            <p class="muted">${this.outcome.metadata.image?.width}×${this.outcome.metadata.image?.height} pixels, verified.</p>
            ${this.outcome.preview
              ? html`<ev-scan-preview .source=${this.outcome.preview}></ev-scan-preview>`
              : html`<ev-image-viewer .bitmap=${this.outcome.bitmap} label=${this.outcome.metadata.name}></ev-image-viewer>`}
            ${this.outcome.pngBlob ? html`<button type="button" class="secondary" @click=${this.savePng}>Save as PNG (lossless)</button>` : nothing}
          </div>`
        : nothing}
      ${this.outcome?.kind === 'file' && this.downloadUrl
        ? html`<div class="card">
            <h3>${this.outcome.metadata.name}</h3>
            <p class="muted">${this.outcome.metadata.mime || 'File'}, ${formatBytes(this.outcome.metadata.byteLength)}, verified.</p>
            <a class="button" href=${this.downloadUrl} download=${safeFileName(this.outcome.metadata.name)} type="application/octet-stream" rel="noopener">Save the original file</a>
            ${this.outcome.preview ? html`<h3 style="margin-top:12px">Preview</h3><ev-scan-preview .source=${this.outcome.preview}></ev-scan-preview>` : nothing}
          </div>`
        : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-open-view': OpenView;
  }
}
