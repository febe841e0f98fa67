import { computeAuthScores, roundScore, SCORE_WEIGHTS, type AuthScores } from '@secureaccess/protocol/scoring';
import { VIOLATION_CATALOGUE, type Severity, type ViolationCategory, type ViolationType } from '@secureaccess/protocol/violations';
import { ApiClient, backoff, clientId, SecureAccessError, sleep, withRetry } from './api.ts';
import type { DetectorModule, FaceCounter } from './detector/types.ts';
import { SegmentedRecorder, sha256Hex, type RecordedSegment } from './recorder.ts';
import { openEvidenceStore, type EvidenceStore, type StoredEvent, type StoredPresence, type StoredSegment } from './store.ts';
import { DEFAULT_STRINGS, type StringKey, type Strings } from './strings.ts';
import { WidgetUi, type DocumentView, type MessageView } from './ui.ts';

declare const __SA_VERSION__: string;
const VERSION = typeof __SA_VERSION__ === 'string' ? __SA_VERSION__ : 'dev';

/** Scores passed to `onAuthScoreUpdate` and in results: 0-100, one decimal. */
export type Scores = AuthScores;

/** What `onCheatingDetected` receives. */
export interface CheatingEvent {
  /** The client's event id (client-raised) or the server's violation id (server-raised). */
  id: string;
  type: ViolationType;
  severity: Severity;
  category: ViolationCategory;
  /** `client`: noticed in this browser; `server`: decided by the server (identity, presence durations). */
  source: 'client' | 'server';
  occurredAt: string;
  durationMs?: number;
  details?: Record<string, unknown>;
  /** The warning shown to the candidate, in plain words. */
  message: string;
}

/** What `onAssessmentComplete` receives and `completeAssessment()` / `stopAssessment()` resolve to. */
export interface AssessmentResult {
  status: 'completed' | 'stopped';
  /** The server's authoritative overall score. */
  authScore: number;
  scores: Scores;
  /** `manual`, `proctor`, `auto:<severity>`, `expired` — only when stopped. */
  stopReason?: string;
}

/** What `onError` receives. */
export interface WidgetErrorInfo {
  code: string;
  message: string;
}

export interface SecureAccessWidgetOptions {
  /** Base URL of the SecureAccess API, e.g. `https://proctoring.example.com`. */
  apiUrl: string;
  /** The `sa_sess_…` token your backend got from `POST /api/widget/sessions`. */
  sessionToken: string;
  /** Id of the element the widget renders into (its content is replaced by the widget's Shadow DOM). */
  containerId: string;
  onReady?: () => void;
  onAuthScoreUpdate?: (scores: Scores) => void;
  onCheatingDetected?: (violation: CheatingEvent) => void;
  onAssessmentComplete?: (result: AssessmentResult) => void;
  onError?: (error: WidgetErrorInfo) => void;
  /** Consent text shown before the camera starts (default: `strings.consentText`). */
  consentText?: string;
  /** Overrides for any UI string (see `DEFAULT_STRINGS`). */
  strings?: Partial<Strings>;
  /** Face-presence checks per second (default 2). */
  detectionFps?: number;
  /** Length of each recording segment in seconds (default 10). */
  recordingSegmentSeconds?: number;
  /** How often presence samples are sent, in seconds (default 5). */
  presenceBatchSeconds?: number;
}

/** `widget.metrics`. */
export interface WidgetMetrics {
  detectorBackend: string | null;
  framesChecked: number;
  /** Mean over the frames after the first. */
  detectionMsPerFrame: number | null;
  /** The first frame, which includes compiling the model. */
  firstDetectionMs: number | null;
  pendingSegments: number;
  online: boolean;
}

/** `widget.state`: where the widget is in its life. */
export type WidgetState = 'idle' | 'initializing' | 'ready' | 'in_progress' | 'completing' | 'completed' | 'stopped' | 'expired' | 'failed' | 'destroyed';

interface WidgetSessionView {
  sessionId: string;
  status: 'created' | 'in_progress' | 'completed' | 'stopped' | 'expired';
  stopReason: string | null;
  assessmentType: 'recording' | 'live' | 'hybrid';
  config: {
    verifyIntervalSeconds: number;
    requireFullscreen: boolean;
  };
  enrollment: { status: string };
  authScore: number;
  scores: Scores;
  consentAt?: string | null;
}

interface ServerViolation {
  id: string;
  type: ViolationType;
  severity: Severity;
  category: ViolationCategory;
  source: 'client' | 'server';
  occurredAt: string;
  durationMs: number | null;
  details: Record<string, unknown> | null;
}

interface StateAnswer {
  status: string;
  stopReason: string | null;
  scores: Scores;
  autoStopped?: boolean;
}

interface LocalInputs {
  identitySum: number;
  identityCount: number;
  monitoredMs: number;
  oneFaceMs: number;
  behavioral: Partial<Record<Severity, number>>;
}

const ENDED = new Set(['completed', 'stopped', 'expired']);
const CAMERA_CONSTRAINTS: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 15, max: 30 }, facingMode: 'user' };
/** A client-side repeat of the same behaviour within this window is the same incident. */
const REPEAT_WINDOW_MS = 2000;
/** Presence samples are saved to the store this often: a closed tab loses at most this much of them. */
const PRESENCE_SAVE_MS = 2000;
/** An identity check put off for waiting presence samples is tried again after this long. */
const VERIFY_DEFER_MS = 5000;
/** Samples kept in memory when the store fails (about 3 hours at 2 fps). */
const MAX_MEMORY_SAMPLES = 20_000;

/**
 * The SecureAccess proctoring widget (seed API): `new SecureAccessWidget(options)`, `await init()`
 * (consent, camera check and enrollment; resolves when ready, after `onReady`), `await
 * startAssessment()`, `await completeAssessment()`; also `stopAssessment()` and `destroy()`.
 * Callbacks never throw into the host page: an exception in one is caught and logged.
 */
export class SecureAccessWidget {
  static readonly version = VERSION;

