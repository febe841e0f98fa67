/**
 * Session page: summary, recording player with the violations timeline, score chart, violations table,
 * enrollment photo, messages, documents and the stop / erase actions. Kept current by the session's
 * live event stream while the page is open.
 */
import { api, ApiError, errorMessage, isAbort } from '../api.ts';
import { panel, statusLine } from '../components.ts';
import { ActionsPanel } from '../detail/actions.ts';
import { DocumentsPanel } from '../detail/documents.ts';
import { MessagesPanel } from '../detail/messages.ts';
import { RecordingPlayer } from '../detail/player.ts';
import { ScoreChart } from '../detail/score-chart.ts';
import { candidateName, Summary } from '../detail/summary.ts';
import { ViolationsTable } from '../detail/violations.ts';
import { h, replace, setStatus } from '../dom.ts';
import { formatDateTime } from '../format.ts';
import { setTitle } from '../layout.ts';
import { openLiveEvents, type LiveState } from '../live.ts';
import type { ViewContext } from '../router.ts';
import { strings } from '../strings.ts';
import type { AuthScores, DocumentMeta, Message, SessionDetail, SessionRecording, SessionStateResponse, SessionStatusEvent, Violation } from '../types.ts';

const s = strings.detail;
const TIMELINE_TICK_MS = 5_000;
const RECORDING_POLL_MS = 20_000;
const LIVE_RETRY_MS = 5_000;

