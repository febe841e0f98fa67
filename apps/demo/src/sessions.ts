/**
 * The demo LMS's backend call to SecureAccess, written the way an LMS would write it: the API key stays
 * on this server and goes only into the `Authorization` header of `POST /api/widget/sessions`; the
 * browser receives the session's id and token, nothing else.
 */

export const DEMO_MODES = ['recording', 'live', 'hybrid'] as const;
export type DemoMode = (typeof DEMO_MODES)[number];

export const DEMO_ASSESSMENT = {
  title: 'Demo exam: general knowledge',
  externalId: 'demo-quiz-1',
  maxDurationMinutes: 30,
} as const;

/** Shown on the page when the candidate picked live or hybrid. */
export const LIVE_NOT_AVAILABLE = 'Live proctoring is not available yet: this runs as a recorded exam.';

export interface SignUp {
  userName: string;
  mode: DemoMode;
  requireFullscreen: boolean;
}

/** An error the demo's own routes answer with, as `{"error": {"code", "message"}}`. */
export class DemoError extends Error {
  constructor(
    readonly status: 400 | 413 | 415 | 429 | 502,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Checks the sign-up form's JSON: a name (1-100 characters), a mode, the fullscreen choice. */
export function parseSignUp(value: unknown): SignUp {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DemoError(400, 'validation_failed', 'Send a JSON object: {"userName": "…", "mode": "recording"}.');
  }
  const body = value as Record<string, unknown>;
  const userName = typeof body.userName === 'string' ? body.userName.trim() : '';
  if (!userName) throw new DemoError(400, 'validation_failed', 'Please enter your name.');
  if (userName.length > 100) throw new DemoError(400, 'validation_failed', 'Your name must be at most 100 characters.');
  const mode = body.mode ?? 'recording';
  if (typeof mode !== 'string' || !(DEMO_MODES as readonly string[]).includes(mode)) {
    throw new DemoError(400, 'validation_failed', `mode must be one of ${DEMO_MODES.join(', ')}.`);
  }
  const fullscreen = body.requireFullscreen ?? false;
  if (typeof fullscreen !== 'boolean') throw new DemoError(400, 'validation_failed', 'requireFullscreen must be true or false.');
  return { userName, mode: mode as DemoMode, requireFullscreen: fullscreen };
}

/**
 * A stable id for the candidate in this LMS, derived from the name: `demo-<slug>-<8 hex of SHA-256>`
 * (the same name gives the same id, so the console can list one candidate's attempts together).
 */
export async function externalUserIdFor(userName: string): Promise<string> {
  const slug = userName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(userName.toLowerCase())));
  const hex = Array.from(digest.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
  return `demo-${slug || 'candidate'}-${hex}`;
}

export interface CreatedDemoSession {
  sessionId: string;
  sessionToken: string;
  expiresAt: string;
  /** What the candidate picked. */
  mode: DemoMode;
  /** What the session was created as (always `recording` until live proctoring exists). */
  assessmentType: 'recording';
  /** Plain words for the page, when the mode picked could not be honoured. */
  notice: string | null;
}

export interface ApiClientOptions {
  apiBaseUrl: string;
  apiKey: string;
  fetch: typeof fetch;
  timeoutMs: number;
}

/** Creates the proctoring session over HTTP; API errors and an unreachable API become 502s with the reason. */
export async function createProctoredSession(api: ApiClientOptions, signUp: SignUp): Promise<CreatedDemoSession> {
  const url = new URL('/api/widget/sessions', api.apiBaseUrl);
  const body = {
    externalUserId: await externalUserIdFor(signUp.userName),
    userName: signUp.userName,
    assessmentTitle: DEMO_ASSESSMENT.title,
    externalAssessmentId: DEMO_ASSESSMENT.externalId,
    // live/hybrid would need live proctoring (video with a proctor), which does not exist yet.
    assessmentType: 'recording',
    config: { maxDurationMinutes: DEMO_ASSESSMENT.maxDurationMinutes, requireFullscreen: signUp.requireFullscreen },
  };
  let response: Response;
  try {
    response = await api.fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${api.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(api.timeoutMs),
    });
  } catch (error) {
    throw new DemoError(502, 'secureaccess_unreachable', `Could not reach the SecureAccess API at ${url.origin}: ${describeFetchError(error)}.`);
  }
  let payload: unknown = null;
  try {
    payload = await response.json();
  } catch {
    // not JSON: reported below by status
  }
  if (response.status !== 201) {
    const apiError = (payload as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const detail =
      apiError && typeof apiError.message === 'string'
        ? `${apiError.message}${typeof apiError.code === 'string' ? ` (${apiError.code})` : ''}`
        : `HTTP ${response.status}`;
    throw new DemoError(502, 'secureaccess_error', `SecureAccess did not create the session: ${detail}`);
  }
  const created = payload as { sessionId?: unknown; sessionToken?: unknown; expiresAt?: unknown } | null;
  if (!created || typeof created.sessionId !== 'string' || typeof created.sessionToken !== 'string') {
    throw new DemoError(502, 'secureaccess_error', 'SecureAccess answered 201 without a session token.');
  }
  return {
    sessionId: created.sessionId,
    sessionToken: created.sessionToken,
    expiresAt: typeof created.expiresAt === 'string' ? created.expiresAt : '',
    mode: signUp.mode,
    assessmentType: 'recording',
    notice: signUp.mode === 'recording' ? null : LIVE_NOT_AVAILABLE,
  };
}

function describeFetchError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'no answer in time';
    // undici: TypeError('fetch failed') with the system error (ECONNREFUSED…) as its cause.
    const cause = (error as Error & { cause?: unknown }).cause;
    if (cause && typeof cause === 'object' && 'code' in cause && typeof cause.code === 'string') return `${cause.code}`;
    return error.message;
  }
  return String(error);
}
