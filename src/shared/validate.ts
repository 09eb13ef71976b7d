/**
 * A tiny validator for the worker contract (protocol.ts). zod is the MCP edge's
 * tool; here it would cost every worker ~150 ms of start-up and ~10 MB resident,
 * so these few combinators do the job instead. The TypeScript types are inferred
 * from the validators (`type X = Infer<typeof X>`), so a type and its check
 * cannot drift apart. Like zod, an object's unknown keys are dropped, defaults
 * filled in, and the result is a fresh value; a failure names the field.
 */

/** What a value failed, and where: `params.limit: expected an integer >= 1`. */
export class ContractError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
    what?: string,
  ) {
    super((what ? `${what}: ` : '') + (field ? `${field}: ${problem}` : problem));
  }
}

export type SafeResult<T> = { success: true; data: T; error?: undefined } | { success: false; data?: undefined; error: ContractError };

export interface Validator<T> {
  /** The checked value; throws a ContractError naming the first bad field (after `what` it is, if given). */
  parse(v: unknown, what?: string): T;
  safeParse(v: unknown): SafeResult<T>;
  /** The check itself, for combinators: `at` is the field's path so far. */
  readonly run: (v: unknown, at: string) => T;
}
/** A field that may be absent from its object. */
type Optional<T> = Validator<T | undefined> & { readonly absentOk: true };

export type Infer<V> = V extends Validator<infer T> ? T : never;

type Shape = Record<string, Validator<unknown>>;
type Flat<T> = { [K in keyof T]: T[K] } & {};
type ObjectOf<S extends Shape> = Flat<
  { [K in keyof S as S[K] extends { absentOk: true } ? never : K]: Infer<S[K]> } & {
    [K in keyof S as S[K] extends { absentOk: true } ? K : never]?: Infer<S[K]>;
  }
>;

function fail(at: string, problem: string): never {
  throw new ContractError(at, problem);
}
const join = (at: string, key: string) => (at ? `${at}.${key}` : key);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

function make<T, X extends object = object>(run: (v: unknown, at: string) => T, extra?: X): Validator<T> & X {
  return {
    run,
    parse(v, what) {
      try {
        return run(v, '');
      } catch (err) {
        throw err instanceof ContractError && what ? new ContractError(err.field, err.problem, what) : err;
      }
    },
    safeParse(v) {
      try {
        return { success: true, data: run(v, '') };
      } catch (err) {
        if (err instanceof ContractError) return { success: false, error: err };
        throw err;
      }
    },
    ...(extra as X),
  };
}

export const str = (o: { min?: number; max?: number; pattern?: RegExp } = {}) =>
  make<string>((v, at) => {
    if (typeof v !== 'string') return fail(at, 'expected a string');
    if (v.length < (o.min ?? 0) || v.length > (o.max ?? Infinity)) return fail(at, `expected ${o.min ?? 0}–${o.max ?? '∞'} characters, got ${v.length}`);
    if (o.pattern && !o.pattern.test(v)) return fail(at, `expected a string matching ${o.pattern}`);
    return v;
  });

export const int = (o: { min?: number; max?: number } = {}) =>
  make<number>((v, at) => {
    const min = o.min ?? -Infinity;
    const max = o.max ?? Infinity;
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
    return fail(at, `expected an integer${min > -Infinity ? ` >= ${min}` : ''}${max < Infinity ? ` <= ${max}` : ''}`);
  });

/** A finite number (a cost, not a count). */
export const num = (o: { min?: number } = {}) =>
  make<number>((v, at) => (typeof v === 'number' && Number.isFinite(v) && v >= (o.min ?? -Infinity) ? v : fail(at, `expected a number${o.min !== undefined ? ` >= ${o.min}` : ''}`)));

export const bool = () => make<boolean>((v, at) => (typeof v === 'boolean' ? v : fail(at, 'expected a boolean')));

export const literal = <const L extends string | number | boolean>(value: L) => make<L>((v, at) => (v === value ? value : fail(at, `expected ${JSON.stringify(value)}`)));

