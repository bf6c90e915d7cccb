// Identity normalisation v2: the warehouse's e-mail functions generated from the one definition in
// src/warehouse/email-identity.ts (strip zero-width and no-break characters, trim, NFC, Unicode
// lower-case; RFC length limits and formula-like local parts rejected with a reason). Editing those
// constants changes this migration's checksum on purpose: add a new migration that calls
// emailFunctionsSql again instead.
import { emailFunctionsSql } from '../email-identity.js';

export const sql = emailFunctionsSql('learning_roi');
