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
      /*
       * A floating layer, not part of the flow: a notice that appears or leaves while someone is about to tap
       * must not move the page under their finger (a fresh install shows "ready to work offline" a few
       * seconds after the first load, exactly when people pick a file and press Protect). It lets taps
       * through except on its own buttons.
       */
      .layer {
        position: fixed;
        left: 0;
        right: 0;
        bottom: 16px;
        z-index: 20;
        display: flex;
        justify-content: center;
        padding-inline: 12px;
        pointer-events: none;
      }
      @media (max-width: 599px) {
        /* Above the bottom tab bar (48px links + its border and the safe area). */
        .layer {
          bottom: calc(60px + env(safe-area-inset-bottom));
        }
      }
      .toast {
        max-width: 420px;
        background: var(--ev-surface);
        border: 1px solid var(--ev-border);
        border-left: 6px solid var(--ev-ok);
        border-radius: 12px;
        padding: 8px 14px;
        box-shadow: 0 4px 16px rgb(0 0 0 / 18%);
      }
      .toast button {
        pointer-events: auto;
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
    // The live region stays in the document so that screen readers announce what appears in it.
    return html`<div class="layer" role="status" aria-live="polite">
      ${this.applyUpdate
        ? html`<div class="toast row">An update is available. <button type="button" @click=${() => this.applyUpdate?.()}>Reload</button></div>`
        : this.offlineReady
          ? html`<div class="toast" data-offline-ready>Ready to work offline.</div>`
          : nothing}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-pwa-notices': PwaNotices;
  }
}
