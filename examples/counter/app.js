// A visit counter: the smallest useful session. Each browser gets its own count, kept on the server;
// the browser only holds a signed cookie with the session id.
// Run: npm run example:counter
'use strict'
const express = require('express')
const session = require('sessionkit')
const { sessionSecret, page, start } = require('../shared/common.js')

const app = express()

app.use(
  session({
    secret: sessionSecret(),
    // Each example has its own cookie name: cookies are shared by every port of localhost, so two
    // examples running side by side would otherwise overwrite each other's session.
    name: 'counter.sid',
    // Write to the store only when the session changed; the store's expiry is moved by `touch` instead.
    resave: false,
    // No stored session and no cookie until the app puts something in the session.
    saveUninitialized: false,
    cookie: {
      httpOnly: true, // scripts in the page cannot read the session id (limits what an XSS can steal)
      sameSite: 'lax', // not sent with cross-site POSTs, the usual way of forging a request (CSRF)
      secure: 'auto', // HTTPS-only when the request came over HTTPS; behind a proxy set 'trust proxy'
      maxAge: 24 * 60 * 60 * 1000, // one day, restarted on every visit
    },
  }),
)

app.get('/', (req, res) => {
  req.session.views = (req.session.views ?? 0) + 1
  res.send(
    page(
      'Visit counter',
      `<h1>Visit counter</h1>
<p>You have visited this page <b id="views">${req.session.views}</b> ${req.session.views === 1 ? 'time' : 'times'}.</p>
<p class="note">Reload to count. Another browser (or a private window) has its own count.</p>
<form method="post" action="/reset"><button>Start again</button></form>`,
    ),
  )
})

app.post('/reset', async (req, res) => {
  // Removes the session from the store and tells the browser to drop the cookie.
  // (Express 5 sends a rejected promise to the error handler, so no try/catch is needed.)
  await req.session.destroy()
  res.redirect('/')
})

start(app, 'counter', 3001)
