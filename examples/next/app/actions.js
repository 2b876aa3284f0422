'use server'
// Server actions: where Next.js lets a page's form set cookies, so where the session changes.
import { redirect } from 'next/navigation'
import { sessions } from '../lib/sessions.js'

export async function login(formData) {
  const name = String(formData.get('name') ?? '').trim()
  if (name === '') return
  await sessions.change(async (session) => {
    // A new id on sign-in, so that an id planted before it is worth nothing after (session fixation).
    // `session` follows regenerate() to the new session.
    await session.regenerate()
    session.user = name
  })
  // After change(), not inside it: redirect() throws to end the action.
  redirect('/')
}

export async function logout() {
  await sessions.change((session) => session.destroy())
  redirect('/')
}
