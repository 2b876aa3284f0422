import createDebug from 'debug'

/** Shared by both modes: one namespace, so `DEBUG=sessionkit` shows everything. No line names a session id. @internal */
export const debug = createDebug('sessionkit')
