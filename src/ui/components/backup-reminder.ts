import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { getVault } from '../../services/vault.js';
import { backupPromptSnoozed, lastBackupAt, snoozeBackupPrompt } from '../../services/ui-preferences.js';
import { sharedStyles } from '../styles/shared.js';

/**
 * Backup as a step of its own: record keys live only in this browser. After the first record a clear
 * prompt to save an encrypted backup; while no backup covers every record, a small reminder that stays.
 * Persistent storage is asked for in one place after protecting (the protect view's own card) and in
 * Settings, not here too: two buttons for one browser prompt read as two different things.
 */
@customElement('ev-backup-reminder')
export class BackupReminder extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      .card {
        border-left: 6px solid #c98a00;
      }
      .small {
        padding: 10px 14px;
      }
      p {
        margin: 4px 0 10px;
      }
    `,
  ];

  /** `prompt`: the full step (after protecting); `reminder`: one line with a button. */
  @property({ type: String }) variant: 'prompt' | 'reminder' = 'reminder';
  @state() private uncovered = 0;
  @state() private snoozed = backupPromptSnoozed();
  private unsubscribe: (() => void) | undefined;

  override connectedCallback() {
    super.connectedCallback();
    void this.load();
    void getVault().then((vault) => (this.unsubscribe = vault.onRecordsChanged(() => void this.load())));
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.unsubscribe?.();
  }

  private async load() {
    const vault = await getVault();
    const since = lastBackupAt() ?? 0;
    const records = await vault.listRecords();
    this.uncovered = records.filter((r) => r.hasKey && r.createdAt > since).length;
  }

  override render() {
    if (this.uncovered === 0) return nothing;
    const words = this.uncovered === 1 ? '1 record is' : `${this.uncovered} records are`;
    if (this.variant === 'reminder' || this.snoozed) {
      return html`<div class="card small row" role="note" data-backup-reminder>
        <span>No backup yet: ${words} only in this browser.</span>
        <a class="button secondary" href="#/settings/backup">Back up</a>
      </div>`;
    }
    return html`<section class="card" aria-labelledby="backup-title" data-backup-prompt>
      <h3 id="backup-title">Next step: save an encrypted backup</h3>
      <p>The keys of your records are only in this browser. If this phone is lost or the browser data is cleared, nobody can open them again, not even you. An encrypted backup file fixes that.</p>
      <div class="row">
        <a class="button" href="#/settings/backup">Save a backup</a>
        <button type="button" class="secondary" @click=${() => {
          snoozeBackupPrompt();
          this.snoozed = true;
        }}>Later</button>
      </div>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-backup-reminder': BackupReminder;
  }
}
