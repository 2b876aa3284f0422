import { redirect } from 'react-router'
import type { Route } from './+types/logout'
import { destroySession, getSession } from '../sessions.server'

// Logging out removes the session from the store and clears the cookie.
export async function action({ request }: Route.ActionArgs) {
  const session = await getSession(request)
  return redirect('/login', { headers: { 'Set-Cookie': await destroySession(session) } })
}

export async function loader() {
  return redirect('/')
}