export function sessionDetailView(ctx: ViewContext): () => void {
  const id = ctx.params.id ?? '';
  const base = `/api/widget/sessions/${encodeURIComponent(id)}`;
  let teardown: (() => void)[] = [];
  let disposed = false;
  /** Bumped by every build: answers that arrive for an older build are dropped. */
  let generation = 0;

  const cleanup = (): void => {
    for (const fn of teardown) fn();
    teardown = [];
  };

  async function start(): Promise<void> {
    setTitle(strings.loading);
    replace(ctx.main, h('p', { class: 'loading' }, strings.loading));
    try {
      build(await api<SessionDetail>('GET', base, { signal: ctx.signal }));
    } catch (error) {
      if (isAbort(error)) return;
      const notFound = error instanceof ApiError && error.status === 404;
      const retry = h('button', { type: 'button', class: 'button', on: { click: () => void start() } }, strings.sessions.refresh);
      replace(
        ctx.main,
        backLink(),
        h('h1', {}, notFound ? strings.notFound : s.back),
        h('div', { class: 'alert', role: 'alert' }, notFound ? s.notFound : errorMessage(error)),
        notFound ? null : retry,
      );
    }
  }

  function build(initial: SessionDetail, flash?: string): void {
    cleanup();
    const mine = ++generation;
    const stale = (): boolean => disposed || mine !== generation;
    const detail = JSON.parse(JSON.stringify(initial)) as SessionDetail; // mutated by live events
    const erased = detail.erasedAt !== null;
    const name = candidateName(detail);
    setTitle(name);
    let startMs = Date.parse(detail.startedAt ?? detail.createdAt);
    const timelineEnd = (): number => (detail.endedAt ? Date.parse(detail.endedAt) : detail.status === 'in_progress' ? Date.now() : startMs);

    const summary = new Summary();
    const liveLine = statusLine('live-state');
    const chart = new ScoreChart(detail.scoreSeries);
    const player = erased ? null : new RecordingPlayer(startMs, timelineEnd());
    if (player) player.element.hidden = true; // until the segment list is known
    const recordingNote = h('p', { class: 'empty', testid: 'recording-note' }, erased ? s.recordingErased : strings.loading);
    const violations = new ViolationsTable(startMs, player ? (offset) => player.seek(offset) : null);
    const messages = new MessagesPanel(id, ctx.signal);
    const documents = new DocumentsPanel(id, ctx.signal);
    const actions = new ActionsPanel(id, ctx.signal, {
      stopped: (state) => {
        applyState(state);
        void refreshDetail();
      },
      erased: (after) => build(after, s.erased),
    });

    const refreshAll = (): void => {
      summary.render(detail);
      actions.update(detail);
      messages.setOpen(!erased && (detail.status === 'created' || detail.status === 'in_progress'));
      documents.setOpen(!erased);
    };

    const applyState = (state: SessionStateResponse | (SessionStatusEvent & Partial<SessionStateResponse>)): void => {
      detail.status = state.status;
      detail.stopReason = state.stopReason;
      detail.authScore = state.authScore;
      detail.scores = state.scores;
      if (state.startedAt !== undefined) detail.startedAt = state.startedAt;
      if (state.endedAt !== undefined) detail.endedAt = state.endedAt;
      if (state.expiresAt !== undefined) detail.expiresAt = state.expiresAt;
      const newStart = Date.parse(detail.startedAt ?? detail.createdAt);
      if (newStart !== startMs) {
        startMs = newStart;
        violations.setStart(startMs);
        violations.render(detail.violations);
      }
      player?.setTimeline(startMs, timelineEnd());
      chart.setSpan(startMs, timelineEnd());
      refreshAll();
    };

    const addViolation = (violation: Violation): void => {
      if (detail.violations.some((known) => known.id === violation.id)) return;
      detail.violations.push(violation);
      detail.violationCounts[violation.severity] += 1;
      violations.render(detail.violations);
      player?.setViolations(detail.violations);
      if (player && detail.violations.length > 0) player.element.hidden = false;
      refreshAll();
    };

    async function refreshDetail(): Promise<void> {
      try {
        const fresh = await api<SessionDetail>('GET', base, { signal: ctx.signal });
        if (stale()) return;
        if (fresh.erasedAt !== null && !erased) return build(fresh);
        const known = new Set(detail.violations.map((v) => v.id));
        applyState({ ...fresh });
        detail.stopNote = fresh.stopNote;
        detail.consentAt = fresh.consentAt;
        detail.enrollment = fresh.enrollment;
        for (const violation of fresh.violations) if (!known.has(violation.id)) addViolation(violation);
        detail.violationCounts = fresh.violationCounts;
        refreshAll();
        await loadRecording();
      } catch (error) {
        if (!isAbort(error)) setStatus(liveLine, errorMessage(error), 'error');
      }
    }

    async function loadRecording(): Promise<void> {
      if (!player) return;
      try {
        const recording = await api<SessionRecording>('GET', `${base}/recording`, { signal: ctx.signal });
        if (stale()) return;
        player.setSegments(recording.segments);
        const none = recording.segments.length === 0;
        recordingNote.textContent = s.recordingNone;
        recordingNote.hidden = !none;
        // Without footage the timeline still places the flags, if there are any.
        player.element.classList.toggle('no-video', none);
        player.element.hidden = none && detail.violations.length === 0;
      } catch (error) {
        if (isAbort(error) || stale()) return;
        recordingNote.textContent = error instanceof ApiError && error.status === 410 ? s.recordingErased : errorMessage(error);
        recordingNote.hidden = false;
      }
    }

    // Layout
    const enrollment = enrollmentFigure(detail, base, erased);
    const erasedNotice = erased
      ? h('div', { class: 'alert alert-info', role: 'note', testid: 'erased-notice' }, s.erasedNotice(formatDateTime(detail.erasedAt)))
      : null;
    replace(
      ctx.main,
      h(
        'div',
        { class: 'page-head' },
        h('div', {}, backLink(), h('h1', { testid: 'session-title' }, name), detail.userName && detail.externalUserId ? h('p', { class: 'sub' }, detail.externalUserId) : null),
        h('div', { class: 'toolbar' }, liveLine),
      ),
      erasedNotice,
      summary.element,
      h(
        'div',
        { class: 'detail-grid' },
        h(
          'div',
          { class: 'detail-main' },
          panel('recording', s.recordingTitle, recordingNote, player?.element ?? null),
          panel('scores', s.chartTitle, chart.element),
          panel('violations', s.violationsTitle, violations.element),
        ),
        h(
          'div',
          { class: 'detail-side' },
          panel('actions', s.actionsTitle, actions.element),
          panel('messages', s.messagesTitle, messages.element),
          panel('documents', s.documentsTitle, documents.element),
          panel('enrollment', s.enrollmentTitle, enrollment),
        ),
      ),
    );
    chart.mount();
    chart.setSpan(startMs, timelineEnd());
    teardown.push(() => chart.destroy());
    violations.render(detail.violations);
    refreshAll();
    if (flash) actions.report(flash);

    if (erased) {
      messages.showErased();
      setStatus(liveLine, '');
      void documents.load().catch(() => undefined);
      return;
    }

    player!.setViolations(detail.violations);
    teardown.push(() => player!.destroy());
    void loadRecording();
    messages.load().catch((error: unknown) => {
      if (!isAbort(error)) messages.showErased();
    });
    documents.load().catch(() => undefined);

    // Live updates
    const handlers = {
      snapshot: (data: unknown) => {
        const snapshot = data as { session: SessionStateResponse; lastMessageId: string | null };
        const before = detail.status;
        applyState(snapshot.session);
        // Whatever happened while we were not connected: messages, violations, times.
        if (snapshot.lastMessageId) void messages.load().catch(() => undefined);
        if (before !== snapshot.session.status) void refreshDetail();
      },
      status: (data: unknown) => {
        applyState(data as SessionStatusEvent);
        void refreshDetail();
      },
      score: (data: unknown) => {
        const scores = data as AuthScores;
        detail.scores = scores;
        detail.authScore = scores.overall;
        chart.add(scores);
        refreshAll();
      },
      violation: (data: unknown) => addViolation(data as Violation),
      message: (data: unknown) => messages.add(data as Message),
      document: (data: unknown) => documents.add(data as DocumentMeta),
    };
    let closeLive = (): void => undefined;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    const connect = (): void => {
      closeLive = openLiveEvents(id, handlers, (state: LiveState) => {
        setStatus(liveLine, s.live[state], state === 'closed' ? 'error' : 'info');
        liveLine.dataset.state = state;
        if (state !== 'closed') return;
        closeLive();
        // The server refused the stream: find out why (a 401 goes to sign-in, erasure rebuilds the
        // page) and try again a little later.
        retryTimer = setTimeout(() => {
          void refreshDetail().then(() => {
            if (!stale() && detail.erasedAt === null) connect();
          });
        }, LIVE_RETRY_MS);
      });
    };
    connect();
    teardown.push(() => {
      closeLive();
      clearTimeout(retryTimer);
    });

    const tick = setInterval(() => {
      if (detail.status !== 'in_progress') return;
      player!.setTimeline(startMs, timelineEnd());
      chart.setSpan(startMs, timelineEnd());
    }, TIMELINE_TICK_MS);
    const poll = setInterval(() => {
      if (detail.status === 'in_progress' && !document.hidden) void loadRecording();
    }, RECORDING_POLL_MS);
    teardown.push(() => {
      clearInterval(tick);
      clearInterval(poll);
    });
  }

  void start();
  return () => {
    disposed = true;
    cleanup();
  };
}

function backLink(): HTMLElement {
  return h('p', { class: 'back' }, h('a', { href: '/console/sessions' }, `← ${s.back}`));
}

/** The enrolled face, fetched only when there is one; a missing image just says so. */
function enrollmentFigure(detail: SessionDetail, base: string, erased: boolean): HTMLElement {
  const none = h('p', { class: 'empty', testid: 'enrollment-none' }, s.enrollmentNone);
  if (erased || detail.enrollment.status !== 'enrolled') return none;
  const image = h('img', { src: `${base}/face/enrollment`, alt: s.enrollmentAlt, class: 'enrollment-image', testid: 'enrollment-image', width: '240' });
  const figure = h('figure', { class: 'enrollment' }, image);
  image.addEventListener('error', () => replace(figure, none));
  return figure;
}
