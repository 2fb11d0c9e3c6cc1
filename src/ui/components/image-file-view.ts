import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { ImageView } from '../../services/image-view.js';
import { sharedStyles } from '../styles/shared.js';
import './image-viewer.js';

/**
 * An image kept as a file, shown in the app: its first frame (zoom and pan) with Play for animations,
 * TIFF pages one at a time, or — for a damaged image — why it cannot be shown, the same way for every format.
 */
@customElement('ev-image-file-view')
export class ImageFileView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      img {
        display: block;
        max-width: 100%;
        max-height: 70vh;
        margin: 0 auto;
        border-radius: var(--ev-radius);
        border: 1px solid var(--ev-border);
      }
      .damaged {
        border-left: 6px solid var(--ev-danger);
        padding: 8px 12px;
        margin: 8px 0;
      }
      .row {
        margin-top: 8px;
      }
    `,
  ];

  @property({ attribute: false }) view: ImageView | undefined;
  @property({ type: String }) label = 'Image';
  @state() private page = 0;
  @state() private playing = false;
  @state() private firstFrame: ImageBitmap | undefined;
  private url: string | undefined;

  protected override async willUpdate(changed: Map<string, unknown>) {
    if (!changed.has('view')) return;
    this.page = 0;
    this.playing = false;
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = undefined;
    this.firstFrame = undefined;
    const view = this.view;
    if (view?.kind === 'picture') {
      this.url = URL.createObjectURL(view.blob);
      this.firstFrame = await createImageBitmap(view.blob).catch(() => undefined);
    }
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    if (this.url) URL.revokeObjectURL(this.url);
  }

  override render() {
    const v = this.view;
    if (!v) return nothing;
    if (v.kind === 'damaged') return html`<p class="damaged" role="note" data-image-damaged><strong>This image cannot be shown.</strong> ${v.reason}</p>`;
    if (v.kind === 'pages') {
      return html`${v.note ? html`<p class="muted">${v.note}</p>` : nothing}
        <ev-image-viewer data-image-shown .bitmap=${v.pages[this.page]} label="${this.label}, page ${this.page + 1} of ${v.pages.length}"></ev-image-viewer>
        ${v.pages.length > 1
          ? html`<div class="row" role="group" aria-label="Pages">
              <button type="button" class="secondary" ?disabled=${this.page === 0} @click=${() => this.page--}>Previous page</button>
              <span aria-live="polite">Page ${this.page + 1} of ${v.pages.length}</span>
              <button type="button" class="secondary" ?disabled=${this.page >= v.pages.length - 1} @click=${() => this.page++}>Next page</button>
            </div>`
          : nothing}`;
    }
    return html`${v.note ? html`<p class="damaged" role="note" data-image-damaged>${v.note}</p>` : nothing}
      ${this.playing || !this.firstFrame
        ? html`<img data-image-shown src=${this.url ?? ''} alt=${this.label} />`
        : html`<ev-image-viewer data-image-shown .bitmap=${this.firstFrame} label=${v.animated ? `${this.label}, first frame` : this.label}></ev-image-viewer>`}
      ${v.animated
        ? html`<div class="row"><button type="button" class="secondary" aria-pressed=${this.playing ? 'true' : 'false'} @click=${() => (this.playing = !this.playing)}>${this.playing ? 'Show first frame' : 'Play animation'}</button></div>`
        : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-image-file-view': ImageFileView;
  }
}
