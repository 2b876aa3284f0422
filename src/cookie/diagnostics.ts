import type { Cookie } from './cookie.js'
import { debug } from '../debug.js'
import { warnOnce } from '../warn-once.js'

/**
 * Why a session cookie never reaches the browser, or reaches it and is dropped: the most asked
 * question about express-session. Each cause is a `DEBUG=sessionkit` line every time, and a process
 * warning (code SESSIONKIT_COOKIE_NOT_SET) the first time in a process, with the fix. No message
 * carries the request's path or any id. @internal
 */

/** The warning code of every "the cookie is not set" warning. */
export const COOKIE_NOT_SET = 'SESSIONKIT_COOKIE_NOT_SET'

type Cause = 'plain-http' | 'untrusted-proxy' | 'ignored-proxy' | 'same-site-none' | 'partitioned' | 'other-path' | 'prefix'

function say(cause: Cause, message: string): void {
  debug(message.replace(/^sessionkit: /, ''))
  warnOnce(`not-set-${cause}`, message, COOKIE_NOT_SET)
}

/** A Secure cookie was withheld on a request that did not come over HTTPS as far as sessionkit can trust. */
export function whyNotSent(forwarded: string | undefined, proxy: boolean | undefined): void {
  if (forwarded === 'https' && proxy === false) {
    say('ignored-proxy', "sessionkit: not sending the Secure session cookie: the request says X-Forwarded-Proto: https, but the option proxy: false ignores it. Remove proxy: false (or set proxy: true) when a proxy you run terminates HTTPS.")
  } else if (forwarded === 'https') {
    say(
      'untrusted-proxy',
      "sessionkit: not sending the Secure session cookie: the request came through a proxy that says X-Forwarded-Proto: https, but the proxy is not trusted. Set app.set('trust proxy', 1) in Express (the number of proxies in front), or session({ proxy: true }).",
    )
  } else {
    say('plain-http', "sessionkit: not sending the Secure session cookie over plain HTTP. Serve the site over HTTPS, or use cookie: { secure: 'auto' } to send it without Secure over HTTP (development only).")
  }
}

/**
 * A cookie that goes out but that browsers refuse to keep. The options were checked against a
 * `__Host-` name at startup; the app may still change `req.session.cookie` on one session.
 */
export function whyBrowserDrops(cookie: Cookie, name: string): void {
  if (name.charCodeAt(0) === 0x5f && /^__host-/i.test(name) && (cookie.domain || cookie.path !== '/')) {
    say('prefix', `sessionkit: the session cookie ${name} is sent with a Domain or a Path other than /, which a __Host- cookie may not have, and browsers drop it. Do not change req.session.cookie.domain or .path with a __Host- name.`)
  }
  if (cookie.secure === true) return
  if (typeof cookie.sameSite === 'string' && cookie.sameSite.toLowerCase() === 'none') {
    say('same-site-none', `sessionkit: the session cookie ${name} is sent with SameSite=None but without Secure, and browsers drop it. Set cookie: { secure: true } (HTTPS), or sameSite: 'lax'.`)
  }
  if (cookie.partitioned === true) {
    say('partitioned', `sessionkit: the session cookie ${name} is Partitioned but not Secure, and browsers drop it. Set cookie: { secure: true } (HTTPS).`)
  }
}

/**
 * A request outside `cookie.path` gets no session; that is normal (a static file, another app), so it
 * is a debug line only. It looks like a mistake when such a request carries a cookie of the session's
 * name: some other path or app on this host sets a cookie of that name (the default `connect.sid`
 * shared by two apps, or a path that changed), and that gets the warning.
 */
export function outsidePath(name: string, path: string, carriesName: boolean): void {
  if (!carriesName) {
    debug('request path outside cookie.path %s; no session', path)
    return
  }
  say(
    'other-path',
    `sessionkit: a request outside cookie.path ${path} carried a cookie named ${name}, so another path or app on this host sets a cookie of that name; this middleware ignores it. Give each app its own cookie name (the name option), or widen cookie.path.`,
  )
}
