// A form in three steps (who, shipping, confirm). What was typed is kept in the session between the
// steps, so Back shows it again and a step cannot be skipped by typing its URL.
// Run: npm run example:multi-step-form
'use strict'
const express = require('express')
const session = require('sessionkit')
const { sessionSecret, escapeHtml, page, start } = require('../shared/common.js')

const app = express()
app.use(express.urlencoded({ extended: false }))

app.use(
  session({
    secret: sessionSecret(),
    name: 'form.sid', // its own name: cookies are shared by every port of localhost
    resave: false,
    saveUninitialized: false,
    cookie: {
      httpOnly: true, // the session id is out of reach of scripts in the page
      sameSite: 'lax', // another site cannot post steps in the visitor's name (CSRF)
      secure: 'auto', // HTTPS-only over HTTPS; behind a TLS proxy also set app.set('trust proxy', 1)
      maxAge: 30 * 60 * 1000, // a half-filled form is kept for 30 minutes after the last step sent
    },
  }),
)

// The steps in order; each names the fields it fills. A field is trimmed text and required.
const steps = [
  { title: 'Who are you?', fields: [['name', 'Name', 'text'], ['email', 'E-mail', 'email']] },
  { title: 'Where should it go?', fields: [['street', 'Street', 'text'], ['city', 'City', 'text']] },
]

// The first step whose fields are not all filled in yet: the furthest the visitor may go.
function firstIncomplete(answers) {
  const index = steps.findIndex((step) => step.fields.some(([field]) => !answers[field]))
  return index === -1 ? steps.length : index
}

app.get('/', (req, res) => res.redirect('/step/1'))

app.get('/step/:n', (req, res) => {
  const answers = req.session.form ?? {}
  const index = Number(req.params.n) - 1
  if (!Number.isInteger(index) || index < 0) return res.redirect('/step/1')
  // A step after the first unfinished one is not reachable yet.
  if (index > firstIncomplete(answers)) return res.redirect(`/step/${firstIncomplete(answers) + 1}`)
  if (index >= steps.length) return res.redirect('/confirm')

  const step = steps[index]
  const inputs = step.fields
    .map(
      ([field, label, type]) =>
        `<label>${label} <input type="${type}" name="${field}" value="${escapeHtml(answers[field] ?? '')}" required></label>`,
    )
    .join('\n')
  const back = index > 0 ? `<a href="/step/${index}">Back</a> ` : ''
  res.send(
    page(
      `Step ${index + 1}`,
      `<h1>Step ${index + 1} of ${steps.length + 1}: ${step.title}</h1>
<form method="post" action="/step/${index + 1}">
${inputs}
${back}<button type="submit">Next</button>
</form>`,
    ),
  )
})

app.post('/step/:n', (req, res) => {
  const index = Number(req.params.n) - 1
  const step = steps[index]
  if (!step) return res.redirect('/step/1')
  const answers = (req.session.form ??= {})
  for (const [field] of step.fields) answers[field] = String(req.body[field] ?? '').trim()
  const missing = step.fields.some(([field]) => !answers[field])
  res.redirect(missing ? `/step/${index + 1}` : index + 1 < steps.length ? `/step/${index + 2}` : '/confirm')
})

app.get('/confirm', (req, res) => {
  const answers = req.session.form ?? {}
  if (firstIncomplete(answers) < steps.length) return res.redirect(`/step/${firstIncomplete(answers) + 1}`)
  const rows = steps
    .flatMap((step) => step.fields)
    .map(([field, label]) => `<dt>${label}</dt><dd id="${field}">${escapeHtml(answers[field])}</dd>`)
    .join('')
  res.send(
    page(
      'Confirm',
      `<h1>Step ${steps.length + 1} of ${steps.length + 1}: is this right?</h1>
<dl>${rows}</dl>
<form method="post" action="/confirm"><a href="/step/${steps.length}">Back</a> <button type="submit">Send</button></form>`,
    ),
  )
})

app.post('/confirm', (req, res) => {
  const answers = req.session.form
  if (!answers || firstIncomplete(answers) < steps.length) return res.redirect('/step/1')
  // Sent: here a real app would store the order. The answers leave the session, so the next visit
  // starts a fresh form and the data is not kept longer than needed.
  delete req.session.form
  res.send(page('Sent', `<h1 id="done">Thank you, ${escapeHtml(answers.name)}!</h1><p><a href="/step/1">Start again</a></p>`))
})

start(app, 'multi-step form', 3006)
