// fast-check generators of Cookie headers shared by the property tests of session() (signed ids)
// and cookieSession() (sealed values). Each test supplies the values that are genuine in its mode;
// everything else here is what a browser, a proxy or an attacker may wrap around them.
import fc from 'fast-check'

export const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 })
export const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 })
export const b64 = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/='), minLength: 0, maxLength: 50 })

/**
 * Value families that wrap, cut or bury a genuine value (`valid`, an arbitrary of strings), plus
 * free-form junk: to be merged with the families specific to a mode in one `fc.oneof`.
 */
export function commonValueFamilies(valid) {
  return [
    // Encoded the way a browser or a proxy might hand it back.
    { arbitrary: valid.map(encodeURIComponent), weight: 3 },
    { arbitrary: valid.map((v) => `"${v}"`), weight: 1 },
    // Truncated, and a genuine value with trailing garbage.
    { arbitrary: fc.tuple(valid, fc.nat()).map(([v, n]) => v.slice(0, n % v.length)), weight: 3 },
    { arbitrary: fc.tuple(valid, fc.oneof(printable, latin1, fc.string({ minLength: 1, maxLength: 4 }))).filter(([, s]) => s.length > 0).map(([v, s]) => v + s), weight: 3 },
    // Bad percent-encoding, control and latin-1 bytes, quotes, separators inside.
    { arbitrary: fc.constantFrom('%', '%E0%A4%A', '%zz', 's:%ff%fe', '%00', '"', '""', '\\"', 's:.', 's:', '.', '=', '==', ',', ' '), weight: 2 },
    { arbitrary: latin1, weight: 3 },
    { arbitrary: fc.string({ maxLength: 30 }), weight: 2 },
    // Very long values.
    { arbitrary: fc.tuple(fc.constantFrom('a', 's:', '%41', 'é'), fc.integer({ min: 1000, max: 9000 })).map(([s, n]) => s.repeat(n)), weight: 1 },
    { arbitrary: fc.tuple(valid, fc.integer({ min: 2000, max: 8000 })).map(([v, n]) => v + 'A'.repeat(n)), weight: 1 },
  ]
}

/** Cookie names: mostly the session's, some near misses in `variants`, some unrelated. */
export function cookieNameArbitrary(name, variants) {
  return fc.oneof(
    { arbitrary: fc.constant(name), weight: 8 },
    { arbitrary: fc.constantFrom(...variants), weight: 2 },
    { arbitrary: fc.constantFrom('theme', 'csrf', 'a', '_ga', 'lang'), weight: 3 },
    { arbitrary: printable, weight: 1 },
  )
}

const separator = fc.constantFrom(';', '; ', ';;', ' ; ', '\t;', ', ', ';\t')

/** Whole Cookie headers of up to 6 segments, `name=value` pairs and malformed ones, with odd separators. */
export function cookieHeaderArbitrary(cookieName, sessionValue, loneNames = ['connect.sid']) {
  const segment = fc.oneof(
    { arbitrary: fc.tuple(cookieName, sessionValue).map(([n, v]) => `${n}=${v}`), weight: 8 },
    { arbitrary: fc.tuple(cookieName, printable).map(([n, v]) => `${n}=${v}`), weight: 2 },
    // No '=' at all, or only separators.
    { arbitrary: fc.oneof(printable, latin1, fc.constantFrom('', ' ', ...loneNames, '=', ';')), weight: 2 },
  )
  return fc
    .tuple(fc.array(segment, { minLength: 0, maxLength: 6 }), fc.array(separator, { minLength: 6, maxLength: 6 }))
    .map(([segments, separators]) => segments.map((s, i) => (i === 0 ? s : separators[i - 1] + s)).join(''))
}

const trimSpTab = (s) => s.replace(/^[ \t]+|[ \t]+$/g, '')

function decodeValue(value) {
  if (!value.includes('%')) return value
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

/**
 * The values of the cookies named `name` in `header`, in order, as RFC 6265 §5.4 reads them
 * (split on ';', split each pair at its first '=', trim spaces and tabs), then percent-decoded when
 * that succeeds, as browsers' and Node's cookie readers do.
 */
export function valuesNamed(header, name) {
  if (!header) return []
  const values = []
  for (const segment of header.split(';')) {
    const eq = segment.indexOf('=')
    if (eq === -1 || trimSpTab(segment.slice(0, eq)) !== name) continue
    values.push(decodeValue(unquote(trimSpTab(segment.slice(eq + 1)))))
  }
  return values
}

// RFC 6265 §4.1.1: a cookie-value may stand in double quotes; the value is what is inside them.
const unquote = (s) => (s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s)

/** How many cookies of the session's name sessionkit looks at, so that duplicates cannot make a request costly. */
export const MAX_SESSION_COOKIES = 4