  private readonly options: SecureAccessWidgetOptions;
  private readonly strings: Strings;
  private _state: WidgetState = 'idle';
  private initPromise: Promise<void> | null = null;
  private api!: ApiClient;
  private ui: WidgetUi | null = null;
  private store!: EvidenceStore;
  private session!: WidgetSessionView;
  private stream: MediaStream | null = null;
  private readonly video: HTMLVideoElement;
  private host: HTMLElement | null = null;
  private readonly cleanups: (() => void)[] = [];
  private readonly onOnline = (): void => this.kick();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private streamAbort: AbortController | null = null;
  private counter: FaceCounter | null = null;
  private recorder: SegmentedRecorder | null = null;
  private nextSequence = 0;
  private online = true;
  private ended: AssessmentResult | null = null;
  private endedHandled = false;
  private completion: Promise<AssessmentResult> | null = null;
  private readonly notified = new Set<string>();
  private readonly lastRaised = new Map<string, number>();
  /** Samples taken since the last save to the store (at most PRESENCE_SAVE_MS worth). */
  private presence: { at: string; faces: number }[] = [];
  private presenceChunkSeq = 0;
  private lastSample: { atMs: number; faces: number } | null = null;
  private local: LocalInputs = { identitySum: 0, identityCount: 0, monitoredMs: 0, oneFaceMs: 0, behavioral: {} };
  private serverScores: Scores | null = null;
  private localAtServer: Scores | null = null;
  private shown: Scores | null = null;
  private flushing = { events: false, uploads: false, presence: false };
  private pendingSegments = new Map<number, StoredSegment>();
  private uploadWaiters: (() => void)[] = [];
  private uploadAttempt = 0;
  private eventAttempt = 0;
  private eventsDirty = false;
  private wasFullscreen = false;
  private lastMessageId: string | null = null;
  private readonly detection: { frames: number; ms: number; firstMs: number | null } = { frames: 0, ms: 0, firstMs: null };

  constructor(options: SecureAccessWidgetOptions) {
    this.options = { ...options };
    this.strings = { ...DEFAULT_STRINGS, ...(options.strings ?? {}) };
    this.video = document.createElement('video');
    this.video.muted = true;
    this.video.playsInline = true;
    this.video.autoplay = true;
    this.video.setAttribute('aria-label', 'camera preview');
  }

  /** Figures for diagnostics and benchmarks: detector backend, frames checked and mean ms per frame, uploads waiting. */
  get metrics(): WidgetMetrics {
    return {
      detectorBackend: this.counter?.backend ?? null,
      framesChecked: this.detection.frames,
      detectionMsPerFrame: this.detection.frames ? Math.round((10 * this.detection.ms) / this.detection.frames) / 10 : null,
      firstDetectionMs: this.detection.firstMs === null ? null : Math.round(this.detection.firstMs),
      pendingSegments: this.pendingSegments.size,
      online: this.online,
    };
  }

  /** Where the widget is in its life (`idle`, `ready`, `in_progress`, `completed`…). */
  get state(): WidgetState {
    return this._state;
  }

  // ----------------------------------------------------------------------------------- public API

  /**
   * Connects to the session, shows consent, the camera check and enrollment (each skipped when
   * already done, e.g. after a reload or with facePhotoUrl), uploads evidence left by a closed tab,
   * and resolves once the candidate is ready to start (after `onReady`). A reloaded page whose
   * session is in progress resumes monitoring directly.
   */
  init(): Promise<void> {
    this.initPromise ??= this.doInit().catch((error: unknown) => {
      const failure = this.fail(error);
      this.initPromise = null;
      throw failure;
    });
    return this.initPromise;
  }

  /** Requests fullscreen (when the session requires it) and starts the assessment on the server. */
  async startAssessment(): Promise<void> {
    if (this._state === 'in_progress') return;
    if (this._state !== 'ready') throw this.fail(new SecureAccessError('not_ready', `The widget is ${this._state}; call init() and wait for it to resolve first.`));
    if (this.session.config.requireFullscreen) await this.enterFullscreen();
    try {
      const answer = await withRetry(() => this.api.request<StateAnswer>('/api/widget/session/start', { method: 'POST' }), { attempts: 4 });
      this.applyServerScores(answer.scores);
      this.session.status = 'in_progress';
    } catch (error) {
      throw this.fail(error);
    }
    this.beginMonitoring(true);
  }

  /**
   * Stops monitoring, uploads every recording segment (progress shown; waits for the connection if
   * it is down), sends pending events, completes the session and fires `onAssessmentComplete`.
   */
  completeAssessment(): Promise<AssessmentResult> {
    if (this.ended) return Promise.resolve(this.ended);
    if (this._state !== 'in_progress' && this._state !== 'completing') {
      return Promise.reject(this.fail(new SecureAccessError('not_in_progress', `The assessment is ${this._state}, not in progress.`)));
    }
    this.completion ??= this.finish('complete');
    return this.completion;
  }

  /** Stops the assessment at the candidate's request (`stopReason` becomes `manual`). */
  stopAssessment(reason?: string): Promise<AssessmentResult> {
    if (this.ended) return Promise.resolve(this.ended);
    if (this._state !== 'in_progress' && this._state !== 'completing') {
      return Promise.reject(this.fail(new SecureAccessError('not_in_progress', `The assessment is ${this._state}, not in progress.`)));
    }
    this.completion ??= this.finish('stop', reason);
    return this.completion;
  }

  /**
   * Removes the widget: stops the camera, monitoring and streams, and clears its container. Recording
   * segments not yet uploaded stay in this browser and are uploaded by the next `init()` for the session.
   */
  destroy(): void {
    if (this._state === 'destroyed') return;
    this._state = 'destroyed';
    this.stopMonitoring();
    void this.recorder?.stop();
    this.recorder = null;
    this.stopCamera();
    this.streamAbort?.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.counter?.dispose();
    this.counter = null;
    window.removeEventListener('online', this.onOnline);
    this.ui?.destroy();
    this.ui = null;
    this.store?.close();
  }

  // ------------------------------------------------------------------------------------- init flow

