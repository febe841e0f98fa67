// The demo LMS's exam page: plain browser JavaScript, no build step. It embeds the SecureAccess widget
// exactly as the seed's snippet does; the session token comes from this LMS's backend route
// (POST /demo/api/sessions), which holds the API key — the page never sees it.
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const signup = $('signup');
  const nameInput = $('user-name');
  const modeNote = $('mode-note');
  const readyStep = $('ready-step');
  const startButton = $('start-exam');
  const quiz = $('quiz');
  const submitButton = $('submit-exam');
  const result = $('result');
  const statusBox = $('status');
  const errorBox = $('error');
  const log = $('event-log');

  /** The widget instance, once the session exists. */
  let widget = null;
  let sessionId = null;
  /** The assessment's outcome, once completed or stopped (shown once). */
  let outcome = null;
  /** `{correct, total}` once the answers were marked. */
  let grade = null;

  // ------------------------------------------------------------------------------- page helpers

  function say(text) {
    statusBox.textContent = text;
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  function hideError() {
    errorBox.hidden = true;
    errorBox.textContent = '';
  }

  function messageOf(error) {
    if (error && typeof error === 'object' && typeof error.message === 'string') return error.message;
    return String(error);
  }

  function shortJson(data) {
    if (data === undefined) return '';
    let text;
    try {
      text = JSON.stringify(data);
    } catch {
      text = String(data);
    }
    return text.length > 200 ? `${text.slice(0, 199)}…` : text;
  }

  function clock(date) {
    const pad = (n, w = 2) => String(n).padStart(w, '0');
    return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
  }

  /** One line in the event log: time, callback name, its argument as short JSON. */
  function logEvent(name, data) {
    const now = new Date();
    const item = document.createElement('li');
    item.dataset.event = name;
    const time = document.createElement('time');
    time.dateTime = now.toISOString();
    time.textContent = clock(now);
    const label = document.createElement('span');
    label.className = 'event-name';
    label.textContent = name;
    const json = document.createElement('code');
    json.textContent = shortJson(data);
    item.append(time, ' ', label, ' ', json);
    log.append(item);
    log.scrollTop = log.scrollHeight;
  }

  function setQuizEnabled(enabled) {
    for (const element of quiz.elements) element.disabled = !enabled;
  }

  function selectedMode() {
    const checked = signup.querySelector('input[name="mode"]:checked');
    return checked ? checked.value : 'recording';
  }

  function focusHeading(id) {
    const heading = $(id);
    if (heading) heading.focus();
  }

  function stopReasonText(reason) {
    if (reason === 'proctor') return 'A proctor stopped your exam.';
    if (reason === 'manual') return 'The exam was stopped.';
    if (reason === 'expired') return 'The time allowed for the exam ran out.';
    const auto = /^auto:(\w+)$/.exec(reason || '');
    if (auto) return `The exam was stopped automatically after too many ${auto[1]}-severity warnings.`;
    return reason ? `The exam was stopped (${reason}).` : 'The exam was stopped.';
  }

  // --------------------------------------------------------------------------------- sign-up

  if (typeof SecureAccessWidget !== 'function') {
    showError('The proctoring widget did not load (/secureaccess-widget.js). Build it with "npm run build", restart the server and reload this page.');
  }

  signup.addEventListener('change', (event) => {
    if (event.target && event.target.name === 'mode') modeNote.hidden = selectedMode() === 'recording';
  });

  signup.addEventListener('submit', async (event) => {
    event.preventDefault();
    hideError();
    const userName = nameInput.value.trim();
    if (!userName) {
      showError('Please enter your name.');
      nameInput.focus();
      return;
    }
    if (typeof SecureAccessWidget !== 'function') {
      showError('The proctoring widget did not load (/secureaccess-widget.js). Build it with "npm run build", restart the server and reload this page.');
      return;
    }
    const controls = Array.from(signup.elements);
    for (const control of controls) control.disabled = true;
    say('Creating your exam session…');
    let session;
    try {
      const response = await fetch('/demo/api/sessions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ userName, mode: selectedMode(), requireFullscreen: $('require-fullscreen').checked }),
      });
      const body = await response.json().catch(() => null);
      if (!response.ok) throw new Error(body && body.error && body.error.message ? body.error.message : `The demo server answered HTTP ${response.status}.`);
      session = body;
    } catch (error) {
      const text = error instanceof TypeError ? 'Could not reach the demo server. Is it still running?' : messageOf(error);
      showError(`Your exam session could not be created. ${text}`);
      for (const control of controls) control.disabled = false;
      say('');
      return;
    }
    sessionId = session.sessionId;
    $('result-console').href = `/console/sessions/${encodeURIComponent(sessionId)}`;
    signup.hidden = true;
    readyStep.hidden = false;
    if (session.notice) $('ready-text').textContent = `${session.notice} Follow the steps in the proctoring panel: consent, camera check and a photo of your face. Then start the exam.`;
    say(`Session created${session.notice ? ` — ${session.notice}` : '.'} Follow the steps in the proctoring panel.`);
    focusHeading('ready-title');
    embedWidget(session.sessionToken);
  });

  // ------------------------------------------------------------------ the widget (seed's snippet)

  async function embedWidget(sessionToken) {
    widget = new SecureAccessWidget({
      apiUrl: location.origin,
      sessionToken: sessionToken, // From your server
      containerId: 'proctoring-widget',
      onReady: () => logEvent('onReady'),
      onAuthScoreUpdate: (scores) => logEvent('onAuthScoreUpdate', scores),
      onCheatingDetected: (v) => logEvent('onCheatingDetected', v),
      onAssessmentComplete: (r) => {
        logEvent('onAssessmentComplete', r);
        finish(r);
      },
      onError: (e) => logEvent('onError', e),
    });
    try {
      await widget.init();
    } catch (error) {
      if (!outcome) showError(`The proctoring widget could not start: ${messageOf(error)}`);
      return;
    }
    if (outcome) return;
    startButton.disabled = false;
    say('You are ready. Press "Start exam" when you are.');
  }

  // A click is a user gesture: the widget may ask for fullscreen here.
  startButton.addEventListener('click', async () => {
    hideError();
    startButton.disabled = true;
    say('Starting the exam…');
    try {
      await widget.startAssessment();
    } catch (error) {
      if (outcome) return;
      showError(`The exam could not start: ${messageOf(error)}`);
      startButton.disabled = false;
      say('');
      return;
    }
    if (outcome) return;
    readyStep.hidden = true;
    quiz.hidden = false;
    say('The exam has started. Good luck!');
    focusHeading('quiz-title');
  });

  // --------------------------------------------------------------------------------- the quiz

  quiz.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (outcome) return;
    hideError();
    const count = quiz.querySelectorAll('fieldset.question').length;
    const answers = [];
    for (let i = 0; i < count; i++) {
      const checked = quiz.querySelector(`input[name="q${i}"]:checked`);
      answers.push(checked ? Number(checked.value) : null);
    }
    setQuizEnabled(false);
    say('Submitting your answers and uploading the recording… this can take a few seconds.');
    try {
      const response = await fetch('/demo/api/grade', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ answers }),
      });
      if (response.ok) grade = await response.json();
    } catch {
      // The quiz score is shown as unavailable; the proctoring result matters more here.
    }
    let completed;
    try {
      completed = await widget.completeAssessment();
    } catch (error) {
      if (outcome) return;
      showError(`Your exam could not be completed: ${messageOf(error)}`);
      setQuizEnabled(true);
      say('');
      return;
    }
    finish(completed);
  });

  /** Shows the outcome once: on completion, or when the session was stopped (by a proctor, automatically, by time). */
  function finish(r) {
    if (outcome || !r) return;
    outcome = r;
    setQuizEnabled(false);
    startButton.disabled = true;
    readyStep.hidden = true;
    const stopped = r.status === 'stopped';
    $('result-status').textContent = stopped ? 'Stopped' : r.status === 'completed' ? 'Completed' : String(r.status);
    $('result-auth').textContent = typeof r.authScore === 'number' ? `${r.authScore.toFixed(1)} / 100` : '—';
    if (stopped) {
      $('result-quiz').textContent = 'Not submitted';
      $('result-text').textContent = `${stopReasonText(r.stopReason)} The questions are closed and your answers were not submitted.`;
      quiz.classList.add('closed');
      say(stopReasonText(r.stopReason));
    } else {
      $('result-quiz').textContent = grade ? `${grade.correct} / ${grade.total}` : 'Unavailable';
      const parts = r.scores ? `Identity ${r.scores.identity}, presence ${r.scores.presence}, behaviour ${r.scores.behavioral}.` : '';
      $('result-text').textContent = `Your exam was submitted. ${parts}`;
      quiz.hidden = true;
      say('Your exam was submitted.');
    }
    result.hidden = false;
    focusHeading('result-title');
  }
})();
