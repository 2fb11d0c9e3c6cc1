import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { sharedStyles } from '../styles/shared.js';

const PHASE_WORDS: Record<string, string> = {
  decode: 'Reading the image',
  compress: 'Compressing pixels',
  unlock: 'Deriving keys from the sequence key',
  encrypt: 'Encrypting',
  verify: 'Checking fragments',
  decrypt: 'Decrypting',
  decompress: 'Restoring pixels',
  download: 'Downloading fragments',
  store: 'Saving on this device',
};

/**
 * A labelled progress bar with a Cancel button; announces the phase to screen readers.
 *
 * @fires cancel - when the person presses Cancel.
 */
@customElement('ev-progress-panel')
export class ProgressPanel extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      .bar {
        height: 12px;
        border-radius: 6px;
        background: var(--ev-border);
        overflow: hidden;
        margin-block: 8px;
      }
      .fill {
        height: 100%;
        background: var(--ev-accent);
        transition: width 0.15s linear;
      }
    `,
  ];

  @property({ type: String }) phase = '';
  @property({ type: Number }) done = 0;
  @property({ type: Number }) total = 0;
  @property({ type: Boolean }) cancellable = true;

  override render() {
    const percent = this.total > 0 ? Math.min(100, Math.round((this.done / this.total) * 100)) : 0;
    const label = PHASE_WORDS[this.phase] ?? 'Working';
    return html`
      <div class="row" aria-live="polite"><span>${label}…</span><span class="muted">${percent}%</span></div>
      <div class="bar" role="progressbar" aria-label=${label} aria-valuemin="0" aria-valuemax="100" aria-valuenow=${percent}>
        <div class="fill" style="width: ${percent}%"></div>
      </div>
      ${this.cancellable ? html`<button class="secondary" type="button" @click=${() => this.dispatchEvent(new CustomEvent('cancel', { bubbles: true, composed: true }))}>Cancel</button>` : ''}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-progress-panel': ProgressPanel;
  }
}
