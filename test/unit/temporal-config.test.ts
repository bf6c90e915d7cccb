// Temporal connection settings as the SDK will use them: TEMPORAL_TLS=false is honoured even with
// an API key (the SDK would otherwise switch TLS on by itself), and TEMPORAL_UI_URL, printed as a
// link, must be http(s).
import { normalizeTlsConfig } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { temporalSecurity } from '../../src/runtime/worker-options.js';

const KEY = 'temporal-api-key-123456';

/** What the SDK's connection does with the options: undefined is a plain connection. */
const tlsUsed = (env: Record<string, string>) => {
  const s = temporalSecurity(loadConfig(env));
  return normalizeTlsConfig(s.tls, s.apiKey);
};

describe('TEMPORAL_TLS with TEMPORAL_API_KEY', () => {
  it('TEMPORAL_TLS=false keeps the connection plain even with an API key', () => {
    expect(tlsUsed({ TEMPORAL_API_KEY: KEY, TEMPORAL_TLS: 'false' })).toBeUndefined();
    expect(temporalSecurity(loadConfig({ TEMPORAL_API_KEY: KEY, TEMPORAL_TLS: 'false' })).apiKey).toBe(KEY);
  });

  it('an API key alone means TLS; TEMPORAL_TLS=true means TLS; nothing set means plain', () => {
    expect(tlsUsed({ TEMPORAL_API_KEY: KEY })).toEqual({});
    expect(tlsUsed({ TEMPORAL_TLS: 'true' })).toEqual({});
    expect(tlsUsed({})).toBeUndefined();
  });
});

describe('TEMPORAL_UI_URL', () => {
  it.each(['javascript:alert(1)', 'data:text/html,<script>x</script>', 'file:///etc/passwd', 'ftp://temporal.example'])(
    'refuses %s',
    (url) => {
      expect(() => loadConfig({ TEMPORAL_UI_URL: url })).toThrow(ConfigError);
      expect(() => loadConfig({ TEMPORAL_UI_URL: url })).toThrow(/TEMPORAL_UI_URL: must be an http\(s\) URL/);
    },
  );

  it('accepts http and https', () => {
    expect(loadConfig({ TEMPORAL_UI_URL: 'https://cloud.temporal.io/namespaces/x' }).temporal.uiUrl).toBe(
      'https://cloud.temporal.io/namespaces/x',
    );
    expect(loadConfig({ TEMPORAL_UI_URL: 'http://127.0.0.1:8233' }).temporal.uiUrl).toBe('http://127.0.0.1:8233');
  });
});
