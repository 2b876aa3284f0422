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
  const note = req.session.user ? '<p><small>Logging in gave you a new session id; the count came along with it.</small></p>' : ''
  res.send(page(`<h1>sessionkit</h1><p>You have viewed this page <b id="views">${req.session.views}</b> times.</p>${who}${note}`))
})

app.post('/login', async (req, res, next) => {
  // Without a form body (a script, a hand-made request) there is no req.body at all on Express 5.
  const given = req.body?.name
  if (typeof given !== 'string') {
    res.status(400).send(page('<p>To log in, send the form with a <code>name</code> field.</p><p><a href="/">Back</a></p>'))
    return
  }
  try {
    const name = given.trim() || 'guest'
    // A new session (a new id) after login, so an id planted before it (session fixation) is worth
    // nothing. The new session starts empty: `keep` carries the visit count over, or it would be 1 again.
    await req.session.regenerate({ keep: ['views'] })
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

// Last: an error answers with its status and a short page, never Express's default page with a stack trace.
app.use((err, req, res, next) => {
  console.error(err)
  const status = Number(err.status ?? err.statusCode) || 500
  res.status(status >= 400 && status < 600 ? status : 500).send(page(status < 500 ? '<p>That request could not be understood.</p>' : '<p>Something went wrong; try again.</p>'))
})

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

// `node app.js` (npm start) serves it; a test requires it and gets the app.
if (require.main === module) {
  const port = Number(process.env.PORT) || 3000
  app.listen(port, () => console.log(`sessionkit example listening on http://localhost:${port}`))
}
module.exports = app
