// sessionkit/react-router and sessionkit/sveltekit against the frameworks' own types: the storage is a
// React Router SessionStorage, its sessions are React Router Sessions, and the hook is a SvelteKit Handle.
import type { Handle } from '@sveltejs/kit'
import type { Session, SessionStorage } from 'react-router'
import { cookieSessionStorage, storeSessionStorage, type RouterSession } from 'sessionkit/react-router'
import { sessionHandle, type SessionLocals } from 'sessionkit/sveltekit'
import { webCookieSessions } from 'sessionkit/web'

interface Data {
  userId: string
  count: number
}
interface Flash {
  error: string
}

const storage: SessionStorage<Data, Flash> = storeSessionStorage<Data, Flash>({ secret: 's3cret' })
const sealed: SessionStorage<Data, Flash> = cookieSessionStorage<Data, Flash>({ secret: 'x'.repeat(32) })

export async function loader(request: Request): Promise<Headers> {
  const session: Session<Data, Flash> = await storage.getSession(request.headers.get('Cookie'))
  const count: number | undefined = session.get('count')
  const error: string | undefined = session.get('error')
  session.set('count', (count ?? 0) + 1)
  // @ts-expect-error: a value of the wrong type
  session.set('userId', 1)
  session.flash('error', error ?? 'none')
  const mine: RouterSession<Data, Flash> = await storeSessionStorage<Data, Flash>({ secret: 's3cret' }).getSession(request)
  await mine.regenerate({ keep: ['count'] })
  return new Headers({ 'Set-Cookie': await sealed.commitSession(await sealed.getSession(request.headers.get('Cookie')), { maxAge: 60 }) })
}

// The hook fits Kit's Handle, in store mode and with sessions made by hand.
export const handle: Handle = sessionHandle({ secret: 's3cret' })
export const sealedHandle: Handle = sessionHandle(webCookieSessions({ secret: 'x'.repeat(32) }))

// What app.d.ts declares: locals.session typed with the app's data.
interface Locals extends SessionLocals<Data> {}
export function use(locals: Locals): number {
  locals.session.count = 1
  // @ts-expect-error: count is a number
  locals.session.count = 'one'
  return locals.session.count ?? 0
}
