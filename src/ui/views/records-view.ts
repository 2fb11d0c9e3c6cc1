import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import '@lit-labs/virtualizer';
import { getVault } from '../../services/vault.js';
import { forgetRecordExtras, listCatalog, saveRecordExtras, type CatalogRecord } from '../../services/record-catalog.js';
import { describeError, describeStoredError, type ErrorView } from '../controllers/describe-error.js';
import { DEFAULT_QUERY, displayName, queryRecords, type KindFilter, type RecordQuery, type RecordSort, type SyncFilter } from '../controllers/record-query.js';
import { formatBytes, formatDate, formatDay, formatPixels } from '../components/format.js';
import type { ConfirmDialog } from '../components/confirm-dialog.js';
import { keepFocusInside } from '../controllers/focus-trap.js';
import { sharedStyles } from '../styles/shared.js';
import '../components/secret-text.js';
import '../components/confirm-dialog.js';
import '../components/share-link.js';
import '../components/error-card.js';
import '../components/backup-reminder.js';

/**
 * Everything protected on this device, as a virtualized list with search, sort and filters: title (or
 * name, decrypted locally), thumbnail, kind, size, date and sync state, with open, share (once in the
 * cloud), edit title and notes, retry and delete (a modal confirmation).
 *
 * @fires open-record - detail `{ recordId }` when the person wants to open a record.
 */
