import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { sharedStyles } from '../styles/shared.js';
import './qr-code.js';

/**
 * A secret (record key, share text, sequence key) that stays hidden until an explicit tap, with Copy.
 *
 * @fires copied - after the text was copied to the clipboard.
 */
@customElement('ev-secret-text')
export class SecretText extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      code {
        display: block;
        word-break: break-all;
        font-size: 0.95rem;
        padding: 10px 12px;
        border-radius: var(--ev-radius);
        background: light-dark(#eef5f7, #0d1a1f);
        margin-block: 6px;
      }
    `,
  ];

  @property({ type: String }) label = 'Secret';
  @property({ type: String }) value = '';
  /** Also offer the secret as a QR code (share texts), revealed by its own tap. */
  @property({ type: Boolean }) qr = false;
  @state() private showQr = false;
  @state() private revealed = false;
  @state() private copied = false;

  private async copy() {
    await navigator.clipboard?.writeText(this.value).catch(() => undefined);
    this.copied = true;
    this.dispatchEvent(new CustomEvent('copied', { bubbles: true, composed: true }));
  }

  override render() {
    return html`
      <div class="row">
        <strong>${this.label}</strong>
        <button class="secondary" type="button" aria-pressed=${this.revealed ? 'true' : 'false'} @click=${() => (this.revealed = !this.revealed)}>${this.revealed ? 'Hide' : 'Show'}</button>
        <button class="secondary" type="button" @click=${this.copy}>${this.copied ? 'Copied' : 'Copy'}</button>
        ${this.qr ? html`<button class="secondary" type="button" aria-pressed=${this.showQr ? 'true' : 'false'} @click=${() => (this.showQr = !this.showQr)}>${this.showQr ? 'Hide QR' : 'QR code'}</button>` : ''}
      </div>
      ${this.qr && this.showQr ? html`<ev-qr-code .value=${this.value} label="QR code of the ${this.label.toLowerCase()}"></ev-qr-code>` : ''}
      ${this.revealed ? html`<code data-secret>${this.value}</code>` : html`<code aria-label="hidden">••••••••••••••••</code>`}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-secret-text': SecretText;
  }
}
