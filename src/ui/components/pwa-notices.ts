import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { registerServiceWorker } from '../../pwa/register.js';
import { sharedStyles } from '../styles/shared.js';

/**
 * The quiet service-worker flow: "ready to work offline" once, "update available" with a reload button.
 * Shown in the page's flow above the view, never over it: no toast can cover a primary action.
 */
@customElement('ev-pwa-notices')
export class PwaNotices extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      .toast {
        background: var(--ev-surface);
        border: 1px solid var(--ev-border);
        border-left: 6px solid var(--ev-ok);
        border-radius: 12px;
        padding: 8px 14px;
        margin-bottom: 12px;
      }
    `,
  ];

  @state() private offlineReady = false;
  @state() private applyUpdate: (() => void) | undefined;

  override connectedCallback() {
    super.connectedCallback();
    registerServiceWorker({
      onOfflineReady: () => {
        this.offlineReady = true;
        setTimeout(() => (this.offlineReady = false), 6000);
      },
      onUpdateReady: (apply) => (this.applyUpdate = apply),
    });
  }

  override render() {
    if (this.applyUpdate) {
      return html`<div class="toast row" role="status">An update is available. <button type="button" @click=${() => this.applyUpdate?.()}>Reload</button></div>`;
    }
    if (this.offlineReady) return html`<div class="toast" role="status" data-offline-ready>Ready to work offline.</div>`;
    return nothing;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-pwa-notices': PwaNotices;
  }
}
