// A visit history kept in an array inside the session. The array is changed in place
// (`history.unshift(...)`), never assigned back to req.session: the session notices the change and
// saves it anyway.
// Run: npm run example:history
'use strict'
const express = require('express')
const session = require('sessionkit')
const { sessionSecret, escapeHtml, page, start } = require('../shared/common.js')

// A session is read and written on every request: keep it small and bounded.
const HISTORY_LENGTH = 10

const app = express()

app.use(
  session({
    secret: sessionSecret(),
    name: 'history.sid', // its own name: cookies are shared by every port of localhost
    resave: false,
    saveUninitialized: false,
    cookie: {
      httpOnly: true, // the session id is out of reach of scripts in the page
      sameSite: 'lax', // not sent with cross-site POSTs (CSRF)
      secure: 'auto', // HTTPS-only over HTTPS; behind a TLS proxy also set app.set('trust proxy', 1)
      maxAge: 24 * 60 * 60 * 1000, // one day after the last visit
    },
  }),
)

// Records the page in the visitor's history. Called by the page routes only, not as a global
// middleware, so that the browser's request for /favicon.ico is not a "visit".
function remember(req) {
  let { history } = req.session
  if (!history) {
    history = []
    req.session.history = history
  }
  history.unshift(req.originalUrl) // most recent first; the same array the session holds
  history.splice(HISTORY_LENGTH) // drop the oldest beyond the limit, still in place
  return history
}

const pages = {
  '/': { title: 'Home', text: 'Welcome! Move between the pages and watch your history grow.' },
  '/about': { title: 'About', text: 'This site remembers, per browser, the last pages you visited.' },
  '/contact': { title: 'Contact', text: 'Nobody will answer: this is an example.' },
}

for (const [path, { title, text }] of Object.entries(pages)) {
  app.get(path, (req, res) => {
    const history = remember(req)
    const nav = Object.entries(pages)
      .map(([href, p]) => `<a href="${href}">${p.title}</a>`)
      .join('')
    const items = history.map((url) => `<li><a href="${escapeHtml(url)}">${escapeHtml(url)}</a></li>`).join('')
    res.send(
      page(
        title,
        `<nav>${nav}</nav>
<h1>${title}</h1>
<p>${text}</p>
<h2>History</h2>
<ol id="history">${items}</ol>
<form method="post" action="/forget"><button>Forget my history</button></form>`,
      ),
    )
  })
}

app.post('/forget', async (req, res) => {
  await req.session.destroy()
  res.redirect('/')
})

start(app, 'history', 3003)
