import type { SessionLocals } from 'sessionkit/sveltekit'

// What the session holds, typed on event.locals.session in every load, action and endpoint.
declare global {
  namespace App {
    interface Locals extends SessionLocals<{ count: number; user: string; message: string }> {}
  }
}

export {}
