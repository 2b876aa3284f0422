// Server code of a Next.js app typed through sessionkit/next: the SessionData an app declares types
// the sessions get(), change(), route() and read() give; each `@ts-expect-error` line must fail to
// compile, or tsc reports the directive.
import { NextResponse, type NextRequest } from 'next/server'
import { cookies, headers } from 'next/headers'
import { MemoryStore } from 'sessionkit'
import { nextCookieSessions, nextSessions, type NextSessions, type WebSession } from 'sessionkit/next'
import { webSessions, type WebStoreSessions } from 'sessionkit/web'

declare module 'sessionkit' {
  interface SessionData {
    user: string
  }
}

const sessions = nextSessions({ secret: 's', store: new MemoryStore(), resave: false, saveUninitialized: false })
const shared: NextSessions<WebStoreSessions> = nextSessions(webSessions({ secret: 's' }))
const sealed: NextSessions = nextCookieSessions({ secret: 'x'.repeat(32) })
// Next.js's own cookies() and headers() fit the scope option.
const scoped = nextSessions({ secret: 's' }, { scope: { cookies, headers }, secure: true, path: '/app' })
const ended: Promise<number> = sessions.sessions.destroySessionsOf('ann', { except: 'id' })
void [shared, sealed, scoped, ended]

export async function Page(): Promise<string> {
  const session: WebSession | undefined = await sessions.get()
  const user: string | undefined = session?.user
  // @ts-expect-error user is a string
  const wrong: number | undefined = session?.user
  void wrong
  return user ?? 'signed out'
}

export async function login(form: FormData): Promise<string> {
  const name: string = await sessions.change(async (session, handle) => {
    await session.regenerate()
    session.user = String(form.get('name'))
    return handle.sessionID
  })
  // @ts-expect-error user is a string
  await sessions.change((session) => void (session.user = 42))
  return name
}

export const GET = sessions.route(async (request: NextRequest, handle, context: { params: Promise<{ slug: string }> }) => {
  const { slug } = await context.params
  handle.session!.user = slug
  return Response.json({ url: request.nextUrl.pathname })
})

export async function proxy(request: NextRequest): Promise<NextResponse> {
  const session = await sessions.read(request)
  return session?.user === undefined ? NextResponse.redirect(new URL('/', request.url)) : NextResponse.next()
}
