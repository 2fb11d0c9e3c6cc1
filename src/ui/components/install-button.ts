import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { canPromptInstall, isInstalled, onInstallChange, promptInstall } from '../../pwa/install-prompt.js';
import { sharedStyles } from '../styles/shared.js';

/**
 * "Install" where the browser offers installation (beforeinstallprompt); elsewhere a short hint on
 * adding the app to the home screen. Nothing once installed.
 */
@customElement('ev-install-button')
export class InstallButton extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      p {
        margin: 8px 0;
        font-size: 0.95rem;
      }
    `,
  ];

  @state() private canInstall = canPromptInstall();
  @state() private installed = isInstalled();
  private unsubscribe: (() => void) | undefined;

  override connectedCallback() {
    super.connectedCallback();
    this.unsubscribe = onInstallChange(() => {
      this.canInstall = canPromptInstall();
      this.installed = isInstalled();
    });
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.unsubscribe?.();
  }

  override render() {
    if (this.installed) return nothing;
    if (this.canInstall) {
      return html`<p>Install EHR Vault: it then opens like an app, works offline, and the browser keeps its storage.</p>
        <button type="button" @click=${() => void promptInstall()}>Install EHR Vault</button>`;
    }
    return html`<p class="muted">Tip: add EHR Vault to your home screen (browser menu → “Add to Home Screen” or “Install”) so it opens like an app and works offline.</p>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-install-button': InstallButton;
  }
}
