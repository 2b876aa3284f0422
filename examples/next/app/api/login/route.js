// Sign-in for clients that post a form without the page (a test, a script): a new id, then the user.
import { sessions } from '../../../lib/sessions.js'

export const POST = sessions.route(async (request, handle) => {
  const form = await request.formData()
  const name = String(form.get('name') ?? '').trim()
  if (name === '') return Response.json({ error: 'name is required' }, { status: 400 })
  await handle.session.regenerate()
  handle.session.user = name
  return Response.json({ user: name })
})
