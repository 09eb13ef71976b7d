// One session: its header, live output, diff, send box (with interrupt) and kill.
import { h } from '/ui/vendor/preact.mjs';
import { useEffect, useState } from '/ui/vendor/hooks.mjs';
import htm from '/ui/vendor/htm.mjs';
import { api } from './api.js';
import { Approvals } from './approvals.js';
import { ago, since, usageText } from './format.js';
import { OutputView } from './outputView.js';

const html = htm.bind(h);
const ENDED = new Set(['exited', 'killed', 'failed', 'lost']);

function DiffView({ sessionId }) {
  const [diff, setDiff] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    api.diff(sessionId).then(setDiff, (e) => setError(e.message));
  }, [sessionId]);
  if (error) return html`<p class="error">${error}</p>`;
  if (!diff) return html`<p class="muted">loading the diff…</p>`;
  if (!diff.ok) return html`<p class="muted">${diff.error}</p>`;
  if (diff.files.length === 0) return html`<p class="muted">no changes since the session started</p>`;
  return html`<div class="diff">
    <ul class="files">
      ${diff.files.map((f) => html`<li key=${f.path ?? f}>${typeof f === 'string' ? f : `${f.status ?? ''} ${f.path}`}</li>`)}
    </ul>
    <pre>${diff.lines.map((l) => html`<div class=${l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : l.startsWith('@@') ? 'hunk' : ''}>${l}</div>`)}</pre>
    ${diff.totalLines > diff.lines.length ? html`<p class="muted">first ${diff.lines.length} of ${diff.totalLines} lines (session_diff pages the rest)</p>` : null}
  </div>`;
}

function SendBox({ sessionId, ended, onDone }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState(null);
  const go = async (interrupt) => {
    setBusy(true);
    setNote(null);
    try {
      const r = await api.send(sessionId, { ...(text ? { message: text } : {}), ...(interrupt ? { interrupt: true } : {}) });
      setText('');
      setNote(r.resumed ? 'continued the conversation' : r.delivered ? 'sent' : r.interrupted ? 'interrupted' : (r.note ?? 'done'));
      onDone();
    } catch (e) {
      setNote(e.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="send" onSubmit=${(e) => (e.preventDefault(), go(false))}>
    <textarea
      rows="2"
      placeholder=${ended ? 'message (continues the conversation)' : 'message to the agent'}
      value=${text}
      onInput=${(e) => setText(e.currentTarget.value)}
      aria-label="message"
    ></textarea>
    <div class="buttons">
      <button type="submit" disabled=${busy || !text}>Send</button>
      ${ended ? null : html`<button type="button" class="warn" disabled=${busy} onClick=${() => go(true)}>Interrupt</button>`}
    </div>
    ${note ? html`<p class="note" role="status">${note}</p>` : null}
  </form>`;
}

function KillButton({ sessionId, onDone }) {
  const [armed, setArmed] = useState(false);
  const [error, setError] = useState(null);
  // Two clicks instead of a confirm() dialog: a dialog would block the page (and a phone).
  const click = async () => {
    if (!armed) return setArmed(true);
    try {
      await api.kill(sessionId);
      onDone();
    } catch (e) {
      setError(e.message);
    }
    setArmed(false);
  };
  return html`<span><button class="danger" onClick=${click}>${armed ? 'Confirm kill' : 'Kill'}</button>${error ? html` <span class="error">${error}</span>` : null}</span>`;
}

export function SessionView({ sessionId, tick }) {
  const [info, setInfo] = useState(null);
  const [error, setError] = useState(null);
  const [tab, setTab] = useState('output');
  const refresh = () =>
    api.info(sessionId).then(
      (i) => (setInfo(i), setError(null)),
      (e) => setError(e.message),
    );
  useEffect(() => {
    refresh();
  }, [sessionId, tick]);
  if (error && !info)
    return html`<main class="session">
      <a href="#/">← sessions</a>
      <p class="error">${error}</p>
    </main>`;
  if (!info) return html`<main class="session"><p class="muted">loading…</p></main>`;
  const ended = ENDED.has(info.status);
  return html`<main class="session">
    <header class="session-head">
      <a href="#/" class="back">← sessions</a>
      <h2><span class=${`status s-${info.status}`}>${info.status}</span> ${info.agent} <code class="cwd">${info.cwd}</code></h2>
      <dl class="facts">
        <dt>started</dt>
        <dd>${since(info.startedAt)}</dd>
        <dt>silent for</dt>
        <dd>${ago(info.silentForMs)}</dd>
        <dt>usage</dt>
        <dd>${usageText(info.usage)}</dd>
        ${
          info.endReason
            ? html`<dt>end</dt>
                <dd>${info.endReason}${info.exitCode !== null ? ` (exit ${info.exitCode})` : ''}</dd>`
            : null
        }
        ${
          info.errorSummary
            ? html`<dt>error</dt>
                <dd class="error">${info.errorSummary}</dd>`
            : null
        }
      </dl>
      ${ended ? null : html`<${KillButton} sessionId=${sessionId} onDone=${refresh} />`}
    </header>
    <${Approvals} sessionId=${sessionId} pending=${info.pendingApprovals} onDone=${refresh} />
    <nav class="tabs">
      <button class=${tab === 'output' ? 'on' : ''} onClick=${() => setTab('output')}>Output</button>
      <button class=${tab === 'diff' ? 'on' : ''} onClick=${() => setTab('diff')}>Diff</button>
    </nav>
    ${tab === 'output' ? html`<${OutputView} sessionId=${sessionId} total=${info.outputLines} />` : html`<${DiffView} sessionId=${sessionId} />`}
    <${SendBox} sessionId=${sessionId} ended=${ended} onDone=${refresh} />
  </main>`;
}
