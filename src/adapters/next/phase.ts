/**
 * Whether Next.js lets the current request set cookies, asked before a change is made rather than
 * learnt from `cookies().set()` throwing after it: by then the store would hold a change (or a new
 * session) whose cookie never reaches the browser. @internal
 */

/** The part of Next.js's per-request store this reads. */
interface WorkUnitStore {
  readonly type?: unknown
  readonly phase?: unknown
}

/**
 * True in a server action or route handler, false where Next.js refuses cookies (rendering a server
 * component, a cached or prerendered scope), undefined when it cannot tell (outside Next.js, or a
 * Next.js whose internals differ): then the cookie write itself decides. The request store and its
 * phase are internal to Next.js (15 and 16); `cookies().set()` checks the same phase.
 */
export function cookiesWritable(): boolean | undefined {
  let store: WorkUnitStore | undefined
  try {
    const storage = (require('next/dist/server/app-render/work-unit-async-storage.external') as {
      workUnitAsyncStorage?: { getStore?: () => WorkUnitStore | undefined }
    }).workUnitAsyncStorage
    store = storage?.getStore?.()
  } catch {
    return undefined
  }
  if (store === undefined || store === null) return undefined
  if (store.type !== 'request') return false
  return typeof store.phase === 'string' ? store.phase === 'action' : undefined
}
