// Shared helpers for tests that talk to a real server over HTTP on 127.0.0.1.
import { createServer } from 'node:http'

/**
 * Starts `handler` (an Express app, a connect app or a plain (req, res) function) on a free port.
 * Returns { base, close }.
 */
export async function listen(handler) {
  const server = createServer(handler)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  return {
    base: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.()
        server.close(() => resolve())
      }),
  }
}

/**
 * One request. Options: method, cookie (a Cookie header value), headers, body.
 * Returns { status, text, headers, setCookies: string[], cookie: 'name=value' of the first Set-Cookie or undefined }.
 */
export async function request(base, path, options = {}) {
  const headers = { ...(options.headers ?? {}) }
  if (options.cookie) headers.cookie = options.cookie
  const response = await fetch(base + path, {
    method: options.method ?? 'GET',
    headers,
    body: options.body,
    redirect: 'manual',
  })
  const text = await response.text()
  const setCookies = response.headers.getSetCookie()
  return {
    status: response.status,
    text,
    headers: response.headers,
    setCookies,
    cookie: setCookies.length > 0 ? setCookies[0].split(';')[0] : undefined,
  }
}

/** The attributes of one Set-Cookie header as a lower-cased map; `value` is the raw value. */
export function parseSetCookie(header) {
  const [pair, ...attributes] = header.split(';').map((part) => part.trim())
  const eq = pair.indexOf('=')
  const result = { name: pair.slice(0, eq), value: pair.slice(eq + 1) }
  for (const attribute of attributes) {
    const i = attribute.indexOf('=')
    if (i === -1) result[attribute.toLowerCase()] = true
    else result[attribute.slice(0, i).toLowerCase()] = attribute.slice(i + 1)
  }
  return result
}
