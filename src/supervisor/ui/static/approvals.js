// A session's pending permission requests (mode ask): what the agent wants to
// do, and Allow / Allow for session / Deny (with a message) — answered for the
// agent, which waits meanwhile. Every field is the agent's text: shown as text.
import { h } from '/ui/vendor/preact.mjs';
import { useState } from '/ui/vendor/hooks.mjs';
import htm from '/ui/vendor/htm.mjs';
import { api } from './api.js';

const html = htm.bind(h);
const LABELS = { allow: 'Allow', allow_for_session: 'Allow for session', deny: 'Deny' };
const STYLES = { allow: 'ok', allow_for_session: 'ok', deny: 'danger' };

function requestText(request) {
  if (request === null || request === undefined) return '';
  if (typeof request === 'string') return request;
  try {
    return JSON.stringify(request, null, 2);
  } catch {
    return String(request);
  }
}

function Approval({ sessionId, a, onDone }) {
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const decide = async (decision) => {
    setBusy(true);
    setError(null);
    try {
      await api.approve(sessionId, a.approvalId, { decision, ...(message ? { message } : {}) });
      onDone();
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  const decisions = a.decisions && a.decisions.length ? a.decisions : ['allow', 'deny'];
  return html`<div class="approval" data-approval=${a.approvalId}>
    <strong class="summary">${a.kind}: ${a.summary}</strong>
    <details>
      <summary>request</summary>
      <pre>${requestText(a.request)}</pre>
    </details>
    <input placeholder="message to the agent (optional, sent with Deny)" value=${message} onInput=${(e) => setMessage(e.currentTarget.value)} aria-label="approval message" />
    <div class="buttons">${decisions.map((d) => html`<button class=${STYLES[d] ?? ''} disabled=${busy} onClick=${() => decide(d)}>${LABELS[d] ?? d}</button>`)}</div>
    ${error ? html`<p class="error">${error}</p>` : null}
  </div>`;
}

export function Approvals({ sessionId, pending, onDone }) {
  if (!pending || pending.length === 0) return null;
  return html`<section class="approvals" aria-label="pending approvals">
    <h3>${pending.length} pending approval${pending.length > 1 ? 's' : ''}</h3>
    ${pending.map((a) => html`<${Approval} key=${a.approvalId} sessionId=${sessionId} a=${a} onDone=${onDone} />`)}
  </section>`;
}
