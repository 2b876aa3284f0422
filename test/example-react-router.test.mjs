// examples/react-router, a React Router 7 framework-mode app on sessionkit/react-router, built with
// `react-router build` and served by `react-router-serve` from the build (the tests are in
// support/built-example.mjs). In Chromium the app is hydrated: the login and logout forms go through
// React Router's client-side data requests, whose responses carry the cookie too.
import { exampleTests } from './support/built-example.mjs'

await exampleTests({
  name: 'react-router',
  port: 7480,
  cookie: 'rr.sid',
  env: ({ prefix }) => ({ REDIS_URL: 'redis://127.0.0.1:6379', SESSION_PREFIX: prefix, NODE_ENV: 'production' }),
  form: (fields) => ({ method: 'POST', body: new URLSearchParams(fields) }),
  redirect: 302,
  // React Router's flash key: the message waits under it until read.
  storedAfterLogin: { count: 1, user: 'alice', __flash_message__: 'Welcome, alice!' },
  // commitSession() gives only the Set-Cookie value, as React Router's API has it.
  cacheControl: null,
})
