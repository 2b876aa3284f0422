// Next.js's proxy (middleware.js before Next.js 16) runs before every matched request. It may read
// the session, not change it: a cookie it set would not reach the page it lets through.
import { NextResponse } from 'next/server'
import { sessions } from './lib/sessions.js'

export async function proxy(request) {
  const session = await sessions.read(request)
  if (session?.user === undefined) return NextResponse.redirect(new URL('/', request.url))
  return NextResponse.next()
}

export const config = { matcher: ['/members/:path*'] }
