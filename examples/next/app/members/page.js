// Reached only signed in: proxy.js sends everyone else to the start page.
import { sessions } from '../../lib/sessions.js'

export default async function Members() {
  const session = await sessions.get()
  return <p id="members">{`Members only: welcome, ${session?.user}`}</p>
}