/** One of a fixed list of strings; `values` is the list (for the MCP edge's zod enums and for help texts). */
export const oneOf = <const V extends readonly [string, ...string[]]>(values: V) =>
  make<V[number], { values: V }>((v, at) => (typeof v === 'string' && values.includes(v) ? v : fail(at, `expected one of ${values.join(', ')}`)), { values });

/** Any value that is there (null included): checked elsewhere (a response's result, by its method's validator). */
export const present = () => make<unknown>((v, at) => (v === undefined ? fail(at, 'expected a value') : v));

export const nullable = <T>(inner: Validator<T>) => make<T | null>((v, at) => (v === null ? null : inner.run(v, at)));

export const optional = <T>(inner: Validator<T>): Optional<T> => make<T | undefined, { absentOk: true }>((v, at) => (v === undefined ? undefined : inner.run(v, at)), { absentOk: true });

/** Absent means `fallback`: a field an older peer did not send. */
export const withDefault = <T>(inner: Validator<T>, fallback: T) => make<T>((v, at) => (v === undefined ? fallback : inner.run(v, at)));

export const arrayOf = <T>(inner: Validator<T>) => make<T[]>((v, at) => (Array.isArray(v) ? v.map((x, i) => inner.run(x, `${at}[${i}]`)) : fail(at, 'expected an array')));

export const recordOf = <T>(inner: Validator<T>) =>
  make<Record<string, T>>((v, at) => {
    if (!isObject(v)) return fail(at, 'expected an object');
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries(v)) out[k] = inner.run(x, join(at, k));
    return out;
  });

export const obj = <S extends Shape>(shape: S) =>
  make<ObjectOf<S>, { shape: S }>(
    (v, at) => {
      if (!isObject(v)) return fail(at, 'expected an object');
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(shape)) {
        const x = shape[key].run(v[key], join(at, key));
        if (x !== undefined) out[key] = x;
      }
      return out as ObjectOf<S>;
    },
    { shape },
  );

/**
 * A union told apart by the string at `key`: `tagged('method', { hello: obj({...}), ... })`
 * is `{ method: 'hello', ... } | ...`, and an unknown tag is named as such.
 */
export const tagged = <K extends string, V extends Record<string, Validator<object>>>(key: K, variants: V) =>
  make<{ [T in keyof V & string]: Flat<{ [P in K]: T } & Infer<V[T]>> }[keyof V & string], { variants: V }>(
    (v, at) => {
      if (!isObject(v)) return fail(at, 'expected an object');
      const tag = v[key];
      if (typeof tag !== 'string' || !has(variants, tag)) return fail(join(at, key), `expected one of ${Object.keys(variants).join(', ')}`);
      return { [key]: tag, ...variants[tag].run(v, at) } as never;
    },
    { variants },
  );

/** The first alternative that fits, in order; fails with the last alternative's complaint. */
export const firstOf = <const A extends readonly Validator<unknown>[]>(alternatives: A) =>
  make<Infer<A[number]>>((v, at) => {
    let last: ContractError | undefined;
    for (const alt of alternatives) {
      try {
        return alt.run(v, at) as Infer<A[number]>;
      } catch (err) {
        if (!(err instanceof ContractError)) throw err;
        last = err;
      }
    }
    throw last ?? new ContractError(at, 'no alternative');
  });

/**
 * The alternative named by the first of these keys the object has, checked alone:
 * for unions whose kinds are told apart by a key's presence (unlike firstOf, a miss
 * costs nothing, which matters on a path taken for every frame).
 */
export const byKey = <const A extends readonly (readonly [string, Validator<unknown>])[]>(alternatives: A) =>
  make<Infer<A[number][1]>>((v, at) => {
    if (!isObject(v)) return fail(at, 'expected an object');
    for (const [key, alt] of alternatives) if (has(v, key)) return alt.run(v, at) as Infer<A[number][1]>;
    return fail(at, `expected one of the keys ${alternatives.map(([k]) => k).join(', ')}`);
  });
