import createDebug from 'debug'

/**
 * What sessionkit uses of a `debug` logger. Declared here so that the published types do not need
 * `@types/debug`, which an app does not install.
 */
export interface DebugLog {
  (formatter: string, ...args: unknown[]): void
  readonly enabled: boolean
}

/** Shared by both modes: one namespace, so `DEBUG=sessionkit` shows everything. No line names a session id. @internal */
export const debug: DebugLog = createDebug('sessionkit')
