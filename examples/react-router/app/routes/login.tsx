import { Form, data, redirect } from 'react-router'
import type { Route } from './+types/login'
import { commitSession, getSession } from '../sessions.server'

// A stand-in for a user table: a real app checks a password hash.
const users = new Map([['alice', 'wonderland']])

export async function action({ request }: Route.ActionArgs) {
  const form = await request.formData()
  const user = String(form.get('user') ?? '')
  if (users.get(user) !== String(form.get('password') ?? '')) {
    return data({ error: 'Wrong user name or password' }, { status: 401 })
  }
  const session = await getSession(request)
  // A new id at login: an id someone planted in the browser before it is worth nothing after.
  await session.regenerate()
  session.set('user', user)
  session.flash('message', `Welcome, ${user}!`)
  return redirect('/', { headers: { 'Set-Cookie': await commitSession(session) } })
}

export default function Login({ actionData }: Route.ComponentProps) {
  return (
    <main>
      <h1>Log in</h1>
      {actionData?.error === undefined ? null : <p id="error">{actionData.error}</p>}
      <Form method="post">
        <label>
          User name <input name="user" autoComplete="username" />
        </label>
        <label>
          Password <input name="password" type="password" autoComplete="current-password" />
        </label>
        <button type="submit">Log in</button>
      </Form>
    </main>
  )
}
