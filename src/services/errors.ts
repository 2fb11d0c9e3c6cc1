/** The UI asks services, not the core, how to read an error. */
export { isEhrVaultError, EhrVaultError } from '../core/errors.js';
