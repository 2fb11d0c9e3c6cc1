import { encodeKeyCard, encodeKeyCardLink, generateCardKeyPair, keyCardOf, normaliseCardName, type CardHolder } from '../core/key-card.js';
export type { KeyCard } from '../core/key-card.js';
import type { VaultDb } from '../storage/open-vault-db.js';
import { deleteKeyCard, getKeyCard, saveKeyCard } from '../storage/key-card-repository.js';

/** What the "My key card" screen shows: nothing secret, all of it may be sent to patients. */
export interface MyKeyCard {
  readonly name: string;
  readonly fingerprint: string;
  /** `ehrvc1.…`, for pasting. */
  readonly text: string;
  /** This app's address with the card after `#`: the QR code and the link to send. */
  readonly link: string;
}

/** This device's card with its private key, to open links wrapped to it; undefined without a card. */
export async function loadCardHolder(db: VaultDb): Promise<CardHolder | undefined> {
  const stored = await getKeyCard(db);
  if (!stored) return undefined;
  return { card: await keyCardOf(stored.publicKey, stored.name), keyPair: stored.keyPair };
}

export async function readMyKeyCard(db: VaultDb, appUrl: string): Promise<MyKeyCard | undefined> {
  const holder = await loadCardHolder(db);
  if (!holder) return undefined;
  return { name: holder.card.name, fingerprint: holder.card.fingerprint, text: encodeKeyCard(holder.card), link: encodeKeyCardLink(appUrl, holder.card) };
}

/**
 * Makes this device's card: a fresh P-256 key pair whose private key the browser never lets out. A new
 * card replaces the old one, so links wrapped to the old card no longer open here (the screen says so).
 */
export async function createMyKeyCard(db: VaultDb, name: string, appUrl: string): Promise<MyKeyCard> {
  const normal = normaliseCardName(name);
  const { keyPair, publicKey } = await generateCardKeyPair();
  await saveKeyCard(db, { name: normal, publicKey, keyPair, createdAt: Date.now() });
  return (await readMyKeyCard(db, appUrl))!;
}

export async function removeMyKeyCard(db: VaultDb): Promise<void> {
  await deleteKeyCard(db);
}
