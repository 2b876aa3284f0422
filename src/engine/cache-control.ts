/**
 * `Cache-Control: private` for a response that carries the session's Set-Cookie. A shared cache (a
 * CDN, a corporate proxy) that stored such a response would hand one user's session cookie to the next
 * visitor; `private` keeps it out of every shared cache (RFC 9111 §5.2.2.7). `Vary: Cookie` is not
 * added: a private response never reaches a shared cache, and the app's own `Vary` (CORS sets
 * `Origin`) is left as the app set it. @internal
 */

/**
 * The Cache-Control a response that carries the session cookie must have, given the one the app set
 * (`cacheControl`, however a server holds it), or undefined when that one may stand: `private` is added
 * unless it already says `private` or `no-store` (anything stricter the app set stays as it is;
 * `public`, which `private` contradicts, goes).
 */
export function privateCacheControl(cacheControl: string | number | readonly string[] | null | undefined): string | undefined {
  // Most responses have none: the same result as below, without parsing an empty list.
  if (cacheControl === undefined || cacheControl === null) return 'private'
  const directives = listOf(cacheControl)
  const names = directives.map(directiveName)
  // `private="Set-Cookie"` names only some headers as private: the rest stays cacheable, so it does not count.
  const strict = names.includes('no-store') || directives.some((directive) => directive.toLowerCase() === 'private')
  return strict ? undefined : ['private', ...directives.filter((_, i) => names[i] !== 'public')].join(', ')
}

/** The comma-separated items of a header, however it was set (a string, a number, an array); a quoted comma stays inside its item. */
function listOf(value: string | number | readonly string[]): string[] {
  const text = Array.isArray(value) ? value.join(',') : String(value)
  const items: string[] = []
  let start = 0
  let quoted = false
  for (let i = 0; i <= text.length; i++) {
    const char = text[i]
    if (char === '"' && text[i - 1] !== '\\') quoted = !quoted
    if (i === text.length || (char === ',' && !quoted)) {
      const item = text.slice(start, i).trim()
      if (item !== '') items.push(item)
      start = i + 1
    }
  }
  return items
}

function directiveName(directive: string): string {
  const eq = directive.indexOf('=')
  return (eq === -1 ? directive : directive.slice(0, eq)).trim().toLowerCase()
}
