// "Remember me": without the box ticked, the login lasts until the browser is closed; with it, for
// 30 days. Only this session's cookie changes, the middleware's options stay the same for everyone.
// Users: alice / wonderland.
// Run: npm run example:remember-me
'use strict'
const crypto = require('node:crypto')
const express = require('express')
const session = require('sessionkit')
const { MemoryStore } = require('sessionkit')
const { sessionSecret, escapeHtml, page, start } = require('../shared/common.js')

const REMEMBER_FOR = 30 * 24 * 60 * 60 * 1000

// One user with a salted scrypt hash, standing in for a user table.
const salt = crypto.randomBytes(16)
const users = new Map([['alice', { name: 'Alice', hash: crypto.scryptSync('wonderland', salt, 32) }]])
function checkPassword(username, password) {
  const user = users.get(username)
  const attempt = crypto.scryptSync(password, salt, 32)
  return user && crypto.timingSafeEqual(attempt, user.hash) ? user : undefined
}

const app = express()
app.use(express.urlencoded({ extended: false }))

app.use(
  session({
    secret: sessionSecret(),
    name: 'remember.sid', // its own name: cookies are shared by every port of localhost
    // A cookie without maxAge is a browser-session cookie: gone when the browser closes. On the server
    // such a session would otherwise live for ever; the store's `ttl` bounds it (here: 12 hours).
    store: new MemoryStore({ ttl: 12 * 60 * 60 * 1000 }),
    resave: false,
    saveUninitialized: false,
    cookie: {
      httpOnly: true, // the session id is out of reach of scripts in the page
      sameSite: 'lax', // not sent with cross-site POSTs (CSRF)
      secure: 'auto', // HTTPS-only over HTTPS; behind a TLS proxy also set app.set('trust proxy', 1)
      maxAge: null, // until the browser closes, unless the user asks to be remembered
    },
  }),
)

app.get('/', (req, res) => {
  if (!req.session.user) {
    return res.send(
      page(
        'Log in',
        `<h1>Log in</h1>${req.query.error ? '<p class="error">Wrong user name or password.</p>' : ''}
<form method="post" action="/login">
  <label>User name <input type="text" name="username" autocomplete="username" required autofocus></label>
  <label>Password <input type="password" name="password" autocomplete="current-password" required></label>
  <label><input type="checkbox" name="remember" value="yes"> Remember me for 30 days</label>
  <button type="submit">Log in</button>
</form>
<p class="note">Try alice / wonderland.</p>`,
      ),
    )
  }
  const until = req.session.cookie.expires
    ? `until <b id="until">${req.session.cookie.expires.toUTCString()}</b>`
    : '<b id="until">until you close the browser</b>'
  res.send(
    page(
      'Welcome',
      `<h1>Hello, ${escapeHtml(req.session.user.name)}</h1>
<p>You are remembered ${until}.</p>
<form method="post" action="/logout"><button>Log out</button></form>`,
    ),
  )
})

app.post('/login', async (req, res) => {
  const user = checkPassword(String(req.body.username ?? ''), String(req.body.password ?? ''))
  if (!user) return res.redirect('/?error=1')
  await req.session.regenerate() // a new id when the user logs in (session fixation)
  req.session.user = { username: String(req.body.username), name: user.name }
  if (req.body.remember === 'yes') {
    // Only this session's cookie: it gets an expiry date, so the browser keeps it across restarts,
    // and the store keeps the session as long. It is saved and sent with this response.
    req.session.cookie.maxAge = REMEMBER_FOR
  }
  await req.session.save()
  res.redirect('/')
})

app.post('/logout', async (req, res) => {
  // Logging out ends a remembered session too: the store forgets it and the browser drops the cookie.
  await req.session.destroy()
  res.redirect('/')
})

start(app, 'remember-me', 3008)
