// Sign-out: the session leaves the store, and its cookie is cleared.
import { sessions } from '../../../lib/sessions.js'

export const POST = sessions.route(async (request, handle) => {
  await handle.session.destroy()
  return Response.json({ user: null })
})
