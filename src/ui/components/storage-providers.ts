import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { getVault } from '../../services/vault.js';
import { describeError } from '../controllers/describe-error.js';
import { sharedStyles } from '../styles/shared.js';

/** The sequence-key length "Generate" gives: the figures shown are for a record of this many fragments. */
const TYPICAL_N = 10;

interface Plan {
  readonly providers: number;
  readonly parity: number;
  readonly perProvider: readonly number[];
  readonly noProviderHoldsAll: boolean;
  readonly survivesProviderLoss: boolean;
  readonly parityForProviderLoss: number | undefined;
}

/**
 * Settings → Storage providers (issue 17): more presign services besides the primary one, and what a
 * record protected now survives when its objects are spread over all of them (core/placement.ts).
 *
 * @fires providers-changed - after a connection was added or removed.
 */
@customElement('ev-storage-providers')
export class StorageProviders extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      label {
        display: block;
        margin: 12px 0 4px;
      }
      ul {
        padding-left: 1.2em;
      }
    `,
  ];

  @state() private connections: { id: string; presignUrl: string }[] = [];
  @state() private plan: Plan | undefined;
  @state() private presignUrl = '';
  @state() private token = '';
  @state() private message = '';

  override connectedCallback() {
    super.connectedCallback();
    void this.load();
  }

  private async load() {
    const vault = await getVault();
    this.connections = await vault.storageConnections();
    this.plan = await vault.storagePlan(TYPICAL_N);
  }

  private async add(e: Event) {
    e.preventDefault();
    try {
      await (await getVault()).addStorageConnection({ presignUrl: this.presignUrl.trim(), token: this.token.trim() });
      this.presignUrl = '';
      this.token = '';
      this.message = 'Storage provider added: new records are spread over it too.';
      await this.load();
      this.dispatchEvent(new CustomEvent('providers-changed', { bubbles: true, composed: true }));
    } catch (error) {
      // The service's own words say what is wrong with this address or token (the generic title does not).
      this.message = error instanceof Error && error.message !== '' ? error.message : describeError(error).title;
    }
  }

  private async removeProvider(id: string) {
    try {
      await (await getVault()).removeStorageConnection(id);
      this.message = 'Removed. Records already stored there count that provider as lost until it is added back.';
      await this.load();
      this.dispatchEvent(new CustomEvent('providers-changed', { bubbles: true, composed: true }));
    } catch (error) {
      this.message = describeError(error).title;
    }
  }

  private survives(plan: Plan) {
    const k = plan.providers;
    const n = TYPICAL_N;
    const lines = [html`<li data-survives-objects=${plan.parity}>Any record survives the loss of ${plan.parity} fragments (its ${plan.parity} parity objects rebuild them).</li>`];
    if (k === 1) {
      lines.push(html`<li data-provider-holds-all>One provider holds every object of a record: it stores the whole ciphertext, and losing it loses every record (this device's copy aside).</li>`);
    } else {
      lines.push(
        plan.noProviderHoldsAll
          ? html`<li data-provider-holds-all="no">No provider holds enough objects to rebuild a record's ciphertext alone (at most ${Math.max(...plan.perProvider)} of ${n + plan.parity} for ${n} fragments).</li>`
          : html`<li data-provider-holds-all="yes">One provider may still hold ${n} or more objects of a record: add a provider.</li>`,
      );
      lines.push(
        plan.survivesProviderLoss
          ? html`<li data-survives-provider="yes">Losing one whole provider is survivable.</li>`
          : html`<li data-survives-provider="no">
              Losing one whole provider is <strong>not</strong> survivable: that needs every provider to hold at most ${plan.parity} objects, i.e. at least
              ${plan.parityForProviderLoss} parity objects with ${k} providers (p ≥ n / (k − 1))${k === 2 ? ' — with two providers, never for p below n' : ''}.
            </li>`,
      );
    }
    return html`<ul>
      ${lines}
    </ul>`;
  }

  override render() {
    return html`<section class="card" aria-labelledby="providers-title">
      <h3 id="providers-title">Storage providers</h3>
      <p class="muted">The presign service above is the first provider. Add others (each with its own token) and every new record's objects are spread over all of them, one by one in turn.</p>
      ${this.connections.length > 0
        ? html`<ul data-providers>
            ${this.connections.map((c) => html`<li data-provider=${c.id}><code>${c.presignUrl}</code> <button type="button" class="secondary" @click=${() => this.removeProvider(c.id)}>Remove</button></li>`)}
          </ul>`
        : nothing}
      ${this.plan ? html`<p>With ${this.plan.providers} provider${this.plan.providers === 1 ? '' : 's'}, a record of ${TYPICAL_N} fragments:</p>${this.survives(this.plan)}` : nothing}
      <form @submit=${this.add}>
        <label for="provider-url">Another presign service</label>
        <input id="provider-url" type="url" placeholder="https://vault.example.org/api/presign" .value=${this.presignUrl} @input=${(e: Event) => (this.presignUrl = (e.target as HTMLInputElement).value)} />
        <label for="provider-token">Its access token</label>
        <input id="provider-token" type="password" autocomplete="off" .value=${this.token} @input=${(e: Event) => (this.token = (e.target as HTMLInputElement).value)} />
        <p><button type="submit">Add provider</button></p>
      </form>
      ${this.message ? html`<p role="status">${this.message}</p>` : nothing}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-storage-providers': StorageProviders;
  }
}
