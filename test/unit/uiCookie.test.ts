/**
 * The dashboard cookie in process: what it holds, and each way a cookie that is
 * not the one we issued under this token is refused (forged, altered, expired,
 * signed by a rotated token, malformed).
 */
import { UiAuthTimeouts, cookieValid, issueCookie } from '../../src/supervisor/ui/uiAuth';
import { tokenDigest } from '../../src/supervisor/http/auth';

const TOKEN = 'unit-token-0123456789abcdef';
const digest = tokenDigest(TOKEN);

test('a cookie issued under the token is valid, and holds no part of the token nor the key', () => {
  const { cookie: c, key } = issueCookie(digest);
  expect(cookieValid(c, digest)).toBe(true);
  expect(cookieValid(c, digest, Date.now(), key)).toBe(true);
  expect(c).not.toContain(TOKEN);
  expect(c).not.toContain(digest.toString('base64url'));
  expect(c).not.toContain(key);
  expect(c).toMatch(/^v2\.\d+\.[\w-]+\.[\w-]+$/);
});

test("a cookie with a missing, wrong or another login's key is refused", () => {
  const now = 1_800_000_000_000;
  const { cookie: c, key } = issueCookie(digest, now);
  const other = issueCookie(digest, now);
  for (const k of ['', 'x', key + 'A', key.slice(0, -1), other.key, 'k'.repeat(10_000)]) expect(cookieValid(c, digest, now, k)).toBe(false);
  expect(cookieValid(other.cookie, digest, now, key)).toBe(false);
});

test('a rotated token, an altered part, an expired cookie, or junk are refused', () => {
  const now = 1_800_000_000_000;
  const { cookie: c } = issueCookie(digest, now);
  expect(cookieValid(c, tokenDigest('another-token-0123456789abcdef'), now)).toBe(false);
  const [v, exp, nonce, mac] = c.split('.');
  expect(cookieValid([v, String(Number(exp) + 1), nonce, mac].join('.'), digest, now)).toBe(false);
  expect(cookieValid([v, exp, nonce + 'A', mac].join('.'), digest, now)).toBe(false);
  expect(cookieValid([v, exp, nonce, mac.slice(0, -1)].join('.'), digest, now)).toBe(false);
  expect(cookieValid(c, digest, now + UiAuthTimeouts.cookieLifetimeMs + 1)).toBe(false);
  for (const junk of [undefined, '', 'v1', 'v1...', 'v1.1.a.b', 'x'.repeat(10_000), `v1.${Number.MAX_VALUE}.a.b`]) expect(cookieValid(junk, digest, now)).toBe(false);
});
