// A server component: it reads the session (sessions.get()), and changes it only through the forms'
// server actions.
import { sessions } from '../lib/sessions.js'
import { login, logout } from './actions.js'

export default async function Home() {
  const session = await sessions.get()
  const user = session?.user
  return (
    <main>
      <h1>sessionkit with Next.js</h1>
      <p>
        Counter (a route handler): <a href="/api/counter">/api/counter</a>, seen{' '}
        <span id="views">{session?.views ?? 0}</span> times
      </p>
      {user === undefined ? (
        <form action={login}>
          <p id="status">Signed out</p>
          <input name="name" aria-label="name" />
          <button type="submit">Sign in</button>
        </form>
      ) : (
        <form action={logout}>
          <p id="status">{`Signed in as ${user}`}</p>
          <button type="submit">Sign out</button>
        </form>
      )}
    </main>
  )
}
