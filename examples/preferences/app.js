// User preferences (theme and language) remembered per browser, without an account.
// Run: npm run example:preferences
'use strict'
const express = require('express')
const session = require('sessionkit')
const { sessionSecret, escapeHtml, page, start } = require('../shared/common.js')

// Only these values are accepted: whatever is in the session ends up in the page.
const themes = ['light', 'dark']
const greetings = { en: 'Hello', fr: 'Bonjour', de: 'Hallo' }
const defaults = { theme: 'light', language: 'en' }

const app = express()
app.use(express.urlencoded({ extended: false }))

app.use(
  session({
    secret: sessionSecret(),
    name: 'preferences.sid', // its own name: cookies are shared by every port of localhost
    resave: false,
    saveUninitialized: false, // no cookie until the visitor saves a choice
    cookie: {
      httpOnly: true, // the session id is out of reach of scripts in the page
      sameSite: 'lax', // another site cannot change these preferences with a hidden form (CSRF)
      secure: 'auto', // HTTPS-only over HTTPS; behind a TLS proxy also set app.set('trust proxy', 1)
      maxAge: 365 * 24 * 60 * 60 * 1000, // preferences are worth keeping for a year
    },
  }),
)

app.get('/', (req, res) => {
  // Reading the session changes nothing in it, so a visitor who never saves gets the defaults and no cookie.
  const prefs = { ...defaults, ...req.session.preferences }
  const option = (value, label, current) =>
    `<option value="${value}"${value === current ? ' selected' : ''}>${escapeHtml(label)}</option>`
  res.send(
    page(
      'Preferences',
      `<h1 id="greeting">${greetings[prefs.language]}!</h1>
<p>Current theme: <b id="theme">${prefs.theme}</b>, language: <b id="language">${prefs.language}</b>.</p>
<form method="post" action="/preferences">
  <label>Theme <select name="theme">${themes.map((t) => option(t, t, prefs.theme)).join('')}</select></label>
  <label>Language <select name="language">${Object.keys(greetings).map((l) => option(l, l, prefs.language)).join('')}</select></label>
  <button type="submit">Save</button>
</form>
<form method="post" action="/preferences/reset"><button>Back to the defaults</button></form>`,
      { bodyClass: prefs.theme, lang: prefs.language },
    ),
  )
})

app.post('/preferences', (req, res) => {
  const theme = themes.includes(req.body.theme) ? req.body.theme : defaults.theme
  const language = Object.hasOwn(greetings, req.body.language) ? req.body.language : defaults.language
  req.session.preferences = { theme, language }
  res.redirect('/')
})

app.post('/preferences/reset', async (req, res) => {
  await req.session.destroy()
  res.redirect('/')
})

start(app, 'preferences', 3005)
