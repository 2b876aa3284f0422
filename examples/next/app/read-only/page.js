// What a server component meets when it tries to change the session: Next.js sends a page's cookies
// before rendering it, so sessionkit refuses the change and says where to make it.
import { sessions } from '../../lib/sessions.js'

async function attempt(change) {
  try {
    await change()
    return 'changed'
  } catch (err) {
    return `${err.code}: ${err.message}`
  }
}

export default async function ReadOnly() {
  const session = await sessions.get()
  const assignment = await attempt(() => {
    session.views = 1
  })
  const changed = await attempt(() =>
    sessions.change((writable) => {
      writable.views = 1
    }),
  )
  return (
    <main>
      <p id="assignment">{assignment}</p>
      <p id="change">{changed}</p>
    </main>
  )
}
