// A route handler: sessions.route() loads the session from the Request, and puts its cookie on the
// Response the handler returns.
import { sessions } from '../../../lib/sessions.js'

export const GET = sessions.route(async (request, handle) => {
  const session = handle.session
  session.views = (session.views ?? 0) + 1
  return Response.json({ views: session.views, user: session.user ?? null })
})
