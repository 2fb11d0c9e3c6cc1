import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ErrorAction, ErrorView } from '../controllers/describe-error.js';
import { sharedStyles } from '../styles/shared.js';

/**
 * An error in plain words with the next step as a button (a link for places, an event for actions the
 * view performs itself).
 *
 * @fires error-action - detail `{ run }` when a person chooses an action the view itself performs.
 */
@customElement('ev-error-card')
export class ErrorCard extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      .card {
        border-color: var(--ev-danger);
        border-left-width: 6px;
      }
      strong {
        color: var(--ev-danger);
      }
      p {
        margin: 6px 0 10px;
        overflow-wrap: anywhere;
      }
    `,
  ];

  @property({ attribute: false }) error: ErrorView | undefined;
  /** Actions the host cannot perform here are left out (e.g. "protect as a file" without that file). */
  @property({ attribute: false }) available: ReadonlySet<string> | undefined;

  private renderAction(action: ErrorAction, first: boolean) {
    if ('href' in action) return html`<a class="button ${first ? '' : 'secondary'}" href=${action.href}>${action.label}</a>`;
    return html`<button type="button" class=${first ? '' : 'secondary'} @click=${() => this.dispatchEvent(new CustomEvent('error-action', { detail: { run: action.run }, bubbles: true, composed: true }))}>${action.label}</button>`;
  }

  override render() {
    const e = this.error;
    if (!e) return nothing;
    const actions = e.actions.filter((a) => 'href' in a || !this.available || this.available.has(a.run));
    return html`<div class="card" role="alert" data-error-code=${e.code} data-error-kind=${e.kind ?? e.code}>
      <strong>${e.title}</strong>
      <p>${e.hint}</p>
      ${actions.length ? html`<div class="row">${actions.map((a, i) => this.renderAction(a, i === 0))}</div>` : nothing}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-error-card': ErrorCard;
  }
}
