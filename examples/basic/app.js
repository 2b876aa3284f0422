// The first example: a visit counter, a login that regenerates the session, and a logout that
// destroys it, all on the in-memory store. Run it with `npm start` and open the URL it prints.
'use strict'
const express = require('express')
const session = require('sessionkit')

const app = express()
app.use(express.urlencoded({ extended: false }))
app.use(
  session({
    // In a real app the secret comes from the environment and never from the source.
    secret: process.env.SESSION_SECRET || 'example secret: set SESSION_SECRET',
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', maxAge: 60 * 60 * 1000 },
  }),
)

const page = (body) => `<!doctype html><meta charset="utf-8"><title>sessionkit example</title>${body}`

app.get('/', (req, res) => {
  req.session.views = (req.session.views ?? 0) + 1
  const who = req.session.user
    ? `<p>Logged in as <b>${escapeHtml(req.session.user)}</b>.</p><form method="post" action="/logout"><button>Log out</button></form>`
    : `<form method="post" action="/login"><label>Name <input name="name" autofocus></label> <button>Log in</button></form>`
  res.send(page(`<h1>sessionkit</h1><p>You have viewed this page <b id="views">${req.session.views}</b> times.</p>${who}`))
})

app.post('/login', async (req, res, next) => {
  try {
    const name = String(req.body.name || '').trim() || 'guest'
    // A new id after login, so an id planted before it (session fixation) is worth nothing.
    await req.session.regenerate()
    req.session.user = name
    await req.session.save()
    res.redirect('/')
  } catch (err) {
    next(err)
  }
})

app.post('/logout', async (req, res, next) => {
  try {
    await req.session.destroy()
    res.redirect('/')
  } catch (err) {
    next(err)
  }
})

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

const port = Number(process.env.PORT) || 3000
app.listen(port, () => console.log(`sessionkit example listening on http://localhost:${port}`))
