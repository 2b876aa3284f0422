import { fail, redirect } from '@sveltejs/kit'
import type { Actions } from './$types'

// A stand-in for a user table: a real app checks a password hash.
const users = new Map([['alice', 'wonderland']])

export const actions: Actions = {
  default: async ({ request, locals }) => {
    const form = await request.formData()
    const user = String(form.get('user') ?? '')
    if (users.get(user) !== String(form.get('password') ?? '')) return fail(401, { error: 'Wrong user name or password' })
    // A new id at login: an id someone planted in the browser before it is worth nothing after.
    await locals.session.regenerate({ keep: ['count'] })
    locals.session.user = user
    locals.session.message = `Welcome, ${user}!`
    redirect(303, '/')
  },
}
