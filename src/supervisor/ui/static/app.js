// The dashboard: login, the session list, a session, the start form. Preact
// with htm: components and escaping without a build step or hand-made DOM code.
import { h, render } from '/ui/vendor/preact.mjs';
import { useEffect, useRef, useState } from '/ui/vendor/hooks.mjs';
import htm from '/ui/vendor/htm.mjs';
import { Unauthorized, api, openFeed } from './api.js';
import { ago, shortId, since, usageText } from './format.js';
import { SessionView } from './sessionView.js';

const html = htm.bind(h);
/** The list is re-read at most this often while sessions print (the feed says what changed). */
const LIST_REFRESH_MS = 500;
/** With nothing changing, the list is still re-read this often, so "silent for" keeps counting. */
const LIST_IDLE_REFRESH_MS = 10_000;

function Login({ onIn }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await api.login(token.trim());
      setToken(''); // the token lives in this field only until it is traded for the cookie
      onIn();
    } catch (err) {
      setError(err instanceof Unauthorized ? 'wrong token' : err.message);
    }
  };
  return html`<main class="login">
    <h1>agentvisor</h1>
    <form onSubmit=${submit}>
      <label for="token">Token</label>
      <input id="token" name="token" type="password" autocomplete="off" value=${token} onInput=${(e) => setToken(e.currentTarget.value)} />
      <button type="submit">Log in</button>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      <p class="muted">The token from <code>agentvisor token</code>; it is exchanged for a cookie and not kept by the page.</p>
    </form>
  </main>`;
}

function SessionRow({ s }) {
  const pending = Array.isArray(s.pendingApprovals) ? s.pendingApprovals.length : 0;
  return html`<a class="row" href=${`#/s/${s.sessionId}`} data-session=${s.sessionId}>
    <span class=${`status s-${s.status}`}>${s.status}</span>
    <span class="agent">${s.agent}</span>
    <span class="cwd" title=${s.cwd}>${s.cwd}</span>
    <span class="started">${since(s.startedAt)}</span>
    <span class="silent">${ago(s.silentForMs)}</span>
    <span class="usage">${usageText(s.usage)}</span>
    <span class="badge-cell">${pending > 0 ? html`<span class="badge" title="pending approvals">${pending}</span>` : null}</span>
    <span class="id">${shortId(s.sessionId)}</span>
  </a>`;
}

function StartForm({ agents, onStarted }) {
  const [f, setF] = useState({ agent: 'claude-code', cwd: '', task: '', mode: 'full', model: '' });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const info = await api.start(f);
      onStarted(info.sessionId);
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  const modes = ['full', 'edit', 'plan', 'ask'];
  return html`<form class="start" onSubmit=${submit}>
    <h2>Start a session</h2>
    <label
      >Agent
      <select value=${f.agent} onChange=${set('agent')} name="agent">
        ${(agents.length ? agents.map((a) => a.agent) : ['claude-code', 'codex']).map((a) => html`<option value=${a}>${a}</option>`)}
      </select></label
    >
    <label
      >Mode
      <select value=${f.mode} onChange=${set('mode')} name="mode">
        ${modes.map((m) => html`<option value=${m}>${m}</option>`)}
      </select></label
    >
    <label>Directory <input name="cwd" value=${f.cwd} onInput=${set('cwd')} placeholder="relative to WORKSPACE_DIR" required /></label>
    <label>Model <input name="model" value=${f.model} onInput=${set('model')} placeholder="default" /></label>
    <label class="wide">Task <textarea name="task" rows="3" value=${f.task} onInput=${set('task')} required></textarea></label>
    <button type="submit" disabled=${busy}>Start</button>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
  </form>`;
}

function SessionList({ list, onStarted }) {
  const [showStart, setShowStart] = useState(false);
  if (!list) return html`<main><p class="muted">loading…</p></main>`;
  const running = list.sessions.filter((s) => s.status === 'running' || s.status === 'killing' || s.status === 'awaiting_approval').length;
  return html`<main class="list">
    <div class="list-head">
      <h2>Sessions <span class="muted">${running} running · ${list.sessions.length} shown</span></h2>
      <button onClick=${() => setShowStart(!showStart)}>${showStart ? 'Close' : 'New session'}</button>
    </div>
    ${showStart ? html`<${StartForm} agents=${list.agents ?? []} onStarted=${onStarted} />` : null}
    <div class="table" role="table">
      <div class="row head"><span>status</span><span>agent</span><span>cwd</span><span>started</span><span>silent</span><span>usage</span><span>⚑</span><span>id</span></div>
      ${list.sessions.map((s) => html`<${SessionRow} key=${s.sessionId} s=${s} />`)}
    </div>
    ${list.sessions.length === 0 ? html`<p class="muted">No sessions yet.</p>` : null}
  </main>`;
}

function route() {
  const m = /^#\/s\/([0-9a-f-]{36})$/.exec(location.hash);
  return m ? { session: m[1] } : { session: null };
}

function App() {
  const [authed, setAuthed] = useState(null); // null: not known yet
  const [list, setList] = useState(null);
  const [where, setWhere] = useState(route());
  const [tick, setTick] = useState(0);
  const pendingList = useRef(null);

  const loadList = () =>
    api.sessions().then(
      (l) => (setList(l), setAuthed(true)),
      (e) => (e instanceof Unauthorized ? setAuthed(false) : undefined),
    );
  const scheduleList = () => {
    if (pendingList.current) return;
    pendingList.current = setTimeout(() => {
      pendingList.current = null;
      loadList();
    }, LIST_REFRESH_MS);
  };

  useEffect(() => {
    loadList();
    const onHash = () => {
      setWhere(route());
      // The list is not re-read while a session is open (see the feed below): read it on the way back.
      if (!route().session) loadList();
    };
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    if (!authed) return undefined;
    const idle = setInterval(() => route().session || scheduleList(), LIST_IDLE_REFRESH_MS);
    const close = openFeed(
      (ids) => {
        const open = route().session;
        if (!open) scheduleList();
        if (ids === null || (open && ids.includes(open))) setTick((t) => t + 1);
      },
      () => setAuthed(false),
    );
    return () => {
      clearInterval(idle);
      close();
    };
  }, [authed]);

  if (authed === null) return html`<p class="muted">…</p>`;
  if (!authed) return html`<${Login} onIn=${() => loadList()} />`;
  const logout = () => api.logout().finally(() => setAuthed(false));
  return html`<div class="shell">
    <header class="top"><a href="#/" class="brand">agentvisor</a><button class="link" onClick=${logout}>Log out</button></header>
    ${where.session ? html`<${SessionView} sessionId=${where.session} tick=${tick} key=${where.session} />` : html`<${SessionList} list=${list} onStarted=${(id) => (location.hash = `#/s/${id}`)} />`}
  </div>`;
}

render(html`<${App} />`, document.getElementById('app'));
