import { DEMO_ASSESSMENT, LIVE_NOT_AVAILABLE } from './sessions.ts';

/** A general-knowledge quiz. The answers stay on the server: `POST /demo/api/grade` marks a submission. */
export const QUIZ: { question: string; choices: string[]; answer: number }[] = [
  { question: 'Which planet is known as the Red Planet?', choices: ['Venus', 'Mars', 'Jupiter', 'Mercury'], answer: 1 },
  { question: 'What is the chemical symbol for gold?', choices: ['Ag', 'Gd', 'Au', 'Go'], answer: 2 },
  { question: 'How many continents are there on Earth?', choices: ['Five', 'Six', 'Seven', 'Eight'], answer: 2 },
  { question: 'Who wrote "Romeo and Juliet"?', choices: ['Charles Dickens', 'William Shakespeare', 'Jane Austen', 'Leo Tolstoy'], answer: 1 },
  { question: 'What is the largest ocean on Earth?', choices: ['Atlantic', 'Indian', 'Arctic', 'Pacific'], answer: 3 },
];

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function quizHtml(): string {
  return QUIZ.map(
    (q, i) => `
        <fieldset class="question">
          <legend><span class="qnum">${i + 1}.</span> ${escapeHtml(q.question)}</legend>
          ${q.choices
            .map(
              (choice, j) =>
                `<label><input type="radio" name="q${i}" value="${j}"> ${escapeHtml(choice)}</label>`,
            )
            .join('\n          ')}
        </fieldset>`,
  ).join('');
}

/**
 * The exam page. Static HTML (nothing from the request goes in it), no inline script: `demo.js` drives
 * it. The widget is embedded with the seed's snippet: the script tag, the container, and in demo.js
 * `new SecureAccessWidget({...})` then `await widget.init()`.
 */
export function demoPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(DEMO_ASSESSMENT.title)} — Demo LMS</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/demo/demo.css">
</head>
<body>
<a class="skip" href="#main">Skip to the exam</a>
<header class="top">
  <div class="brand"><span class="logo" aria-hidden="true">◆</span> Demo LMS <span class="tag">a pretend exam site that uses SecureAccess</span></div>
  <nav aria-label="SecureAccess">
    <a href="/console">Proctor console</a>
    <a href="/api/docs">API docs</a>
  </nav>
</header>

<main id="main">
  <div class="layout">
    <section class="primary" aria-labelledby="title">
      <h1 id="title">${escapeHtml(DEMO_ASSESSMENT.title)}</h1>
      <p class="lede">${DEMO_ASSESSMENT.maxDurationMinutes} minutes · ${QUIZ.length} questions · proctored by SecureAccess</p>

      <div id="status" class="status" role="status" aria-live="polite"></div>
      <div id="error" class="alert" role="alert" hidden></div>

      <form id="signup" class="card" novalidate>
        <h2>1. Sign up</h2>
        <p>This page plays the part of an LMS. When you sign up, its backend creates a proctoring session with its API key (which never reaches this browser) and hands the page a session token for the widget.</p>
        <div class="field">
          <label for="user-name">Your name</label>
          <input id="user-name" name="userName" type="text" autocomplete="name" maxlength="100" required>
        </div>
        <fieldset class="field modes">
          <legend>Proctoring mode</legend>
          <label><input type="radio" name="mode" value="recording" checked> <strong>Recording</strong> — webcam recorded and checked automatically; reviewed later</label>
          <label><input type="radio" name="mode" value="live"> <strong>Live</strong> — a proctor watches in real time</label>
          <label><input type="radio" name="mode" value="hybrid"> <strong>Hybrid</strong> — recording and a live proctor</label>
          <p id="mode-note" class="note" hidden>${escapeHtml(LIVE_NOT_AVAILABLE)}</p>
        </fieldset>
        <div class="field check">
          <label><input id="require-fullscreen" name="requireFullscreen" type="checkbox"> Require fullscreen during the exam (as a real exam would; leaving it is flagged)</label>
        </div>
        <button id="signup-submit" type="submit">Create my exam session</button>
      </form>

      <section id="ready-step" class="card" hidden aria-labelledby="ready-title">
        <h2 id="ready-title" tabindex="-1">2. Get ready</h2>
        <p id="ready-text">Follow the steps in the proctoring panel: consent, camera check and a photo of your face. Then start the exam.</p>
        <button id="start-exam" type="button" disabled>Start exam</button>
      </section>

      <section id="result" class="card" hidden aria-labelledby="result-title">
        <h2 id="result-title" tabindex="-1">Result</h2>
        <dl class="result">
          <dt>Status</dt><dd id="result-status"></dd>
          <dt>Auth score</dt><dd id="result-auth"></dd>
          <dt>Quiz score</dt><dd id="result-quiz"></dd>
        </dl>
        <p id="result-text"></p>
        <p><a id="result-console" href="/console">Review this session in the proctor console</a> · <a href="/demo">Take the exam again</a></p>
      </section>

      <form id="quiz" class="card" hidden aria-labelledby="quiz-title">
        <h2 id="quiz-title" tabindex="-1">3. Questions</h2>
        <p class="small">Answer all ${QUIZ.length} questions, then submit. Stay in front of the camera and on this tab.</p>
        <div id="questions">${quizHtml()}
        </div>
        <button id="submit-exam" type="submit">Submit</button>
      </form>
    </section>

    <aside class="side" aria-label="Proctoring">
      <section class="card widget-card" aria-labelledby="widget-title">
        <h2 id="widget-title">Proctoring</h2>
        <!-- Include the SDK -->
        <script src="/secureaccess-widget.js"></script>
        <!-- Container for the widget -->
        <div id="proctoring-widget"><p class="small muted">The proctoring panel appears here once you sign up.</p></div>
      </section>
      <section class="card log-card" aria-labelledby="log-title">
        <h2 id="log-title">Widget events</h2>
        <p class="small muted">Every callback of the widget, as it fires.</p>
        <ol id="event-log" class="log"></ol>
      </section>
    </aside>
  </div>
</main>
<footer class="foot">
  <p>The API key of this demo stays on the server: the page only ever sees a session token. See <a href="/api/docs">the API docs</a> for how an LMS does the same.</p>
</footer>
<script src="/demo/demo.js"></script>
</body>
</html>
`;
}
