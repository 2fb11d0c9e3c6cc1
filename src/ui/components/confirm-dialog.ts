import { LitElement, css, html } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { keepFocusInside } from '../controllers/focus-trap.js';
import { sharedStyles } from '../styles/shared.js';

export interface ConfirmChoice {
  readonly value: string;
  readonly label: string;
  readonly danger?: boolean;
}

/**
 * A modal confirmation in a native `<dialog>`: the page behind is inert, focus stays inside, Escape
 * cancels, and the safe choice comes first and has the focus. Destructive choices follow it.
 *
 * @fires confirm-choice - detail `{ value }` with the chosen value, or `'cancel'` (Escape, the safe button).
 */
@customElement('ev-confirm-dialog')
export class ConfirmDialog extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      dialog {
        border: 1px solid var(--ev-border);
        border-radius: 14px;
        background: var(--ev-surface);
        color: var(--ev-ink);
        width: min(440px, calc(100vw - 24px));
        padding: 20px;
      }
      dialog::backdrop {
        background: rgb(0 0 0 / 55%);
      }
      .choices {
        display: grid;
        gap: 8px;
        margin-top: 16px;
      }
      p {
        overflow-wrap: anywhere;
      }
    `,
  ];

  @property({ type: String }) heading = '';
  @property({ type: String }) safeLabel = 'Cancel';
  @property({ attribute: false }) choices: readonly ConfirmChoice[] = [];
  @query('dialog') private dialog!: HTMLDialogElement;

  /** Opens the dialog modally and resolves with the chosen value (`'cancel'` for the safe way out). */
  async show(): Promise<string> {
    await this.updateComplete;
    this.dialog.returnValue = 'cancel';
    this.dialog.showModal();
    this.renderRoot.querySelector<HTMLButtonElement>('button[value="cancel"]')?.focus();
    return new Promise((resolve) => {
      this.dialog.addEventListener(
        'close',
        () => {
          const value = this.dialog.returnValue || 'cancel';
          this.dispatchEvent(new CustomEvent('confirm-choice', { detail: { value }, bubbles: true, composed: true }));
          resolve(value);
        },
        { once: true },
      );
    });
  }

  override render() {
    return html`<dialog @keydown=${keepFocusInside} aria-labelledby="title" aria-describedby="body">
      <form method="dialog">
        <h2 id="title">${this.heading}</h2>
        <div id="body"><slot></slot></div>
        <div class="choices">
          <button type="submit" value="cancel" autofocus>${this.safeLabel}</button>
          ${this.choices.map((c) => html`<button type="submit" value=${c.value} class=${c.danger ? 'danger' : 'secondary'}>${c.label}</button>`)}
        </div>
      </form>
    </dialog>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-confirm-dialog': ConfirmDialog;
  }
}
