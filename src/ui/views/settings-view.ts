import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { passphraseStrength, type PassphraseStrength } from '../../services/passphrase-strength.js';
import { getVault } from '../../services/vault.js';
import type { StorageReport } from '../../services/vault-types.js';
import { lastBackupAt, markBackupSaved } from '../../services/ui-preferences.js';
import { describeError } from '../controllers/describe-error.js';
import { formatBytes } from '../components/format.js';
import { sharedStyles } from '../styles/shared.js';
import '../components/install-button.js';
import '../components/my-key-card.js';

/**
 * Backup first (record keys live only in this browser), then cloud endpoint and token, storage used and
 * persistent storage, the passphrase lock, and installing the app.
 *
 * @fires locked - after "Lock now".
 */
@customElement('ev-settings-view')
export class SettingsView extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      input[type='file'] {
        max-width: 100%;
      }
      label {
        display: block;
        margin: 12px 0 4px;
      }
    `,
  ];

  /** A section to bring into view (e.g. "backup", from the backup prompt). */
  @property({ type: String }) section = '';
  @state() private lastBackup = lastBackupAt();

  @state() private presignUrl = '';
  @state() private token = '';
  @state() private usingDefault = true;
  @state() private storage: StorageReport | undefined;
  @state() private message = '';
  @state() private hasPassphrase = false;
  @state() private passphrase = '';
  @state() private currentPassphrase = '';
  /** Live estimate for the new passphrase (null while empty). */
  @state() private strength: PassphraseStrength | null = null;
  @state() private backupPassphrase = '';
  @state() private backupFile: File | undefined;
  @state() private backupBusy = false;
  /** null: this server does not sign people in; otherwise whether this device is signed in. */
  @state() private account: { signedIn: boolean; issuer: string } | null = null;

  override connectedCallback() {
    super.connectedCallback();
    void this.load();
  }

  private async load() {
    const vault = await getVault();
    const cloud = await vault.cloudSettings();
    this.usingDefault = cloud === undefined;
    this.presignUrl = cloud?.presignUrl ?? '';
    this.token = cloud?.token ?? '';
    this.storage = await vault.storageReport();
    this.hasPassphrase = await vault.keys.hasPassphrase();
    const signIn = await vault.signInConfig().catch(() => null);
    this.account = signIn === null ? null : { signedIn: await vault.signedIn().catch(() => false), issuer: signIn.issuer };
  }

  private async signIn() {
    try {
      location.assign(await (await getVault()).beginSignIn());
    } catch (error) {
      const view = describeError(error);
      this.message = `${view.title} ${view.hint}`;
    }
  }

  private async signOut() {
    await (await getVault()).signOut();
    this.message = 'Signed out on this device.';
    await this.load();
  }

  protected override updated(changed: Map<string, unknown>) {
    if (changed.has('section') && this.section === 'backup') {
      const target = this.renderRoot.querySelector<HTMLElement>('#backup');
      target?.scrollIntoView({ block: 'start' });
      this.renderRoot.querySelector<HTMLInputElement>('#backup-passphrase')?.focus({ preventScroll: true });
    }
  }

  private async saveCloud(e: Event) {
    e.preventDefault();
    try {
      const vault = await getVault();
      if (this.presignUrl.trim() === '') await vault.saveCloudSettings(undefined);
      else await vault.saveCloudSettings({ presignUrl: this.presignUrl.trim(), token: this.token.trim() });
      this.message = 'Cloud settings saved.';
      await this.load();
    } catch (error) {
      this.message = describeError(error).title;
    }
  }

  private async persist() {
    const granted = await (await getVault()).requestPersistence();
    this.message = granted ? 'Storage is now persistent: the browser will not clear it to free space.' : 'The browser did not grant persistent storage. Installing the app usually helps.';
    await this.load();
  }

  private async passphraseInput(e: Event) {
    const value = (e.target as HTMLInputElement).value;
    this.passphrase = value;
    const strength = value === '' ? null : await passphraseStrength(value);
    // Typing goes on while the estimate runs: keep only the latest.
    if (this.passphrase === value) this.strength = strength;
  }

  private async setPassphrase(e: Event) {
    e.preventDefault();
    try {
      const vault = await getVault();
      await vault.keys.setPassphrase(this.passphrase === '' ? null : this.passphrase, this.hasPassphrase ? this.currentPassphrase : undefined);
      this.message = this.passphrase === '' ? 'Passphrase removed.' : 'Passphrase set. EHR Vault will ask for it after a lock or a restart.';
      this.passphrase = '';
      this.currentPassphrase = '';
      this.strength = null;
      await this.load();
    } catch (error) {
      const view = describeError(error);
      this.message = `${view.title} ${view.hint}`;
    }
  }

  private async exportBackup() {
    this.backupBusy = true;
    try {
      const blob = await (await getVault()).exportBackup(this.backupPassphrase);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `ehr-vault-backup-${new Date().toISOString().slice(0, 10)}.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      markBackupSaved();
      this.lastBackup = lastBackupAt();
      this.message = 'Backup saved. Keep its passphrase apart from the file.';
    } catch (error) {
      const view = describeError(error);
      this.message = `${view.title} ${view.hint}`;
    } finally {
      this.backupBusy = false;
    }
  }

  private async importBackup() {
    if (!this.backupFile) return;
    this.backupBusy = true;
    try {
      const count = await (await getVault()).importBackup(this.backupFile, this.backupPassphrase);
      this.message = `Restored ${count} record${count === 1 ? '' : 's'}. Their fragments are fetched from the cloud when you open them.`;
    } catch (error) {
      const view = describeError(error);
      this.message = `${view.title} ${view.hint}`;
    } finally {
      this.backupBusy = false;
    }
  }

  private async lockNow() {
    (await getVault()).lock();
    this.message = 'Locked.';
    this.dispatchEvent(new CustomEvent('locked', { bubbles: true, composed: true }));
  }

  override render() {
    const s = this.storage;
    return html`
      <h2>Settings</h2>
      ${this.message ? html`<p role="status">${this.message}</p>` : nothing}
      <section class="card" id="backup" aria-labelledby="backup-title">
        <h3 id="backup-title">Backup and recovery</h3>
        <p>${this.lastBackup ? `Last backup saved ${new Date(this.lastBackup).toLocaleString()}.` : html`<strong>No backup yet.</strong> The keys of your records are only in this browser: without a backup, a lost phone or cleared browser data means nobody can open them again.`}</p>
        <p class="muted">An encrypted file with the keys and names of your records — never their sequence keys, and not their data, which stays in the cloud. Anyone with the file, its passphrase and a sequence key can open that record.</p>
        <label for="backup-passphrase">Backup passphrase</label>
        <input id="backup-passphrase" type="password" .value=${this.backupPassphrase} @input=${(e: Event) => (this.backupPassphrase = (e.target as HTMLInputElement).value)} autocomplete="new-password" />
        <div class="row" style="margin-top:8px">
          <button type="button" ?disabled=${this.backupBusy || this.backupPassphrase.length < 8} @click=${this.exportBackup}>Export backup</button>
        </div>
        <label for="backup-file" style="display:block;margin-top:12px">Restore from a backup file</label>
        <input id="backup-file" type="file" accept="application/json,.json" @change=${(e: Event) => (this.backupFile = (e.target as HTMLInputElement).files?.[0])} />
        <div class="row" style="margin-top:8px">
          <button type="button" class="secondary" ?disabled=${this.backupBusy || !this.backupFile || this.backupPassphrase === ''} @click=${this.importBackup}>Restore</button>
        </div>
      </section>
      ${this.account === null
        ? nothing
        : html`<section class="card" data-account=${this.account.signedIn ? 'signed-in' : 'signed-out'}>
            <h3>Account</h3>
            <p class="muted">${this.account.signedIn ? `Signed in with ${new URL(this.account.issuer).host}.` : `Sign in with ${new URL(this.account.issuer).host} to upload and fetch records.`}</p>
            ${this.account.signedIn
              ? html`<button type="button" class="secondary" @click=${this.signOut}>Sign out</button>`
              : html`<button type="button" @click=${this.signIn}>Sign in</button>`}
          </section>`}
      <form class="card" @submit=${this.saveCloud}>
        <h3>Cloud storage</h3>
        <p class="muted">${this.usingDefault ? 'Using this server’s storage.' : 'Using your own presign service.'} Only encrypted fragments are ever sent.</p>
        <label for="presign">Presign service URL (empty: this server)</label>
        <input id="presign" type="url" .value=${this.presignUrl} @input=${(e: Event) => (this.presignUrl = (e.target as HTMLInputElement).value)} placeholder="https://storage.example-hospital.org/api/presign" />
        <label for="token">Access token</label>
        <input id="token" type="password" .value=${this.token} @input=${(e: Event) => (this.token = (e.target as HTMLInputElement).value)} autocomplete="off" />
        <div class="row" style="margin-top:8px"><button type="submit">Save</button></div>
      </form>
      <section class="card" id="key-card" aria-labelledby="key-card-title">
        <h3 id="key-card-title">My key card</h3>
        <ev-my-key-card></ev-my-key-card>
      </section>
      <section class="card">
        <h3>Storage on this device</h3>
        <p>${s?.usage != null && s.quota != null ? `${formatBytes(s.usage)} used of ${formatBytes(s.quota)} available.` : 'Usage unknown.'}</p>
        <p>${s?.persisted ? 'Persistent: the browser keeps it.' : 'Not persistent: the browser may clear it when space is short.'}</p>
        ${s?.persisted ? nothing : html`<button type="button" class="secondary" @click=${this.persist}>Keep storage persistent</button>`}
      </section>
      <section class="card">
        <h3>Install</h3>
        <ev-install-button></ev-install-button>
      </section>
      <form class="card" @submit=${this.setPassphrase}>
        <h3>Lock</h3>
        <p class="muted">Record keys are wrapped by a key this browser cannot export. A passphrase adds a lock that a copy of the browser data cannot open.</p>
        ${this.hasPassphrase
          ? html`<label for="current">Current passphrase</label>
              <input id="current" type="password" .value=${this.currentPassphrase} @input=${(e: Event) => (this.currentPassphrase = (e.target as HTMLInputElement).value)} autocomplete="current-password" />`
          : nothing}
        <label for="passphrase">${this.hasPassphrase ? 'New passphrase (empty: remove the lock)' : 'New passphrase'}</label>
        <input id="passphrase" type="password" .value=${this.passphrase} @input=${this.passphraseInput} autocomplete="new-password" aria-describedby="passphrase-strength" />
        <p id="passphrase-strength" class="muted" aria-live="polite" data-acceptable=${this.strength === null ? nothing : String(this.strength.acceptable)}>
          ${this.strength === null
            ? 'Use four or more unrelated words.'
            : this.strength.acceptable
              ? `Strength ${this.strength.score} of 4: good.`
              : `Strength ${this.strength.score} of 4: too easy to guess (${this.strength.problem}).`}
        </p>
        <div class="row" style="margin-top:8px">
          <button type="submit">${this.hasPassphrase ? 'Change' : 'Set passphrase'}</button>
          ${this.hasPassphrase ? html`<button type="button" class="secondary" @click=${this.lockNow}>Lock now</button>` : nothing}
        </div>
      </form>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ev-settings-view': SettingsView;
  }
}
