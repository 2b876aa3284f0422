import { Form, Link, data } from 'react-router'
import type { Route } from './+types/counter'
import { commitSession, getSession } from '../sessions.server'

// Each visit counts; the count lives in the session, so it is per browser.
export async function loader({ request }: Route.LoaderArgs) {
  const session = await getSession(request)
  const count = (session.get('count') ?? 0) + 1
  session.set('count', count)
  const message = session.get('message') // a flash: shown once
  return data(
    { count, user: session.get('user') ?? null, message: message ?? null },
    { headers: { 'Set-Cookie': await commitSession(session) } },
  )
}

export default function Counter({ loaderData }: Route.ComponentProps) {
  const { count, user, message } = loaderData
  return (
    <main>
      {message === null ? null : <p id="message">{message}</p>}
      <h1>
        Visits: <span id="count">{count}</span>
      </h1>
      {user === null ? (
        <p>
          <Link to="/login">Log in</Link>
        </p>
      ) : (
        <Form method="post" action="/logout">
          <p id="welcome">Signed in as {user}</p>
          <button type="submit">Log out</button>
        </Form>
      )}
    </main>
  )
}