  private async doInit(): Promise<void> {
    if (this._state === 'destroyed') throw new SecureAccessError('destroyed', 'This widget was destroyed; create a new one.');
    const { apiUrl, sessionToken, containerId } = this.options;
    let base: URL;
    try {
      base = new URL(apiUrl);
      if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('not http');
    } catch {
      throw new SecureAccessError('invalid_options', 'apiUrl must be an absolute http(s) URL.');
    }
    if (typeof sessionToken !== 'string' || sessionToken.length < 8) throw new SecureAccessError('invalid_options', 'sessionToken is missing.');
    const host = document.getElementById(containerId);
    if (!host) throw new SecureAccessError('container_not_found', `No element with id "${containerId}" in the page.`);
    this.host = host;
    this._state = 'initializing';
    this.ui = new WidgetUi(host, this.strings);
    this.ui.showLoading();
    this.api = new ApiClient(base.toString(), sessionToken);
    this.api.onConnectivity = (online) => this.setOnline(online);
    window.addEventListener('online', this.onOnline);

    this.session = await withRetry(() => this.api.request<WidgetSessionView>('/api/widget/session'), { attempts: 4 });
    this.store = (await openEvidenceStore()).store;
    this.applyServerScores(this.session.scores);
    await this.resumeLeftovers();

    if (ENDED.has(this.session.status)) {
      this.markEnded(this.session.status as 'completed' | 'stopped' | 'expired', this.session.stopReason, this.session.scores, false);
      return;
    }
    if (!this.session.consentAt) await this.askConsent();
    await this.startCamera(this.session.status !== 'in_progress');
    if (this.session.status === 'in_progress') {
      this.beginMonitoring(false);
      this.safe('onReady', () => this.options.onReady?.());
      return;
    }
    if (this.session.enrollment.status !== 'enrolled') await this.enroll();
    this._state = 'ready';
    this.ui.showReady(this.video);
    this.safe('onReady', () => this.options.onReady?.());
  }

  private askConsent(): Promise<void> {
    const text = this.options.consentText ?? this.strings.consentText;
    return new Promise((resolve, reject) => {
      this.ui!.showConsent(text, () => {
        withRetry(() => this.api.request('/api/widget/session/consent', { json: { text } }), { attempts: 4 })
          .then(() => resolve())
          .catch(reject);
      });
    });
  }

  /** Opens the camera; with `confirm`, waits for the candidate to confirm the preview. */
  private async startCamera(confirm: boolean): Promise<void> {
    for (;;) {
      this.ui!.showCamera(null, null, () => {}, () => {});
      try {
        await this.openStream();
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.report('camera_unavailable', `The camera could not be started: ${reason}`);
        await new Promise<void>((resolve) => this.ui!.showCamera(null, this.ui!.t('cameraDenied', { reason }), () => {}, resolve));
        continue;
      }
      if (!confirm) return;
      await new Promise<void>((resolve) => this.ui!.showCamera(this.video, null, resolve, () => {}));
      return;
    }
  }

