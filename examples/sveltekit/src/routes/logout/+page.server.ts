import { redirect } from '@sveltejs/kit'
import type { Actions, PageServerLoad } from './$types'

export const load: PageServerLoad = () => redirect(303, '/')

// Logging out removes the session from the store and clears the cookie.
export const actions: Actions = {
  default: async ({ locals }) => {
    await locals.session.destroy()
    redirect(303, '/login')
  },
}
