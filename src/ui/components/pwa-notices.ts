import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { registerServiceWorker } from '../../pwa/register.js';
import { sharedStyles } from '../styles/shared.js';

/** The quiet service-worker flow: "ready to work offline" once, "update available" with a reload button. */
@customElement('ev-pwa-notices')
export class PwaNotices extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      .toast {
        position: fixed;
        left: 50%;
        transform: translateX(-50%);
        bottom: 72px;
        background: var(--ev-surface);
        border: 1px solid var(--ev-border);
        border-radius: 12px;
        padding: 10px 14px;
        box-shadow: 0 4px 16px rgb(0 0 0 / 20%);
        z-index: 20;
        max-width: 92vw;
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
