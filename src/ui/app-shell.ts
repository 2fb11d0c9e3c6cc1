import { LitElement, css, html } from 'lit';
import { customElement } from 'lit/decorators.js';
import './components/sequence-key-field.js';

/** The application frame. Views are added as the pipeline and cloud services land. */
@customElement('ev-app')
export class AppShell extends LitElement {
  static override styles = css`
    :host {
      display: block;
      min-height: 100dvh;
      font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
      color: light-dark(#102a33, #e6f1f5);
      background: light-dark(#f5fafc, #0d1a1f);
      color-scheme: light dark;
    }
    header {
      padding: 16px;
      background: light-dark(#0b5c7a, #083f54);
      color: #fff;
    }
    h1 {
      margin: 0;
      font-size: 1.25rem;
    }
    main {
      padding: 16px;
      max-width: 720px;
      margin: 0 auto;
    }
  `;

  override render() {
    return html`
      <header><h1>EHR Vault</h1></header>
      <main>
        <p>Records are encrypted on this device, then split into fragments by your sequence key.</p>
        <ev-sequence-key-field></ev-sequence-key-field>
      </main>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-app': AppShell;
  }
}
