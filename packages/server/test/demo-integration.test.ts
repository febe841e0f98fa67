import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_INTEGRATION_FILE, describeDemoIntegration, ensureDemoIntegration } from '../src/runtimes/demo-integration.ts';
import { makeTestApp, type TestApp } from './helpers.ts';

let t: TestApp;
let file: string;

beforeEach(async () => {
  t = await makeTestApp();
  file = join(t.dataDir, DEMO_INTEGRATION_FILE);
});

afterEach(async () => {
  await t.close();
});

function stored(): { integrationId: string; apiKey: string } {
  return JSON.parse(readFileSync(file, 'utf8'));
}

describe('the demo integration kept in <dataDir>/demo-integration.json', () => {
  it('first start creates it, keeps {integrationId, apiKey} in a 0600 file and returns the key to print once', async () => {
    const demo = await ensureDemoIntegration(t.deps, t.dataDir);
    expect(demo.origin).toBe('first_start');
    expect(demo.printableKey).toMatch(/^sa_live_/);
    expect(demo.printableKey).toBe(demo.apiKey);
    expect(demo.file).toBe(file);
    expect(stored()).toEqual({ integrationId: demo.integrationId, apiKey: demo.apiKey });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Written through a temp file that is gone afterwards.
    expect(readdirSync(t.dataDir).filter((name) => name.startsWith(DEMO_INTEGRATION_FILE))).toEqual([DEMO_INTEGRATION_FILE]);

    // A real integration: its key works on the API.
    const me = await t.call('GET', '/api/integration', { token: demo.apiKey });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: demo.integrationId, name: 'Demo LMS' });

    const banner = describeDemoIntegration(demo).join('\n');
    expect(banner).toContain(demo.apiKey);
    expect(banner).toContain(`shown once: it is not printed again; it is kept in ${file} for the demo`);
  });

  it('later starts reuse it and return no key to print', async () => {
    const first = await ensureDemoIntegration(t.deps, t.dataDir);
    const again = await ensureDemoIntegration(t.deps, t.dataDir);
    expect(again).toMatchObject({ origin: 'reused', printableKey: null, integrationId: first.integrationId, apiKey: first.apiKey });
    expect(stored().integrationId).toBe(first.integrationId);
    const banner = describeDemoIntegration(again).join('\n');
    expect(banner).not.toContain('sa_live_');
    expect(banner).toContain(first.integrationId);
    const count = await t.deps.db.selectFrom('integrations').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  it('a rotated key no longer verifies: a new demo integration is created, printed and kept', async () => {
    const first = await ensureDemoIntegration(t.deps, t.dataDir);
    const rotated = await t.call('POST', '/api/integration/rotate-key', { token: first.apiKey });
    expect(rotated.status).toBe(200);

    const next = await ensureDemoIntegration(t.deps, t.dataDir);
    expect(next.origin).toBe('key_rotated');
    expect(next.integrationId).not.toBe(first.integrationId);
    expect(next.printableKey).toBe(next.apiKey);
    expect(next.apiKey).not.toBe(first.apiKey);
    expect(stored()).toEqual({ integrationId: next.integrationId, apiKey: next.apiKey });
    expect(describeDemoIntegration(next).join('\n')).toMatch(/no longer works \(it was rotated\)/);
    expect((await t.call('GET', '/api/integration', { token: next.apiKey })).status).toBe(200);
  });

  it('an integration that is gone (data reset) is recreated and the banner says so', async () => {
    const first = await ensureDemoIntegration(t.deps, t.dataDir);
    await t.deps.db.deleteFrom('integrations').where('id', '=', first.integrationId).execute();
    const next = await ensureDemoIntegration(t.deps, t.dataDir);
    expect(next.origin).toBe('missing');
    expect(next.integrationId).not.toBe(first.integrationId);
    expect(next.printableKey).toMatch(/^sa_live_/);
    expect(describeDemoIntegration(next).join('\n')).toMatch(/no longer exists \(the data was reset\)/);
  });

  it('a file that is not what was written is replaced by a new integration', async () => {
    writeFileSync(file, '{"integrationId": 1', { mode: 0o600 });
    const demo = await ensureDemoIntegration(t.deps, t.dataDir);
    expect(demo.origin).toBe('unreadable');
    expect(stored()).toEqual({ integrationId: demo.integrationId, apiKey: demo.apiKey });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
