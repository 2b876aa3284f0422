import type { PageServerLoad } from './$types'

// Each visit counts; the count lives in the session, so it is per browser.
export const load: PageServerLoad = ({ locals }) => {
  const { session } = locals
  session.count = (session.count ?? 0) + 1
  const message = session.message // shown once
  delete session.message
  return { count: session.count, user: session.user ?? null, message: message ?? null }
}
