// What a documentation fragment (`<!-- sample: fragment -->`) takes from the app around it: the Express
// app, a route's req and res, the secret, a store and a client. Only fragments are checked with these;
// a whole program must declare everything it uses.
declare var app: import('express').Express
declare var req: import('express').Request
declare var res: import('express').Response
declare var secret: string
declare var current: string
declare var previous: string
declare var store: import('sessionkit').SessionStore
declare var redisClient: ReturnType<typeof import('redis').createClient>
declare var client: ReturnType<typeof import('redis').createClient>
// pg ships no types (and @types/pg is not installed): the pool is any.
declare var pool: import('pg').Pool
declare var user: { id: number }
declare var session: typeof import('sessionkit')
declare var cookieSession: typeof import('sessionkit').cookieSession
declare var RedisStore: typeof import('sessionkit/redis').RedisStore
declare var MyStore: new () => import('sessionkit').Store & { close?(): Promise<void> }
// The app's own services that fragments call.
declare var log: { warn(fields: object, message: string): void }
declare var failures: { hit(key: string | undefined): void }
declare var metrics: { increment(name: string, tags: object): void }
declare var idService: { next(): Promise<string> }
declare function notBeforeOf(owner: string): Promise<Date>
declare function setNotBefore(owner: number | undefined, when: Date): Promise<void>
// A test runner the samples name but sessionkit does not install.
declare module 'vitest' {
  export const it: (name: string, fn: () => unknown) => void
  export const describe: (name: string, fn: () => void) => void
  export const afterAll: (fn: () => unknown) => void
}
