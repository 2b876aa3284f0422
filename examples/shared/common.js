// What every example shares and none of them is about: the secret, an HTML page around a body,
// escaping, and starting the server. The session code itself is written out in each app.js.
'use strict'

/**
 * The secret that signs the session cookie. It must come from the environment in production: a secret
 * committed to the source signs cookies anyone can forge. For a local try-out a fixed one is fine.
 */
function sessionSecret() {
  if (process.env.SESSION_SECRET) return process.env.SESSION_SECRET
  if (process.env.NODE_ENV === 'production') {
    throw new Error('Set SESSION_SECRET: a production app must not sign cookies with a secret from its source')
  }
  return 'development secret: set SESSION_SECRET'
}

/** Escapes text for HTML: everything a user typed goes through this before it reaches a page. */
function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

const style = `
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  body.dark { background: #1e1e1e; color: #eee; }
  body.dark a { color: #8ab4f8; }
  nav a { margin-right: 1rem; }
  form { margin: 1rem 0; }
  label { display: block; margin: .5rem 0; }
  input[type=text], input[type=password], input[type=email], select { font: inherit; padding: .25rem; }
  button { font: inherit; padding: .25rem .75rem; }
  .note { color: #666; font-size: .9rem; }
  .error { color: #b00020; }
`

/** A whole HTML page. `body` is trusted HTML built by the example; `options.bodyClass` styles <body>. */
function page(title, body, options = {}) {
  const bodyClass = options.bodyClass ? ` class="${escapeHtml(options.bodyClass)}"` : ''
  return `<!doctype html>
<html lang="${escapeHtml(options.lang ?? 'en')}">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${style}</style></head>
<body${bodyClass}>
${body}
</body>
</html>`
}

/**
 * Listens on PORT (or the example's own default, so that several examples can run side by side) and
 * prints the URL. PORT=0 picks a free port; the printed URL then shows which one.
 */
function start(app, name, defaultPort) {
  const port = process.env.PORT === undefined ? defaultPort : Number(process.env.PORT)
  const server = app.listen(port, () => {
    console.log(`${name} example: http://localhost:${server.address().port}`)
  })
  return server
}

module.exports = { sessionSecret, escapeHtml, page, start }
