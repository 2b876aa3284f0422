// An app written for @fastify/session's types, with only the import changed: the session's keys come
// from the app's own `declare module 'fastify'`, and the methods keep their promise and callback forms.
import Fastify from 'fastify'
import { fastifyCookie } from '@fastify/cookie'
import { fastifySession, MemoryStore, type FastifySessionOptions } from 'sessionkit/fastify'

declare module 'fastify' {
  interface Session {
    user_id: string
    visits?: number
  }
}

const options: FastifySessionOptions = {
  secret: ['a secret with minimum length of 32 characters'],
  cookieName: 'sid',
  cookie: { secure: 'auto', maxAge: 60_000, sameSite: 'lax' },
  store: new MemoryStore(),
  idGenerator: (request) => (request?.session?.visits ? `back-${Date.now()}` : String(Date.now())),
}

const app = Fastify()
app.register(fastifyCookie)
app.register(fastifySession, options)

app.get('/', async (request) => {
  request.session.user_id = 'ada'
  request.session.set('visits', (request.session.get('visits') ?? 0) + 1)
  const id: string = request.session.sessionId
  const signed: string = request.session.encryptedSessionId
  const visits: number | undefined = request.session.visits
  request.session.touch()
  request.session.options({ maxAge: 1000 })
  await request.session.save()
  await request.session.reload()
  await request.session.regenerate(['user_id'])
  const changed: boolean = request.session.isModified() || request.session.isSaved()
  // @ts-expect-error: the app declared user_id a string
  request.session.user_id = 1
  // @ts-expect-error: a key the app did not declare
  request.session.get('nope')
  return { id, signed, visits, changed, store: request.sessionStore !== undefined }
})

app.get('/callbacks', (request, reply) => {
  request.session.regenerate((error) => {
    if (error) return reply.send(error)
    request.session.destroy((destroyError) => reply.send(destroyError ?? 'bye'))
  })
})

app.addHook('preHandler', (request, reply, next) => {
  request.session.destroy(next)
})

export default app
