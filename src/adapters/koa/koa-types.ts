import type { IncomingMessage } from 'node:http'

/**
 * The few parts of Koa that sessionkit/koa uses, written as structural types so that sessionkit needs
 * neither Koa nor its type definitions installed: Koa's own `Context` and `Application` fit them.
 */

/** A Koa application, as `session(opts, app)` receives it. */
export interface KoaApplication {
  /** Registers a middleware; only checked to tell an app from an options object. */
  use(...args: never[]): unknown
  /** The prototype of every request's `ctx`: `ctx.session` is defined on it. */
  readonly context: object
  /** The app's cookie-signing keys; the first one seals and signs, every one opens and verifies. */
  keys?: readonly (string | Buffer)[] | object
  /** Emits koa-session's `session:missed`, `session:invalid` and `session:expired`. */
  emit(event: string, ...args: unknown[]): boolean
}

/** A Koa request context, as far as the session middleware reads and writes it. */
export interface KoaContext {
  /** The application the request came to. */
  readonly app: KoaApplication
  /** Node's request: its Cookie header is read. */
  readonly req: IncomingMessage
  /** The request's full URL (Koa's `ctx.href`). */
  readonly href: string
  /** The Host header's host and port, `''` without one. */
  readonly host: string
  /** The request URL's path. */
  readonly path: string
  /** Whether the request came over HTTPS, as Koa decides it (`app.proxy` trusts `X-Forwarded-Proto`). */
  readonly secure: boolean
  /** Koa's response: the Set-Cookie and Cache-Control headers are written through it. */
  readonly response: {
    get(field: string): string | string[] | number | undefined
    set(field: string, value: string | string[]): void
  }
}

/** A Koa middleware. */
export type KoaMiddleware = (ctx: KoaContext, next: () => Promise<unknown>) => Promise<void>
