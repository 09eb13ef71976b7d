// Small formatting helpers for the views.
export function ago(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d`;
}

export function since(iso) {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? ago(Date.now() - t) + ' ago' : '—';
}

export function usageText(usage) {
  if (!usage || typeof usage !== 'object') return '—';
  const parts = [];
  const tokens = (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);
  if (tokens > 0) parts.push(`${tokens.toLocaleString()} tok`);
  if (typeof usage.costUsd === 'number') parts.push(`$${usage.costUsd.toFixed(4)}`);
  return parts.length ? parts.join(' · ') : '—';
}

export function shortId(id) {
  return String(id).slice(0, 8);
}
