// examples/react-router, a React Router 7 framework-mode app on sessionkit/react-router, built with
// `react-router build` and served by `react-router-serve` from the build (the tests are in
// support/built-example.mjs). In Chromium the app is hydrated: the login and logout forms go through
// React Router's client-side data requests, whose responses carry the cookie too.
import { join } from 'node:path'
import { exampleTests, root } from './support/built-example.mjs'

await exampleTests({
  name: 'react-router',
  build: ['react-router', ['build']],
  port: 7480,
  cookie: 'rr.sid',
  serve: ({ prefix }) => ({
    script: join(root, 'node_modules/@react-router/serve/bin.js'),
    args: [join(root, 'examples/react-router/build/server/index.js')],
    env: { REDIS_URL: 'redis://127.0.0.1:6379', SESSION_PREFIX: prefix, NODE_ENV: 'production' },
  }),
  form: (fields) => ({ method: 'POST', body: new URLSearchParams(fields) }),
  redirect: 302,
  // React Router's flash key: the message waits under it until read.
  storedAfterLogin: { count: 1, user: 'alice', __flash_message__: 'Welcome, alice!' },
  // commitSession() gives only the Set-Cookie value, as React Router's API has it.
  cacheControl: null,
})
