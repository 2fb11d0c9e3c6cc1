/** What the UI may know about sequence keys: validation and generation are not byte work. */
export { describeSequenceKeyIssue, generateSequenceKey, validateSequenceKey, SEQUENCE_KEY_MAX_LENGTH, SEQUENCE_KEY_MIN_LENGTH } from '../core/sequence-key.js';
export type { SequenceKey, SequenceKeyValidation } from '../core/sequence-key.js';
