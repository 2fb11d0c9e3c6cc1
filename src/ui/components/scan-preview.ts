import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { FrameViewerClient, type ViewerSummary } from '../../services/frame-viewer-client.js';
import type { PreviewSource } from '../../services/vault-types.js';
import { describeError } from '../controllers/describe-error.js';
import { sharedStyles } from '../styles/shared.js';
import './image-viewer.js';

/**
 * A diagnostic preview of an opened scan (DICOM, or 16-bit/grey pixels): window presets, centre/width
 * sliders, a drag pad (left–right: contrast, up–down: brightness), invert and a frame slider. All
 * decoding and windowing happen in the viewer worker; patient tags are shown here, on the device only.
 */
@customElement('ev-scan-preview')
export class ScanPreview extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      .controls {
        display: grid;
        gap: 8px;
        margin-top: 8px;
      }
      input[type='range'] {
        width: 100%;
        min-height: 44px;
      }
      .pad {
        min-height: 88px;
        border: 1px dashed var(--ev-border);
        border-radius: var(--ev-radius);
        display: flex;
        align-items: center;
        justify-content: center;
        touch-action: none;
        user-select: none;
      }
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 4px 12px;
        margin: 8px 0 0;
      }
      dt {
        font-weight: 600;
      }
      dd {
        margin: 0;
      }
    `,
  ];

  @property({ attribute: false }) source: PreviewSource | undefined;
  @state() private summary: ViewerSummary | undefined;
  @state() private bitmap: ImageBitmap | undefined;
  @state() private center = 0;
  @state() private width = 1;
  @state() private frame = 0;
  @state() private invert = false;
  @state() private error = '';
  private client: FrameViewerClient | undefined;
  private drag: { x: number; y: number; center: number; width: number } | undefined;

  protected override async willUpdate(changed: Map<string, unknown>) {
    if (!changed.has('source') || !this.source) return;
    this.client?.close();
    try {
      const source = this.source;
      this.client = source.kind === 'dicom' ? await FrameViewerClient.openDicom(source.blob, source.name) : await FrameViewerClient.openPixels(source.pixels, source.image);
      this.summary = this.client.summary;
      const w = this.summary.defaultWindow;
      if (w) {
        this.center = w.center;
        this.width = w.width;
      }
      await this.draw();
    } catch (error) {
      const view = describeError(error);
      this.error = `${view.title} ${view.hint}`;
    }
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.client?.close();
  }

  private async draw() {
    const rendered = await this.client?.render({ frame: this.frame, invert: this.invert, ...(this.summary?.grayscale ? { center: this.center, width: this.width } : {}) });
    if (!rendered) return;
    this.bitmap = rendered.bitmap;
    if (rendered.window) {
      this.center = rendered.window.center;
      this.width = rendered.window.width;
    }
  }

  private set(changes: Partial<{ center: number; width: number; frame: number; invert: boolean }>) {
    Object.assign(this, changes);
    void this.draw();
  }

  private onPadDown(e: PointerEvent) {
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    this.drag = { x: e.clientX, y: e.clientY, center: this.center, width: this.width };
  }

  private onPadMove(e: PointerEvent) {
    if (!this.drag || !this.summary?.valueRange) return;
    const span = Math.max(1, this.summary.valueRange.max - this.summary.valueRange.min);
    const perPixel = span / 400;
    this.set({ width: Math.max(1, this.drag.width + (e.clientX - this.drag.x) * perPixel), center: this.drag.center - (e.clientY - this.drag.y) * perPixel });
  }

  override render() {
    if (this.error) return html`<p class="error" role="alert">${this.error}</p>`;
    const s = this.summary;
    if (!s) return html`<p class="muted">Preparing the preview…</p>`;
    const range = s.valueRange ?? { min: 0, max: 65535 };
    const tags = s.dicom?.tags;
    return html`
      <ev-image-viewer .bitmap=${this.bitmap} label="Scan preview"></ev-image-viewer>
      <div class="controls">
        ${s.grayscale
          ? html`
              <div class="row" role="group" aria-label="Window presets">
                ${s.presets.map((p) => html`<button type="button" class="secondary" @click=${() => this.set({ center: p.center, width: p.width })}>${p.name}</button>`)}
                <button type="button" class="secondary" aria-pressed=${this.invert ? 'true' : 'false'} @click=${() => this.set({ invert: !this.invert })}>Invert</button>
              </div>
              <label for="wc">Window centre: ${Math.round(this.center)} ${s.units}</label>
              <input id="wc" type="range" min=${range.min} max=${range.max} .value=${String(this.center)} @input=${(e: Event) => this.set({ center: Number((e.target as HTMLInputElement).value) })} />
              <label for="ww">Window width: ${Math.round(this.width)} ${s.units}</label>
              <input id="ww" type="range" min="1" max=${Math.max(2, range.max - range.min)} .value=${String(this.width)} @input=${(e: Event) => this.set({ width: Number((e.target as HTMLInputElement).value) })} />
              <div class="pad muted" role="presentation" @pointerdown=${this.onPadDown} @pointermove=${this.onPadMove} @pointerup=${() => (this.drag = undefined)} @pointercancel=${() => (this.drag = undefined)}>
                Drag here: left–right for contrast, up–down for brightness
              </div>
            `
          : nothing}
        ${s.frames > 1
          ? html`<label for="frame">Frame ${this.frame + 1} of ${s.frames}</label>
              <input id="frame" type="range" min="0" max=${s.frames - 1} .value=${String(this.frame)} @input=${(e: Event) => this.set({ frame: Number((e.target as HTMLInputElement).value) })} />`
          : nothing}
      </div>
      ${tags
        ? html`<dl aria-label="Study details (shown on this device only)">
            <dt>Patient</dt><dd>${tags.patientName || '—'} ${tags.patientId ? `(${tags.patientId})` : ''}</dd>
            <dt>Study date</dt><dd>${tags.studyDate || '—'}</dd>
            <dt>Modality</dt><dd>${tags.modality || '—'}</dd>
            <dt>Description</dt><dd>${tags.description || '—'}</dd>
            <dt>Encoding</dt><dd>${s.dicom?.transferSyntaxName ?? ''}, ${s.dicom?.bitsStored ?? ''} bits</dd>
          </dl>`
        : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-scan-preview': ScanPreview;
  }
}