@customElement('ev-records-view')
export class RecordsView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        min-width: 0;
      }
      .tools {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(96px, 1fr));
        gap: 8px;
        margin-bottom: 8px;
      }
      .tools .search {
        grid-column: 1 / -1;
      }
      .tools label {
        display: block;
        font-size: 0.85rem;
        margin-bottom: 2px;
      }
      select,
      input[type='search'] {
        width: 100%;
        min-width: 0;
        min-height: 44px;
        font: inherit;
        padding: 0 8px;
        border-radius: var(--ev-radius);
        border: 1px solid var(--ev-border);
        background: var(--ev-surface);
        color: inherit;
      }
      lit-virtualizer {
        width: 100%;
      }
      .item {
        width: 100%;
        padding-bottom: 8px;
        list-style: none;
      }
      .record {
        /* Each row lays out on its own: scrolling a long list does not re-lay the others. */
        contain: content;
        background: var(--ev-surface);
        border: 1px solid var(--ev-border);
        border-radius: 12px;
        padding: 10px;
        display: grid;
        grid-template-columns: 56px minmax(0, 1fr);
        gap: 4px 12px;
      }
      .record.selected {
        border-color: var(--ev-accent);
        box-shadow: inset 4px 0 0 var(--ev-accent);
      }
      .thumb {
        grid-row: span 3;
        width: 56px;
        height: 56px;
        border-radius: 8px;
        object-fit: cover;
        background: light-dark(#e4eef2, #0d1a1f);
        display: grid;
        place-items: center;
        font-size: 0.75rem;
        font-weight: 700;
        color: var(--ev-muted);
      }
      .title {
        font-weight: 700;
        overflow-wrap: anywhere;
      }
      .meta {
        font-size: 0.9rem;
        overflow-wrap: anywhere;
      }
      /* Every line of text beside the thumbnail, however many there are (state, health, badge). */
      .title,
      .meta,
      .badge {
        grid-column: 2;
      }
      .actions {
        grid-column: 1 / -1;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 6px;
      }
      .badge {
        justify-self: start;
        font-size: 0.8rem;
        padding: 2px 8px;
        border-radius: 999px;
        border: 1px solid var(--ev-border);
      }
      .actions button {
        padding: 0 8px;
        font-size: 0.95rem;
      }
      .state-synced,
      .state-remote {
        color: var(--ev-ok);
      }
      .state-failed {
        color: var(--ev-danger);
      }
      .share,
      .failure {
        grid-column: 1 / -1;
      }
      dialog.edit {
        border: 1px solid var(--ev-border);
        border-radius: 14px;
        background: var(--ev-surface);
        color: var(--ev-ink);
        width: min(480px, calc(100vw - 24px));
        padding: 20px;
      }
      dialog.edit::backdrop {
        background: rgb(0 0 0 / 55%);
      }
      dialog.edit form {
        display: grid;
        gap: 8px;
      }
      textarea {
        min-height: 120px;
      }
    `,
  ];

  /** The record shown next to the list (two-pane layout). */
  @property({ type: String }) selectedId = '';
  @state() private records: CatalogRecord[] | undefined;
  @state() private error: ErrorView | undefined;
  @state() private confirming: CatalogRecord | undefined;
  @state() private editing: CatalogRecord | undefined;
  @state() private sharing: { recordId: string; text: string } | undefined;
  /** The record whose objects are being checked or repaired now. */
  @state() private healthBusy: { recordId: string; action: 'check' | 'repair' } | undefined;
  /** The record being withdrawn and protected again (its card says so). */
  @state() private reprotecting: string | undefined;
  @state() private notice = '';
  @state() private query: RecordQuery = DEFAULT_QUERY;
  @query('ev-confirm-dialog') private confirmDialog!: ConfirmDialog;
  @query('dialog.edit') private editDialog!: HTMLDialogElement;
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
      this.records = await listCatalog();
    } catch (error) {
      this.error = describeError(error);
    }
  }

  private async askDelete(record: CatalogRecord) {
    this.confirming = record;
    const choice = await this.confirmDialog.show();
    this.confirming = undefined;
    if (choice === 'everywhere' || choice === 'device') await this.removeRecord(record, choice === 'everywhere');
    if (choice === 'reprotect') await this.reprotect(record);
  }

  /** Withdraw every link, and protect the same content under a new key: its share sheet opens for new links. */
  private async reprotect(record: CatalogRecord) {
    this.error = undefined;
    this.reprotecting = record.recordId;
    try {
      const vault = await getVault();
      const outcome = await vault.withdrawAndReprotect(record.recordId);
      await forgetRecordExtras(record.recordId);
      await this.load();
      this.sharing = { recordId: outcome.recordId, text: outcome.shareText };
      this.notice = `Withdrawn: links to the old copy no longer open. “${outcome.metadata.name}” is protected again under a new key, with the same sequence key — make new links for the people who should keep access.`;
    } catch (error) {
      this.error = describeError(error);
    } finally {
      this.reprotecting = undefined;
    }
  }

  private async removeRecord(record: CatalogRecord, fromCloud: boolean) {
    try {
      await (await getVault()).deleteRecord(record.recordId, { fromCloud });
      await forgetRecordExtras(record.recordId);
      await this.load();
    } catch (error) {
      this.error = describeError(error);
    }
  }

  private async share(record: CatalogRecord) {
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

  /** Checks (HEAD and SHA-256 of every object) or repairs a record's objects in the cloud (issue 17). */
  private async health(record: CatalogRecord, action: 'check' | 'repair') {
    this.healthBusy = { recordId: record.recordId, action };
    try {
      const vault = await getVault();
      if (action === 'check') await vault.checkRecord(record.recordId);
      else await vault.repairRecord(record.recordId);
    } catch (error) {
      this.error = describeError(error);
    } finally {
      this.healthBusy = undefined;
      await this.load();
    }
  }

  private healthWords(r: CatalogRecord): string {
    const h = r.health;
    if (this.healthBusy?.recordId === r.recordId) return this.healthBusy.action === 'check' ? 'Checking the cloud copy…' : 'Repairing…';
    if (!h) return 'Cloud copy not checked yet';
    const lost = h.missing.length + h.damaged.length;
    const parts = [h.missing.length > 0 ? `${h.missing.length} missing` : '', h.damaged.length > 0 ? `${h.damaged.length} damaged` : '', h.unreachable.length > 0 ? `${h.unreachable.length} unreachable` : ''].filter(Boolean).join(', ');
    switch (h.state) {
      case 'healthy':
        return `Cloud copy intact (all ${r.fragmentCount + r.parityCount} objects)`;
      case 'degraded':
        return `Cloud copy degraded: ${parts}; it still opens${lost > 0 ? ', repair restores it' : ''}`;
      case 'unrecoverable':
        return `Cloud copy beyond repair from the cloud alone: ${parts}${lost > 0 ? '; repair from this device\'s copy' : ''}`;
      case 'repairing':
        return 'Repair interrupted: repair again';
    }
  }

  private async retry(record: CatalogRecord) {
    await (await getVault()).retryUpload(record.recordId);
    await this.load();
  }

  private async edit(record: CatalogRecord) {
    this.editing = record;
    await this.updateComplete;
    this.editDialog.showModal();
  }

  private async saveEdit(e: SubmitEvent) {
    const record = this.editing;
    const submitter = e.submitter as HTMLButtonElement | null;
    if (!record || submitter?.value !== 'save') return;
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    try {
      await saveRecordExtras(record.recordId, { title: String(data.get('title') ?? ''), notes: String(data.get('notes') ?? '') });
      await this.load();
    } catch (error) {
      this.error = describeError(error);
    }
  }

  private stateWords(r: CatalogRecord): string {
    switch (r.sync.state) {
      case 'local':
        return 'On this device only, waiting to upload';
      case 'uploading':
        return `Uploading ${r.sync.uploaded} of ${r.fragmentCount + r.parityCount}`;
      case 'synced':
        return 'In the cloud';
      case 'failed':
        return 'Upload failed';
      case 'remote':
        return 'In the cloud';
      case 'deleting':
        return 'Deleting from the cloud';
    }
  }

  private open(r: CatalogRecord) {
    this.dispatchEvent(new CustomEvent('open-record', { detail: { recordId: r.recordId }, bubbles: true, composed: true }));
  }

  private renderRecord = (r: CatalogRecord) => {
    const name = displayName(r);
    // A record shared with this device is read-only here: it is opened or forgotten, never shared on.
    const canShare = r.hasKey && !r.sharedWithMe && (r.sync.state === 'synced' || r.sync.state === 'remote');
    const kind = kindWords(r);
    return html`<li class="item" data-record-id=${r.recordId}>
      <div class="record ${this.selectedId === r.recordId ? 'selected' : ''}">
        ${r.extras.thumbnail ? html`<img class="thumb" src=${r.extras.thumbnail} alt="" />` : html`<span class="thumb" aria-hidden="true">${r.kind === 'image' ? 'IMG' : 'FILE'}</span>`}
        <strong class="title">${name}</strong>
        ${r.sharedWithMe ? html`<span class="badge" data-shared-with-me>Shared with me · read-only</span>` : nothing}
        <span class="meta muted">${r.extras.title && r.name ? html`${r.name} · ` : nothing}${kind} · ${r.image ? html`<span data-pixels>${formatPixels(r.image)}</span> · ` : nothing}${r.byteLength !== null ? html`<span data-content-size>${formatBytes(r.byteLength)}</span> · ` : nothing}<span data-upload-size title="Sealed objects sent to the cloud">${formatBytes(r.totalBytes)} upload</span> · <time datetime=${new Date(r.createdAt).toISOString()} title=${formatDate(r.createdAt)}>${formatDay(r.createdAt)}</time></span>
        <span class="meta state-${r.sync.state}" data-sync-state=${r.sync.state}>${this.stateWords(r)}</span>
        ${r.parityCount > 0 && !r.sharedWithMe && (r.sync.state === 'synced' || r.health)
          ? html`<span class="meta" data-health=${this.healthBusy?.recordId === r.recordId ? 'busy' : (r.health?.state ?? 'unchecked')}>${this.healthWords(r)} · survives the loss of ${r.parityCount} fragments</span>`
          : nothing}
        ${r.sync.state === 'failed'
          ? html`<div class="failure"><ev-error-card .error=${describeStoredError(r.sync.error)} @error-action=${() => this.retry(r)}></ev-error-card></div>`
          : nothing}
        <div class="actions">
          <button type="button" ?disabled=${!r.hasKey} @click=${() => this.open(r)} aria-label="Open ${name}">Open</button>
          ${canShare ? html`<button type="button" class="secondary" aria-expanded=${this.sharing?.recordId === r.recordId ? 'true' : 'false'} @click=${() => this.share(r)}>Share</button>` : nothing}
          ${r.hasKey ? html`<button type="button" class="secondary" @click=${() => this.edit(r)}>Edit</button>` : nothing}
          ${r.hasKey && !r.sharedWithMe && r.sync.state === 'synced'
            ? html`<button type="button" class="secondary" ?disabled=${this.healthBusy !== undefined} @click=${() => this.health(r, 'check')} aria-label="Check ${name} in the cloud">Check</button>`
            : nothing}
          ${r.hasKey && !r.sharedWithMe && r.health && r.health.state !== 'healthy' && r.health.missing.length + r.health.damaged.length > 0
            ? html`<button type="button" ?disabled=${this.healthBusy !== undefined} @click=${() => this.health(r, 'repair')} aria-label="Repair ${name}">Repair</button>`
            : nothing}
          <button type="button" class="secondary" @click=${() => this.askDelete(r)}>${r.sharedWithMe ? 'Forget…' : 'Delete…'}</button>
        </div>
        ${this.sharing?.recordId === r.recordId
          ? html`<div class="share">
              <ev-share-link .recordId=${r.recordId}></ev-share-link>
              <p class="muted">Or the share text (for your own devices): tell the sequence key another way, never in the same message or picture.</p>
              <ev-secret-text label="Share text" qr .value=${this.sharing.text}></ev-secret-text>
            </div>`
          : nothing}
      </div>
    </li>`;
  };

  private setQuery(change: Partial<RecordQuery>) {
    this.query = { ...this.query, ...change };
  }

  private renderTools() {
    return html`<div class="tools" role="search">
      <div class="search">
        <label for="search">Search</label>
        <input id="search" type="search" placeholder="Title, file name or notes" .value=${this.query.search} @input=${(e: Event) => this.setQuery({ search: (e.target as HTMLInputElement).value })} />
      </div>
      <div>
        <label for="sort">Sort</label>
        <select id="sort" @change=${(e: Event) => this.setQuery({ sort: (e.target as HTMLSelectElement).value as RecordSort })}>
          <option value="newest" ?selected=${this.query.sort === 'newest'}>Newest</option>
          <option value="oldest" ?selected=${this.query.sort === 'oldest'}>Oldest</option>
          <option value="name" ?selected=${this.query.sort === 'name'}>Name</option>
          <option value="size" ?selected=${this.query.sort === 'size'}>Size</option>
        </select>
      </div>
      <div>
        <label for="kind">Kind</label>
        <select id="kind" @change=${(e: Event) => this.setQuery({ kind: (e.target as HTMLSelectElement).value as KindFilter })}>
          <option value="all">All</option>
          <option value="image">Images</option>
          <option value="file">Files</option>
        </select>
      </div>
      <div>
        <label for="sync">State</label>
        <select id="sync" @change=${(e: Event) => this.setQuery({ sync: (e.target as HTMLSelectElement).value as SyncFilter })}>
          <option value="all">All</option>
          <option value="cloud">In the cloud</option>
          <option value="device">Device only</option>
          <option value="failed">Failed</option>
        </select>
      </div>
    </div>`;
  }

  private renderList() {
    if (this.records === undefined) return html`<p class="muted">Loading…</p>`;
    if (this.records.length === 0) return html`<p class="muted">Nothing protected yet. <a href="#/protect">Protect a record</a> to see it here.</p>`;
    const shown = queryRecords(this.records, this.query);
    return html`${this.renderTools()}
      <p class="muted" role="status" data-count=${shown.length}>${shown.length === this.records.length ? `${shown.length} record${shown.length === 1 ? '' : 's'}` : `${shown.length} of ${this.records.length} records`}</p>
      ${shown.length === 0
        ? html`<p>No record matches. <button type="button" class="secondary" @click=${() => (this.query = DEFAULT_QUERY)}>Show all</button></p>`
        : html`<lit-virtualizer role="list" aria-label="Records" .items=${shown} .keyFunction=${(r: CatalogRecord) => r.recordId} .renderItem=${this.renderRecord}></lit-virtualizer>`}`;
  }

  override render() {
    const c = this.confirming;
    return html`
      <h2>Records on this device</h2>
      <ev-backup-reminder></ev-backup-reminder>
      <ev-error-card .error=${this.error} .available=${new Set<string>()}></ev-error-card>
      ${this.reprotecting ? html`<p class="card" role="status">Withdrawing and protecting again under a new key…</p>` : nothing}
      ${this.notice && !this.reprotecting ? html`<p class="card" role="status" data-reprotected>${this.notice}</p>` : nothing}
      ${this.renderList()}
      <ev-confirm-dialog
        heading=${c ? `${c.sharedWithMe ? 'Forget' : 'Delete'} “${displayName(c)}”?` : 'Delete?'}
        safeLabel="Keep it"
        .choices=${c?.sharedWithMe
          ? [{ value: 'device', label: 'Forget on this device' }]
          : [
              { value: 'device', label: 'Delete from this device only' },
              ...(c?.sync.state === 'synced' && c.hasKey ? [{ value: 'reprotect', label: 'Withdraw links, protect again under a new key' }] : []),
              { value: 'everywhere', label: 'Delete here and in the cloud', danger: true },
            ]}
      >
        ${c?.sharedWithMe
          ? html`<p>This record was shared with you: it stays in its owner's cloud. Forgetting it removes it from this device only.</p>`
          : html`<p>Deleting from the cloud removes every fragment there and withdraws every share link: nobody can open the record afterwards.</p>
              ${c?.sync.state === 'synced' && c.hasKey ? html`<p class="muted">Or withdraw the links and keep the record: it is protected again under a new key (same sequence key), and you send new links to the people who should keep access.</p>` : nothing}`}
      </ev-confirm-dialog>
      <dialog class="edit" @keydown=${keepFocusInside} aria-labelledby="edit-title" @close=${() => (this.editing = undefined)}>
        ${this.editing
          ? html`<form method="dialog" @submit=${this.saveEdit}>
              <h2 id="edit-title">Title and notes</h2>
              <p class="muted">Kept on this device, encrypted. They are not part of the shared record.</p>
              <label for="edit-title-input">Title</label>
              <input id="edit-title-input" name="title" type="text" maxlength="120" .value=${this.editing.extras.title || (this.editing.name ?? '')} />
              <label for="edit-notes">Notes</label>
              <textarea id="edit-notes" name="notes" maxlength="4000" .value=${this.editing.extras.notes}></textarea>
              <div class="row">
                <button type="submit" value="cancel" class="secondary">Cancel</button>
                <button type="submit" value="save">Save</button>
              </div>
            </form>`
          : nothing}
      </dialog>
    `;
  }
}

/** "Image", "TIFF image", "PDF", "DICOM" rather than a MIME type. */
function kindWords(r: CatalogRecord): string {
  if (r.kind === 'image') return 'Image';
  const mime = r.mime ?? '';
  if (mime.startsWith('image/')) return `${mime.slice(6).replace(/^x-/, '').toUpperCase()} image`;
  if (mime === 'application/pdf') return 'PDF';
  if (mime === 'application/dicom') return 'DICOM';
  if (mime.startsWith('text/')) return 'Text';
  return r.kind === 'file' ? 'File' : 'Record';
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-records-view': RecordsView;
  }
}
