import { afterEach, describe, expect, it } from 'vitest';
import { configFromEnv } from '../src/runtimes/node-deps.ts';

/** The operator's settings (README, "Configuration") as the Node runtime reads them from the environment. */
const saved = { ...process.env };
afterEach(() => {
  for (const key of Object.keys(process.env)) if (key.startsWith('SECUREACCESS_')) delete process.env[key];
  Object.assign(process.env, saved);
});

describe('configFromEnv', () => {
  it('reads limits and sizes, keeping the documented defaults for what is unset', () => {
    process.env.SECUREACCESS_CONSOLE_LOGIN_LIMIT = '5';
    process.env.SECUREACCESS_MAX_SEGMENT_BYTES = '1048576';
    delete process.env.SECUREACCESS_INTEGRATION_CREATE_LIMIT;
    const config = configFromEnv();
    expect(config.consoleLoginLimit).toEqual({ max: 5, windowMs: 600_000 });
    expect(config.maxRecordingSegmentBytes).toBe(1_048_576);
    expect(config.integrationCreateLimit).toEqual({ max: 20, windowMs: 3_600_000 });
  });

  it('refuses a value that is not a number, naming the variable', () => {
    process.env.SECUREACCESS_CONSOLE_LOGIN_LIMIT = 'lots';
    expect(() => configFromEnv()).toThrow(/SECUREACCESS_CONSOLE_LOGIN_LIMIT must be a non-negative number/);
    process.env.SECUREACCESS_CONSOLE_LOGIN_LIMIT = '30';
    process.env.SECUREACCESS_FACE_ENGINE = 'maybe';
    expect(() => configFromEnv()).toThrow(/SECUREACCESS_FACE_ENGINE must be "on" or "off"/);
  });
});
