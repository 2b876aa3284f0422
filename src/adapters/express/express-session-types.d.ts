// The bridge to @types/express-session. An app keeps that package when it moves to sessionkit, or gets
// it through another package's types (@types/connect-pg-simple depends on it). Its global declaration
// of `req.session` cannot be overridden (TypeScript's TS2717 forbids a second, different declaration),
// so while it is installed sessionkit follows it: req.session is its Session, extended (in
// sessionkit.d.cts) with the app's sessionkit SessionData and sessionkit's promise forms, and stores,
// cookies and options typed against it are accepted. When it is not installed every type here is
// `never` and sessionkit's own types apply.
//
// The import names the @types package directly because under the alias install `express-session` is
// sessionkit itself. TypeScript reports that (TS6137) when the package is there and TS2307 when it is
// not; both are expected, hence the directive. This file imports nothing of sessionkit's, so that
// types.ts can use it without a cycle.
// @ts-ignore
import ExpressSession = require('@types/express-session')

/**
 * `true` when @types/express-session is part of the program. A name from an import that did not
 * resolve has the error type, which is assignable to anything, as `any` is; the real interface is
 * not assignable to `string`. The tuples matter: a bare error type as the checked type would make
 * the whole conditional the error type.
 */
export type ExpressSessionTypesPresent = [ExpressSession.SessionData] extends [string] ? false : true

/** @types/express-session's SessionData, when installed. */
export type ExpressSessionData = ExpressSessionTypesPresent extends true ? ExpressSession.SessionData : never

/** @types/express-session's SessionOptions, when installed. */
export type ExpressSessionOptions = ExpressSessionTypesPresent extends true ? ExpressSession.SessionOptions : never

/** @types/express-session's Store, when installed. */
export type ExpressSessionStore = ExpressSessionTypesPresent extends true ? ExpressSession.Store : never

/** `req.session` as @types/express-session declares it, when installed. */
export type ExpressRequestSession = ExpressSessionTypesPresent extends true ? ExpressSession.Session & Partial<ExpressSession.SessionData> : never

/** @types/express-session's Cookie, when installed. */
export type ExpressSessionCookie = ExpressSessionTypesPresent extends true ? ExpressSession.Cookie : never