  private async openStream(): Promise<void> {
    if (!navigator.mediaDevices?.getUserMedia) throw new Error('this page cannot use a camera (it needs https or localhost)');
    const wantsAudio = this.session.assessmentType !== 'live';
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: CAMERA_CONSTRAINTS, audio: wantsAudio });
    } catch (error) {
      if (!wantsAudio) throw error;
      // No microphone (or refused): record video alone rather than not at all.
      stream = await navigator.mediaDevices.getUserMedia({ video: CAMERA_CONSTRAINTS, audio: false });
    }
    this.stopCamera();
    this.stream = stream;
    this.video.srcObject = stream;
    await this.video.play().catch(() => {});
    if (this.video.readyState < 2) {
      await new Promise<void>((resolve) => {
        const done = (): void => resolve();
        this.video.addEventListener('loadeddata', done, { once: true });
        this.later(done, 3000);
      });
    }
    for (const track of stream.getVideoTracks()) {
      track.addEventListener('ended', () => this.onCameraLost());
    }
  }

  private stopCamera(): void {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
  }

  private enroll(): Promise<void> {
    return new Promise((resolve) => {
      this.ui!.showEnroll(this.video, {
        capture: () => this.captureFrame(0.92),
        submit: async (image, source) => {
          try {
            await this.api.request('/api/widget/session/face-enroll', { json: { imageBase64: await blobToBase64(image), source }, timeoutMs: 60_000 });
            this.session.enrollment.status = 'enrolled';
            this.later(resolve, 600);
            return { ok: true as const };
          } catch (error) {
            const e = toSecureAccessError(error);
            const key = `reason_${e.code}` as StringKey;
            const reason = key in this.strings ? this.ui!.t(key) : this.ui!.t('reason_other', { code: e.code });
            if (e.retryable && e.code !== 'face_engine_busy' && e.code !== 'face_engine_loading') this.report(e.code, e.message);
            return { ok: false as const, reason: e.status >= 500 || e.status === 0 ? e.message : reason };
          }
        },
      });
    });
  }

  // ------------------------------------------------------------------------------------ monitoring

  private beginMonitoring(fresh: boolean): void {
    this._state = 'in_progress';
    this.ui!.showExam(this.video, {
      sendMessage: (body) => this.sendMessage(body),
      uploadDocument: (file) => void this.uploadDocument(file),
      downloadDocument: (doc) => void this.downloadDocument(doc),
    });
    this.ui!.setConnection(this.online);
    this.publishScores(true);
    this.watchBehaviour();
    this.startRecording();
    this.openEventStream();
    void this.loadMessages();
    void this.loadDocuments();
    void this.startDetector();
    this.scheduleVerification(fresh ? 1500 : 3000);
    this.every(PRESENCE_SAVE_MS, () => void this.savePresence());
    this.every((this.options.presenceBatchSeconds ?? 5) * 1000, () => void this.flushPresence());
    this.every(60_000, () => void this.submitClientScore());
    if (this.session.config.requireFullscreen && !document.fullscreenElement) this.showFullscreenBanner();
    this.kick();
  }

  private stopMonitoring(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    for (const t of this.timers) {
      clearTimeout(t);
      clearInterval(t);
    }
    this.timers.clear();
  }

  private watchBehaviour(): void {
    const listen = <K extends keyof DocumentEventMap>(target: Document | Window, type: K | string, handler: (event: Event) => void): void => {
      target.addEventListener(type, handler, true);
      this.cleanups.push(() => target.removeEventListener(type, handler, true));
    };
    listen(document, 'visibilitychange', () => {
      if (document.visibilityState === 'hidden') this.raise('tab_switch', { hiddenAt: new Date().toISOString() });
    });
    listen(window, 'blur', () => {
      // A tab switch also blurs the window; wait a moment and count only a blur with the tab still visible.
      this.later(() => {
        if (document.visibilityState === 'visible' && !document.hasFocus()) this.raise('window_blur');
      }, 300);
    });
    for (const action of ['copy', 'cut', 'paste'] as const) {
      listen(document, action, (event) => {
        // Writing to the proctor in the widget's own message box is not cheating.
        if (this.host && event.composedPath().includes(this.host)) return;
        this.raise('copy_paste', { action });
      });
    }
    listen(document, 'fullscreenchange', () => {
      if (document.fullscreenElement) {
        this.wasFullscreen = true;
        this.ui?.setBanner('fullscreen', null);
        return;
      }
      if (!this.session.config.requireFullscreen || this._state !== 'in_progress') return;
      if (this.wasFullscreen) this.raise('fullscreen_exit');
      this.showFullscreenBanner();
    });
  }

  private showFullscreenBanner(): void {
    this.ui?.setBanner('fullscreen', this.ui.t('fullscreenNeeded'), 'banner', {
      name: 'fullscreen-enter',
      label: this.ui.t('fullscreenEnter'),
      run: () => void this.enterFullscreen(),
    });
  }

  private async enterFullscreen(): Promise<void> {
    try {
      if (!document.fullscreenElement) await document.documentElement.requestFullscreen();
      this.wasFullscreen = true;
    } catch {
      // Needs a user gesture or is not allowed here: the banner's button asks the candidate.
    }
  }

  private onCameraLost(): void {
    if (this._state !== 'in_progress') return;
    this.raise('camera_lost');
    this.ui?.setBanner('camera', this.ui.t('cameraLost'), 'error', {
      name: 'camera-retry',
      label: this.ui.t('cameraRetry'),
      run: () => void this.reconnectCamera(),
    });
  }

  private async reconnectCamera(): Promise<void> {
    try {
      await this.openStream();
      this.ui?.setBanner('camera', null);
      if (this.recorder) {
        await this.recorder.stop();
        this.recorder = null;
        this.startRecording();
      }
    } catch (error) {
      this.report('camera_unavailable', `The camera could not be restarted: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Records a client-noticed violation: warns, calls back, persists, then sends (retried, deduplicated by id). */
  private raise(type: ViolationType, details?: Record<string, unknown>, durationMs?: number): void {
    if (this._state !== 'in_progress') return;
    const now = Date.now();
    const key = `${type}:${String(details?.action ?? '')}`;
    if (now - (this.lastRaised.get(key) ?? 0) < REPEAT_WINDOW_MS) return;
    this.lastRaised.set(key, now);
    const rule = VIOLATION_CATALOGUE[type];
    const id = clientId('evt');
    const occurredAt = new Date(now).toISOString();
    if (rule.category === 'behavioral') this.local.behavioral[rule.severity] = (this.local.behavioral[rule.severity] ?? 0) + 1;
    this.notify({ id, type, severity: rule.severity, category: rule.category, source: 'client', occurredAt, ...(durationMs !== undefined ? { durationMs } : {}), ...(details ? { details } : {}) });
    this.publishScores();
    const event: StoredEvent = {
      id,
      sessionId: this.session.sessionId,
      kind: 'violation',
      payload: { id, type, occurredAt, ...(durationMs !== undefined ? { durationMs } : {}), ...(details ? { details } : {}) },
      createdAt: now,
    };
    void this.store
      .putEvent(event)
      .catch(() => {})
      .then(() => this.flushEvents());
  }

  private notify(event: Omit<CheatingEvent, 'message'>): void {
    if (this.notified.has(event.id)) return;
    this.notified.add(event.id);
    const message = this.strings[`warn_${event.type}` as StringKey] ?? event.type;
    this.ui?.warn(message);
    this.safe('onCheatingDetected', () => this.options.onCheatingDetected?.({ ...event, message }));
  }

  private notifyServerViolations(violations: ServerViolation[]): void {
    for (const v of violations) {
      if (v.source !== 'server') continue;
      this.notify({
        id: v.id,
        type: v.type,
        severity: v.severity,
        category: v.category,
        source: 'server',
        occurredAt: v.occurredAt,
        ...(v.durationMs !== null ? { durationMs: v.durationMs } : {}),
        ...(v.details ? { details: v.details } : {}),
      });
    }
  }

  // ------------------------------------------------------------------------- detector and presence

  private async startDetector(): Promise<void> {
    const fps = Math.min(10, Math.max(0.2, this.options.detectionFps ?? 2));
    try {
      if (!this.counter) {
        const assets = new URL('/widget/', this.api.baseUrl).toString();
        const module = (await import(/* @vite-ignore */ new URL('detector.js', assets).toString())) as DetectorModule;
        this.counter = await module.createFaceCounter(assets);
      }
    } catch (error) {
      this.report('detector_unavailable', `Face presence cannot be checked in this browser: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (this._state !== 'in_progress') return;
    let busy = false;
    this.every(1000 / fps, async () => {
      if (busy || !this.counter || this.video.readyState < 2) return;
      busy = true;
      try {
        const t0 = performance.now();
        const faces = await this.counter.count(this.video);
        const ms = performance.now() - t0;
        // The first frame compiles the model (WASM/WebGL): reported apart, not in the mean.
        if (this.detection.firstMs === null) this.detection.firstMs = ms;
        else {
          this.detection.ms += ms;
          this.detection.frames += 1;
        }
        this.addSample(faces);
      } catch {
        // A frame that fails is skipped; the next one is tried.
      } finally {
        busy = false;
      }
    });
  }

  private addSample(faces: number): void {
    const atMs = Date.now();
    if (this.lastSample) {
      const dt = Math.min(2000, atMs - this.lastSample.atMs);
      this.local.monitoredMs += dt;
      if (this.lastSample.faces === 1) this.local.oneFaceMs += dt;
    }
    this.lastSample = { atMs, faces };
    this.presence.push({ at: new Date(atMs).toISOString(), faces });
    if (this.presence.length > MAX_MEMORY_SAMPLES) this.presence.splice(0, this.presence.length - MAX_MEMORY_SAMPLES);
    this.publishScores();
  }

  /** Moves the samples taken since the last save into one stored chunk (IndexedDB), sent by flushPresence. */
  private async savePresence(): Promise<void> {
    if (this.presence.length === 0 || !this.session) return;
    const samples = this.presence;
    this.presence = [];
    const chunk: StoredPresence = {
      id: `${this.session.sessionId}:${samples[0]!.at}:${++this.presenceChunkSeq}`,
      sessionId: this.session.sessionId,
      samples,
      createdAt: Date.now(),
    };
    try {
      await this.store.putPresence(chunk);
    } catch {
      // Not stored (IndexedDB failing): kept in memory for the next save, oldest first.
      this.presence = [...samples, ...this.presence].slice(-MAX_MEMORY_SAMPLES);
    }
  }

  /** Sends the stored presence chunks in order, up to 1000 samples per request; kept until the server has them. */
  private async flushPresence(): Promise<void> {
    if (this.flushing.presence || !this.session || this.session.status !== 'in_progress') return;
    this.flushing.presence = true;
    const sessionId = this.session.sessionId;
    try {
      await this.savePresence();
      for (;;) {
        const stored = await this.store.presence(sessionId);
        if (stored.length === 0) return;
        const batch: StoredPresence[] = [];
        let count = 0;
        for (const chunk of stored) {
          if (batch.length > 0 && count + chunk.samples.length > 1000) break;
          batch.push(chunk);
          count += chunk.samples.length;
        }
        const samples = batch.flatMap((chunk) => chunk.samples);
        const answer = await this.api.request<StateAnswer & { violations: ServerViolation[] }>('/api/widget/session/presence', { json: { samples } });
        await this.store.deletePresence(batch.map((chunk) => chunk.id));
        this.notifyServerViolations(answer.violations);
        this.applyAnswer(answer);
        if (answer.status !== 'in_progress') return;
      }
    } catch (error) {
      const e = toSecureAccessError(error);
      if (!e.retryable) {
        // Refused for good (the session ended): these samples will never be taken.
        this.presence = [];
        const stored = await this.store.presence(sessionId).catch(() => [] as StoredPresence[]);
        await this.store.deletePresence(stored.map((chunk) => chunk.id)).catch(() => {});
        if (e.code === 'session_not_in_progress') void this.refreshSession();
      }
    } finally {
      this.flushing.presence = false;
    }
  }

  // ------------------------------------------------------------------------------- verification

  private scheduleVerification(delayMs: number): void {
    this.later(async () => {
      if (this._state !== 'in_progress') return;
      if (!(await this.verifyOnce())) {
        this.scheduleVerification(VERIFY_DEFER_MS);
        return;
      }
      const interval = this.session.config.verifyIntervalSeconds * 1000;
      this.scheduleVerification(interval * (0.8 + Math.random() * 0.4));
    }, delayMs);
  }

  /**
   * One identity check; false when it was put off because presence samples are still waiting for the
   * server. The server takes a face-less frame as a presence sample dated now, and then skips every
   * older sample: so older samples go first, and the check waits for them.
   */
  private async verifyOnce(): Promise<boolean> {
    if (this.video.readyState < 2) return true;
    await this.flushPresence();
    const waiting = await this.store.presence(this.session.sessionId).catch(() => [] as StoredPresence[]);
    if (waiting.length > 0) return false;
    try {
      const image = await blobToBase64(await this.captureFrame(0.85));
      const answer = await this.api.request<StateAnswer & { facesDetected: number; identityScore?: number; violation: { id: string; type: ViolationType } | null }>(
        '/api/widget/session/verify-identity',
        { json: { imageBase64: image }, timeoutMs: 60_000 },
      );
      if (answer.facesDetected === 1 && answer.identityScore !== undefined) {
        this.local.identitySum += answer.identityScore;
        this.local.identityCount += 1;
      }
      if (answer.violation) {
        const type = answer.violation.type;
        const rule = VIOLATION_CATALOGUE[type];
        if (rule) this.notify({ id: answer.violation.id, type, severity: rule.severity, category: rule.category, source: 'server', occurredAt: new Date().toISOString() });
      }
      this.applyAnswer(answer);
    } catch (error) {
      const e = toSecureAccessError(error);
      if (e.code === 'session_not_in_progress') void this.refreshSession();
      // Otherwise (offline, engine busy) this round is skipped; a stale frame is worth nothing later.
    }
    return true;
  }

  private captureFrame(quality: number): Promise<Blob> {
    const width = this.video.videoWidth || 640;
    const height = this.video.videoHeight || 480;
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    canvas.getContext('2d')!.drawImage(this.video, 0, 0, width, height);
    return new Promise((resolve, reject) =>
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the camera frame could not be encoded'))), 'image/jpeg', quality),
    );
  }

  // -------------------------------------------------------------------------------------- scores

  private localScores(): Scores {
    return computeAuthScores({
      enrolled: true,
      identityScoreSum: this.local.identitySum,
      identityScoreCount: this.local.identityCount,
      monitoredMs: this.local.monitoredMs,
      oneFaceMs: this.local.oneFaceMs,
      behavioralViolations: this.local.behavioral,
    });
  }

  /** The server's answer becomes the base; local changes since then are added on top until the next answer. */
  private applyServerScores(scores: Scores | undefined): void {
    if (!scores) return;
    this.serverScores = scores;
    this.localAtServer = this.localScores();
    this.publishScores();
  }

  private currentScores(): Scores {
    const local = this.localScores();
    if (!this.serverScores || !this.localAtServer) return local;
    const part = (k: 'identity' | 'presence' | 'behavioral'): number =>
      roundScore(Math.min(100, Math.max(0, this.serverScores![k] + local[k] - this.localAtServer![k])));
    const identity = part('identity');
    const presence = part('presence');
    const behavioral = part('behavioral');
    const overall = roundScore(SCORE_WEIGHTS.identity * identity + SCORE_WEIGHTS.presence * presence + SCORE_WEIGHTS.behavioral * behavioral);
    return { overall, identity, presence, behavioral };
  }

  private publishScores(force = false): void {
    if (this._state !== 'in_progress' && !force) return;
    const scores = this.currentScores();
    this.ui?.setScores(scores);
    const last = this.shown;
    if (!force && last && last.overall === scores.overall && last.identity === scores.identity && last.presence === scores.presence && last.behavioral === scores.behavioral) return;
    this.shown = scores;
    this.safe('onAuthScoreUpdate', () => this.options.onAuthScoreUpdate?.({ ...scores }));
  }

  private async submitClientScore(): Promise<void> {
    try {
      await this.api.request('/api/widget/session/auth-score', { json: this.currentScores() });
    } catch {
      // Informative only.
    }
  }

  /** Applies a state answer (violation, presence, verify): scores, and an auto-stop. */
  private applyAnswer(answer: StateAnswer): void {
    this.applyServerScores(answer.scores);
    if (answer.status && ENDED.has(answer.status)) {
      this.markEnded(answer.status as 'completed' | 'stopped' | 'expired', answer.stopReason, answer.scores, true);
    }
  }

  private async refreshSession(): Promise<void> {
    try {
      const session = await this.api.request<WidgetSessionView>('/api/widget/session');
      this.applyAnswer(session);
    } catch {
      // Retried by the next event.
    }
  }

  // ------------------------------------------------------------------------------- event sending

  private async flushEvents(): Promise<void> {
    if (!this.session) return;
    // An event raised while a flush runs is not in that flush's snapshot: the running flush goes round again.
    this.eventsDirty = true;
    if (this.flushing.events) return;
    this.flushing.events = true;
    try {
      while (this.eventsDirty) {
        this.eventsDirty = false;
        if (!(await this.sendStoredEvents())) return;
      }
    } finally {
      this.flushing.events = false;
    }
  }

  /** Sends the stored events in order; false when a retryable failure scheduled a later attempt. */
  private async sendStoredEvents(): Promise<boolean> {
    for (const event of await this.store.events(this.session.sessionId)) {
      try {
        const answer = await this.api.request<StateAnswer & { violation: ServerViolation }>('/api/widget/session/violation', { json: event.payload });
        await this.store.deleteEvent(event.id);
        this.eventAttempt = 0;
        this.applyAnswer(answer);
      } catch (error) {
        const e = toSecureAccessError(error);
        if (e.retryable) {
          this.eventAttempt++;
          this.later(() => void this.flushEvents(), backoff(this.eventAttempt, 1000, 30_000));
          return false;
        }
        // Refused for good (the session ended, or the event is invalid): it will never be accepted.
        await this.store.deleteEvent(event.id);
        if (e.code === 'session_not_in_progress') void this.refreshSession();
      }
    }
    return true;
  }

  // ----------------------------------------------------------------------------------- recording

  private startRecording(): void {
    if (this.session.assessmentType === 'live' || !this.stream || this.recorder) return;
    try {
      this.recorder = new SegmentedRecorder(this.stream, {
        segmentMs: (this.options.recordingSegmentSeconds ?? 10) * 1000,
        firstSequence: this.nextSequence,
        // Returned so that stopping the recorder waits until the last segment is stored and queued for upload.
        onSegment: (segment) => this.persistSegment(segment),
        onPartial: (segment) => this.persistPartial(segment),
        onError: (message) => this.report('recording_failed', `Recording failed: ${message}`),
      });
      this.recorder.start();
      this.ui?.setRecording('on', this.pendingSegments.size);
    } catch (error) {
      this.recorder = null;
      this.report('recording_unavailable', error instanceof Error ? error.message : String(error));
    }
  }

  private async persistSegment(segment: RecordedSegment): Promise<void> {
    this.nextSequence = Math.max(this.nextSequence, segment.sequence + 1);
    const stored: StoredSegment = {
      sessionId: this.session.sessionId,
      sequence: segment.sequence,
      blob: segment.blob,
      sha256: await sha256Hex(segment.blob),
      durationMs: segment.durationMs,
      startedAt: segment.startedAt,
      mimeType: segment.mimeType,
    };
    try {
      await this.store.putSegment(stored);
    } catch (error) {
      this.report('storage_failed', `A recording segment could not be saved in this browser: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.pendingSegments.set(stored.sequence, stored);
    this.ui?.setRecording(this.recorder ? 'on' : 'off', this.pendingSegments.size);
    void this.flushUploads();
  }

  /** Keeps the segment recorded so far in IndexedDB: what a closed tab or a crash leaves is uploaded by the next init(). */
  private persistPartial(segment: RecordedSegment): void {
    // Called synchronously from the recorder's event: this write is queued before the final one of the segment.
    void this.store
      .putSegment({
        sessionId: this.session.sessionId,
        sequence: segment.sequence,
        blob: segment.blob,
        sha256: '',
        durationMs: segment.durationMs,
        startedAt: segment.startedAt,
        mimeType: segment.mimeType,
        partial: true,
      })
      .catch(() => {});
  }

  /** Uploads segments left in this browser by an earlier page (closed tab, crash) and sets the next sequence. */
  private async resumeLeftovers(): Promise<void> {
    const leftovers = await this.store.segments(this.session.sessionId).catch(() => [] as StoredSegment[]);
    for (const s of leftovers) {
      // A segment the earlier page was still recording: what it had kept is uploaded as the segment.
      const segment = s.partial ? { ...s, partial: false, sha256: await sha256Hex(s.blob) } : s;
      this.pendingSegments.set(segment.sequence, segment);
    }
    let serverMax = -1;
    if (this.session.status !== 'created') {
      try {
        const list = await this.api.request<{ segments: { sequence: number }[] }>('/api/widget/session/recording');
        for (const s of list.segments) serverMax = Math.max(serverMax, s.sequence);
      } catch {
        // Unknown: the leftovers' sequences still keep new ones apart.
      }
    }
    const localMax = leftovers.reduce((m, s) => Math.max(m, s.sequence), -1);
    this.nextSequence = Math.max(serverMax, localMax) + 1;
    void this.flushUploads();
    void this.flushEvents();
  }

  private async flushUploads(): Promise<void> {
    if (this.flushing.uploads) return;
    this.flushing.uploads = true;
    try {
      while (this.pendingSegments.size > 0 && this._state !== 'destroyed') {
        const sequence = Math.min(...this.pendingSegments.keys());
        const segment = this.pendingSegments.get(sequence)!;
        try {
          await this.api.raw('/api/widget/session/recording/segments', {
            method: 'POST',
            body: segment.blob,
            contentType: segment.mimeType,
            query: { sequence, sha256: segment.sha256, durationMs: segment.durationMs, startedAt: segment.startedAt },
            timeoutMs: 120_000,
          });
          this.uploadAttempt = 0;
        } catch (error) {
          const e = toSecureAccessError(error);
          if (e.retryable) {
            this.uploadAttempt++;
            this.later(() => void this.flushUploads(), backoff(this.uploadAttempt, 1000, 30_000));
            return;
          }
          this.report(e.code, `A recording segment was refused by the server: ${e.message}`);
        }
        this.pendingSegments.delete(sequence);
        await this.store.deleteSegment(segment.sessionId, sequence).catch(() => {});
        this.ui?.setRecording(this.recorder ? 'on' : 'off', this.pendingSegments.size);
        this.uploadProgress();
      }
    } finally {
      this.flushing.uploads = false;
      this.uploadProgress();
    }
  }

  private uploadProgress(): void {
    for (const waiter of this.uploadWaiters) waiter();
  }

  /** Resolves once every segment is uploaded, reporting progress. */
  private async drainUploads(onProgress: (done: number, total: number) => void): Promise<void> {
    const total = this.pendingSegments.size;
    while (this.pendingSegments.size > 0) {
      onProgress(total - this.pendingSegments.size, total);
      void this.flushUploads();
      await new Promise<void>((resolve) => {
        this.uploadWaiters.push(resolve);
        setTimeout(resolve, 1000);
      });
      this.uploadWaiters = [];
      if (this._state === 'destroyed') return;
    }
    onProgress(total, total);
  }

  // ------------------------------------------------------------------------------------- ending

  private async finish(kind: 'complete' | 'stop', reason?: string): Promise<AssessmentResult> {
    this._state = 'completing';
    this.stopMonitoring();
    const ui = this.ui!;
    ui.showProgress(ui.t('completing', { done: 0, total: 0 }), 0, 1);
    await this.recorder?.stop();
    this.recorder = null;
    await this.flushPresence().catch(() => {});
    await this.drainUploads((done, total) => {
      const text = this.online ? ui.t('completing', { done, total }) : ui.t('completingWaiting');
      ui.showProgress(text, done, total);
    });
    await this.drainEvents();
    if (this.ended) return this.ended;
    try {
      const path = kind === 'complete' ? '/api/widget/session/complete' : '/api/widget/session/stop';
      const answer = await withRetry(() => this.api.request<StateAnswer>(path, { json: kind === 'stop' && reason ? { reason } : {} }), {
        stopped: () => this._state === 'destroyed',
      });
      this.markEnded(answer.status as 'completed' | 'stopped' | 'expired', answer.stopReason, answer.scores, true);
    } catch (error) {
      const e = toSecureAccessError(error);
      if (e.code !== 'session_not_in_progress') {
        this._state = 'in_progress';
        this.completion = null;
        throw this.fail(e);
      }
      await this.refreshSession();
    }
    if (!this.ended) throw this.fail(new SecureAccessError('not_in_progress', 'The session is no longer in progress.'));
    return this.ended;
  }

  private async drainEvents(): Promise<void> {
    for (let i = 0; i < 600 && this._state !== 'destroyed'; i++) {
      const left = await this.store.events(this.session.sessionId).catch(() => []);
      if (left.length === 0) return;
      await this.flushEvents();
      await sleep(500);
    }
  }

  /** The session ended (completed, stopped by anyone, expired): stop, show it, call back once. */
  private markEnded(status: 'completed' | 'stopped' | 'expired', stopReason: string | null, scores: Scores, callBack: boolean): void {
    if (this.endedHandled) return;
    this.endedHandled = true;
    this.session.status = status;
    const wasActive = this._state === 'in_progress' || this._state === 'completing';
    this.stopMonitoring();
    this.streamAbort?.abort();
    this._state = status;
    // Evidence recorded up to the stop is still uploaded.
    const recorder = this.recorder;
    this.recorder = null;
    void recorder?.stop().then(() => this.flushUploads());
    this.stopCamera();
    if (document.fullscreenElement && wasActive) void document.exitFullscreen().catch(() => {});
    const reasonText = stopReason === null ? undefined : this.stopReasonText(stopReason);
    this.ui?.showEnded(status, reasonText);
    if (status === 'expired') return;
    this.ended = { status, authScore: scores.overall, scores, ...(stopReason ? { stopReason } : {}) };
    if (callBack) {
      const result = this.ended;
      this.safe('onAssessmentComplete', () => this.options.onAssessmentComplete?.(result));
    }
  }

  private stopReasonText(reason: string): string {
    if (reason === 'manual') return this.strings.stop_manual;
    if (reason === 'proctor') return this.strings.stop_proctor;
    if (reason === 'expired') return this.strings.stop_expired;
    if (reason.startsWith('auto')) return this.strings.stop_auto;
    return reason;
  }

  // ------------------------------------------------------------------------------- live events

  /** Server-Sent Events read with fetch (EventSource cannot send the Authorization header). */
  private openEventStream(): void {
    const controller = new AbortController();
    this.streamAbort = controller;
    let attempt = 0;
    const connect = async (): Promise<void> => {
      while (!controller.signal.aborted && this._state === 'in_progress') {
        try {
          const headers: Record<string, string> = { Authorization: `Bearer ${this.options.sessionToken}`, Accept: 'text/event-stream' };
          if (this.lastMessageId) headers['Last-Event-ID'] = this.lastMessageId;
          const response = await fetch(this.api.url('/api/widget/session/events'), { headers, signal: controller.signal, credentials: 'omit' });
          if (!response.ok || !response.body) {
            if (response.status === 401 || response.status === 403 || response.status === 404) return;
            throw new Error(`HTTP ${response.status}`);
          }
          attempt = 0;
          this.setOnline(true);
          await this.readEvents(response.body, controller.signal);
        } catch {
          if (controller.signal.aborted) return;
        }
        attempt++;
        await sleep(backoff(attempt, 1000, 15_000));
      }
    };
    void connect();
  }

  private async readEvents(body: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const cancel = (): void => void reader.cancel().catch(() => {});
    signal.addEventListener('abort', cancel, { once: true });
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let boundary: number;
        while ((boundary = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, '');
          let type = 'message';
          let id: string | null = null;
          const data: string[] = [];
          for (const line of block.split(/\r?\n/)) {
            if (line.startsWith('event:')) type = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
            else if (line.startsWith('id:')) id = line.slice(3).trim();
          }
          if (data.length === 0) continue;
          try {
            this.onLiveEvent(type, JSON.parse(data.join('\n')), id);
          } catch {
            // A malformed event is skipped.
          }
        }
      }
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  }

  private onLiveEvent(type: string, data: unknown, id: string | null): void {
    switch (type) {
      case 'snapshot': {
        const snapshot = data as { session: WidgetSessionView; lastMessageId: string | null };
        this.applyAnswer(snapshot.session);
        if (snapshot.lastMessageId && !this.lastMessageId) this.lastMessageId = snapshot.lastMessageId;
        break;
      }
      case 'status':
        this.applyAnswer(data as StateAnswer);
        break;
      case 'score':
        this.applyServerScores(data as Scores);
        break;
      case 'violation':
        this.notifyServerViolations([data as ServerViolation]);
        break;
      case 'message':
        if (id) this.lastMessageId = id;
        this.ui?.addMessages([data as MessageView]);
        break;
      case 'document':
        void this.loadDocuments();
        break;
    }
  }

  // ------------------------------------------------------------------------ messages, documents

  private async loadMessages(): Promise<void> {
    try {
      const { messages } = await this.api.request<{ messages: MessageView[] }>('/api/widget/session/messages');
      this.ui?.addMessages(messages);
    } catch {
      // Shown when the stream reconnects.
    }
  }

  private async sendMessage(body: string): Promise<boolean> {
    try {
      const message = await this.api.request<MessageView>('/api/widget/session/messages', { json: { body } });
      this.ui?.addMessages([message]);
      return true;
    } catch (error) {
      const e = toSecureAccessError(error);
      this.ui?.warn(e.message);
      return false;
    }
  }

  private async loadDocuments(): Promise<void> {
    try {
      const { documents } = await this.api.request<{ documents: DocumentView[] }>('/api/widget/session/documents');
      this.ui?.setDocuments(documents);
    } catch {
      // Kept as it was.
    }
  }

  private async uploadDocument(file: File): Promise<void> {
    const ui = this.ui;
    ui?.setDocumentStatus(ui.t('documentUploading', { name: file.name }));
    try {
      const form = new FormData();
      form.append('file', file, file.name);
      await this.api.request('/api/widget/session/documents', { body: form, timeoutMs: 120_000 });
      ui?.setDocumentStatus('');
      await this.loadDocuments();
    } catch (error) {
      ui?.setDocumentStatus(ui.t('documentFailed', { reason: toSecureAccessError(error).message }));
    }
  }

  private async downloadDocument(doc: DocumentView): Promise<void> {
    try {
      const response = await this.api.raw(`/api/widget/session/documents/${encodeURIComponent(doc.id)}`);
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement('a');
      link.href = url;
      link.download = doc.fileName;
      link.rel = 'noopener';
      this.ui?.root.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (error) {
      this.ui?.setDocumentStatus(toSecureAccessError(error).message);
    }
  }

  // ------------------------------------------------------------------------------------ plumbing

  private setOnline(online: boolean): void {
    if (this.online === online) return;
    this.online = online;
    this.ui?.setConnection(online);
    if (online) this.kick();
  }

  /** Flushes every queue (after the connection returns). */
  private kick(): void {
    if (!this.session) return;
    void this.flushEvents();
    void this.flushUploads();
    void this.flushPresence();
  }

  private later(run: () => void | Promise<void>, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      void run();
    }, ms);
    this.timers.add(t);
  }

  private every(ms: number, run: () => void | Promise<void>): void {
    const t = setInterval(() => void run(), ms);
    this.timers.add(t);
  }

  private report(code: string, message: string): void {
    this.safe('onError', () => this.options.onError?.({ code, message }));
  }

  /** Turns an internal failure into the error the host sees (onError + rejected promise). */
  private fail(error: unknown): SecureAccessError {
    const e = toSecureAccessError(error);
    this.report(e.code, e.message);
    if (this._state === 'initializing') {
      this._state = 'failed';
      this.ui?.showError(e.message, () => void this.init().catch(() => {}));
    }
    return e;
  }

  private safe(name: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      console.error(`SecureAccessWidget: the ${name} callback threw`, error);
    }
  }
}

function toSecureAccessError(error: unknown): SecureAccessError {
  if (error instanceof SecureAccessError) return error;
  if (error instanceof DOMException && error.name === 'NotAllowedError') return new SecureAccessError('camera_denied', error.message);
  return new SecureAccessError('widget_error', error instanceof Error ? error.message : String(error));
}

async function blobToBase64(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
