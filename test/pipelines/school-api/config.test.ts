// The API sources' configuration: secrets from *_FILE, sample mode when nothing is set, clear
// errors for half a configuration, and credentials never reaching a log line.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { REDACT_PATHS } from '../../../src/logging.js';

describe('API source config', () => {
  it('is in sample mode with no credentials, with the documented defaults', () => {
    const c = loadConfig({});
    expect(c.github).toMatchObject({ sample: true, skillsOrg: 'skills', trackedUsers: [] });
    expect(c.schoolApi).toMatchObject({
      sample: true,
      pageSize: 100,
      sleepBetweenCallsMs: 600,
      scope: { cursusId: 21, userKind: 'student', includeAlumni: false },
    });
  });

  it('reads the token and the client secret from *_FILE and takes scope filters from the environment', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'api-config-'));
    writeFileSync(path.join(dir, 'gh'), 'ghp_from_file\n');
    writeFileSync(path.join(dir, 'secret'), 's3cret\n');
    const c = loadConfig({
      GITHUB_TOKEN_FILE: path.join(dir, 'gh'),
      GITHUB_ORG: 'octo-org',
      GITHUB_TRACKED_USERS: ' ada, linus ,',
      SCHOOL_API_CLIENT_ID: 'uid',
      SCHOOL_API_CLIENT_SECRET_FILE: path.join(dir, 'secret'),
      SCHOOL_API_CURSUS_ID: '9',
      SCHOOL_API_INCLUDE_ALUMNI: 'true',
      SLEEP_BETWEEN_CALLS: '0',
    });
    expect(c.github).toMatchObject({
      token: 'ghp_from_file',
      org: 'octo-org',
      sample: false,
      trackedUsers: ['ada', 'linus'],
    });
    expect(c.schoolApi).toMatchObject({
      sample: false,
      baseUrl: 'https://api.intra.42.fr',
      tokenUrl: 'https://api.intra.42.fr/oauth/token',
      clientSecret: 's3cret',
      sleepBetweenCallsMs: 0,
      scope: { cursusId: 9, includeAlumni: true },
    });
  });

  it('says what to fix when the school API is half configured', () => {
    expect(() => loadConfig({ SCHOOL_API_URL: 'https://school.example' })).toThrow(
      /SCHOOL_API_CLIENT_ID and SCHOOL_API_CLIENT_SECRET/,
    );
    expect(() => loadConfig({ SCHOOL_API_PAGE_SIZE: '500' })).toThrow(/SCHOOL_API_PAGE_SIZE/);
  });

  it('never logs the credentials held in the config', () => {
    const c = loadConfig({
      GITHUB_TOKEN: 'ghp_secret_value',
      SCHOOL_API_CLIENT_ID: 'uid',
      SCHOOL_API_CLIENT_SECRET: 'school_secret_value',
    });
    let out = '';
    const sink = new Writable({ write: (chunk, _e, cb) => ((out += String(chunk)), cb()) });
    const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    log.info({ github: c.github, schoolApi: c.schoolApi }, 'config');
    expect(out).not.toContain('ghp_secret_value');
    expect(out).not.toContain('school_secret_value');
    expect(out).toContain('[redacted]');
  });
});
