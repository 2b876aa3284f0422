// A session that ends after a period of inactivity: every request restarts the clock, and a visitor
// who stays away longer than IDLE_TIMEOUT_MS (one minute by default, to see it happen) is logged out.
// Run: npm run example:timeout     (IDLE_TIMEOUT_MS=10000 npm run example:timeout for ten seconds)
'use strict'
const express = require('express')
const session = require('sessionkit')
const { sessionSecret, escapeHtml, page, start } = require('../shared/common.js')

const idleTimeout = Number(process.env.IDLE_TIMEOUT_MS) || 60 * 1000

const app = express()
app.use(express.urlencoded({ extended: false }))

app.use(
  session({
    secret: sessionSecret(),
    name: 'timeout.sid', // its own name: cookies are shared by every port of localhost
    resave: false,
    saveUninitialized: false,
    // Send the cookie again on every response, with its expiry moved to now + maxAge. Together with
    // the store's expiry (moved by `touch` on each request) this is the idle timeout: the browser drops
    // the cookie and the store drops the session once nobody has asked for it for `maxAge`.
    rolling: true,
    cookie: {
      httpOnly: true, // the session id is out of reach of scripts in the page
      sameSite: 'lax', // not sent with cross-site POSTs (CSRF)
      secure: 'auto', // HTTPS-only over HTTPS; behind a TLS proxy also set app.set('trust proxy', 1)
      maxAge: idleTimeout,
    },
    // Also an upper bound however active the visitor is (OWASP asks for both): 8 hours after login.
    absoluteTimeout: 8 * 60 * 60 * 1000,
  }),
)

app.get('/', (req, res) => {
  if (!req.session.user) {
    return res.send(
      page(
        'Log in',
        `<h1>Log in</h1>
<form method="post" action="/login"><label>Your name <input type="text" name="name" required autofocus></label><button>Log in</button></form>`,
      ),
    )
  }
  res.send(
    page(
      'Welcome',
      `<h1 id="welcome">Hello, ${escapeHtml(req.session.user)}</h1>
<p>You stay logged in as long as you come back within <b>${Math.round(idleTimeout / 1000)} seconds</b>:
every request restarts the clock. Wait longer, then reload, and you will be asked to log in again.</p>
<form method="post" action="/logout"><button>Log out</button></form>`,
    ),
  )
})

app.post('/login', async (req, res) => {
  await req.session.regenerate() // a new id when the user logs in (session fixation)
  req.session.user = String(req.body.name ?? '').trim() || 'guest'
  await req.session.save()
  res.redirect('/')
})

app.post('/logout', async (req, res) => {
  await req.session.destroy()
  res.redirect('/')
})

start(app, 'timeout', 3007)
