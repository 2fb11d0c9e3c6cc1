/** The EHR Vault core: pure TypeScript, no DOM, storage or UI; runs in Node, Workers and the page. */
export * from './errors.js';
export * from './progress.js';
export * from './bytes.js';
export * from './byte-queue.js';
export * from './sequence-key.js';
export * from './keychain.js';
export * from './metadata.js';
export * from './envelope.js';
export * from './fragments.js';
export * from './split-stream.js';
export * from './key-text.js';
export * from './record.js';
export * from './object-names.js';
export * from './share-text.js';
