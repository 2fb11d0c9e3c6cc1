import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { getVault } from '../services/vault.js';
import { describeError } from './controllers/describe-error.js';
import { sharedStyles } from './styles/shared.js';
import './views/protect-view.js';
import './views/records-view.js';
import './views/open-view.js';
import './views/settings-view.js';
import './components/pwa-notices.js';

type Route = { view: 'protect' | 'records' | 'open' | 'settings' };

const TABS: { view: Route['view']; label: string }[] = [
  { view: 'protect', label: 'Protect' },
  { view: 'records', label: 'Records' },
  { view: 'open', label: 'Open' },
  { view: 'settings', label: 'Settings' },
];

/**
 * Routes name a view only. A record id never goes into the URL (it would stay in the browser's history
 * and synced tabs): the record to open is kept in memory. Old `#/open/<id>` links are cut back to `#/open`.
 */
function parseRoute(hash: string): Route {
  if (takeSharedLink(hash)) return { view: 'open' };
  const [view, extra] = hash.replace(/^#\/?/, '').split('/');
  if (view === 'records' || view === 'open' || view === 'settings') {
    if (extra !== undefined) history.replaceState(history.state, '', `#/${view}`);
    return { view };
  }
  return { view: 'protect' };
}

/** A share text that arrived in the address after `#` (a share link), waiting for the Open view. */
let arrivedShareText = '';

/**
 * A share link (`…/#ehrv1:…`, issue #13): its share text is kept in memory for the Open view and cut out of
 * the address and the history at once, so it never stays in the browser's history or synced tabs. The part
 * after `#` was never sent to any server.
 */
function takeSharedLink(hash: string): boolean {
  let text: string;
  try {
    text = decodeURIComponent(hash.slice(1));
  } catch {
    return false;
  }
  if (!/^ehrv1:/iu.test(text)) return false;
  arrivedShareText = text;
  history.replaceState(history.state, '', '#/open');
  return true;
}

/** The application frame: bottom tabs on phones, top tabs on wider screens, one view at a time. */
@customElement('ev-app')
export class AppShell extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        min-height: 100dvh;
        background: light-dark(#f5fafc, #0d1a1f);
        color-scheme: light dark;
      }
      header {
        padding: 12px 16px;
        background: light-dark(#0b5c7a, #083f54);
        color: #fff;
        display: flex;
        align-items: center;
        gap: 12px;
      }
      h1 {
        margin: 0;
        font-size: 1.2rem;
      }
      .offline {
        margin-left: auto;
        font-size: 0.9rem;
        background: #f5c542;
        color: #2b2100;
        padding: 2px 10px;
        border-radius: 999px;
      }
      nav {
        display: flex;
        background: var(--ev-surface);
        border-bottom: 1px solid var(--ev-border);
      }
      nav a {
        flex: 1;
        min-height: 48px;
        display: flex;
        align-items: center;
        justify-content: center;
        color: var(--ev-muted);
        text-decoration: none;
        font-weight: 600;
      }
      nav a[aria-current='page'] {
        color: var(--ev-accent);
        box-shadow: inset 0 -3px 0 var(--ev-accent);
      }
      main {
        padding: 16px;
        max-width: 880px;
        margin: 0 auto;
        padding-bottom: 96px;
      }
      @media (max-width: 599px) {
        nav {
          position: fixed;
          bottom: 0;
          left: 0;
          right: 0;
          border-top: 1px solid var(--ev-border);
          border-bottom: none;
          padding-bottom: env(safe-area-inset-bottom);
          z-index: 10;
        }
        nav a[aria-current='page'] {
          box-shadow: inset 0 3px 0 var(--ev-accent);
        }
      }
      .unlock {
        max-width: 420px;
        margin: 10vh auto;
      }
    `,
  ];

  @state() private route: Route = parseRoute(location.hash);
  /** The record the Open view shows, chosen in Records; in memory only (never in the URL). */
  @state() private openRecordId = '';
  @state() private online = navigator.onLine;
  @state() private locked = false;
  @state() private unlockError = '';
  @state() private ready = false;
  /** A message for the whole app (e.g. how a sign-in ended). */
  @state() private notice = '';
  private readonly onHash = () => {
    this.route = parseRoute(location.hash);
    if (this.route.view !== 'open') this.openRecordId = '';
  };
  private readonly onOnline = () => (this.online = navigator.onLine);

  override connectedCallback() {
    super.connectedCallback();
    addEventListener('hashchange', this.onHash);
    addEventListener('online', this.onOnline);
    addEventListener('offline', this.onOnline);
    void this.start();
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    removeEventListener('hashchange', this.onHash);
    removeEventListener('online', this.onOnline);
    removeEventListener('offline', this.onOnline);
  }

  private async start() {
    const vault = await getVault();
    this.locked = await vault.keys.hasPassphrase();
    if (!this.locked) {
      await vault.unlock();
      await this.finishSignIn();
    }
    this.ready = true;
  }

  /** Back from the identity provider: the sign-in is completed once the vault is unlocked (its tokens are sealed). */
  private async finishSignIn() {
    try {
      if (await (await getVault()).completeSignInIfReturning()) this.notice = 'Signed in. Uploads continue by themselves.';
    } catch (error) {
      const view = describeError(error);
      this.notice = `${view.title} ${view.hint}`;
    }
    this.route = parseRoute(location.hash);
  }

  private async unlock(e: Event) {
    e.preventDefault();
    const input = this.renderRoot.querySelector<HTMLInputElement>('#unlock-passphrase');
    try {
      await (await getVault()).unlock(input?.value ?? '');
      this.locked = false;
      this.unlockError = '';
      await this.finishSignIn();
    } catch (error) {
      const view = describeError(error);
      this.unlockError = `${view.title} ${view.hint}`;
    }
  }

  private takeArrived(): string {
    const text = arrivedShareText;
    arrivedShareText = '';
    return text;
  }

  private renderView() {
    switch (this.route.view) {
      case 'records':
        return html`<ev-records-view
          @open-record=${(e: CustomEvent<{ recordId: string }>) => {
            this.openRecordId = e.detail.recordId;
            location.hash = '#/open';
          }}
        ></ev-records-view>`;
      case 'open':
        return html`<ev-open-view .recordId=${this.openRecordId} .arrivedShareText=${this.takeArrived()}></ev-open-view>`;
      case 'settings':
        return html`<ev-settings-view @locked=${() => (this.locked = true)}></ev-settings-view>`;
      default:
        return html`<ev-protect-view></ev-protect-view>`;
    }
  }

  override render() {
    return html`
      <header>
        <h1>EHR Vault</h1>
        ${this.online ? nothing : html`<span class="offline" role="status">Offline</span>`}
      </header>
      ${this.locked
        ? html`<main><form class="card unlock" @submit=${this.unlock}>
            <h2>Unlock EHR Vault</h2>
            <label for="unlock-passphrase">Passphrase</label>
            <input id="unlock-passphrase" type="password" autocomplete="current-password" />
            ${this.unlockError ? html`<p class="error" role="alert">${this.unlockError}</p>` : nothing}
            <div class="row" style="margin-top:8px"><button type="submit">Unlock</button></div>
          </form></main>`
        : html`
            <nav aria-label="Main">
              ${TABS.map((t) => html`<a href="#/${t.view}" aria-current=${this.route.view === t.view ? 'page' : 'false'} @click=${() => (this.openRecordId = '')}>${t.label}</a>`)}
            </nav>
            <main>
              ${this.notice ? html`<p class="card" role="status" data-notice>${this.notice}</p>` : nothing}
              ${this.ready ? this.renderView() : html`<p class="muted">Starting…</p>`}
            </main>
          `}
      <ev-pwa-notices></ev-pwa-notices>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-app': AppShell;
  }
}
