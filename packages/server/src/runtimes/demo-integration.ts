import { chmod, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppDeps } from '../core/deps.ts';
import { checkIntegrationKey, createIntegration } from '../core/integrations/service.ts';

/** The file in the data directory that keeps the demo integration's id and API key between starts. */
export const DEMO_INTEGRATION_FILE = 'demo-integration.json';
export const DEMO_INTEGRATION_NAME = 'Demo LMS';

export interface DemoIntegration {
  integrationId: string;
  apiKey: string;
  /** Where `{integrationId, apiKey}` is kept (mode 0600). */
  file: string;
  /**
   * Why a new integration was made on this start (`first_start`: no file yet; `missing`: the file's
   * integration is gone, e.g. the data was reset; `key_rotated`: its key no longer verifies;
   * `unreadable`: the file is not what we wrote), or `reused` when the file's integration still works.
   */
  origin: 'first_start' | 'missing' | 'key_rotated' | 'unreadable' | 'reused';
  /** The API key to print, only when the integration was created now (it is never printed again). */
  printableKey: string | null;
}

function parseStored(text: string): { integrationId: string; apiKey: string } | null {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null) return null;
    const { integrationId, apiKey } = value as Record<string, unknown>;
    if (typeof integrationId !== 'string' || typeof apiKey !== 'string' || !apiKey.startsWith('sa_live_')) return null;
    return { integrationId, apiKey };
  } catch {
    return null;
  }
}

/** Writes the file whole or not at all: a temp file (0600) in the same directory, then renamed over. */
async function writeAtomically(file: string, content: string): Promise<void> {
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    // The mode given to open() is masked by the umask; make sure of 0600.
    await chmod(temp, 0o600);
    await rename(temp, file);
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * The integration the built-in demo exam (/demo) uses, created on first start and reused afterwards.
 * Creates a new one when the file is absent, its integration was deleted (data reset) or its key no
 * longer verifies (rotated); `printableKey` is set only then, so the key is printed exactly once.
 */
export async function ensureDemoIntegration(deps: AppDeps, dataDir: string): Promise<DemoIntegration> {
  const file = join(dataDir, DEMO_INTEGRATION_FILE);
  let origin: DemoIntegration['origin'] = 'first_start';
  let text: string | null = null;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text !== null) {
    const stored = parseStored(text);
    if (!stored) origin = 'unreadable';
    else {
      const check = await checkIntegrationKey(deps, stored.integrationId, stored.apiKey);
      if (check === 'ok') return { ...stored, file, origin: 'reused', printableKey: null };
      origin = check === 'missing' ? 'missing' : 'key_rotated';
    }
  }
  const created = await createIntegration(deps, { name: DEMO_INTEGRATION_NAME });
  const stored = { integrationId: created.row.id, apiKey: created.apiKey };
  try {
    await writeAtomically(file, JSON.stringify(stored, null, 2) + '\n');
  } catch (error) {
    // Without the file the key would be lost: undo the integration so the next start tries again.
    await deps.db.deleteFrom('integrations').where('id', '=', created.row.id).execute();
    throw error;
  }
  return { ...stored, file, origin, printableKey: created.apiKey };
}

/** What the startup banner says about the demo integration (the key only when it was just created). */
export function describeDemoIntegration(demo: DemoIntegration): string[] {
  const why: Record<DemoIntegration['origin'], string> = {
    first_start: `Created the demo integration "${DEMO_INTEGRATION_NAME}" (${demo.integrationId}).`,
    missing: `The demo integration kept in ${demo.file} no longer exists (the data was reset): created a new one (${demo.integrationId}).`,
    key_rotated: `The demo integration's API key kept in ${demo.file} no longer works (it was rotated): created a new demo integration (${demo.integrationId}).`,
    unreadable: `${demo.file} was not readable: created a new demo integration (${demo.integrationId}).`,
    reused: `Demo integration: ${demo.integrationId} (its API key is kept in ${demo.file}).`,
  };
  const lines = [why[demo.origin]];
  if (demo.printableKey) {
    lines.push(
      `Its API key, shown once: it is not printed again; it is kept in ${demo.file} for the demo.`,
      `  ${demo.printableKey}`,
      'Sign in to the proctor console with it.',
    );
  }
  return lines;
}
