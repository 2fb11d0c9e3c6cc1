/**
 * Small, non-secret preferences of this browser's app (localStorage): whether the introduction was
 * seen, and when the last encrypted backup was saved. Nothing here identifies a record or a person.
 */
const INTRO_SEEN = 'ehrv.intro-seen';
const LAST_BACKUP = 'ehrv.last-backup-at';
const BACKUP_PROMPT_SNOOZED = 'ehrv.backup-prompt-snoozed-at';

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Private modes may refuse; the app then simply asks again next time.
  }
}

export function introSeen(): boolean {
  return read(INTRO_SEEN) === '1';
}

export function markIntroSeen(): void {
  write(INTRO_SEEN, '1');
}

/** Epoch ms of the last backup exported from this browser, or null when none was. */
export function lastBackupAt(): number | null {
  const value = Number(read(LAST_BACKUP));
  return Number.isFinite(value) && value > 0 ? value : null;
}

export function markBackupSaved(at = Date.now()): void {
  write(LAST_BACKUP, String(at));
}

/** The big "save a backup" prompt can be put off; the small reminder stays until a backup exists. */
export function backupPromptSnoozed(): boolean {
  return read(BACKUP_PROMPT_SNOOZED) !== null;
}

export function snoozeBackupPrompt(): void {
  write(BACKUP_PROMPT_SNOOZED, String(Date.now()));
}
