import { describe, expect, it } from 'vitest';
import { describeError, describeStoredError } from '../../../src/ui/controllers/describe-error.js';
import { ServiceError } from '../../../src/services/service-error.js';
import { EhrVaultError } from '../../../src/core/errors.js';

describe('describeError', () => {
  it('tells "not uploaded yet", "withdrawn" and "not found" apart by what this device knows', () => {
    const missing = new ServiceError('FRAGMENT_NOT_IN_CLOUD', 'The fragment is not in the cloud.');
    const kinds = [undefined, 'uploading', 'local', 'deleting', 'remote'].map((syncState) => describeError(missing, { syncState }));
    expect(kinds.map((k) => k.kind)).toEqual(['not-found', 'not-uploaded-yet', 'not-uploaded-yet', 'withdrawn', 'withdrawn']);
    expect(new Set(kinds.map((k) => k.title)).size).toBe(3);
    expect(kinds.every((k) => k.code === 'FRAGMENT_NOT_IN_CLOUD')).toBe(true);
  });

  it('a refused token says so in plain words and offers Settings', () => {
    const view = describeError(new ServiceError('PRESIGN_UNAUTHORIZED', 'The bearer token is not recognised.'));
    expect(view.title).not.toMatch(/bearer/i);
    expect(view.title).toMatch(/access token/);
    expect(view.actions).toContainEqual({ label: 'Open Settings', href: '#/settings' });
  });

  it('every error a person can act on names a next step', () => {
    for (const code of ['WRONG_SEQUENCE_KEY', 'KEY_TEXT_INVALID', 'NETWORK_ERROR', 'CLOUD_NOT_CONFIGURED', 'STORAGE_FULL', 'FRAGMENT_UNAVAILABLE']) {
      expect(describeError(new EhrVaultError(code, 'm', 'h')).actions.length, code).toBeGreaterThan(0);
    }
  });

  it('an image the engine could not decode offers to keep it as a file', () => {
    const view = describeError(new EhrVaultError('INPUT_INVALID', 'This JPEG ends early.', 'Protect it as a file.', { decode: true, reason: 'truncated' }));
    expect(view.undecodableImage).toBe(true);
    expect(view.title).toBe('This JPEG ends early.');
    expect(view.actions).toEqual([{ label: 'Protect it as a file', run: 'protect-as-file' }]);
  });

  it('a stored upload failure offers Retry first, then where to fix it', () => {
    const view = describeStoredError({ code: 'PRESIGN_UNAUTHORIZED', message: 'The bearer token is not recognised.', hint: 'x' });
    expect(view.actions.map((a) => a.label)).toEqual(['Retry upload', 'Open Settings']);
  });
});
