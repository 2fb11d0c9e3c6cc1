import { LitElement, css, html, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { getVault } from '../services/vault.js';
import { forgetSessionSequenceKey } from '../services/session-sequence-key.js';
import { introSeen, markIntroSeen } from '../services/ui-preferences.js';
import { describeError } from './controllers/describe-error.js';
import { keepArrivedKeyCard } from './controllers/arrived-key-card.js';
import { sharedStyles } from './styles/shared.js';
import type { IntroDialog } from './components/intro-dialog.js';
import './views/protect-view.js';
import './views/records-view.js';
import './views/open-view.js';
import './views/settings-view.js';
import './components/pwa-notices.js';
import './components/intro-dialog.js';

type View = 'protect' | 'records' | 'open' | 'settings';
type Route = { view: View; section?: string };

const TABS: { view: View; label: string }[] = [
  { view: 'protect', label: 'Protect' },
  { view: 'records', label: 'Records' },
  { view: 'open', label: 'Open' },
  { view: 'settings', label: 'Settings' },
];

/** Where the list and the record sit side by side. */
const TWO_PANES = '(min-width: 800px)';

/**
 * Routes name a view (and a Settings section). A record id never goes into the URL (it would stay in the
 * browser's history and synced tabs): the record shown is kept in memory. Old `#/open/<id>` and
 * `#/records/<id>` links are cut back to the view.
 */
function parseRoute(hash: string): Route {
  if (takeSharedLink(hash)) return { view: 'open' };
  if (takeKeyCardLink(hash)) return { view: 'records' };
  const [view, rest] = hash.replace(/^#\/?/, '').split('/');
  if (view === 'settings') return rest ? { view, section: rest } : { view };
  if (view === 'records' || view === 'open') {
    if (rest !== undefined) history.replaceState(history.state, '', `#/${view}`);
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

/** The notice for a key card that arrived by link (shown once, on Records). */
let keyCardNotice = '';

/**
 * A doctor's key-card link (`…/#ehrvc1.…`): the card waits in memory for the next share sheet, and the
 * address is cut back to Records, where the patient picks the record to share.
 */
function takeKeyCardLink(hash: string): boolean {
  if (!/^#ehrvc1\./iu.test(hash)) return false;
  keepArrivedKeyCard(hash.slice(1));
  keyCardNotice = 'A doctor’s key card arrived. Choose a record and press Share, then “Share to a doctor’s key card…”: the card is filled in.';
  history.replaceState(history.state, '', '#/records');
  return true;
}

/** Hands the key-card notice to the shell once. */
export function takeKeyCardNotice(): string {
  const text = keyCardNotice;
  keyCardNotice = '';
  return text;
}

/** Hands the arrived share text to the Open view once. */
function takeArrived(): string {
  const text = arrivedShareText;
  arrivedShareText = '';
  return text;
}

/**
 * The application frame: bottom tabs on phones, top tabs on wider screens; from ~800 px the records list
 * and the open record side by side. The first-run introduction opens by itself once, and from Help.
 */
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
        padding: 8px 16px;
        background: light-dark(#0b5c7a, #083f54);
        color: #fff;
        display: flex;
        align-items: center;
        gap: 12px;
        min-height: 56px;
      }
      h1 {
        margin: 0;
        font-size: 1.2rem;
      }
      .header-end {
        margin-left: auto;
        display: flex;
        align-items: center;
        gap: 8px;
      }
      .offline {
        font-size: 0.9rem;
        background: #f5c542;
        color: #2b2100;
        padding: 2px 10px;
        border-radius: 999px;
      }
      header button.help {
        background: transparent;
        color: #fff;
        border: 1px solid rgb(255 255 255 / 60%);
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
      main.wide {
        max-width: 1400px;
      }
      @media (min-width: 1000px) {
        main {
          max-width: 1100px;
        }
      }
      .panes {
        display: grid;
        grid-template-columns: minmax(340px, 1fr) minmax(0, 1.4fr);
        gap: 20px;
        align-items: start;
      }
      .pane-record {
        position: sticky;
        top: 8px;
        max-height: calc(100dvh - 16px);
        overflow: auto;
        min-width: 0;
      }
      a.back {
        display: inline-flex;
        align-items: center;
        min-height: 44px;
        color: var(--ev-accent);
        font-weight: 600;
        margin-bottom: 4px;
      }
      .placeholder {
        border: 2px dashed var(--ev-border);
        border-radius: 14px;
        padding: 32px 16px;
        text-align: center;
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
  /** The record shown (Records' second pane, or Open on a phone): in memory only, never in the URL. */
  @state() private selectedId = '';
  /** A message for the whole app (e.g. how a sign-in ended). */
  @state() private notice = takeKeyCardNotice();
  @state() private online = navigator.onLine;
  @state() private locked = false;
  @state() private unlockError = '';
  @state() private ready = false;
  @state() private twoPanes = matchMedia(TWO_PANES).matches;
  @query('ev-intro-dialog') private intro!: IntroDialog;
  private readonly media = matchMedia(TWO_PANES);
  /** Set while the hash changes because a record was chosen (openRecord): that change keeps the selection. */
  private selecting = false;
  private readonly onHash = () => {
    this.route = parseRoute(location.hash);
    this.notice = takeKeyCardNotice() || this.notice;
    // The selection lives in memory, not in the URL: any other arrival at a view (a tab, a link, Back) shows
    // that view itself — the list, or the empty Open form.
    if (!this.selecting) this.selectedId = '';
    this.selecting = false;
  };
  private readonly onOnline = () => (this.online = navigator.onLine);
  private readonly onMedia = () => (this.twoPanes = this.media.matches);

  override connectedCallback() {
    super.connectedCallback();
    addEventListener('hashchange', this.onHash);
    addEventListener('online', this.onOnline);
    addEventListener('offline', this.onOnline);
    this.media.addEventListener('change', this.onMedia);
    void this.start();
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    removeEventListener('hashchange', this.onHash);
    removeEventListener('online', this.onOnline);
    removeEventListener('offline', this.onOnline);
    this.media.removeEventListener('change', this.onMedia);
  }

  private async start() {
    const vault = await getVault();
    this.locked = await vault.keys.hasPassphrase();
    if (!this.locked) {
      await vault.unlock();
      await this.finishSignIn();
    }
    this.ready = true;
    if (!introSeen()) await this.showIntro();
  }

  private async showIntro() {
    await this.updateComplete;
    await this.intro.show();
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

  private onLocked() {
    forgetSessionSequenceKey();
    this.locked = true;
  }

  private openRecord(recordId: string) {
    this.selectedId = recordId;
    const target = this.twoPanes ? '#/records' : '#/open';
    // No hashchange fires when the hash stays the same (two panes, already on Records).
    if (location.hash !== target) {
      this.selecting = true;
      location.hash = target;
    }
  }

  private renderRecords(selected: string) {
    const list = html`<ev-records-view .selectedId=${selected} @open-record=${(e: CustomEvent<{ recordId: string }>) => this.openRecord(e.detail.recordId)}></ev-records-view>`;
    if (!this.twoPanes) return selected ? html`<a class="back" href="#/records" @click=${() => (this.selectedId = '')}>← All records</a><ev-open-view .recordId=${selected}></ev-open-view>` : list;
    return html`<div class="panes">
      ${list}
      <section class="pane-record" aria-label="Record">
        ${selected ? html`<ev-open-view auto-open .recordId=${selected}></ev-open-view>` : html`<div class="placeholder muted">Choose a record in the list to open it here.</div>`}
      </section>
    </div>`;
  }

  private renderView() {
    switch (this.route.view) {
      case 'records':
        return this.renderRecords(this.selectedId);
      case 'open':
        return this.selectedId ? this.renderRecords(this.selectedId) : html`<ev-open-view .arrivedShareText=${takeArrived()}></ev-open-view>`;
      case 'settings':
        return html`<ev-settings-view .section=${this.route.section ?? ''} @locked=${this.onLocked}></ev-settings-view>`;
      default:
        return html`<ev-protect-view></ev-protect-view>`;
    }
  }

  override render() {
    const current = this.route.view === 'open' && this.selectedId ? 'records' : this.route.view;
    const wide = this.twoPanes && (current === 'records');
    return html`
      <header>
        <h1>EHR Vault</h1>
        <div class="header-end">
          ${this.online ? nothing : html`<span class="offline" role="status">Offline</span>`}
          <button type="button" class="help" @click=${this.showIntro}>Help</button>
        </div>
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
              ${TABS.map((t) => html`<a href="#/${t.view}" aria-current=${current === t.view ? 'page' : 'false'} @click=${() => (this.selectedId = '')}>${t.label}</a>`)}
            </nav>
            <main class=${wide ? 'wide' : ''}>
              <ev-pwa-notices></ev-pwa-notices>
              ${this.notice ? html`<p class="card" role="status" data-notice>${this.notice}</p>` : nothing}
              ${this.ready ? this.renderView() : html`<p class="muted">Starting…</p>`}
            </main>
          `}
      <ev-intro-dialog @intro-closed=${markIntroSeen}></ev-intro-dialog>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-app': AppShell;
  }
}
