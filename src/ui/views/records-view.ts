import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { getVault } from '../../services/vault.js';
import type { RecordSummary } from '../../services/vault-types.js';
import { describeError, type ErrorView } from '../controllers/describe-error.js';
import { formatBytes, formatDate } from '../components/format.js';
import { sharedStyles } from '../styles/shared.js';
import '../components/secret-text.js';
import '../components/share-link.js';

/**
 * Everything protected on this device: name (decrypted locally), kind, size, date, fragments and sync
 * state, with open, retry and delete (with a confirmation).
 *
 * @fires open-record - detail `{ recordId }` when the person wants to open a record.
 */
@customElement('ev-records-view')
export class RecordsView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      ul {
        list-style: none;
        padding: 0;
        margin: 0;
      }
      li.card {
        display: grid;
        gap: 6px;
      }
      .badge {
        justify-self: start;
        font-size: 0.8rem;
        padding: 2px 8px;
        border-radius: 999px;
        border: 1px solid var(--ev-border);
      }
      .state-synced {
        color: var(--ev-ok);
      }
      .state-failed {
        color: var(--ev-danger);
      }
      dialog {
        /* Above the phone's fixed bottom navigation, so every button can be tapped. */
        position: fixed;
        inset: auto 8px 72px 8px;
        margin: 0 auto;
        z-index: 30;
        border: 1px solid var(--ev-border);
        border-radius: 14px;
        background: var(--ev-surface);
        color: inherit;
        max-width: 420px;
      }
    `,
  ];

  @state() private records: RecordSummary[] | undefined;
  @state() private error: ErrorView | undefined;
  @state() private confirming: RecordSummary | undefined;
  @state() private sharing: { recordId: string; text: string } | undefined;
  private unsubscribe: (() => void) | undefined;

  override connectedCallback() {
    super.connectedCallback();
    void this.load();
    void getVault().then((vault) => (this.unsubscribe = vault.onRecordsChanged(() => void this.load())));
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.unsubscribe?.();
  }

  private async load() {
    try {
      this.records = await (await getVault()).listRecords();
    } catch (error) {
      this.error = describeError(error);
    }
  }

  private async removeRecord(record: RecordSummary, fromCloud: boolean) {
    this.confirming = undefined;
    try {
      await (await getVault()).deleteRecord(record.recordId, { fromCloud });
      await this.load();
    } catch (error) {
      this.error = describeError(error);
    }
  }

  private async share(record: RecordSummary) {
    if (this.sharing?.recordId === record.recordId) {
      this.sharing = undefined;
      return;
    }
    try {
      this.sharing = { recordId: record.recordId, text: await (await getVault()).shareText(record.recordId) };
    } catch (error) {
      this.error = describeError(error);
    }
  }

  private async retry(record: RecordSummary) {
    await (await getVault()).retryUpload(record.recordId);
    await this.load();
  }

  private stateWords(r: RecordSummary): string {
    switch (r.sync.state) {
      case 'local':
        return 'On this device only';
      case 'uploading':
        return `Uploading ${r.sync.uploaded} of ${r.fragmentCount}`;
      case 'synced':
        return 'In the cloud';
      case 'failed':
        return `Upload failed: ${r.sync.error?.message ?? ''}`;
      case 'remote':
        return 'Opened from the cloud';
      case 'deleting':
        return 'Deleting from the cloud';
    }
  }

  private renderRecord(r: RecordSummary) {
    return html`<li class="card" data-record-id=${r.recordId}>
      <strong>${r.name ?? 'Locked record'}</strong>
      ${r.sharedWithMe ? html`<span class="badge" data-shared-with-me>Shared with me · read-only</span>` : nothing}
      <span class="muted">
        ${r.kind === 'image' ? 'Image' : r.kind === 'file' ? (r.mime || 'File') : 'Record'} · ${r.byteLength !== null ? formatBytes(r.byteLength) : formatBytes(r.totalBytes)} ·
        ${formatDate(r.createdAt)} · ${r.fragmentCount} fragments
      </span>
      <span class="state-${r.sync.state}" data-sync-state=${r.sync.state}>${this.stateWords(r)}</span>
      <div class="row">
        <button type="button" ?disabled=${!r.hasKey} @click=${() => this.dispatchEvent(new CustomEvent('open-record', { detail: { recordId: r.recordId }, bubbles: true, composed: true }))}>Open</button>
        ${r.sync.state === 'failed' ? html`<button type="button" class="secondary" @click=${() => this.retry(r)}>Retry upload</button>` : nothing}
        ${r.hasKey && !r.sharedWithMe ? html`<button type="button" class="secondary" @click=${() => this.share(r)}>Share</button>` : nothing}
        <button type="button" class="secondary" @click=${() => (this.confirming = r)}>${r.sharedWithMe ? 'Forget…' : 'Delete…'}</button>
      </div>
      ${this.sharing?.recordId === r.recordId
        ? html`${r.sync.state === 'synced' ? html`<ev-share-link .recordId=${r.recordId}></ev-share-link>` : nothing}<p class="muted">Or the share text; send the sequence key separately, by another channel.</p><ev-secret-text label="Share text" qr .value=${this.sharing.text}></ev-secret-text>`
        : nothing}
    </li>`;
  }

  override render() {
    return html`
      <h2>Records on this device</h2>
      ${this.error ? html`<p class="error" role="alert">${this.error.title} ${this.error.hint}</p>` : nothing}
      ${this.records === undefined
        ? html`<p class="muted">Loading…</p>`
        : this.records.length === 0
          ? html`<p class="muted">Nothing protected yet. Protect a record to see it here.</p>`
          : html`<ul>${this.records.map((r) => this.renderRecord(r))}</ul>`}
      ${this.confirming
        ? html`<dialog open aria-labelledby="confirm-title">
            <h3 id="confirm-title">Delete “${this.confirming.name ?? 'this record'}”?</h3>
            <p>Deleting from the cloud removes every fragment there; nobody can open the record afterwards, not even with the share text.</p>
            <div class="row">
              ${this.confirming.sharedWithMe ? nothing : html`<button type="button" class="danger" @click=${() => this.removeRecord(this.confirming!, true)}>Delete here and in the cloud</button>`}
              <button type="button" class="secondary" @click=${() => this.removeRecord(this.confirming!, false)}>Delete from this device only</button>
              <button type="button" class="secondary" @click=${() => (this.confirming = undefined)}>Keep it</button>
            </div>
          </dialog>`
        : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-records-view': RecordsView;
  }
}
