/**
 * The combinators of shared/validate.ts, on their own: what each accepts, the
 * fresh value it returns, and the field path a failure names. The types are
 * inferred from the validators; the assignments below fail to compile if the
 * inference drifts.
 */
import { ContractError, type Infer, arrayOf, bool, byKey, firstOf, int, literal, nullable, obj, oneOf, optional, present, recordOf, str, tagged, withDefault } from '../../src/shared/validate';

const Thing = obj({
  name: str({ min: 1, max: 5 }),
  count: int({ min: 0, max: 10 }),
  tags: arrayOf(oneOf(['a', 'b'])),
  note: optional(str()),
  extra: withDefault(nullable(bool()), null),
  env: recordOf(str()),
});
type Thing = Infer<typeof Thing>;

test('the inferred type has required, optional and defaulted fields as declared', () => {
  const t: Thing = { name: 'x', count: 1, tags: ['a'], extra: null, env: {} };
  // @ts-expect-error a tag outside the enum does not type-check
  const bad: Thing = { name: 'x', count: 1, tags: ['c'], extra: null, env: {} };
  expect(Thing.parse(t)).toEqual(t);
  expect(bad.tags).toEqual(['c']);
});

test('a parsed object is a fresh value: unknown keys dropped, defaults filled, absent optionals left absent', () => {
  const raw = { name: 'x', count: 1, tags: [], env: { A: 'b' }, junk: 1 };
  const parsed = Thing.parse(raw);
  expect(parsed).toEqual({ name: 'x', count: 1, tags: [], env: { A: 'b' }, extra: null });
  expect(Object.keys(parsed)).not.toContain('note');
  expect(parsed).not.toBe(raw);
  expect(raw).not.toHaveProperty('extra');
});

test.each([
  [{ name: '', count: 1, tags: [], env: {} }, 'name: expected 1–5 characters, got 0'],
  [{ name: 'abcdef', count: 1, tags: [], env: {} }, 'name: expected 1–5 characters, got 6'],
  [{ name: 'x', count: 11, tags: [], env: {} }, 'count: expected an integer >= 0 <= 10'],
  [{ name: 'x', count: 1, tags: ['a', 'z'], env: {} }, 'tags[1]: expected one of a, b'],
  [{ name: 'x', count: 1, tags: 'a', env: {} }, 'tags: expected an array'],
  [{ name: 'x', count: 1, tags: [], note: 3, env: {} }, 'note: expected a string'],
  [{ name: 'x', count: 1, tags: [], extra: 'yes', env: {} }, 'extra: expected a boolean'],
  [{ name: 'x', count: 1, tags: [], env: { K: 1 } }, 'env.K: expected a string'],
  [{ name: 'x', count: 1, tags: [], env: [] }, 'env: expected an object'],
])('%j is refused: %s', (raw, why) => {
  const r = Thing.safeParse(raw);
  expect(r.success).toBe(false);
  expect(r.error?.message).toBe(why);
  expect(() => Thing.parse(raw, 'a thing')).toThrow(new ContractError(r.error!.field, r.error!.problem, 'a thing'));
  expect(() => Thing.parse(raw, 'a thing')).toThrow(`a thing: ${why}`);
});

test('tagged tells variants apart by their tag and refuses an unknown or inherited one', () => {
  const T = tagged('kind', { a: obj({ x: int() }), b: obj({}) });
  expect(T.parse({ kind: 'a', x: 1 })).toEqual({ kind: 'a', x: 1 });
  expect(T.parse({ kind: 'b', x: 'ignored' })).toEqual({ kind: 'b' });
  expect(() => T.parse({ kind: 'a', x: 'no' })).toThrow('x: expected an integer');
  expect(() => T.parse({ kind: 'constructor' })).toThrow('kind: expected one of a, b');
  expect(() => T.parse({})).toThrow('kind: expected one of a, b');
});

test('firstOf takes the first alternative that fits, in order', () => {
  const F = firstOf([obj({ e: literal('x') }), obj({ id: int(), result: present() })]);
  expect(F.parse({ e: 'x', id: 1, result: 2 })).toEqual({ e: 'x' });
  expect(F.parse({ id: 1, result: null })).toEqual({ id: 1, result: null });
  expect(() => F.parse({ id: 1 })).toThrow('result: expected a value');
});

test('byKey checks the alternative named by the first key present, and only that one', () => {
  const B = byKey([
    ['e', obj({ e: literal('x') })],
    ['id', obj({ id: int(), result: present() })],
  ]);
  expect(B.parse({ e: 'x', id: 1, result: 2 })).toEqual({ e: 'x' });
  expect(B.parse({ id: 1, result: null })).toEqual({ id: 1, result: null });
  // An `e` frame that is wrong is wrong, not read as the next kind.
  expect(() => B.parse({ e: 'y', id: 1, result: 2 })).toThrow('e: expected "x"');
  expect(() => B.parse({ id: 1 })).toThrow('result: expected a value');
  expect(() => B.parse({ other: 1 })).toThrow('expected one of the keys e, id');
  expect(() => B.parse([])).toThrow('expected an object');
});

test('oneOf exposes its values, for the MCP edge to build its zod enum from', () => {
  expect(oneOf(['p', 'q']).values).toEqual(['p', 'q']);
});
