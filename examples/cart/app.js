// A shopping cart kept in the session: add, change, remove, empty. Anonymous visitors get a cart as
// soon as they add something; nothing is stored for those who only look.
// Run: npm run example:cart
'use strict'
const express = require('express')
const session = require('sessionkit')
const { sessionSecret, escapeHtml, page, start } = require('../shared/common.js')

// The catalogue lives in the app (a database in real life). The session holds only product ids and
// quantities: prices are looked up on every page, so a cart never shows a stale or forged price.
const products = new Map([
  ['tea', { name: 'Green tea', price: 450 }],
  ['mug', { name: 'Mug', price: 1200 }],
  ['pot', { name: 'Teapot', price: 3500 }],
])
const euros = (cents) => `€${(cents / 100).toFixed(2)}`

const app = express()
app.use(express.urlencoded({ extended: false }))

app.use(
  session({
    secret: sessionSecret(),
    name: 'cart.sid', // its own name: cookies are shared by every port of localhost
    resave: false,
    saveUninitialized: false, // no cookie until the first item goes in the cart
    cookie: {
      httpOnly: true, // the session id is out of reach of scripts in the page
      sameSite: 'lax', // another site's form cannot add to or empty this cart (CSRF)
      secure: 'auto', // HTTPS-only over HTTPS; behind a TLS proxy also set app.set('trust proxy', 1)
      maxAge: 7 * 24 * 60 * 60 * 1000, // a week after the cart last changed (each change re-sends the cookie)
    },
  }),
)

app.get('/', (req, res) => {
  const cart = req.session.cart ?? {}
  const catalogue = [...products]
    .map(
      ([id, p]) => `<li>${escapeHtml(p.name)}, ${euros(p.price)}
  <form method="post" action="/cart/add" style="display:inline"><input type="hidden" name="id" value="${id}"><button id="add-${id}">Add to cart</button></form></li>`,
    )
    .join('\n')
  const lines = Object.entries(cart).filter(([id]) => products.has(id))
  const total = lines.reduce((sum, [id, quantity]) => sum + products.get(id).price * quantity, 0)
  const cartHtml = lines.length
    ? `<ul id="cart">${lines
        .map(
          ([id, quantity]) => `<li data-id="${id}">${escapeHtml(products.get(id).name)} × <span class="quantity">${quantity}</span>
  <form method="post" action="/cart/remove" style="display:inline"><input type="hidden" name="id" value="${id}"><button id="remove-${id}">Remove one</button></form></li>`,
        )
        .join('\n')}</ul>
<p>Total: <b id="total">${euros(total)}</b></p>
<form method="post" action="/cart/empty"><button id="empty">Empty the cart</button></form>`
    : '<p id="cart-empty">Your cart is empty.</p>'
  res.send(page('Shop', `<h1>Shop</h1><ul>${catalogue}</ul><h2>Your cart</h2>${cartHtml}`))
})

app.post('/cart/add', (req, res) => {
  const id = String(req.body.id)
  if (!products.has(id)) return res.status(400).send(page('Shop', '<p>No such product.</p>'))
  // The cart object is changed in place; the session sees the change and saves it.
  req.session.cart ??= {}
  req.session.cart[id] = (req.session.cart[id] ?? 0) + 1
  // Redirect after POST, so that reloading the page does not add the item again.
  res.redirect('/')
})

app.post('/cart/remove', (req, res) => {
  const cart = req.session.cart
  const id = String(req.body.id)
  if (cart?.[id]) {
    cart[id] -= 1
    if (cart[id] === 0) delete cart[id]
  }
  res.redirect('/')
})

app.post('/cart/empty', (req, res) => {
  // Only the cart goes; anything else in the session (a login, say) stays.
  delete req.session.cart
  res.redirect('/')
})

start(app, 'cart', 3004)
