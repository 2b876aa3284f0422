// examples/sveltekit, a SvelteKit app on sessionkit/sveltekit's handle hook, built with `vite build`
// and adapter-node, and served by `node build` (the tests are in support/built-example.mjs).
import { exampleTests } from './support/built-example.mjs'

const PORT = 7490
const ORIGIN = `http://127.0.0.1:${PORT}`

await exampleTests({
  name: 'sveltekit',
  port: PORT,
  cookie: 'kit.sid',
  // ORIGIN: without it adapter-node takes every request to be HTTPS (and so would `secure: 'auto'`).
  env: ({ prefix }) => ({ REDIS_URL: 'redis://127.0.0.1:6379', SESSION_PREFIX: prefix, ORIGIN }),
  // SvelteKit checks the Origin of form posts, and answers a page request's post with a 303.
  form: (fields) => ({ method: 'POST', body: new URLSearchParams(fields), headers: { origin: ORIGIN, accept: 'text/html' } }),
  redirect: 303,
  storedAfterLogin: { count: 1, user: 'alice', message: 'Welcome, alice!' },
  // The hook puts the whole commit on the response: the cookie and Cache-Control: private.
  cacheControl: 'private',
})
