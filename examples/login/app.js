// Log in, see a dashboard only logged-in users may see, log out.
// Users: alice / wonderland and bob / builder.
// Run: npm run example:login
'use strict'
const crypto = require('node:crypto')
const express = require('express')
const session = require('sessionkit')
const { sessionSecret, escapeHtml, page, start } = require('../shared/common.js')

// A stand-in for a user table. Passwords are stored as salted scrypt hashes, never as text.
function hashPassword(password, salt = crypto.randomBytes(16)) {
  return { salt, hash: crypto.scryptSync(password, salt, 32) }
}
const users = new Map([
  ['alice', { name: 'Alice', ...hashPassword('wonderland') }],
  ['bob', { name: 'Bob', ...hashPassword('builder') }],
])

function checkPassword(username, password) {
  const user = users.get(username)
  // Hash even for an unknown name, so the answer takes as long whether or not the user exists.
  const { salt, hash } = user ?? hashPassword('')
  const attempt = crypto.scryptSync(password, salt, 32)
  return user && crypto.timingSafeEqual(attempt, hash) ? user : undefined
}

const app = express()
app.use(express.urlencoded({ extended: false }))

app.use(
  session({
    secret: sessionSecret(),
    name: 'login.sid', // its own name: cookies are shared by every port of localhost
    resave: false,
    saveUninitialized: false, // no cookie for visitors who never log in
    cookie: {
      httpOnly: true, // the session id is out of reach of scripts in the page
      sameSite: 'lax', // a form on another site cannot post with this cookie (CSRF)
      secure: 'auto', // HTTPS-only over HTTPS; behind a TLS proxy also set app.set('trust proxy', 1)
      // The login lasts an hour: the cookie is set at login and not re-sent on later visits. For a
      // limit on inactivity instead, see the timeout example (rolling: true).
      maxAge: 60 * 60 * 1000,
    },
  }),
)

// Only for pages that need a user. An anonymous visitor is sent to the login form, which brings them back.
function requireLogin(req, res, next) {
  if (req.session.user) return next()
  res.redirect(`/login?next=${encodeURIComponent(req.originalUrl)}`)
}

// Only local paths may be a target after login, or the login form becomes an open redirect.
function safeNext(value) {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') ? value : '/dashboard'
}

app.get('/', (req, res) => {
  res.redirect(req.session.user ? '/dashboard' : '/login')
})

app.get('/login', (req, res) => {
  const error = req.query.error ? '<p class="error" id="error">Wrong user name or password.</p>' : ''
  res.send(
    page(
      'Log in',
      `<h1>Log in</h1>${error}
<form method="post" action="/login">
  <input type="hidden" name="next" value="${escapeHtml(safeNext(req.query.next))}">
  <label>User name <input type="text" name="username" autocomplete="username" required autofocus></label>
  <label>Password <input type="password" name="password" autocomplete="current-password" required></label>
  <button type="submit">Log in</button>
</form>
<p class="note">Try alice / wonderland or bob / builder.</p>`,
    ),
  )
})

app.post('/login', async (req, res) => {
  const user = checkPassword(String(req.body.username ?? ''), String(req.body.password ?? ''))
  if (!user) return res.redirect(`/login?error=1&next=${encodeURIComponent(safeNext(req.body.next))}`)

  // A new session id at the moment the user's rights change: an id someone planted in this browser
  // before the login (session fixation) is now worthless.
  await req.session.regenerate()
  req.session.user = { username: String(req.body.username), name: user.name }
  req.session.loggedInAt = new Date().toISOString()
  // Saved before the redirect, so the next request already finds the user (the middleware would
  // save at the end of the response too; doing it here makes the order explicit).
  await req.session.save()
  res.redirect(safeNext(req.body.next))
})

app.get('/dashboard', requireLogin, (req, res) => {
  res.send(
    page(
      'Dashboard',
      `<h1>Dashboard</h1>
<p id="welcome">Welcome, ${escapeHtml(req.session.user.name)}!</p>
<p>Only logged-in users see this page. Reload it: you stay logged in for an hour after logging in.</p>
<form method="post" action="/logout"><button type="submit">Log out</button></form>`,
    ),
  )
})

// Logging out changes state, so it is a POST: a link or an image on another page cannot log you out.
app.post('/logout', async (req, res) => {
  // Deletes the session from the store (the id is dead even if someone copied the cookie) and
  // the response tells the browser to forget the cookie.
  await req.session.destroy()
  res.redirect('/login')
})

start(app, 'login', 3002)
