import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { unsafeSVG } from 'lit/directives/unsafe-svg.js';
import QRCode from 'qrcode';

/** A QR code of `value`, drawn as SVG (no canvas, no network). Shown only when its parent reveals it. */
@customElement('ev-qr-code')
export class QrCode extends LitElement {
  static override styles = css`
    :host {
      display: block;
      width: min(260px, 70vw);
      background: #fff;
      padding: 8px;
      border-radius: 8px;
    }
    svg {
      display: block;
      width: 100%;
      height: auto;
    }
  `;

  @property({ type: String }) value = '';
  @property({ type: String }) label = 'QR code';
  @state() private svg = '';

  protected override async willUpdate(changed: Map<string, unknown>) {
    if (changed.has('value')) {
      // The SVG comes from our own encoder over our own text, so it is safe to place as markup.
      this.svg = this.value ? await QRCode.toString(this.value, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 }) : '';
    }
  }

  override render() {
    return html`<div role="img" aria-label=${this.label}>${unsafeSVG(this.svg)}</div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-qr-code': QrCode;
  }
}
