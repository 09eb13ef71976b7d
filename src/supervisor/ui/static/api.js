// The page's calls to /ui/api: JSON in and out, the login cookie sent by the
// browser (never a token) plus this login's key, and the live feed as an
// EventSource. The key (from the login reply) lives in sessionStorage, which no
// other origin (another port of this host included) can read; the cookie alone
// opens nothing (uiAuth.ts says why).
export class Unauthorized extends Error {}

const KEY_ITEM = 'agentvisor-ui-key';
const KEY_HEADER = 'X-Agentvisor-UI';

function key() {
  return sessionStorage.getItem(KEY_ITEM) ?? '';
}

async function call(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { [KEY_HEADER]: key() } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(`/ui/api${path}`, init);
  if (res.status === 401) throw new Unauthorized('log in again');
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    // not JSON: reported below by status
  }
  if (!res.ok) throw new Error((data && data.message) || `${method} ${path}: HTTP ${res.status}`);
  return data;
}

export const api = {
  login: async (token) => {
    const { key: k } = await call('POST', '/login', { token });
    sessionStorage.setItem(KEY_ITEM, k);
  },
  logout: () => call('POST', '/logout', {}).finally(() => sessionStorage.removeItem(KEY_ITEM)),
  sessions: () => call('GET', '/sessions'),
  info: (id) => call('GET', `/sessions/${encodeURIComponent(id)}`),
  output: (id, since, limit) => call('GET', `/sessions/${encodeURIComponent(id)}/output?since=${since}&limit=${limit}`),
  diff: (id) => call('GET', `/sessions/${encodeURIComponent(id)}/diff`),
  start: (body) => call('POST', '/sessions', body),
  send: (id, body) => call('POST', `/sessions/${encodeURIComponent(id)}/send`, body),
  approve: (id, approvalId, body) => call('POST', `/sessions/${encodeURIComponent(id)}/approvals/${encodeURIComponent(approvalId)}`, body),
  kill: (id) => call('POST', `/sessions/${encodeURIComponent(id)}/kill`, {}),
};

/**
 * The live feed: calls onChanged(ids) for each batch of changed sessions,
 * onLogout when the server ends the stream because the token was rotated.
 * EventSource reconnects by itself after a network drop.
 */
export function openFeed(onChanged, onLogout) {
  const es = new EventSource(`/ui/api/events?k=${encodeURIComponent(key())}`);
  es.addEventListener('changed', (e) => {
    try {
      onChanged(JSON.parse(e.data));
    } catch {
      // a malformed event is skipped; the next one carries the state anew
    }
  });
  es.addEventListener('logout', () => {
    es.close();
    onLogout();
  });
  es.addEventListener('hello', () => onChanged(null));
  return () => es.close();
}
